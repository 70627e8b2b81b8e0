package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
)

// saasManifest is one manifest a service runs for every customer: the customer's key in a
// header (a secret of the spec), pages of 50 numbered from 1.
const saasManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      base_url: {type: string}
      api_key: {type: string, airbyte_secret: true}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}, customer: {type: string}}}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /items
        authenticator: {type: ApiKeyAuthenticator, api_token: "{{ config['api_key'] }}", inject_into: {type: RequestOption, inject_into: header, field_name: X-Api-Key}}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [items]}}
      paginator:
        type: DefaultPaginator
        pagination_strategy: {type: PageIncrement, page_size: 50, start_from_page: 1}
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
`

// saasJourney is a service reading one API for 100 customers at once in one process, each
// with its own key and logger, through the engine's own HTTP client: each customer gets its
// own 500 records, its first 429 (Retry-After: 1) waited and logged in its own log, no key in
// any log, and the reads share keep-alive connections rather than dial one for most requests.
// Then 50 reads of a slow API are cancelled mid-read: each fails as cancelled, and no
// goroutine of goairbyte's is left once they have returned.
func saasJourney(ctx context.Context) error {
	const customers, pages = 100, 10
	var requests, dialled atomic.Int64
	var mu sync.Mutex
	limited := map[string]bool{}
	slow := make(chan struct{})
	api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		customer, ok := strings.CutPrefix(r.Header.Get("X-Api-Key"), "key-")
		if !ok {
			http.Error(w, "unknown key", http.StatusUnauthorized)
			return
		}
		if strings.HasPrefix(customer, "slow") {
			select { // a page that takes until the read is cancelled
			case <-slow:
			case <-r.Context().Done():
			}
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		mu.Lock()
		first := page == 3 && !limited[customer]
		limited[customer] = limited[customer] || page == 3
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		n := 50
		if page == pages {
			n = 0
		}
		var b strings.Builder
		b.WriteString(`{"items": [`)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `{"id": %d, "customer": %q}`, page*100+i, strings.TrimSuffix(customer, secret))
		}
		b.WriteString("]}")
		w.Write([]byte(b.String()))
	}))
	api.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialled.Add(1)
		}
	}
	api.Start()
	defer api.Close()
	defer close(slow)

	read := func(ctx context.Context, customer string, log *slog.Logger) (map[string]int, error) {
		src, err := goairbyte.GetSource(ctx, "source-saas", connector.WithManifest([]byte(saasManifest)), connector.WithLogger(log),
			connector.WithConfig(map[string]any{"base_url": api.URL, "api_key": "key-" + customer + secret}))
		if err != nil {
			return nil, err
		}
		got := map[string]int{}
		for rec, err := range src.Records(ctx, "items") {
			if err != nil {
				return got, err
			}
			c, _ := rec.Get("customer")
			got[fmt.Sprint(c)]++
		}
		return got, nil
	}
	logs := make([]bytes.Buffer, customers)
	var wg sync.WaitGroup
	var wrong, retriesLogged atomic.Int64
	for i := range customers {
		wg.Go(func() {
			customer := fmt.Sprintf("c%03d", i)
			got, err := read(ctx, customer, slog.New(slog.NewJSONHandler(&logs[i], &slog.HandlerOptions{Level: slog.LevelInfo})))
			if err != nil || len(got) != 1 || got[customer] != 50*(pages-1) {
				wrong.Add(1)
				want(false, "customer %s read %v, want %d of its own records (%v)", customer, got, 50*(pages-1), seen(err))
			}
			if strings.Contains(logs[i].String(), "Retrying") {
				retriesLogged.Add(1)
			}
		})
	}
	wg.Wait()
	keysInLogs := 0
	for i := range logs {
		if strings.Contains(logs[i].String(), secret) || strings.Contains(logs[i].String(), "key-c") {
			keysInLogs++
		}
	}
	n, d := requests.Load(), dialled.Load()
	want(d <= n/4, "%d requests opened %d connections: keep-alive connections not reused", n, d)
	fmt.Printf("%d customers at once: %d read their own records, %d logged their retry, %d logs show a key; connections reused %v\n",
		customers, customers-int(wrong.Load()), retriesLogged.Load(), keysInLogs, d <= n/4)

	// Cancelled mid-read: every read stuck on a page that does not come.
	cctx, cancel := context.WithCancel(ctx)
	before := requests.Load()
	errc := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			_, err := read(cctx, fmt.Sprintf("slow%02d", i), logger)
			errc <- err
		})
	}
	for requests.Load() < before+50 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	close(errc)
	cancelled := 0
	for err := range errc {
		if errors.Is(seen(err), context.Canceled) {
			cancelled++
		}
	}
	buf := make([]byte, 1<<20)
	left := strings.Count(string(buf[:runtime.Stack(buf, true)]), "github.com/x/goairbyte/")
	fmt.Printf("50 reads cancelled mid-page: %d failed as cancelled, goairbyte frames left in goroutines: %d\n", cancelled, left)
	return nil
}
