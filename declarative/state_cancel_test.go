package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/protocol"
)

// largePartitionState is a per-partition state of n partitions of the
// items stream of stateFuzzManifests[2] (its regions router).
func largePartitionState(n int) string {
	var b strings.Builder
	b.WriteString(`{"use_global_cursor": false, "states": [`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"partition": {"region": "r%d"}, "cursor": {"modified": "2024-05-01T00:00:00.000000Z"}}`, i)
	}
	b.WriteString(`], "state": {"modified": "2024-05-01T00:00:00.000000Z"}, "lookback_window": 0}`)
	return b.String()
}

// errAfter is a context whose Err is nil for its first n calls and
// context.Canceled after: a read cancelled while it parses a state.
type errAfter struct {
	context.Context
	n int
}

func (c *errAfter) Err() error {
	if c.n > 0 {
		c.n--
		return nil
	}
	return context.Canceled
}

// TestLargeStateLoadSeesContext checks that the three cursors that read a
// per-partition state stop reading one of tens of thousands of partitions
// once the read's context is done, returning its error, and that a read
// cancelled before it starts returns that error with no message.
func TestLargeStateLoadSeesContext(t *testing.T) {
	stateRigOnce.Do(func() { stateRig, stateRigErr = newStateFuzzRig() })
	if stateRigErr != nil {
		t.Fatal(stateRigErr)
	}
	const n = 30000
	sv, err := decodeJSON([]byte(largePartitionState(n)))
	if err != nil {
		t.Fatal(err)
	}
	state := sv.(*dict)
	src := stateRig.sources[2]
	st := src.streamByName("items")
	cfg, _ := decodeJSON([]byte(stateFuzzManifests[2].config))
	v := &vars{config: cfg}
	v.Now = src.opts.now
	v.Set(interpolation.VarConfig, cfg)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newPerPartitionRun(cancelled, st.cursor, nil, state, v, src.opts.now, defaultMaxPartitions); !errors.Is(err, context.Canceled) {
		t.Errorf("newPerPartitionRun: %v, want %v", err, context.Canceled)
	}
	if _, err := newLegacyPerPartition(cancelled, st.cursor, nil, state, v, src.opts.now, defaultMaxPartitions); !errors.Is(err, context.Canceled) {
		t.Errorf("newLegacyPerPartition: %v, want %v", err, context.Canceled)
	}
	if _, err := newPartitionWindows(cancelled, st.cursor, state, v, src.opts.now); !errors.Is(err, context.Canceled) {
		t.Errorf("newPartitionWindows: %v, want %v", err, context.Canceled)
	}

	// Cancelled after the first look: the rest is not read.
	read := 0
	err = eachPartitionState(&errAfter{Context: context.Background(), n: 1}, state, func(_, _ *dict) error {
		read++
		return nil
	})
	if !errors.Is(err, context.Canceled) || read == 0 || read >= n {
		t.Errorf("cancelled while reading: %d of %d partitions read, error %v", read, n, err)
	}
	// Not cancelled: all of it.
	read = 0
	if err := eachPartitionState(context.Background(), state, func(_, _ *dict) error { read++; return nil }); err != nil || read != n {
		t.Errorf("%d of %d partitions read, error %v", read, n, err)
	}

	var msgs []string
	full := []byte(`[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"}, "stream_state": ` + largePartitionState(n) + `}}]`)
	err = src.Read(cancelled, json.RawMessage(stateFuzzManifests[2].config), stateRig.catalogs[2], full, func(m *protocol.Message) error {
		msgs = append(msgs, string(m.Type))
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(msgs) > 0 {
		t.Errorf("a cancelled read: error %v, messages %v; want %v and none", err, msgs, context.Canceled)
	}
}
