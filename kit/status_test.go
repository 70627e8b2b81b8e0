package kit_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// TestStatusNamesTheCatalogsStream: a STREAM_STATUS that leaves out the
// namespace of the one configured stream of its name goes out naming it,
// because the Airbyte platform fails a sync on a COMPLETE for a stream its
// catalog does not have (StreamStatusCompletionTracker); one whose name
// two configured streams bear, or none, or that names a namespace, goes
// out as it came.
func TestStatusNamesTheCatalogsStream(t *testing.T) {
	t.Parallel()
	status := func(ns, name, st string) string {
		return fmt.Sprintf(`{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1,"stream_status":{"stream_descriptor":{"name":%q,"namespace":%q},"status":%q}}}`, name, ns, st)
	}
	stream := func(ns, name string) string {
		return fmt.Sprintf(`{"stream":{"name":%q,"namespace":%q,"json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}`, name, ns)
	}
	cat := file(t, "k.json", `{"streams":[`+stream("public", "users")+`,`+stream("a", "items")+`,`+stream("b", "items")+`]}`)
	lines := []string{
		status("", "users", "STARTED"), status("", "users", "COMPLETE"),
		status("", "items", "COMPLETE"), status("x", "other", "COMPLETE"),
		status("a", "items", "COMPLETE"), status("b", "items", "COMPLETE"), status("elsewhere", "users", "COMPLETE"),
	}
	r := run(t, &scripted{lines: lines}, "", "read", "--config", file(t, "c.json", `{"count":1}`), "--catalog", cat)
	var got []string
	for _, m := range r.of(protocol.TypeTrace) {
		d := m.Trace.StreamStatus.StreamDescriptor
		got = append(got, d.Namespace+"."+d.Name+" "+string(m.Trace.StreamStatus.Status))
	}
	want := []string{"public.users STARTED", "public.users COMPLETE", ".items COMPLETE", "x.other COMPLETE", "a.items COMPLETE", "b.items COMPLETE",
		"elsewhere.users COMPLETE"}
	if r.code != 0 || !slices.Equal(got, want) {
		t.Errorf("exit %d, statuses %q, want %q", r.code, got, want)
	}
}
