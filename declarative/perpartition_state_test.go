package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// partitionsAPI serves accounts 1 to n, one conversation k1 per account k
// and one thread per conversation, with valid dates for any n: account k
// was updated k minutes after 2024-02-01, its conversation k minutes after
// 2024-03-01.
func partitionsAPI(n int) http.HandlerFunc {
	at := func(base string, k int) string {
		t, _ := time.Parse(time.RFC3339, base)
		return t.Add(time.Duration(k) * time.Minute).Format("2006-01-02T15:04:05Z")
	}
	return func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(r.URL.Path, "/")
		var b strings.Builder
		b.WriteString(`{"data": [`)
		switch {
		case r.URL.Path == "/accounts":
			for k := 1; k <= n; k++ {
				if k > 1 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `{"id": %d, "updated_at": %q}`, k, at("2024-02-01T00:00:00Z", k))
			}
		case parts[1] == "accounts":
			var k int
			fmt.Sscan(parts[2], &k)
			fmt.Fprintf(&b, `{"id": %d1, "updated_at": %q}`, k, at("2024-03-01T00:00:00Z", k))
		default:
			fmt.Fprintf(&b, `{"id": "t%s", "created_at": "2024-04-01T00:00:00Z"}`, parts[2])
		}
		b.WriteString("]}")
		w.Write([]byte(b.String()))
	}
}

// readPartitioned reads the threads of nestedDependencyManifest (a child
// whose parent has partitions of its own) from api, calling emit with each
// message.
func readPartitioned(tb testing.TB, api http.Handler, state string, emit func(*protocol.Message) error) {
	tb.Helper()
	srv := httptest.NewServer(api)
	defer srv.Close()
	target, err := url.Parse(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	src, err := New([]byte(nestedDependencyManifest),
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: target}, Timeout: 10 * time.Second}),
		WithClock(func() time.Time { return featureNow }), withSleep(noSleep))
	if err != nil {
		tb.Fatal(err)
	}
	config := json.RawMessage(`{"start": "2024-01-01T00:00:00Z"}`)
	cat, err := src.Discover(context.Background(), config)
	if err != nil {
		tb.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		if s.Name == "threads" {
			cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncIncremental, DestinationSyncMode: protocol.DestinationAppend})
		}
	}
	var st json.RawMessage
	if state != "" {
		st = json.RawMessage(state)
	}
	if err := src.Read(context.Background(), config, cc, st, emit); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPartitionedParentState reads a child of n partitions whose
// parent has n partitions of its own: each of the child's windows emits
// the state of every partition (as the CDK does), so the bytes of state
// grow with n².
func BenchmarkPartitionedParentState(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			api := partitionsAPI(n)
			var stateBytes, states int64
			for i := 0; i < b.N; i++ {
				readPartitioned(b, api, "", func(m *protocol.Message) error {
					if m.State != nil && m.State.Stream != nil {
						stateBytes += int64(len(m.State.Stream.StreamState))
						states++
					}
					return nil
				})
			}
			b.ReportMetric(float64(stateBytes)/float64(b.N)/1e6, "state-MB/read")
			b.ReportMetric(float64(states)/float64(b.N), "states/read")
		})
	}
}
