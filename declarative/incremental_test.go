package declarative

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// These tests pin the incremental semantics of the CDK 6.31.1 at their
// edges; each names the CDK code it follows.

// epochManifest is an incremental stream "events" whose cursor is an epoch
// in seconds, and a full-refresh stream "other" read after it.
func epochManifest(format string) string {
	return `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
definitions:
  base:
    type: DeclarativeStream
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "https://api.example.com", path: "/{{ parameters.name }}", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
streams:
  - $ref: "#/definitions/base"
    name: events
    $parameters: {name: events}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "` + format + `"
      start_datetime: "{{ config['start'] }}"
  - {$ref: "#/definitions/base", name: other, $parameters: {name: other}}
spec: {type: Spec, connection_specification: {type: object}}
`
}

// TestFloatEpochCursorValue follows DatetimeParser.parse
// (datetime/datetime_parser.py:28-32): "%s" and "%ms" parse int(value), and
// int() of a JSON float truncates it, so a record whose epoch is a float
// moves the state as an integer one does.
func TestFloatEpochCursorValue(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1, "updated": 1717200000.75}]}`)
	}
	run := runFeature(t, epochManifest("%s"), `{"start": "1704067200"}`, "", api)
	if run.err != nil {
		t.Fatal(run.err)
	}
	states := run.states("events")
	sameStrings(t, "states", states, []string{`{"updated":"1717200000"}`, `{"updated":"1717200000"}`})
}

// TestStateThatDoesNotParseFailsTheRead follows
// ConcurrentDeclarativeSource.read (concurrent_declarative_source.py:135),
// which builds every concurrent stream's cursor before reading any: a
// state value that none of the cursor's formats reads
// (CustomFormatConcurrentStreamStateConverter.parse_timestamp,
// datetime_stream_state_converter.py:208) raises there, and the read ends
// with that error alone: no stream starts, no record and no state is
// emitted.
func TestStateThatDoesNotParseFailsTheRead(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [{"id": 1, "updated": "2024-06-01"}]}`)
	}
	for _, value := range []string{`1717200000`, `"2024-06-01T00:00:00Z"`} {
		state := `[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {"updated": ` + value + `}}}]`
		run := runFeature(t, epochManifest("%Y-%m-%d"), `{"start": "2024-01-01"}`, state, api)
		if run.err == nil {
			t.Fatalf("state %s: the read succeeded", value)
		}
		var kinds []string
		for _, m := range run.messages {
			b, _ := json.Marshal(m)
			kinds = append(kinds, string(m.Type))
			if m.Trace != nil && m.Trace.Error != nil && !strings.Contains(m.Trace.Error.InternalMessage, "No format in ['%Y-%m-%d'] matching") {
				t.Errorf("state %s: trace %s", value, b)
			}
		}
		sameStrings(t, "state "+value+": messages", kinds, []string{"TRACE"})
		if len(run.requests) != 0 {
			t.Errorf("state %s: requests %q", value, run.requests)
		}
	}
}
