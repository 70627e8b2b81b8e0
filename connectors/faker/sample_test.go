package faker_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// keyOrder lists the keys of a JSON object in order, nested objects as
// "parent.child", with the JSON kind of each value.
func keyOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	var out []string
	var walk func(prefix string, v json.RawMessage)
	walk = func(prefix string, v json.RawMessage) {
		dec := json.NewDecoder(bytes.NewReader(v))
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		for dec.More() {
			k, _ := dec.Token()
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				t.Fatal(err)
			}
			kind := map[byte]string{'"': "string", '{': "object", 'n': "null"}[val[0]]
			if kind == "" {
				kind = "number"
			}
			if kind == "null" {
				kind = "string" // nullable timestamps: null or a string
			}
			out = append(out, prefix+k.(string)+":"+kind)
			if kind == "object" {
				walk(prefix+k.(string)+".", val)
			}
		}
	}
	walk("", raw)
	return out
}

// TestShapesMatchSourceFaker compares our records with a read of Airbyte's
// source-faker (count 25): the same field names in the same order, with
// values of the same JSON kinds, and the same ids (and purchases' user_id)
// per stream.
func TestShapesMatchSourceFaker(t *testing.T) {
	f, err := os.Open("testdata/sample_count25_rps10.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]string{}
	wantIDs := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := protocol.ParseMessage(sc.Bytes())
		if m.Type != protocol.TypeRecord {
			continue
		}
		if want[m.Record.Stream] == nil {
			want[m.Record.Stream] = keyOrder(t, m.Record.Data)
		}
		var rec struct {
			ID     json.Number `json:"id"`
			UserID json.Number `json:"user_id"`
		}
		_ = json.Unmarshal(m.Record.Data, &rec)
		wantIDs[m.Record.Stream] = append(wantIDs[m.Record.Stream], rec.ID.String()+"/"+rec.UserID.String())
	}
	if len(want) != 2 {
		t.Fatalf("sample has streams %v", want)
	}
	r := read(t, "func", map[string]any{"count": 25, "records_per_slice": 10}, protocol.SyncIncremental, nil, "users", "purchases")
	for stream, keys := range want {
		var ids []string
		for i, raw := range r.rawRecords(stream) {
			if got := keyOrder(t, []byte(raw)); !reflect.DeepEqual(got, keys) {
				t.Fatalf("%s record %d: fields\n%v\nwant (as source-faker)\n%v", stream, i+1, got, keys)
			}
			var rec struct {
				ID     json.Number `json:"id"`
				UserID json.Number `json:"user_id"`
			}
			_ = json.Unmarshal([]byte(raw), &rec)
			ids = append(ids, rec.ID.String()+"/"+rec.UserID.String())
		}
		if !reflect.DeepEqual(ids, wantIDs[stream]) {
			t.Errorf("%s id/user_id %v, source-faker's %v", stream, ids, wantIDs[stream])
		}
	}
}
