package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// tinyStepManifest is an incremental stream stepping by one second from
// 2000-01-01 to the clock's now (featureNow): 790 million windows, read
// one at a time (concurrency 1) so the requests come in window order.
func tinyStepManifest(router string) string {
	return `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
concurrency_level: {type: ConcurrencyLevel, default_concurrency: 1, max_concurrency: 1}
streams:
  - type: DeclarativeStream
    name: events
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/events", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
` + indent(router, "      ") + `
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "2000-01-01T00:00:00Z"
      step: PT1S
      cursor_granularity: PT1S
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}
      end_time_option: {type: RequestOption, inject_into: request_parameter, field_name: to}
spec: {type: Spec, connection_specification: {type: object}}
`
}

// TestTinyStepReadsFirstWindows follows ConcurrentCursor.stream_slices, a
// generator: the windows are made one at a time as the partition
// enqueuer takes them, so a one-second step over 25 years reads its first
// windows at once. The engine built the whole list first (tens of GB)
// before its first request. The read is stopped after three records.
func TestTinyStepReadsFirstWindows(t *testing.T) {
	router := `partition_router:
  type: ListPartitionRouter
  cursor_field: p
  values: ["a", "b"]
  request_option: {type: RequestOption, inject_into: request_parameter, field_name: p}`
	for _, tc := range []struct {
		name, router, param string
	}{{"cursor", "", ""}, {"per-partition cursor", router, "p=a&"}} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var requests []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests = append(requests, r.URL.RawQuery)
				mu.Unlock()
				fmt.Fprintf(w, `{"data": [{"id": %q, "updated": %q}]}`, r.URL.Query().Get("from"), r.URL.Query().Get("from"))
			}))
			defer srv.Close()
			src, err := New([]byte(tinyStepManifest(tc.router)),
				WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}, Timeout: 10 * time.Second}),
				WithClock(func() time.Time { return featureNow }),
				withSleep(noSleep))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := src.Discover(context.Background(), json.RawMessage(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0], SyncMode: protocol.SyncIncremental, DestinationSyncMode: protocol.DestinationAppend}}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var states []string
			records := 0
			done := make(chan error, 1)
			go func() {
				done <- src.Read(ctx, json.RawMessage(`{}`), cc, nil, func(m *protocol.Message) error {
					switch {
					case m.Record != nil:
						if records++; records == 3 {
							cancel()
						}
					case m.State != nil:
						states = append(states, compactJSON(m.State.Stream.StreamState))
					}
					return nil
				})
			}()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("no end of the read 10 s after it started; %d records", records)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Read: %v, want the context's cancellation", err)
			}
			sameStrings(t, "requests", requests, []string{
				tc.param + "from=2000-01-01T00%3A00%3A00Z&to=2000-01-01T00%3A00%3A00Z",
				tc.param + "from=2000-01-01T00%3A00%3A01Z&to=2000-01-01T00%3A00%3A01Z",
				tc.param + "from=2000-01-01T00%3A00%3A02Z&to=2000-01-01T00%3A00%3A02Z",
			})
			if tc.router == "" {
				sameStrings(t, "states", states, []string{`{"updated":"2000-01-01T00:00:00Z"}`, `{"updated":"2000-01-01T00:00:01Z"}`, `{"updated":"2000-01-01T00:00:02Z"}`})
			}
		})
	}
}
