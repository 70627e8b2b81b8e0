package destination

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"testing"

	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

func globalState(lsn int) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateGlobal,
		Global: &protocol.GlobalState{SharedState: fmt.Appendf(nil, `{"lsn":%d}`, lsn)}}}
}

func recordOf(stream string) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: stream, Data: []byte(`{}`), EmittedAt: 1}}
}

// newDirectWrite is a Write with no cache of the given streams, fed msgs.
func newDirectWrite(t *testing.T, streams []string, msgs []*protocol.Message) *directWrite {
	tr := progress.New(progress.OpWrite, "destination-test", progress.WithRenderer(nil))
	t.Cleanup(func() { tr.Finish(nil) })
	w := &directWrite{out: &WriteResult{RecordsSent: map[string]int64{}, RecordsConfirmed: map[string]int64{}}, tr: tr,
		handles: map[string]*progress.Stream{}, sent: map[string]int64{}, moved: map[string]bool{}}
	for _, s := range streams {
		w.handles[s] = tr.Stream(s)
	}
	w.msgs = func(yield func(*protocol.Message, error) bool) {
		for _, m := range msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
	if err := w.produce(context.Background(), bufio.NewWriter(io.Discard)); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestGlobalEchoConfirmsEveryStream: the echo of a GLOBAL state confirms,
// for every stream, the records sent before that state, those of earlier
// GLOBAL states not echoed included.
func TestGlobalEchoConfirmsEveryStream(t *testing.T) {
	msgs := []*protocol.Message{recordOf("a"), recordOf("a"), recordOf("b"), globalState(1),
		recordOf("b"), recordOf("b"), recordOf("b"), globalState(2),
		recordOf("c"), globalState(3), recordOf("a")}
	w := newDirectWrite(t, []string{"a", "b", "c"}, msgs)
	if ok, err := w.echoed(globalState(2).State, nil); !ok || err != nil {
		t.Fatalf("the echo of the state sent confirmed %v: %v", ok, err)
	}
	if want := map[string]int64{"a": 2, "b": 4}; !maps.Equal(w.out.RecordsConfirmed, want) {
		t.Errorf("confirmed after the second state's echo %v, want %v", w.out.RecordsConfirmed, want)
	}
	if ok, err := w.echoed(globalState(3).State, nil); !ok || err != nil {
		t.Fatalf("the echo of the state sent confirmed %v: %v", ok, err)
	}
	if want := map[string]int64{"a": 2, "b": 4, "c": 1}; !maps.Equal(w.out.RecordsConfirmed, want) {
		t.Errorf("confirmed after the third state's echo %v, want %v", w.out.RecordsConfirmed, want)
	}
}

// TestGlobalStatesPendingHoldNoCopyPerState: a CDC source of many tables
// sends GLOBAL states, and a destination that echoes only at the end
// leaves all of them pending. What each holds must be the streams whose
// counts moved since the state before, not a copy of every stream's
// count: that is streams × states, gigabytes for 10,000 tables.
func TestGlobalStatesPendingHoldNoCopyPerState(t *testing.T) {
	held := func(streams, states int) int {
		var names []string
		var msgs []*protocol.Message
		for i := range streams {
			names = append(names, fmt.Sprintf("s%04d", i))
			msgs = append(msgs, recordOf(names[i]))
		}
		for i := range states {
			msgs = append(msgs, globalState(i))
		}
		w := newDirectWrite(t, names, msgs)
		n := 0
		for _, f := range w.pending {
			n += len(f.counts)
		}
		return n
	}
	small, large := held(100, 100), held(1000, 1000)
	if small != 100 || large != 1000 {
		t.Errorf("pending states hold %d counts for 100 streams and 100 states, %d for 1,000 and 1,000; want one per stream (100, 1,000)", small, large)
	}
}
