package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

// internalManifest is a company's internal API as the Connector Builder
// draws it: customers behind an OAuth refresh token, cursor pages, a date
// cursor whose records come in several zones, deleted ones filtered out and
// a field added; orders in numbered pages behind a bearer token, retried on
// 429 (Retry-After) and on a 200 whose body is an error; each order's items
// (a substream) in offset pages.
const internalManifest = `
version: 6.31.1
type: DeclarativeSource
check: {type: CheckStream, stream_names: [customers]}
definitions:
  error_handler:
    type: DefaultErrorHandler
    backoff_strategies:
      - {type: WaitTimeFromHeader, header: Retry-After}
    response_filters:
      - {type: HttpResponseFilter, action: RETRY, predicate: "{{ 'error' in response }}", error_message: "{{ response.error }}"}
      - {type: HttpResponseFilter, action: RETRY, http_codes: [429]}
  requester:
    type: HttpRequester
    url_base: "{{ config['base_url'] }}"
    http_method: GET
    authenticator: {type: BearerAuthenticator, api_token: "{{ config['api_token'] }}"}
    error_handler: {$ref: "#/definitions/error_handler"}
streams:
  - type: DeclarativeStream
    name: customers
    primary_key: [id]
    schema_loader:
      type: InlineSchemaLoader
      schema: {type: object, properties: {id: {type: integer}, updated_at: {type: string, format: date-time}, status: {type: string}, source_system: {type: string}}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /customers
        authenticator:
          type: OAuthAuthenticator
          token_refresh_endpoint: "{{ config['base_url'] }}/oauth/token"
          client_id: internal
          client_secret: "{{ config['client_secret'] }}"
          refresh_token: "{{ config['refresh_token'] }}"
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [data]}
        record_filter: {type: RecordFilter, condition: "{{ record['status'] != 'deleted' }}"}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: cursor}
        pagination_strategy: {type: CursorPagination, cursor_value: "{{ response.next }}", stop_condition: "{{ response.next is none }}"}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated_at
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      cursor_datetime_formats: ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"]
      start_datetime: "{{ config['start_date'] }}"
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: updated_since}
    transformations:
      - {type: AddFields, fields: [{path: [source_system], value: internal}]}
  - type: DeclarativeStream
    name: orders
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester: {$ref: "#/definitions/requester", path: /orders}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [orders]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        pagination_strategy: {type: PageIncrement, page_size: 2, start_from_page: 1}
  - type: DeclarativeStream
    name: order_items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}, quantity: {type: integer}, order_id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester: {$ref: "#/definitions/requester", path: "/orders/{{ stream_partition.order_id }}/items"}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [items]}
        record_filter: {type: RecordFilter, condition: "{{ record.quantity > 0 }}"}
      partition_router:
        type: SubstreamPartitionRouter
        parent_stream_configs:
          - {type: ParentStreamConfig, parent_key: id, partition_field: order_id, stream: {$ref: "#/streams/1"}}
    transformations:
      - {type: AddFields, fields: [{path: [order_id], value: "{{ stream_partition.order_id }}"}]}
spec:
  type: Spec
  connection_specification:
    type: object
    required: [base_url, api_token, client_secret, refresh_token, start_date]
    properties:
      base_url: {type: string}
      api_token: {type: string, airbyte_secret: true}
      client_secret: {type: string, airbyte_secret: true}
      refresh_token: {type: string, airbyte_secret: true}
      start_date: {type: string}
`

// internalAPI is the internal API: tokens expire after 1 s, page 2 of the
// orders answers 429 with Retry-After: 1 once and page 3 a 200 whose body
// is an error; with repeat, the customers' next cursor never moves.
type internalAPI struct {
	mu        sync.Mutex
	tokens    map[string]time.Time
	refreshes int
	hits      map[string]int
	since     []string
	repeat    bool
	customers []map[string]any
}

func newInternalAPI() *internalAPI {
	a := &internalAPI{tokens: map[string]time.Time{}, hits: map[string]int{}}
	zones := []string{"2024-01-%02dT10:00:00Z", "2024-01-%02dT12:00:00+02:00", "2024-01-%02d 10:00:00"}
	for i := 1; i <= 6; i++ {
		status := "active"
		if i == 4 {
			status = "deleted"
		}
		a.customers = append(a.customers, map[string]any{"id": i, "status": status, "updated_at": fmt.Sprintf(zones[i%3], i)})
	}
	return a
}

