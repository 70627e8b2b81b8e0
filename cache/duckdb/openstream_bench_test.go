package duckdb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// BenchmarkLoadOpenStream loads the same 200,000 records, keyed by id,
// into a stream that declares their ten fields and into one that declares
// none (kept whole in _airbyte_data): what keeping a record whole costs
// against columns of its fields.
func BenchmarkLoadOpenStream(b *testing.B) {
	const n = 200_000
	msgs := make([]*protocol.Message, n)
	for i := range msgs {
		msgs[i] = cachetest.Rec("users", fmt.Sprintf(`{"id":%d,"name":"user %d","email":"user%d@example.com","age":%d,"height":1.%d,"ok":%v,`+
			`"created_at":"2024-01-%02dT10:00:00Z","city":"Zürich","tags":["a","b"],"address":{"street":"Main %d","zip":"80%03d"}}`,
			i, i, i, 20+i%60, i%100, i%2 == 0, 1+i%28, i, i%1000))
	}
	props := `{"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"},"age":{"type":"integer"},"height":{"type":"number"},` +
		`"ok":{"type":"boolean"},"created_at":{"type":"string","format":"date-time"},"city":{"type":"string"},"tags":{"type":"array"},"address":{"type":"object"}}`
	for _, s := range []struct {
		name   string
		stream protocol.ConfiguredStream
	}{
		{"declared", cachetest.Stream("users", props, protocol.SyncFullRefresh, [][]string{{"id"}})},
		{"open", cachetest.OpenStream("users", protocol.SyncFullRefresh, [][]string{{"id"}})},
	} {
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				c, err := openPath(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				cachetest.MustLoad(b, c, cachetest.Catalog(s.stream), cache.StrategyAuto, msgs...)
				b.StopTimer()
				c.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkMergeOpenStreamAgain loads 200,000 records into an open stream
// keyed by id, then times a second load of the same records: a merge that
// deletes every older row, comparing keys held as JSON by value (its cost
// against a declared integer key, "declared").
func BenchmarkMergeOpenStreamAgain(b *testing.B) {
	const n = 200_000
	msgs := make([]*protocol.Message, n)
	for i := range msgs {
		msgs[i] = cachetest.Rec("users", fmt.Sprintf(`{"id":%d,"name":"user %d","updated_at":"2024-01-%02dT10:00:00Z"}`, i, i, 1+i%28))
	}
	props := `{"id":{"type":"integer"},"name":{"type":"string"},"updated_at":{"type":"string","format":"date-time"}}`
	for _, s := range []struct {
		name   string
		stream protocol.ConfiguredStream
	}{
		{"declared", cachetest.Stream("users", props, protocol.SyncIncremental, [][]string{{"id"}}, "updated_at")},
		{"open", cachetest.OpenStream("users", protocol.SyncIncremental, [][]string{{"id"}}, "updated_at")},
	} {
		b.Run(s.name, func(b *testing.B) {
			cat := cachetest.Catalog(s.stream)
			for b.Loop() {
				b.StopTimer()
				c, err := openPath(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"))
				if err != nil {
					b.Fatal(err)
				}
				cachetest.MustLoad(b, c, cat, cache.StrategyMerge, msgs...)
				b.StartTimer()
				cachetest.MustLoad(b, c, cat, cache.StrategyMerge, msgs...)
				b.StopTimer()
				c.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
