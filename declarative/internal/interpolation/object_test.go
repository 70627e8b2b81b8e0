package interpolation_test

import (
	"errors"
	"testing"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// An Object stands for the CDK's Python objects in templates: a
// requests.Response in a StreamSlice, and the StreamSlice's extra_fields.
func TestObject(t *testing.T) {
	items := interpolation.NewDict(1)
	items.Set("create_job_response", &interpolation.Object{Class: "Response", Text: "<Response [200]>",
		Attrs: map[string]interpolation.Value{"status_code": int64(200)},
		Methods: map[string]func([]interpolation.Value) (interpolation.Value, error){"json": func(args []interpolation.Value) (interpolation.Value, error) {
			if len(args) > 0 {
				return nil, errors.New("json() takes no arguments")
			}
			return interpolation.DecodeJSON([]byte(`{"id": "exp-1"}`))
		}}})
	extra := interpolation.NewDict(1)
	extra.Set("url", "https://x.example/a.csv.gz")
	slice := &interpolation.Object{Class: "StreamSlice", Items: items, Attrs: map[string]interpolation.Value{"extra_fields": extra}}
	for src, want := range map[string]string{
		"/exports/{{ stream_slice['create_job_response'].json()['id'] }}": "/exports/exp-1",
		"{{ stream_slice.create_job_response.status_code }}":              "200",
		"{{ stream_slice.extra_fields['url'] }}":                          "https://x.example/a.csv.gz",
		"{{ stream_slice['extra_fields']['url'] }}":                       "https://x.example/a.csv.gz",
		"{{ stream_slice.get('missing', 'd') }}":                          "d",
		"{{ stream_slice['create_job_response'] }}":                       "<Response [200]>",
		"{{ 'yes' if stream_slice else 'no' }}":                           "yes",
	} {
		s, err := interpolation.NewString(src, "")
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		var vs interpolation.Vars
		vs.Set(interpolation.VarConfig, interpolation.NewDict(0))
		vs.Set(interpolation.VarStreamSlice, slice)
		got, err := s.Eval(&vs)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if interpolation.Str(got) != want {
			t.Errorf("%s = %s, want %s", src, interpolation.Str(got), want)
		}
	}
}
