package declarative

import (
	"strings"
	"testing"
)

// TestReadStateEdges pins what a read does with states that say nothing
// about the streams read, as the CDK 6.31.1's ConnectorStateManager does:
// a stream's state is looked up by its name alone, so the state of a
// stream that is not in the catalog is never read; a full-refresh stream's
// cursor (FinalStateCursor) takes no state, whatever it is; an empty
// state, null or an empty list is no state. Each reads what a read
// without state reads, and ends with the same states.
func TestReadStateEdges(t *testing.T) {
	stateRigOnce.Do(func() { stateRig, stateRigErr = newStateFuzzRig() })
	if stateRigErr != nil {
		t.Fatal(stateRigErr)
	}
	fresh := stateRig.read(t, 0, nil)
	if fresh.err != nil {
		t.Fatal(fresh.err)
	}
	stream := func(name, state string) string {
		return `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "` + name + `"}, "stream_state": ` + state + `}}]`
	}
	for what, state := range map[string]string{
		"a stream not in the catalog":    stream("nosuch", `{"updated": "2024-06-01"}`),
		"a full-refresh stream's cursor": stream("plain", `{"updated": "2024-06-01"}`),
		"a full-refresh stream's string": stream("plain", `"x"`),
		"an empty object":                `{}`,
		"null":                           `null`,
		"an empty list":                  `[]`,
		"a stream's null state":          stream("events", `null`),
		"a stream's empty state":         stream("events", `{}`),
	} {
		res := stateRig.read(t, 0, []byte(state))
		if res.err != nil {
			t.Errorf("%s: %v", what, res.err)
			continue
		}
		if res.requests != fresh.requests || res.records != fresh.records {
			t.Errorf("%s: %d requests, %d records; without state %d, %d", what, res.requests, res.records, fresh.requests, fresh.records)
		}
		for name, want := range fresh.final {
			if got := string(res.final[name]); got != string(want) {
				t.Errorf("%s: %s's final state %s, without state %s", what, name, got, want)
			}
		}
	}

	// A cursor value later than now: ConcurrentCursor's
	// _split_per_slice_range makes no slice (lower >= upper), the stream
	// reads nothing and its state stays.
	res := stateRig.read(t, 0, []byte(stream("events", `{"updated": "9999-12-31"}`)))
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.requests != 1 { // the full-refresh stream's
		t.Errorf("a state later than now: %d requests, want the full-refresh stream's 1", res.requests)
	}
	if got := string(res.final["events"]); got != `{"updated":"9999-12-31"}` {
		t.Errorf("a state later than now: final state %s", got)
	}

	// A year Python's datetime cannot hold (strptime's %Y reads 4 digits)
	// fails the read before any request, naming the value.
	res = stateRig.read(t, 0, []byte(stream("events", `{"updated": "10000-01-01"}`)))
	if res.err == nil || !strings.Contains(res.err.Error(), "No format in") || !strings.Contains(res.err.Error(), "10000-01-01") || res.requests != 0 {
		t.Errorf("a year 10000 state: %d requests, error %v", res.requests, res.err)
	}
}

// TestPerPartitionLookbackOutOfRange follows ConcurrentPerPartitionCursor
// with a lookback_window in its state too large for a time.Duration
// (more than 292 years of seconds): the CDK moves the global cursor back by
// timedelta(seconds=lookback_window), here to the 15th century, so each
// new partition reads from the start; the engine must not let the product
// overflow (18,415,208,073 s in nanoseconds wraps to minus one year, which
// moved the cursor a year forward, past now, and read nothing). Where the
// CDK's subtraction leaves the years 1 to 9999 (OverflowError), the stream
// fails saying so.
func TestPerPartitionLookbackOutOfRange(t *testing.T) {
	stateRigOnce.Do(func() { stateRig, stateRigErr = newStateFuzzRig() })
	if stateRigErr != nil {
		t.Fatal(stateRigErr)
	}
	fresh := stateRig.read(t, 2, nil)
	if fresh.err != nil {
		t.Fatal(fresh.err)
	}
	for _, lookback := range []string{"18415208073", "9223372036"} {
		state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"}, "stream_state":
			{"use_global_cursor": false, "states": [], "state": {"modified": "2024-05-01T00:00:00.000000Z"}, "lookback_window": ` + lookback + `}}}]`
		res := stateRig.read(t, 2, []byte(state))
		if res.err != nil {
			t.Errorf("lookback_window %s: %v", lookback, res.err)
			continue
		}
		if res.requests != fresh.requests || res.records != fresh.records {
			t.Errorf("lookback_window %s: %d requests, %d records; from the start %d, %d", lookback, res.requests, res.records, fresh.requests, fresh.records)
		}
	}
	for _, lookback := range []string{"64000000000", "9223372036854775807"} {
		state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"}, "stream_state":
			{"use_global_cursor": false, "states": [], "state": {"modified": "2024-05-01T00:00:00.000000Z"}, "lookback_window": ` + lookback + `}}}]`
		res := stateRig.read(t, 2, []byte(state))
		if res.err == nil || !strings.Contains(res.err.Error(), "lookback_window of "+lookback+" seconds moves the cursor value 2024-05-01T00:00:00.000000Z out of the years 1 to 9999") {
			t.Errorf("lookback_window %s: %v", lookback, res.err)
		}
	}
}
