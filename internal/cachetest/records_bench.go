package cachetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// BenchmarkRecords reads a table with Dataset.Records: "users", faker-like
// rows of ten fields (200,000 unless GOAIRBYTE_BENCH_RECORDS_ROWS says),
// "small", ten of them (what a read costs beside its rows), and "wide",
// rows of 1,500 integer columns (2,000 unless GOAIRBYTE_BENCH_WIDE_ROWS
// says). open gives the cache of a table (named after the case and its
// rows) and whether it holds the table already: a DuckDB file kept from an
// earlier run, so that a run of -benchtime 1x under /usr/bin/time -v
// measures the read's peak memory alone.
func BenchmarkRecords(b *testing.B, open func(b *testing.B, table string) (c *cache.Cache, loaded bool)) {
	rowsOf := func(env string, def int) int {
		if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
			return n
		}
		return def
	}
	users := rowsOf("GOAIRBYTE_BENCH_RECORDS_ROWS", 200_000)
	wide := rowsOf("GOAIRBYTE_BENCH_WIDE_ROWS", 2_000)
	const wideCols = 1_500
	var wideProps strings.Builder
	wideProps.WriteString(`{`)
	for i := range wideCols {
		if i > 0 {
			wideProps.WriteString(",")
		}
		fmt.Fprintf(&wideProps, `"c%d":{"type":"integer"}`, i)
	}
	wideProps.WriteString(`}`)
	for _, s := range []struct {
		name  string
		rows  int
		props string
		data  func(i int) string
	}{
		{"users", users, benchUserProps, benchUser},
		{"small", 10, benchUserProps, benchUser},
		{"wide", wide, wideProps.String(), func(i int) string {
			var d strings.Builder
			d.WriteString(`{`)
			for c := range wideCols {
				if c > 0 {
					d.WriteString(",")
				}
				fmt.Fprintf(&d, `"c%d":%d`, c, i+c)
			}
			d.WriteString(`}`)
			return d.String()
		}},
	} {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			c, loaded := open(b, fmt.Sprintf("records-%s-%d", s.name, s.rows))
			defer c.Close()
			if !loaded {
				msgs := func(yield func(*protocol.Message, error) bool) {
					for i := range s.rows {
						if !yield(Rec(s.name, s.data(i)), nil) {
							return
						}
					}
				}
				cat := Catalog(Stream(s.name, s.props, protocol.SyncFullRefresh, nil))
				if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "bench", Catalog: cat, Strategy: cache.StrategyAppend, Messages: msgs}); err != nil {
					b.Fatal(err)
				}
			}
			ds, err := c.Dataset(ctx, s.name)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				n := 0
				for _, err := range ds.Records(ctx) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != s.rows {
					b.Fatalf("%d records, want %d", n, s.rows)
				}
			}
			b.ReportMetric(float64(s.rows*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// benchUserProps are the properties of the benchmarks' faker-like users,
// ten fields, and benchUser the data of the i-th.
const benchUserProps = `{"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"},"age":{"type":"integer"},"height":{"type":"number"},` +
	`"ok":{"type":"boolean"},"created_at":{"type":"string","format":"date-time"},"city":{"type":"string"},"tags":{"type":"array"},"address":{"type":"object"}}`

func benchUser(i int) string {
	return fmt.Sprintf(`{"id":%d,"name":"user %d","email":"user%d@example.com","age":%d,"height":1.%d,"ok":%v,`+
		`"created_at":"2024-01-%02dT10:00:00Z","city":"Zürich","tags":["a","b"],"address":{"street":"Main %d","zip":"80%03d"}}`,
		i, i, i, 20+i%60, i%100, i%2 == 0, 1+i%28, i, i%1000)
}

// BenchmarkRecordLines exports a table of faker-like users (1,000,000
// unless GOAIRBYTE_BENCH_LINES_ROWS says) with Dataset.RecordLines, as a
// destination's Write from the cache does, and reports records/s. open
// gives an empty cache; inspect, when not nil, is called once the table
// "users" is loaded, before the timer starts (a backend's benchmark shows
// the plan of a page query there).
func BenchmarkRecordLines(b *testing.B, open func(b *testing.B) *cache.Cache, inspect func(b *testing.B, c *cache.Cache, rows int)) {
	rows := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("GOAIRBYTE_BENCH_LINES_ROWS")); err == nil && n > 0 {
		rows = n
	}
	ctx := context.Background()
	c := open(b)
	defer c.Close()
	msgs := func(yield func(*protocol.Message, error) bool) {
		for i := range rows {
			if !yield(Rec("users", benchUser(i)), nil) {
				return
			}
		}
	}
	cat := Catalog(Stream("users", benchUserProps, protocol.SyncFullRefresh, nil))
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "bench", Catalog: cat, Strategy: cache.StrategyAppend, Messages: msgs}); err != nil {
		b.Fatal(err)
	}
	if inspect != nil {
		inspect(b, c, rows)
	}
	ds, err := c.Dataset(ctx, "users")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range ds.RecordLines(ctx, nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("%d lines, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "records/s")
}
