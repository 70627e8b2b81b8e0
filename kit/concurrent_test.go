package kit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// fanout is a source that reads each stream of its catalog on its own
// goroutine, as a connector that fetches streams in parallel does: each
// emits config "count" unstamped records (the encoder stamps them), the
// first with a namespace (the encoder's general path), then ends its
// stream with a STREAM_STATUS COMPLETE. They share the one emit, taking
// turns under a mutex as the kit asks (emit is called from one goroutine
// at a time), while Serve's flush timer runs beside them.
type fanout struct{ source }

func (*fanout) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	var c struct{ Count int }
	if err := json.Unmarshal(config, &c); err != nil {
		return err
	}
	var mu sync.Mutex
	serial := func(m *protocol.Message) error {
		mu.Lock()
		defer mu.Unlock()
		return emit(m)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(catalog.Streams))
	for si, cs := range catalog.Streams {
		wg.Go(func() {
			name := cs.Stream.Name
			for i := range c.Count {
				rec := &protocol.Record{Stream: name, Data: fmt.Appendf(nil, `{"id":%d}`, i)}
				if i == 0 {
					rec.Namespace = "ns"
				}
				if errs[si] = serial(&protocol.Message{Type: protocol.TypeRecord, Record: rec}); errs[si] != nil {
					return
				}
			}
			errs[si] = serial(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceStreamStatus, EmittedAt: 1,
				StreamStatus: &protocol.StreamStatusTrace{StreamDescriptor: protocol.StreamDescriptor{Name: name}, Status: protocol.StatusComplete}}})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// A connector that emits from several goroutines in turn, served by
// kit.Serve: every line on stdout is one whole message, every record is
// there once, and each stream has the one COMPLETE its goroutine sent (kit
// adds none, having seen them all). Run with -race, the connector process
// is built with the detector too: a race in the encoder, its flush timer or
// the stream ends makes it report on stderr and exit 66.
func TestServeEmitFromGoroutines(t *testing.T) {
	t.Parallel()
	const streams, count = 8, 2000
	var cat strings.Builder
	cat.WriteString(`{"streams":[`)
	for i := range streams {
		if i > 0 {
			cat.WriteString(",")
		}
		fmt.Fprintf(&cat, `{"stream":{"name":"s%d","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}`, i)
	}
	cat.WriteString(`]}`)
	cmd := exec.Command(os.Args[0], "read", "--config", file(t, "c.json", fmt.Sprintf(`{"count":%d}`, count)), "--catalog", file(t, "k.json", cat.String()))
	cmd.Env = append(os.Environ(), "KIT_TEST_SERVE=fanout")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%v, stderr:\n%s", err, stderr.String())
	}
	var r result
	parse(t, &r, stdout.Bytes())
	seen := map[string]int{}
	completes := map[string]int{}
	for _, m := range r.msgs {
		switch {
		case m.Type == protocol.TypeRecord:
			var d struct{ ID int }
			if err := json.Unmarshal(m.Record.Data, &d); err != nil || m.Record.EmittedAt == 0 {
				t.Fatalf("record %+v: %v", m.Record, err)
			}
			seen[fmt.Sprintf("%s/%s/%d", m.Record.Namespace, m.Record.Stream, d.ID)]++
		case m.Type == protocol.TypeTrace && m.Trace.StreamStatus != nil:
			completes[m.Trace.StreamStatus.StreamDescriptor.Name]++
		default:
			t.Fatalf("unexpected message %+v", m)
		}
	}
	if len(seen) != streams*count {
		t.Errorf("%d distinct records, want %d", len(seen), streams*count)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("record %s came %d times", k, n)
		}
	}
	for i := range streams {
		if n := completes[fmt.Sprintf("s%d", i)]; n != 1 {
			t.Errorf("stream s%d: %d COMPLETEs, want 1", i, n)
		}
	}
}
