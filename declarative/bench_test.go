package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/protocol"
)

// benchManifest is shaped like conformance/source-sendinblue's contacts
// stream: ApiKey auth in a header, offset pagination by 100, a
// DatetimeBasedCursor and an interpolated RecordFilter.
func benchManifest(base string) []byte {
	return []byte(`
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [contacts]}
streams:
  - type: DeclarativeStream
    name: contacts
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: ` + base + `/v3
        path: /contacts
        http_method: GET
        authenticator:
          type: ApiKeyAuthenticator
          header: api-key
          api_token: "{{ config['api_key'] }}"
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [contacts]}
        record_filter:
          type: RecordFilter
          condition: "{{ record['modifiedAt'] >= stream_interval['start_time'] }}"
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

// contactPages serves total records in pages of 100. At most 200 distinct
// pages are made, once, and served in turn, so that neither the server's
// CPU nor its memory weighs on the engine's figures (it shares the
// process).
func contactPages(total int) http.HandlerFunc {
	pages := map[int][]byte{}
	for off := 0; off < min(total, 20000); off += 100 {
		var b []byte
		b = append(b, `{"contacts": [`...)
		for i := off; i < min(off+100, total); i++ {
			if i > off {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"email": "user%d@example.com", "id": %d, "emailBlacklisted": false, "smsBlacklisted": false, "createdAt": "2024-04-19T05:00:00.000000+0000", "modifiedAt": "2024-08-%02dT00:00:00.000000+0000", "listIds": [%d], "attributes": {"FIRSTNAME": "Ann"}}`, i, i, 1+i%28, i%7)
		}
		b = append(b, `], "count": `...)
		b = strconv.AppendInt(b, int64(total), 10)
		pages[off] = append(b, '}')
	}
	return func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		w.Header().Set("Content-Type", "application/json")
		if off < total {
			w.Write(pages[off%20000])
			return
		}
		w.Write([]byte(`{"contacts": []}`))
	}
}

func benchRead(b *testing.B, total int) {
	srv := httptest.NewServer(contactPages(total))
	defer srv.Close()
	src, err := New(benchManifest(srv.URL), WithClock(func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }))
	if err != nil {
		b.Fatal(err)
	}
	config := json.RawMessage(`{"api_key": "k", "start_date": "2024-01-01T00:00:00Z"}`)
	cat, err := src.Discover(context.Background(), config)
	if err != nil {
		b.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0], SyncMode: protocol.SyncIncremental}}}
	var records int64
	cpuBefore := cpuTime()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		err := src.Read(context.Background(), config, cc, nil, func(m *protocol.Message) error {
			if m.Type == protocol.TypeRecord {
				atomic.AddInt64(&records, 1)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuTime() - cpuBefore
	if records != int64(total*b.N) {
		b.Fatalf("%d records, want %d", records, total*b.N)
	}
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(records), "cpu-ns/record")
	b.ReportMetric(float64(maxRSS())/1024, "peak-RSS-MB")
}

// BenchmarkRead20k is the throughput benchmark: 20,000 records in
// 200 pages from a loopback server, end to end through the engine (the
// server's CPU is included in cpu-ns/record: it shares the process).
func BenchmarkRead20k(b *testing.B) { benchRead(b, 20000) }

// BenchmarkRead1M reads 1,000,000 records once; peak-RSS-MB shows whether
// memory stays flat.
func BenchmarkRead1M(b *testing.B) {
	if b.N > 1 {
		b.Skip("one read of a million records is the measurement")
	}
	benchRead(b, 1000000)
}

// BenchmarkDecodePage is the JSON decoding part of a record, to subtract
// from cpu-ns/record.
func BenchmarkDecodePage(b *testing.B) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v3/contacts?offset=0", nil)
	contactPages(100)(rec, req)
	body := rec.Body.Bytes()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := decodeJSON(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/record")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss // KiB on Linux
}

// substreamManifest has a parent of parents partitions and a child stream
// read per parent, at the given concurrency level.
func substreamManifest(base string, parents, level int) []byte {
	return []byte(fmt.Sprintf(`
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [children]}
concurrency_level: {type: ConcurrencyLevel, default_concurrency: %d, max_concurrency: 20}
definitions:
  parent:
    type: DeclarativeStream
    name: parents
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: %s, path: /parents, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
streams:
  - type: DeclarativeStream
    name: children
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: %s, path: "/parents/{{ stream_partition.parent_id }}/children", http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      partition_router:
        type: SubstreamPartitionRouter
        parent_stream_configs:
          - {type: ParentStreamConfig, stream: {$ref: "#/definitions/parent"}, parent_key: id, partition_field: parent_id}
spec: {type: Spec, connection_specification: {type: object}}
`, level, base, base))
}

func benchSubstream(b *testing.B, level int) {
	const parents = 1000
	var parentBody []byte
	parentBody = append(parentBody, `{"data": [`...)
	for i := 0; i < parents; i++ {
		if i > 0 {
			parentBody = append(parentBody, ',')
		}
		parentBody = fmt.Appendf(parentBody, `{"id": %d}`, i)
	}
	parentBody = append(parentBody, "]}"...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		if r.URL.Path == "/parents" {
			w.Write(parentBody)
			return
		}
		fmt.Fprintf(w, `{"data": [{"id": 1, "path": %q}, {"id": 2, "path": %q}]}`, r.URL.Path, r.URL.Path)
	}))
	defer srv.Close()
	src, err := New(substreamManifest(srv.URL, parents, level))
	if err != nil {
		b.Fatal(err)
	}
	cat, err := src.Discover(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0], SyncMode: protocol.SyncFullRefresh}}}
	var records int64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		err := src.Read(context.Background(), nil, cc, nil, func(m *protocol.Message) error {
			if m.Type == protocol.TypeRecord {
				records++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkSubstreamConcurrency1 and 8 read 1,000 partitions from a server
// adding 20 ms per request, at concurrency_level 1 and 8.
func BenchmarkSubstreamConcurrency1(b *testing.B) { benchSubstream(b, 1) }

// BenchmarkSubstreamConcurrency8 is the same at concurrency_level 8.
func BenchmarkSubstreamConcurrency8(b *testing.B) { benchSubstream(b, 8) }
