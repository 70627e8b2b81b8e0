package kit

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// FuzzParseState checks that ParseState never panics, fails only with a
// config error, returns only states whose type names a payload it holds,
// and that what it returns, written out again, reads back the same.
func FuzzParseState(f *testing.F) {
	users := `{"stream_descriptor":{"name":"users"},"stream_state":{"id": 20}}`
	for _, s := range []string{
		``, `null`, `[]`, ` [ null ] `, `{}`, `{"users":{"id":1}}`, `{"data":{"users":1}}`, `{"data":1,"x":2}`,
		`[{"type":"STREAM","stream":` + users + `}]`, `{"stream":` + users + `}`,
		`[{"type":"STATE","state":{"type":"STREAM","stream":` + users + `}}]`,
		`{"type":"STATE","state":{"type":"STATE","state":{"a":1}}}`, `{"type":"STATE"}`,
		`[{"type":"GLOBAL","global":{"shared_state":{"lsn":5},"stream_states":[` + users + `]}}]`,
		`[{"type":"LEGACY","data":{"users":{"id":20}}}]`, `{"type":"STREAM"}`, `{"type":"OTHER"}`,
		`[{"type":"STREAM","stream":null}]`, `[1]`, `"x"`, `{"global":{}}`, `[{"sourceStats":{"recordCount":2}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		states, err := ParseState(raw)
		if err != nil {
			var ce *configError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseState(%q) failed with %T %v, not a config error", raw, err, err)
			}
			return
		}
		for _, st := range states {
			switch st.Type {
			case protocol.StateStream:
				if st.Stream == nil {
					t.Fatalf("ParseState(%q): a STREAM state without its stream", raw)
				}
			case protocol.StateGlobal:
				if st.Global == nil {
					t.Fatalf("ParseState(%q): a GLOBAL state without global", raw)
				}
			case protocol.StateLegacy:
			default:
				t.Fatalf("ParseState(%q): state type %q", raw, st.Type)
			}
		}
		if _, err := StreamStates(states); err != nil {
			var ce *configError
			if !errors.As(err, &ce) {
				t.Fatalf("StreamStates of %q failed with %T %v, not a config error", raw, err, err)
			}
		}
		if states == nil {
			return
		}
		out, err := json.Marshal(states)
		if err != nil {
			t.Fatalf("ParseState(%q) returned states that do not marshal: %v", raw, err)
		}
		back, err := ParseState(out)
		if err != nil {
			t.Fatalf("ParseState(%q) read, written as %s, does not read back: %v", raw, out, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(out) {
			t.Fatalf("ParseState(%q) read, written as %s, reads back as %s", raw, out, again)
		}
	})
}

// FuzzParseArgs checks the command-line parser: no panic, only usage
// errors, a success names a command the connector has with the flags it
// needs, and the invocation written back as flags parses the same.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"read\x00--config\x00c.json\x00--catalog=k.json", "spec", "check\x00--config=", "--debug\x00discover\x00--config\x00x",
		"read\x00--config\x00--state\x00--catalog\x00k", "write\x00--config=a=b\x00--catalog\x00-\x00--state\x00s",
		"help", "check\x00--config\x00a\x00--config\x00b", "read\x00x", "--debug=1",
	} {
		f.Add(s)
	}
	commands := []string{cmdSpec, cmdCheck, cmdDiscover, cmdRead, cmdWrite}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		inv, err := parseArgs(args, commands)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseArgs(%q) failed with %T %v", args, err, err)
			}
			return
		}
		if !strings.Contains(" spec check discover read write ", " "+inv.command+" ") {
			t.Fatalf("parseArgs(%q) = command %q", args, inv.command)
		}
		for _, need := range needs[inv.command] {
			if map[string]string{"--config": inv.config, "--catalog": inv.catalog}[need] == "" {
				t.Fatalf("parseArgs(%q) = %+v, without %s", args, inv, need)
			}
		}
		canon := []string{inv.command}
		for _, fl := range []struct{ name, v string }{{"--config", inv.config}, {"--catalog", inv.catalog}, {"--state", inv.state}} {
			if fl.v != "" {
				canon = append(canon, fl.name, fl.v)
			}
		}
		back, err := parseArgs(canon, commands)
		if err != nil || !reflect.DeepEqual(back, inv) {
			t.Fatalf("parseArgs(%q) = %+v; written as %q it parses as %+v, %v", args, inv, canon, back, err)
		}
	})
}
