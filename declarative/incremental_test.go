package declarative

import (
	"fmt"
	"net/http"
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
