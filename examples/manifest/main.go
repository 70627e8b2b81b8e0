// Command manifest runs a manifest-only connector natively: a declarative
// manifest (the whole connector, as Airbyte's low-code connectors are)
// read by goairbyte's own engine, in this process, with no Python and no
// Docker.
//
//	go run ./examples/manifest
//
// So that it needs no internet, the example serves its own small helpdesk
// API on 127.0.0.1: 250 tickets, in pages of 100, behind an API key, and
// filtered by updated_since. The manifest below describes that API the way
// Airbyte's manifests describe theirs: an authenticator, a paginator, a
// record selector and a date cursor. The example reads it into a DuckDB
// cache, updates five tickets on the server, and reads again: the second
// read is incremental, from the state the cache committed, and brings only
// those five, which the cache merges by primary key.
//
// A published connector runs the same way with its manifest's path or URL
// in connector.WithManifest, or with nothing at all: GetSource resolves a
// connector the registry marks manifest-only to its published manifest.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

// manifest is the connector: Airbyte's declarative format, as found in
// the manifest.yaml of any manifest-only connector.
const manifest = `
version: 6.7.0
type: DeclarativeSource
check:
  type: CheckStream
  stream_names: [tickets]
streams:
  - type: DeclarativeStream
    name: tickets
    primary_key: [id]
    schema_loader:
      type: InlineSchemaLoader
      schema:
        type: object
        properties:
          id: {type: integer}
          subject: {type: string}
          updated_at: {type: string, format: date-time}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /tickets
        http_method: GET
        authenticator:
          type: ApiKeyAuthenticator
          api_token: "{{ config['api_key'] }}"
          inject_into: {type: RequestOption, inject_into: header, field_name: X-Api-Key}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [tickets]}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        page_size_option: {type: RequestOption, inject_into: request_parameter, field_name: per_page}
        pagination_strategy: {type: PageIncrement, page_size: 100, start_from_page: 1}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated_at
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "{{ config['start_date'] }}"
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: updated_since}
spec:
  type: Spec
  connection_specification:
    type: object
    required: [base_url, api_key, start_date]
    properties:
      base_url: {type: string}
      api_key: {type: string, airbyte_secret: true}
      start_date: {type: string}
`

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves the API, reads it twice into a DuckDB cache in a temporary
// directory and prints what happened to w.
func run(ctx context.Context, w io.Writer) error {
	api := newHelpdesk(250)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	defer srv.Close()

	dir, err := os.MkdirTemp("", "goairbyte-manifest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cache, err := goairbyte.NewLocalCache(ctx, "helpdesk", dir)
	if err != nil {
		return err
	}
	defer cache.Close()

	src, err := goairbyte.GetSource(ctx, "source-helpdesk",
		connector.WithManifest([]byte(manifest)),
		connector.WithConfig(map[string]any{
			"base_url": "http://" + ln.Addr().String(), "api_key": helpdeskKey, "start_date": "2024-01-01T00:00:00Z"}))
	if err != nil {
		return err
	}
	if err := src.Check(ctx); err != nil {
		return err
	}
	res, err := src.Read(ctx, source.UseCache(cache))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "first read: %d tickets\n", res.StreamRecords()["tickets"])

	api.update(5, time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC))
	res, err = src.Read(ctx, source.UseCache(cache))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "second read: %d tickets (incremental, from the saved state)\n", res.StreamRecords()["tickets"])

	tickets, err := res.Stream(ctx, "tickets")
	if err != nil {
		return err
	}
	n, err := tickets.Count(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "tickets: %d rows in the cache\n", n)
	rows, err := cache.Query(ctx, "SELECT id, subject FROM "+tickets.QualifiedTableName()+
		" WHERE updated_at >= TIMESTAMPTZ '2024-06-01 00:00:00+00' ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var subject string
		if err := rows.Scan(&id, &subject); err != nil {
			return err
		}
		fmt.Fprintf(w, "  updated: ticket %d, %s\n", id, subject)
	}
	return rows.Err()
}

// helpdeskKey is the API key the example's server wants.
const helpdeskKey = "example-key"

// helpdesk is the example's API: GET /tickets?updated_since=…&page=…&per_page=…
// answers the tickets updated after updated_since, oldest first.
type helpdesk struct {
	mu      sync.Mutex
	tickets []ticket
}

type ticket struct {
	ID        int    `json:"id"`
	Subject   string `json:"subject"`
	UpdatedAt string `json:"updated_at"`
}

func newHelpdesk(n int) *helpdesk {
	h := &helpdesk{}
	start := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		h.tickets = append(h.tickets, ticket{ID: i, Subject: "ticket #" + strconv.Itoa(i),
			UpdatedAt: start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)})
	}
	return h
}

// update edits the first n tickets at the time at.
func (h *helpdesk) update(n int, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range n {
		h.tickets[i].Subject += " (reopened)"
		h.tickets[i].UpdatedAt = at.Format(time.RFC3339)
	}
}

func (h *helpdesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Api-Key") != helpdeskKey {
		http.Error(w, `{"error": "bad API key"}`, http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	since, err := time.Parse(time.RFC3339, q.Get("updated_since"))
	if err != nil {
		http.Error(w, `{"error": "updated_since must be RFC 3339"}`, http.StatusBadRequest)
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	page, perPage = max(page, 1), max(perPage, 1)
	h.mu.Lock()
	var match []ticket
	for _, t := range h.tickets {
		if at, _ := time.Parse(time.RFC3339, t.UpdatedAt); at.After(since) {
			match = append(match, t)
		}
	}
	h.mu.Unlock()
	slices.SortStableFunc(match, func(a, b ticket) int { return strings.Compare(a.UpdatedAt, b.UpdatedAt) })
	from, to := min((page-1)*perPage, len(match)), min(page*perPage, len(match))
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"tickets": %s}`, mustJSON(match[from:to]))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
