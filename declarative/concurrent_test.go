package declarative_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/protocol"
)

// tenantsManifest reads one tenant's users through an OAuth token, in
// date windows of three days, two records a page: everything that could
// leak from one call into another (token, config, cursor, pages) is there.
const tenantsManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [users]}
streams:
  - type: DeclarativeStream
    name: users
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%d"
      start_datetime: "{{ config['start'] }}"
      end_datetime: "{{ config['end'] }}"
      step: P3D
      cursor_granularity: P1D
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}
      end_time_option: {type: RequestOption, inject_into: request_parameter, field_name: until}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: "/t/{{ config['tenant'] }}/users"
        authenticator:
          type: OAuthAuthenticator
          token_refresh_endpoint: "{{ config['base_url'] }}/token"
          client_id: "{{ config['tenant'] }}"
          client_secret: "{{ config['secret'] }}"
          grant_type: client_credentials
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [users]}
      paginator:
        type: DefaultPaginator
        pagination_strategy: {type: PageIncrement, page_size: 2, start_from_page: 1}
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
spec: {type: Spec, connection_specification: {type: object, properties: {secret: {type: string, airbyte_secret: true}}}}
`

// tenantsAPI serves each tenant one user per day, only to that tenant's
// token.
func tenantsAPI(t *testing.T) *httptest.Server {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			id := r.PostFormValue("client_id")
			if r.PostFormValue("client_secret") != "s-"+id {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, `{"access_token": "tok-%s", "expires_in": 3600}`, id)
			return
		}
		tenant, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/t/"), "/users")
		if !ok || r.Header.Get("Authorization") != "Bearer tok-"+tenant {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		since, err1 := time.Parse(time.DateOnly, r.URL.Query().Get("since"))
		until, err2 := time.Parse(time.DateOnly, r.URL.Query().Get("until"))
		page, err3 := strconv.Atoi(r.URL.Query().Get("page"))
		if r.URL.Query().Get("page") == "" {
			page, err3 = 1, nil
		}
		if err1 != nil || err2 != nil || err3 != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var users []map[string]string
		for d := since; !d.After(until); d = d.AddDate(0, 0, 1) {
			day := d.Format(time.DateOnly)
			users = append(users, map[string]string{"id": tenant + "/" + day, "tenant": tenant, "updated": day})
		}
		from, to := min(2*(page-1), len(users)), min(2*page, len(users))
		json.NewEncoder(w).Encode(map[string]any{"users": users[from:to]})
	}))
	t.Cleanup(api.Close)
	return api
}

// One declarative Source reads for several configs at once, as a server
// serving many tenants with one manifest does: each call gets exactly its
// tenant's records, through its tenant's token, and ends on its own state.
func TestReadsWithSeveralConfigsAtOnce(t *testing.T) {
	t.Parallel()
	api := tenantsAPI(t)
	src, err := declarative.New([]byte(tenantsManifest), declarative.WithClock(func() time.Time {
		return time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	catalog, err := src.Discover(ctx, json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	configured := &protocol.ConfiguredCatalog{}
	for _, s := range catalog.Streams {
		configured.Streams = append(configured.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncIncremental,
			CursorField: []string{"updated"}, DestinationSyncMode: protocol.DestinationAppend})
	}
	var wg sync.WaitGroup
	for i := range 6 {
		for run := range 3 {
			wg.Go(func() {
				tenant := fmt.Sprintf("tenant%d", i)
				start := time.Date(2025, 1, 1+i, 0, 0, 0, 0, time.UTC)
				end := start.AddDate(0, 0, 7+2*i+run)
				config := fmt.Sprintf(`{"base_url": %q, "tenant": %q, "secret": "s-%s", "start": %q, "end": %q}`,
					api.URL, tenant, tenant, start.Format(time.DateOnly), end.Format(time.DateOnly))
				ids := map[string]bool{}
				var last json.RawMessage
				err := src.Read(ctx, json.RawMessage(config), configured, nil, func(m *protocol.Message) error {
					switch m.Type {
					case protocol.TypeRecord:
						var rec map[string]string
						if err := json.Unmarshal(m.Record.Data, &rec); err != nil {
							return err
						}
						if rec["tenant"] != tenant || ids[rec["id"]] {
							return fmt.Errorf("record %s in the read of %s", m.Record.Data, tenant)
						}
						ids[rec["id"]] = true
					case protocol.TypeState:
						last = m.State.Stream.StreamState
					}
					return nil
				})
				if err != nil {
					t.Errorf("%s, run %d: %v", tenant, run, err)
					return
				}
				if want := 8 + 2*i + run; len(ids) != want {
					t.Errorf("%s, run %d: %d records, want %d", tenant, run, len(ids), want)
				}
				var st map[string]string
				if json.Unmarshal(last, &st) != nil || st["updated"] != end.Format(time.DateOnly) {
					t.Errorf("%s, run %d: final state %s, want updated %s", tenant, run, last, end.Format(time.DateOnly))
				}
			})
		}
	}
	wg.Wait()
}

// Sources built without a client, read at once against one API as a
// service reading for many customers does, reuse the connections of the
// shared transport rather than dialling one for most requests: with
// http.DefaultTransport's two idle connections a host, 50 reads of 10
// pages opened a connection for every other request.
func TestConcurrentReadsReuseConnections(t *testing.T) {
	t.Parallel()
	const reads, pages = 50, 10
	api := newPagedAPI(t, pages, 2)
	readAtOnce(t, reads, api, 2*pages-1)
	if n, d := api.requests.Load(), api.dialled.Load(); n != reads*pages || d > n/4 {
		t.Errorf("%d requests opened %d connections, want %d requests over at most %d", n, d, reads*pages, n/4)
	}
}

// BenchmarkConcurrentReads reads 200 Sources at once, 20 pages of 100
// records each, from one loopback API, through the engine's shared
// transport and through a client over http.DefaultTransport; it reports
// records/s and the connections opened per request.
func BenchmarkConcurrentReads(b *testing.B) {
	const reads, pages = 200, 20
	for _, c := range []struct {
		name string
		opts []declarative.Option
	}{{"shared", nil}, {"DefaultTransport", []declarative.Option{declarative.WithHTTPClient(&http.Client{Transport: http.DefaultTransport})}}} {
		b.Run(c.name, func(b *testing.B) {
			api := newPagedAPI(b, pages, 100)
			start := time.Now()
			for range b.N {
				readAtOnce(b, reads, api, 100*pages-99, c.opts...)
			}
			b.ReportMetric(float64(b.N*reads*(100*pages-99))/time.Since(start).Seconds(), "records/s")
			b.ReportMetric(float64(api.dialled.Load())/float64(api.requests.Load()), "conns/req")
		})
	}
}

// pagedAPI serves pages of perPage items under "data", the last of the
// pages holding one, counting requests and the connections dialled to it.
type pagedAPI struct {
	url               string
	requests, dialled atomic.Int64
}

func newPagedAPI(t testing.TB, pages, perPage int) *pagedAPI {
	api := &pagedAPI{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.requests.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		n := perPage
		if page >= pages {
			n = 1
		}
		items := make([]map[string]int, n)
		for i := range items {
			items[i] = map[string]int{"id": page*perPage + i}
		}
		json.NewEncoder(w).Encode(map[string]any{"data": items})
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			api.dialled.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	api.url = srv.URL
	return api
}

// readAtOnce reads reads Sources of pagedManifest at once from api, each
// of which must get want records.
func readAtOnce(t testing.TB, reads int, api *pagedAPI, want int, opts ...declarative.Option) {
	text := strings.Replace(string(pagedManifest()), "https://api.example.com", api.url, 1)
	var wg sync.WaitGroup
	for i := range reads {
		wg.Go(func() {
			src, err := declarative.New([]byte(text), opts...)
			if err != nil {
				t.Error(err)
				return
			}
			records := 0
			err = src.Read(t.Context(), json.RawMessage(`{"api_key": "k"}`), fullRefresh(t, src), nil, func(m *protocol.Message) error {
				if m.Type == protocol.TypeRecord {
					records++
				}
				return nil
			})
			if err != nil || records != want {
				t.Errorf("read %d: %d records, want %d (%v)", i, records, want, err)
			}
		})
	}
	wg.Wait()
}

// pagedManifest is a one-stream manifest of pages of two items or more
// under "data", numbered from 1, against https://api.example.com.
func pagedManifest() []byte {
	return []byte(`
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: https://api.example.com, path: /items}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      paginator:
        type: DefaultPaginator
        pagination_strategy: {type: PageIncrement, page_size: 2, start_from_page: 1}
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
spec: {type: Spec, connection_specification: {type: object}}
`)
}

// fullRefresh is src's catalog, every stream in full refresh.
func fullRefresh(t testing.TB, src *declarative.Source) *protocol.ConfiguredCatalog {
	t.Helper()
	catalog, err := src.Discover(t.Context(), json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range catalog.Streams {
		cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncFullRefresh, DestinationSyncMode: protocol.DestinationAppend})
	}
	return cc
}
