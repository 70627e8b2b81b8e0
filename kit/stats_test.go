package kit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// scripted is a source whose read emits its messages, parsed from lines.
type scripted struct {
	source
	lines []string
}

func (s *scripted) Read(_ context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	for _, l := range s.lines {
		if err := emit(protocol.ParseMessage([]byte(l))); err != nil {
			return err
		}
	}
	return nil
}

func rec(stream, namespace string) string {
	return fmt.Sprintf(`{"type":"RECORD","record":{"stream":%q,"namespace":%q,"data":{},"emitted_at":1}}`, stream, namespace)
}

func streamState(stream string) string {
	return fmt.Sprintf(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":%q},"stream_state":{}}}}`, stream)
}

// TestStateRecordCounts: a read's STREAM and GLOBAL states carry
// sourceStats.recordCount, the records since the last state as the Airbyte
// platform counts them to check it (ParallelStreamStatsTracker): a STREAM
// state its stream's, a GLOBAL state every stream's, the streams it lists
// counted again from 0. A connector's own count is kept; LEGACY states get
// none; a namespace makes another stream.
func TestStateRecordCounts(t *testing.T) {
	t.Parallel()
	lines := []string{
		rec("a", ""), rec("a", ""), rec("b", ""), rec("a", ""), rec("a", "ns"),
		streamState("a"),               // a: 3
		streamState("a"),               // a: 0
		rec("b", ""), streamState("b"), // b: 2
		rec("c", ""),
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"c"},"stream_state":{}},"sourceStats":{"recordCount":7}}}`, // kept: 7
		rec("c", ""), rec("a", ""),
		`{"type":"STATE","state":{"type":"GLOBAL","global":{"shared_state":{},"stream_states":[{"stream_descriptor":{"name":"a"},"stream_state":{}}]}}}`, // a 1, c 1, ns.a 1: 3
		streamState("c"), // c was not listed: 1 still, as the platform counts it
		rec("a", "ns"),
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a","namespace":"ns"},"stream_state":{}}}}`, // ns.a: 2
		rec("a", ""),
		`{"type":"STATE","state":{"type":"LEGACY","data":{}}}`, // none
	}
	cfg, cat := file(t, "c.json", `{"count":1}`), file(t, "k.json", itemsCatalog)
	r := run(t, &scripted{lines: lines}, "", "read", "--config", cfg, "--catalog", cat)
	var got []string
	for _, m := range r.of(protocol.TypeState) {
		if m.State.SourceStats == nil || m.State.SourceStats.RecordCount == nil {
			got = append(got, "none")
			continue
		}
		got = append(got, fmt.Sprint(*m.State.SourceStats.RecordCount))
	}
	want := []string{"3", "0", "2", "7", "3", "1", "2", "none"}
	if fmt.Sprint(got) != fmt.Sprint(want) || r.code != 0 {
		t.Errorf("exit %d, recordCounts %v, want %v\n%s", r.code, got, want, r.stderr)
	}
}
