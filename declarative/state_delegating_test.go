package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// delegatingManifest is a manifest of CDK 7.x whose stream "items" is a
// StateDelegatingStream: a full refresh over /all and an incremental read
// over /changes, both with a daily DatetimeBasedCursor on "updated" (as
// source-stripe's), $parameters giving the name, as source-monday's do.
const delegatingManifest = `
version: 7.10.1
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
definitions:
  base:
    type: DeclarativeStream
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "{{ parameters.path }}"}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%d"
      start_datetime: "2025-01-01"
      step: P30D
      cursor_granularity: P1D
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}
streams:
  - type: StateDelegatingStream
    $parameters: {name: items}
    full_refresh_stream: {$ref: "#/definitions/base", $parameters: {path: /all}}
    incremental_stream: {$ref: "#/definitions/base", $parameters: {path: /changes}}
spec: {type: Spec, connection_specification: {type: object}}
`

// delegatingAPI serves one record on /all and one on /changes.
func delegatingAPI(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/changes" {
		fmt.Fprint(w, `{"data": [{"id": 2, "updated": "2025-01-14"}]}`)
		return
	}
	fmt.Fprint(w, `{"data": [{"id": 1, "updated": "2025-01-10"}]}`)
}

// TestStateDelegatingStream pins CDK 7.28.2's StateDelegatingStream
// (model_to_component_factory.py, create_state_delegating_stream): a read
// without a state for the stream, or with an empty one, reads the
// full_refresh_stream; a read with one reads the incremental_stream.
func TestStateDelegatingStream(t *testing.T) {
	for _, c := range []struct {
		name, state string
		requests    []string
		ids         []string
	}{
		{"first read", "", []string{"GET /all?since=2025-01-01"}, []string{"1"}},
		{"empty state", `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"}, "stream_state": {}}}]`,
			[]string{"GET /all?since=2025-01-01"}, []string{"1"}},
		{"state", `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"}, "stream_state": {"updated": "2025-01-12"}}}]`,
			[]string{"GET /changes?since=2025-01-12"}, []string{"2"}},
		// The state of another stream is not the stream's.
		{"other stream's state", `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "other"}, "stream_state": {"updated": "2025-01-12"}}}]`,
			[]string{"GET /all?since=2025-01-01"}, []string{"1"}},
	} {
		run := runFeature(t, delegatingManifest, `{}`, c.state, delegatingAPI)
		if run.err != nil {
			t.Errorf("%s: %v", c.name, run.err)
			continue
		}
		sameStrings(t, c.name+": requests", run.requests, c.requests)
		sameStrings(t, c.name+": records", run.recordIDs("items"), c.ids)
	}
	// Check and discover have no state: the full refresh stream.
	src, err := New([]byte(delegatingManifest), loopback(t, delegatingAPI)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Check(context.Background(), json.RawMessage(`{}`)); err != nil {
		t.Errorf("Check: %v", err)
	}
	cat, err := src.Discover(context.Background(), json.RawMessage(`{}`))
	if err != nil || len(cat.Streams) != 1 || cat.Streams[0].Name != "items" || strings.Join(cat.Streams[0].DefaultCursorField, ".") != "updated" {
		t.Errorf("Discover: %+v, %v; want items, incremental on updated", cat, err)
	}
}

// TestStateDelegatingStreamRefusals: names that differ fail as the CDK's
// factory fails; what the engine does not build (api_retention_period, a
// StateDelegatingStream read as a parent) is refused by name.
func TestStateDelegatingStreamRefusals(t *testing.T) {
	ctx, cfg := context.Background(), json.RawMessage(`{}`)
	named := strings.Replace(delegatingManifest, "incremental_stream: {$ref: \"#/definitions/base\", $parameters: {path: /changes}}",
		"incremental_stream: {$ref: \"#/definitions/base\", name: changes, $parameters: {path: /changes}}", 1)
	src, err := New([]byte(named))
	if err != nil {
		t.Fatal(err)
	}
	const want = "state_delegating_stream, full_refresh_stream name and incremental_stream must have equal names. Instead has items, items and changes."
	if _, err := src.Discover(ctx, cfg); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Discover with unequal names: %v, want %s", err, want)
	}
	retention := strings.Replace(delegatingManifest, "$parameters: {name: items}", "$parameters: {name: items}\n    api_retention_period: P30D", 1)
	if src, err = New([]byte(retention)); err != nil {
		t.Fatal(err)
	}
	err = src.Read(ctx, cfg, allStreams(src), nil, func(*protocol.Message) error { return nil })
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "StateDelegatingStream api_retention_period at $.streams[0].api_retention_period") {
		t.Errorf("Read with api_retention_period: %v, want it refused", err)
	}
	parent := strings.Replace(delegatingManifest, "spec:", `  - type: DeclarativeStream
    name: children
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: /children}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router:
        type: SubstreamPartitionRouter
        parent_stream_configs:
          - {type: ParentStreamConfig, parent_key: id, partition_field: pid, stream: "#/streams/0"}
spec:`, 1)
	_, err = New([]byte(parent))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "StateDelegatingStream (added to the CDK after 6.31.1) at $.streams[1].retriever.partition_router.parent_stream_configs[0].stream") {
		t.Errorf("New with a StateDelegatingStream parent: %v, want it refused", err)
	}
}