func (a *internalAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	key := r.URL.Path + "?" + r.URL.RawQuery
	a.hits[key]++
	q := r.URL.Query()
	switch {
	case r.URL.Path == "/oauth/token":
		if r.FormValue("refresh_token") != secret {
			http.Error(w, `{"error": "invalid_grant"}`, http.StatusBadRequest)
			return
		}
		a.refreshes++
		tok := "access-" + strconv.Itoa(a.refreshes)
		a.tokens[tok] = time.Now().Add(2 * time.Second)
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 1})
	case r.URL.Path == "/customers":
		exp, ok := a.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok || time.Now().After(exp) {
			http.Error(w, `{"message": "token expired"}`, http.StatusUnauthorized)
			return
		}
		a.since = append(a.since, q.Get("updated_since"))
		since, _ := time.Parse(time.RFC3339, q.Get("updated_since"))
		var match []map[string]any
		for _, c := range a.customers {
			at, err := time.Parse(time.RFC3339, c["updated_at"].(string))
			if err != nil {
				at, _ = time.Parse("2006-01-02 15:04:05", c["updated_at"].(string))
			}
			if !at.Before(since) {
				match = append(match, c)
			}
		}
		from, _ := strconv.Atoi(q.Get("cursor"))
		from = min(from, len(match))
		to := min(from+2, len(match))
		next := any(nil)
		if to < len(match) {
			next = strconv.Itoa(to)
			if a.repeat && from > 0 {
				next = strconv.Itoa(from)
			}
			time.Sleep(600 * time.Millisecond) // slow pages: the token expires mid-read
		}
		json.NewEncoder(w).Encode(map[string]any{"data": match[from:to], "next": next})
	case r.Header.Get("Authorization") != "Bearer "+secret:
		http.Error(w, `{"message": "bad token"}`, http.StatusUnauthorized)
	case r.URL.Path == "/orders":
		page, _ := strconv.Atoi(q.Get("page"))
		page = max(page, 1)
		if page == 2 && a.hits[key] == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"message": "slow down"}`, http.StatusTooManyRequests)
			return
		}
		if page == 3 && a.hits[key] == 1 {
			fmt.Fprint(w, `{"error": "busy, try later"}`)
			return
		}
		orders := []map[string]any{}
		for id := (page-1)*2 + 1; id <= min(page*2, 4); id++ { // the last page is full
			orders = append(orders, map[string]any{"id": id})
		}
		json.NewEncoder(w).Encode(map[string]any{"orders": orders})
	case strings.HasPrefix(r.URL.Path, "/orders/"):
		id, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/orders/"), "/items"))
		json.NewEncoder(w).Encode(map[string]any{"items": []map[string]any{{"id": id*10 + 1, "quantity": 0}, {"id": id*10 + 2, "quantity": id}}})
	default:
		http.NotFound(w, r)
	}
}

// internalJourney reads the internal API twice into DuckDB: the second
// read asks for customers from the state the first committed. Then the
// customers' cursor repeats: the error says so, where the CDK's words send
// to logs an in-process connector has none of.
func internalJourney(ctx context.Context) error {
	api := newInternalAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	c, err := goairbyte.NewLocalCache(ctx, "internal", "")
	if err != nil {
		return err
	}
	defer c.Close()
	src, err := goairbyte.GetSource(ctx, "source-internal", connector.WithManifest([]byte(internalManifest)), connector.WithLogger(logger),
		connector.WithConfig(map[string]any{"base_url": srv.URL, "api_token": secret, "client_secret": secret, "refresh_token": secret,
			"start_date": "2024-01-01T00:00:00Z"}))
	if err != nil {
		return err
	}
	res, err := src.Read(ctx, source.UseCache(c))
	if err != nil {
		return seen(err)
	}
	first := res.StreamRecords()
	api.mu.Lock()
	api.customers[0]["updated_at"] = "2024-03-01T09:00:00+01:00"
	api.since = nil
	api.mu.Unlock()
	if res, err = src.Read(ctx, source.UseCache(c)); err != nil {
		return seen(err)
	}
	customers, err := res.Stream(ctx, "customers")
	if err != nil {
		return err
	}
	var rows []string
	for rec, err := range customers.Records(ctx) {
		if err != nil {
			return err
		}
		rows = append(rows, fmt.Sprintf("%v@%s", rec["id"], rec["updated_at"].(time.Time).UTC().Format("01-02T15")))
	}
	items, err := res.Stream(ctx, "order_items")
	if err != nil {
		return err
	}
	var itemRows []string
	for rec, err := range items.Records(ctx) {
		if err != nil {
			return err
		}
		itemRows = append(itemRows, fmt.Sprintf("%v/%v", rec["order_id"], rec["id"]))
	}
	slices.Sort(itemRows) // the orders' partitions are read at once
	api.mu.Lock()
	// Read 1 refreshes the token at its start and once it expired, between
	// the customers' slow pages; read 2 at its start.
	fmt.Printf("internal: read 1 %v, read 2 %v from updated_since %v, customers %v, items %v, token refreshed mid-read %v, orders page 2 asked %d times, page 3 (empty) %d, page 4 %d\n",
		first, res.StreamRecords(), api.since, rows, itemRows, api.refreshes >= 3, api.hits["/orders?page=2"], api.hits["/orders?page=3"], api.hits["/orders?page=4"])
	api.repeat = true
	api.mu.Unlock()
	want(strings.Contains(logs.String(), `Retrying 'GET' request to '`+srv.URL+`/orders?page=2' after status code 429 (attempt 1). Sleeping for 2s`),
		"the 429's retry is not logged as such:\n%s", logs.String())
	_, err = src.Read(ctx, source.UseCache(c), source.ForceFullRefresh())
	var ce *goairbyte.ConnectorError
	want(errors.As(seen(err), &ce) && strings.Contains(err.Error(), `the paginator returned the page token "2" again`),
		"a repeated page token: %v", err)
	return nil
}
