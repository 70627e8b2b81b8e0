package goairbyte_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/duckdb"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/source"
)

// benchContacts is a manifest shaped like the contacts stream of
// conformance/source-sendinblue (the engine's own benchmark): API key in a
// header, offset pagination by 100, a date cursor and an interpolated
// record filter.
func benchContacts(base string) []byte {
	return []byte(`
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [contacts]}
streams:
  - type: DeclarativeStream
    name: contacts
    primary_key: [id]
    schema_loader:
      type: InlineSchemaLoader
      schema:
        type: object
        properties:
          id: {type: integer}
          email: {type: string}
          emailBlacklisted: {type: boolean}
          smsBlacklisted: {type: boolean}
          createdAt: {type: string, format: date-time}
          modifiedAt: {type: string, format: date-time}
          listIds: {type: array}
          attributes: {type: object}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: ` + base + `/v3
        path: /contacts
        http_method: GET
        authenticator: {type: ApiKeyAuthenticator, header: api-key, api_token: "{{ config['api_key'] }}"}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [contacts]}
        record_filter: {type: RecordFilter, condition: "{{ record['modifiedAt'] >= stream_interval['start_time'] }}"}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: offset}
        page_size_option: {type: RequestOption, inject_into: request_parameter, field_name: limit}
        pagination_strategy: {type: OffsetIncrement, page_size: 100}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: modifiedAt
      cursor_datetime_formats: ["%Y-%m-%dT%H:%M:%S.%f%z"]
      datetime_format: "%Y-%m-%dT%H:%M:%S.%f%z"
      start_datetime: {type: MinMaxDatetime, datetime: "{{ config['start_date'] }}", datetime_format: "%Y-%m-%dT%H:%M:%SZ"}
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: modifiedSince}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      api_key: {type: string, airbyte_secret: true}
      start_date: {type: string}
`)
}

// contactsServer serves total contacts in pages of 100 on 127.0.0.1. The
// first 20,000 are encoded once and served again for higher offsets (ids
// included), so the server's own work stays small beside the engine's.
func contactsServer(b *testing.B, total int) *httptest.Server {
	const distinct = 20_000
	pages := make([][]byte, 0, distinct/100)
	for first := 0; first < distinct; first += 100 {
		var sb strings.Builder
		sb.WriteString(`{"contacts": [`)
		for i := first; i < first+100; i++ {
			if i > first {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"id": %d, "email": "contact%d@example.com", "emailBlacklisted": false, "smsBlacklisted": %t, `+
				`"createdAt": "2024-03-01T08:00:00.000000+0000", "modifiedAt": "2024-09-%02dT10:30:00.000000+0000", `+
				`"listIds": [%d, 7], "attributes": {"FIRSTNAME": "Ada", "LASTNAME": "Lovelace"}}`, i, i, i%3 == 0, 1+i%28, i%11)
		}
		sb.WriteString(`]}`)
		pages = append(pages, []byte(sb.String()))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		w.Header().Set("Content-Type", "application/json")
		if off >= total {
			w.Write([]byte(`{"contacts": []}`))
			return
		}
		w.Write(pages[(off%distinct)/100])
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchTotal is the benchmark's record count: 20,000, or
// MANIFEST_BENCH_COUNT (1000000 for the memory figure).
func benchTotal() int {
	if n, err := strconv.Atoi(os.Getenv("MANIFEST_BENCH_COUNT")); err == nil && n > 0 {
		return n
	}
	return 20_000
}

func manifestSource(b *testing.B, total int) *goairbyte.Source {
	srv := contactsServer(b, total)
	src, err := goairbyte.GetSource(context.Background(), "source-contacts",
		connector.WithManifest(benchContacts(srv.URL)),
		connector.WithClock(func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }),
		connector.WithConfig(map[string]any{"api_key": "k", "start_date": "2024-01-01T00:00:00Z"}),
		connector.WithEnvironment(goairbyte.NewEnvironment()))
	if err != nil {
		b.Fatal(err)
	}
	return src
}

// BenchmarkManifestRecords streams the contacts through Source.Records:
// the engine in process, no cache.
func BenchmarkManifestRecords(b *testing.B) {
	total := benchTotal()
	src := manifestSource(b, total)
	ctx := context.Background()
	var n int
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for _, err := range src.Records(ctx, "contacts") {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(cachetest.PeakRSSMB(), "peak-RSS-MB")
	if n != total*b.N {
		b.Fatalf("%d records, want %d", n, total*b.N)
	}
}

// BenchmarkManifestReadDuckDB reads the contacts into a fresh DuckDB cache
// per iteration; BenchmarkFakerReadDuckDB reads as many faker users the
// same way, the yardstick the manifest's Read is held to.
func BenchmarkManifestReadDuckDB(b *testing.B) {
	total := benchTotal()
	readDuckDB(b, manifestSource(b, total), "contacts", total)
}

func BenchmarkFakerReadDuckDB(b *testing.B) {
	total := benchTotal()
	src, err := goairbyte.GetSource(context.Background(), "source-faker",
		connector.WithConfig(map[string]any{"count": total, "seed": 1}),
		connector.WithEnvironment(goairbyte.NewEnvironment()))
	if err != nil {
		b.Fatal(err)
	}
	readDuckDB(b, src, "users", total)
}

func readDuckDB(b *testing.B, src *goairbyte.Source, stream string, total int) {
	ctx := context.Background()
	var n int64
	var elapsed time.Duration
	for i := range b.N {
		c, err := cache.New(ctx, duckdb.NewConnector(filepath.Join(b.TempDir(), fmt.Sprintf("bench-%d.duckdb", i))))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := src.Read(ctx, source.UseCache(c), source.Streams(stream), source.ForceFullRefresh(), source.NoProgress())
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		n += res.StreamRecords()[stream]
		c.Close()
	}
	if n != int64(total*b.N) {
		b.Fatalf("%d records, want %d", n, total*b.N)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
	b.ReportMetric(cachetest.PeakRSSMB(), "peak-RSS-MB")
}
