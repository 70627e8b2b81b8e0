package declarative

import (
	"testing"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// buildTransformation builds one transformation from its YAML.
func buildTransformation(t *testing.T, yaml string) transformation {
	t.Helper()
	src, err := New([]byte(`
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [s]}
streams:
  - type: DeclarativeStream
    name: s
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: /s}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: []}}
    transformations:
      - ` + yaml + `
spec: {type: Spec, connection_specification: {type: object}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if src.streams[0].buildErr != nil || len(src.unsupported) > 0 {
		t.Fatalf("not built: %v %v", src.streams[0].buildErr, src.unsupported)
	}
	return src.streams[0].retriever.selector.transformations[0]
}

func transformed(t *testing.T, tr transformation, record string) string {
	t.Helper()
	v, err := decodeJSON([]byte(record))
	if err != nil {
		t.Fatal(err)
	}
	vs := &vars{}
	vs.Set(interpolation.VarConfig, interpolation.NewDict(0))
	if err := tr.transform(v.(*dict), vs); err != nil {
		t.Fatal(err)
	}
	b, err := encodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFlattenFields follows FlattenFields.flatten_record: a stack, so keys
// come out last first; a nested key is prefixed with its parent's name
// only when the name is taken at the time it is met, or once a list was
// met (later values overwrite earlier ones, keeping their place).
func TestFlattenFields(t *testing.T) {
	for _, c := range []struct{ yaml, in, want string }{
		{"{type: FlattenFields}", `{"a": 1, "b": {"c": 2, "a": 3}, "d": [4, {"e": 5}]}`, `{"d.1.e":5,"d.0":4,"b.a":3,"b.c":2,"a":1}`},
		{"{type: FlattenFields}", `{"a": 1, "b": {"c": 2, "a": 3}}`, `{"a":1,"c":2}`},
		{"{type: FlattenFields, flatten_lists: false}", `{"a": [1, {"b": 2}], "c": {"d": 3}}`, `{"d":3,"a":[1,{"b":2}]}`},
	} {
		if got := transformed(t, buildTransformation(t, c.yaml), c.in); got != c.want {
			t.Errorf("%s on %s = %s, want %s", c.yaml, c.in, got, c.want)
		}
	}
}

// TestKeysReplace follows KeysReplaceTransformation: keys of the record
// and of nested dicts, not of dicts inside lists.
func TestKeysReplace(t *testing.T) {
	tr := buildTransformation(t, `{type: KeysReplace, old: " ", new: "_"}`)
	got := transformed(t, tr, `{"created time": 1, "nested": {"user id": 2}, "list": [{"a b": 3}]}`)
	if want := `{"created_time":1,"nested":{"user_id":2},"list":[{"a b":3}]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestDpathFlattenFields follows DpathFlattenFields: the dict at the path
// (the first match of a "*" path) is merged when no key conflicts.
func TestDpathFlattenFields(t *testing.T) {
	for _, c := range []struct{ yaml, in, want string }{
		{"{type: DpathFlattenFields, field_path: [data], delete_origin_value: true}", `{"id": 1, "data": {"x": 2, "y": 3}}`, `{"id":1,"x":2,"y":3}`},
		{"{type: DpathFlattenFields, field_path: [data]}", `{"id": 1, "data": {"x": 2}}`, `{"id":1,"data":{"x":2},"x":2}`},
		{"{type: DpathFlattenFields, field_path: [data], delete_origin_value: true}", `{"id": 1, "data": {"id": 5}}`, `{"id":1,"data":{"id":5}}`},
		{"{type: DpathFlattenFields, field_path: [items, '*', k]}", `{"items": [{"k": {"z": 1}}, {"k": {"w": 2}}]}`, `{"items":[{"k":{"z":1}},{"k":{"w":2}}],"z":1}`},
		{"{type: DpathFlattenFields, field_path: [missing]}", `{"id": 1}`, `{"id":1}`},
	} {
		if got := transformed(t, buildTransformation(t, c.yaml), c.in); got != c.want {
			t.Errorf("%s on %s = %s, want %s", c.yaml, c.in, got, c.want)
		}
	}
}
