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

// TestPerPartitionLookbackInt follows ConcurrentPerPartitionCursor's
// _set_initial_state, which reads a state's lookback_window with int():
// a float is truncated, a bool is 0 or 1, a string is parsed as Python's
// int() parses it (spaces around it, a sign, underscores between digits).
// Each reads what the same whole number of seconds reads. A string int()
// refuses (ValueError), null or a list (TypeError) fail the read in
// _group_streams, before any request, with Python's words.
func TestPerPartitionLookbackInt(t *testing.T) {
	stateRigOnce.Do(func() { stateRig, stateRigErr = newStateFuzzRig() })
	if stateRigErr != nil {
		t.Fatal(stateRigErr)
	}
	state := func(lookback string) []byte {
		return []byte(`[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"}, "stream_state":
			{"use_global_cursor": false, "states": [], "state": {"modified": "2024-05-01T00:00:00.000000Z"}, "lookback_window": ` + lookback + `}}}]`)
	}
	for _, c := range []struct{ lookback, same string }{
		{`"86400"`, "86400"},
		{`" +86_400\n"`, "86400"},
		{"86400.9", "86400"},
		{"-0.5", "0"},
		{"true", "1"},
		{"false", "0"},
	} {
		want := stateRig.read(t, 2, state(c.same))
		if want.err != nil {
			t.Fatal(want.err)
		}
		res := stateRig.read(t, 2, state(c.lookback))
		if res.err != nil {
			t.Errorf("lookback_window %s: %v", c.lookback, res.err)
			continue
		}
		if res.requests != want.requests || res.records != want.records || string(res.final["items"]) != string(want.final["items"]) {
			t.Errorf("lookback_window %s: %d requests, %d records, final state %s; with %s: %d, %d, %s",
				c.lookback, res.requests, res.records, res.final["items"], c.same, want.requests, want.records, want.final["items"])
		}
	}
	none := stateRig.read(t, 2, state("0"))
	if day := stateRig.read(t, 2, state(`"86400"`)); string(day.final["items"]) == string(none.final["items"]) {
		t.Errorf("lookback_window \"86400\" reads as 0: final state %s", day.final["items"])
	}
	for lookback, msg := range map[string]string{
		`"1.5"`:  `invalid literal for int() with base 10: '1.5'`,
		`""`:     `invalid literal for int() with base 10: ''`,
		`"1__0"`: `invalid literal for int() with base 10: '1__0'`,
		"null":   `int() argument must be a string, a bytes-like object or a real number, not 'NoneType'`,
		"[1]":    `int() argument must be a string, a bytes-like object or a real number, not 'list'`,
	} {
		res := stateRig.read(t, 2, state(lookback))
		if res.err == nil || !strings.Contains(res.err.Error(), msg) || res.requests != 0 || res.records != 0 {
			t.Errorf("lookback_window %s: %d requests, %d records, error %v; want none and %q", lookback, res.requests, res.records, res.err, msg)
		}
	}
}
