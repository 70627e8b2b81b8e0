package kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func TestParseState(t *testing.T) {
	t.Parallel()
	users := `{"stream_descriptor":{"name":"users"},"stream_state":{"id": 20}}`
	orders := `{"stream_descriptor":{"name":"orders","namespace":"shop"},"stream_state":{"at":"x"}}`
	d := func(name, ns string) protocol.StreamDescriptor {
		return protocol.StreamDescriptor{Name: name, Namespace: ns}
	}
	for _, tc := range []struct {
		name, state string
		types       []protocol.StateType
		want        map[protocol.StreamDescriptor]string
	}{
		{"STREAM list", `[{"type":"STREAM","stream":` + users + `},{"type":"STREAM","stream":` + orders + `}]`,
			[]protocol.StateType{protocol.StateStream, protocol.StateStream},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id": 20}`, d("orders", "shop"): `{"at":"x"}`}},
		{"STREAM single", `{"type":"STREAM","stream":` + users + `}`, []protocol.StateType{protocol.StateStream},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id": 20}`}},
		{"untyped STREAM", `[{"stream":` + users + `}]`, []protocol.StateType{protocol.StateStream},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id": 20}`}},
		{"AirbyteMessage", `[{"type":"STATE","state":{"type":"STREAM","stream":` + users + `}}]`, []protocol.StateType{protocol.StateStream},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id": 20}`}},
		{"GLOBAL", `[{"type":"GLOBAL","global":{"shared_state":{"lsn":5},"stream_states":[` + users + `,` + orders + `]}}]`,
			[]protocol.StateType{protocol.StateGlobal},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id": 20}`, d("orders", "shop"): `{"at":"x"}`}},
		{"LEGACY message", `[{"type":"LEGACY","data":{"users":{"id":20}}}]`, []protocol.StateType{protocol.StateLegacy},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id":20}`}},
		{"LEGACY untyped", `{"data":{"users":{"id":20}}}`, []protocol.StateType{protocol.StateLegacy},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id":20}`}},
		{"LEGACY bare", `{"users":{"id":20},"data":{"id":1}}`, []protocol.StateType{protocol.StateLegacy},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id":20}`, d("data", ""): `{"id":1}`}},
		{"later wins, null skipped", `[{"type":"STREAM","stream":` + users + `},{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"id":30}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"gone"},"stream_state":null}}]`,
			[]protocol.StateType{protocol.StateStream, protocol.StateStream, protocol.StateStream},
			map[protocol.StreamDescriptor]string{d("users", ""): `{"id":30}`}},
		{"empty", "", nil, map[protocol.StreamDescriptor]string{}},
		{"null", " null\n", nil, map[protocol.StreamDescriptor]string{}},
		{"empty array", "[]", nil, map[protocol.StreamDescriptor]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			states, err := kit.ParseState(json.RawMessage(tc.state))
			if err != nil {
				t.Fatal(err)
			}
			var types []protocol.StateType
			for _, s := range states {
				types = append(types, s.Type)
			}
			if len(types) != len(tc.types) || !slices.Equal(types, tc.types) {
				t.Errorf("types %v, want %v", types, tc.types)
			}
			got, err := kit.StreamStates(states)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("stream states %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if string(got[k]) != v {
					t.Errorf("%v: %s, want %s (blobs are kept byte for byte)", k, got[k], v)
				}
			}
		})
	}
}

func TestParseStateErrors(t *testing.T) {
	t.Parallel()
	for state, want := range map[string]string{
		`[1,`:                                "not a JSON array of state messages",
		`[{"type":"STREAM"}]`:                "state message 1: a STREAM state without its stream",
		`{"type":"GLOBAL"}`:                  "a GLOBAL state without global",
		`[{"type":"STREAM","stream":{}}, 5]`: "state message 2: not a JSON object",
		`{"type":"PER_STREAM","stream":{}}`:  `unknown state type "PER_STREAM"`,
		`{"type":"STATE"}`:                   "a STATE message without its state",
		`{"type":"LEGACY","data":[1,2]}`:     "LEGACY data is not an object of stream states",
		`"a string"`:                         "not a JSON object",
	} {
		states, err := kit.ParseState(json.RawMessage(state))
		if err == nil {
			_, err = kit.StreamStates(states)
		}
		if err == nil || !strings.Contains(err.Error(), want) || kit.FailureType(err) != protocol.FailureConfig {
			t.Errorf("%s: %v (%s), want a config error mentioning %q", state, err, kit.FailureType(err), want)
		}
	}
}

func TestParseCatalog(t *testing.T) {
	t.Parallel()
	cat, err := kit.ParseCatalog(json.RawMessage(itemsCatalog))
	if err != nil || len(cat.Streams) != 1 || cat.Streams[0].Stream.Name != "items" || cat.Streams[0].SyncMode != protocol.SyncFullRefresh {
		t.Fatalf("%+v, %v", cat, err)
	}
	for raw, want := range map[string]string{
		``:                                "not a JSON object",
		`null`:                            "not a JSON object",
		`{"streams":5}`:                   "cannot unmarshal",
		`{"streams":[{"sync_mode":"x"}]}`: "configured stream 1 has no stream name",
		// The protocol's enumerations, as the Python CDK's catalog model
		// holds them.
		`{"streams":[{"stream":{"name":"items"},"sync_mode":"sideways"}]}`:                                      `stream "items" has sync_mode "sideways"`,
		`{"streams":[{"stream":{"name":"items"},"sync_mode":"full_refresh","destination_sync_mode":"upsert"}]}`: `stream "items" has destination_sync_mode "upsert"`,
	} {
		_, err := kit.ParseCatalog(json.RawMessage(raw))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "invalid configured catalog") ||
			kit.FailureType(err) != protocol.FailureConfig {
			t.Errorf("%q: %v, want a config error mentioning %q", raw, err, want)
		}
	}
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	spec := &protocol.ConnectorSpecification{ConnectionSpecification: compact(`{"type":"object","additionalProperties":false,
		"properties":{"a":{"type":"string","pattern":"^a"},"b":{"type":"integer"}}}`)}
	err := kit.ValidateConfig(spec, []byte(`{"a":"ax","c":1}`))
	var ice *kit.InvalidConfigError
	if !errors.As(err, &ice) || len(ice.Problems) != 1 || ice.Problems[0] != (kit.ConfigProblem{Field: "c", Reason: "is not an option of this connector"}) {
		t.Errorf("additional property: %#v", err)
	}
	// A value that is not secret is not quoted either.
	err = kit.ValidateConfig(spec, []byte(`{"a":"xyz"}`))
	if !errors.As(err, &ice) || len(ice.Problems) != 1 || ice.Problems[0] != (kit.ConfigProblem{Field: "a", Reason: `does not match the pattern "^a"`}) {
		t.Errorf("pattern: %#v", err)
	}
	if err := kit.ValidateConfig(spec, []byte(`{"b":2}`)); err != nil {
		t.Errorf("valid config: %v", err)
	}
	// A config that is not JSON says where, not with what: the decoder's
	// words would quote the first letter of a secret written bare.
	for raw, want := range map[string]string{
		`{"password": hunter2}`: "the config is not valid JSON (at byte 14)",
		`{"password": "hunt`:    "the config is not valid JSON (it ends too early)",
	} {
		err := kit.ValidateConfig(spec, []byte(raw))
		if !errors.As(err, &ice) || len(ice.Problems) != 1 || ice.Problems[0].Reason != want || strings.Contains(err.Error(), "'h'") {
			t.Errorf("config %s: %v, want %q", raw, err, want)
		}
	}
	// "format" is not asserted, as in the Python CDK and PyAirbyte, although
	// draft-07 (what Airbyte's specs declare) would allow it: a start date
	// left empty, which the pattern allows, is valid, and so is a date
	// where the format says date-time. Other keywords still apply.
	dated := &protocol.ConnectorSpecification{ConnectionSpecification: compact(`{"$schema":"http://json-schema.org/draft-07/schema#",
		"type":"object","properties":{
		"start_date":{"type":"string","format":"date-time","pattern":"^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"},
		"end_date":{"type":"string","format":"date-time"},
		"email":{"type":"string","format":"email"}}}`)}
	for _, cfg := range []string{`{"start_date":""}`, `{"start_date":"2024-01-01T00:00:00Z"}`, `{"end_date":"2024-01-01"}`, `{"email":"ops at example"}`} {
		if err := kit.ValidateConfig(dated, []byte(cfg)); err != nil {
			t.Errorf("config %s: %v, want valid (format is an annotation)", cfg, err)
		}
	}
	err = kit.ValidateConfig(dated, []byte(`{"start_date":"2024-01-01"}`))
	if !errors.As(err, &ice) || len(ice.Problems) != 1 || ice.Problems[0].Field != "start_date" || !strings.Contains(ice.Problems[0].Reason, "pattern") {
		t.Errorf("start date against its pattern: %v", err)
	}
	// A pattern Go's regexp cannot compile (a lookahead, which Python's
	// validators take) is not enforced; the rest of the spec still is.
	ahead := &protocol.ConnectorSpecification{ConnectionSpecification: compact(`{"type":"object","properties":{
		"name":{"type":"string","pattern":"^(?!test_)"},"n":{"type":"integer"}}}`)}
	if err := kit.ValidateConfig(ahead, []byte(`{"name":"prod_x","n":1}`)); err != nil {
		t.Errorf("a spec with a lookahead pattern: %v", err)
	}
	if err := kit.ValidateConfig(ahead, []byte(`{"name":"prod_x","n":"x"}`)); !errors.As(err, &ice) || ice.Problems[0].Field != "n" {
		t.Errorf("a spec with a lookahead pattern, n not an integer: %v", err)
	}
	// No spec, or no connectionSpecification: only the shape is checked.
	if err := kit.ValidateConfig(nil, []byte(`{"anything":1}`)); err != nil {
		t.Errorf("no spec: %v", err)
	}
	if err := kit.ValidateConfig(&protocol.ConnectorSpecification{}, []byte(`7`)); !errors.As(err, &ice) {
		t.Errorf("no spec, not an object: %v", err)
	}
	// A broken spec is the connector's bug, not the user's.
	broken := &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"nonsense"}`)}
	err = kit.ValidateConfig(broken, []byte(`{}`))
	if err == nil || errors.As(err, &ice) || kit.FailureType(err) != protocol.FailureSystem || !strings.Contains(err.Error(), "not a usable JSON schema") {
		t.Errorf("broken spec: %v", err)
	}
	// check reports a broken spec as a failure of the command, not FAILED.
	r := run(t, brokenSpec{}, "", "check", "--config", file(t, "c.json", `{}`))
	if r.code != 1 || len(r.of(protocol.TypeConnectionStatus)) != 0 || len(r.of(protocol.TypeTrace)) != 1 {
		t.Errorf("check with a broken spec: exit %d, %q", r.code, r.lines)
	}
}

type brokenSpec struct{ destination }

func (brokenSpec) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"nonsense"}`)}, nil
}
