package interpolation_test

import (
	"fmt"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// A template is compiled once and evaluated per use; the rendered text is parsed back as the
// CDK does, so "6" comes out as the integer 6.
func ExampleTemplate_Eval() {
	tmpl, err := interpolation.Compile("{{ response['pagination']['current'] + 1 }}")
	if err != nil {
		panic(err)
	}
	response, _ := interpolation.DecodeJSON([]byte(`{"pagination": {"current": 5}}`))
	var vs interpolation.Vars
	vs.Set(interpolation.VarConfig, interpolation.NewDict(0))
	vs.Set(interpolation.VarResponse, response)
	v, _ := tmpl.Eval(&vs)
	fmt.Printf("%#v\n", v)
	// Output: 6
}

// A record filter: one Boolean per manifest, one Vars per component copied per record.
func ExampleBoolean() {
	filter, _ := interpolation.NewBoolean("{{ record['updated_at'] >= stream_interval['start_time'] }}")
	base := interpolation.Vars{Now: func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }}
	base.Set(interpolation.VarConfig, interpolation.NewDict(0))
	slice, _ := interpolation.DecodeJSON([]byte(`{"start_time": "2024-01-01T00:00:00Z"}`))
	base.Set(interpolation.VarStreamSlice, slice)
	for _, doc := range []string{`{"updated_at": "2024-03-01T00:00:00Z"}`, `{"updated_at": "2023-12-31T00:00:00Z"}`} {
		record, _ := interpolation.DecodeJSON([]byte(doc))
		vs := base
		vs.Set(interpolation.VarRecord, record)
		keep, _ := filter.Eval(&vs)
		fmt.Println(keep)
	}
	// Output:
	// true
	// false
}

// Values print as Python prints them.
func ExampleStr() {
	v, _ := interpolation.DecodeJSON([]byte(`{"a": [1, 2.0, true, null, "x"]}`))
	fmt.Println(interpolation.Str(v))
	// Output: {'a': [1, 2.0, True, None, 'x']}
}

// JSON keeps key order and the difference between 1 and 1.0.
func ExampleDecodeJSON() {
	v, _ := interpolation.DecodeJSON([]byte(`{"z": 1, "a": 1.0}`))
	out, _ := interpolation.EncodeJSON(v)
	fmt.Println(string(out))
	// Output: {"z":1,"a":1.0}
}

// The cursor's formats, as the CDK's DatetimeParser reads and writes them.
func ExampleParseDatetime() {
	t, _ := interpolation.ParseDatetime("%Y-%m-%dT%H:%M:%S.%f%z", "2024-01-02T03:04:05.5+0100")
	fmt.Println(interpolation.FormatDatetime("%s", t), interpolation.FormatDatetime("%Y-%m-%d %H:%M:%S.%f", t))
	// Output: 1704161045 2024-01-02 03:04:05.500000
}

// Calendar durations add months as Python's isodate does.
func ExampleDuration_AddTo() {
	d, _ := interpolation.ParseDuration("P1M")
	t, _ := d.AddTo(time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC))
	fmt.Println(t.Format("2006-01-02"), d)
	// Output: 2024-02-29 1 month, 0:00:00
}

// Render is Jinja's rendering alone, without the CDK's literal_eval.
func ExampleTemplate_Render() {
	tmpl, _ := interpolation.Compile("{% if config.flag %}{{ config.n * 2 }}{% else %}none{% endif %}")
	config, _ := interpolation.FromGo(map[string]any{"flag": true, "n": 21})
	var vs interpolation.Vars
	vs.Set(interpolation.VarConfig, config)
	s, _ := tmpl.Render(&vs)
	fmt.Printf("%q\n", s)
	// Output: "42"
}

// Request parameters: keys and values are templates; values evaluating to None are kept by
// Mapping (the caller drops them), dropped by NestedMapping.
func ExampleNestedMapping() {
	body, _ := interpolation.DecodeJSON([]byte(`{"page_size": "{{ parameters.size }}", "cursor": "{{ next_page_token.get('cursor') }}", "filter": {"since": "{{ config.start }}"}}`))
	m, _ := interpolation.NewNestedMapping(body)
	var vs interpolation.Vars
	config, _ := interpolation.FromGo(map[string]any{"start": "2024-01-01"})
	params, _ := interpolation.FromGo(map[string]any{"size": 100})
	vs.Set(interpolation.VarConfig, config)
	vs.Set(interpolation.VarParameters, params)
	vs.Set(interpolation.VarNextPageToken, interpolation.NewDict(0))
	v, _ := m.Eval(&vs)
	fmt.Println(interpolation.Str(v))
	// Output: {'page_size': 100, 'filter': {'since': '2024-01-01'}}
}
