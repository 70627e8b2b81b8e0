package connections

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkPlan plans a declaration of 20 sources, 20 destinations and 20
// connections against a workspace that holds them all already (the
// steady state of a CI job running goab plan), through the spec-validating
// test server on 127.0.0.1.
func BenchmarkPlan(b *testing.B) {
	var y strings.Builder
	y.WriteString("sources:\n")
	for i := range 20 {
		fmt.Fprintf(&y, "  s%02d: {type: source-faker, config: {count: %d}}\n", i, i+1)
	}
	y.WriteString("destinations:\n")
	for i := range 20 {
		fmt.Fprintf(&y, "  d%02d: {type: destination-duckdb, config: {destination_path: /tmp/d%02d.duckdb, motherduck_api_key: secret_reference::MOTHERDUCK_KEY}}\n", i, i)
	}
	y.WriteString("connections:\n")
	for i := range 20 {
		fmt.Fprintf(&y, "  c%02d: {source: s%02d, destination: d%02d, schedule: \"0 0 * * * ?\", streams: {users: {sync_mode: incremental_append}}}\n", i, i, i)
	}
	e := setup(b)
	r := e.reconciler(b, y.String())
	e.apply(b, r, e.plan(b, r))
	calls := e.srv.Requests()
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		p, err := r.Plan(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !p.Empty() {
			b.Fatalf("plan not empty:\n%s", p)
		}
	}
	b.ReportMetric(float64(e.srv.Requests()-calls)/float64(b.N), "requests/op")
}
