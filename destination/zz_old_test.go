package destination_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

func cpuNow() time.Duration {
	var r syscall.Rusage
	syscall.Getrusage(0, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func oldExport(ctx context.Context, c cache.Cache, ds *cache.Dataset) int {
	cols, _ := ds.Columns(ctx)
	sel := []string{cache.Quote(cache.ColumnRawID), cache.Quote(cache.ColumnExtractedAt)}
	var keys [][]byte
	var kinds []int
	for _, col := range cols {
		if col.Name == cache.ColumnRawID || col.Name == cache.ColumnExtractedAt || col.Name == cache.ColumnMeta {
			continue
		}
		expr := cache.Quote(col.Name)
		k := 0
		if col.Type == "JSON" {
			expr = "CAST(" + expr + " AS VARCHAR)"
			k = 1
		}
		sel = append(sel, expr)
		kb, _ := json.Marshal(col.Name)
		keys = append(keys, kb)
		kinds = append(kinds, k)
	}
	rows, err := c.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+ds.QualifiedTableName()+" ORDER BY "+cache.Quote(cache.ColumnRawID))
	if err != nil {
		panic(err)
	}
	defer rows.Close()
	vals := make([]any, len(sel))
	ptrs := make([]any, len(sel))
	var id sql.NullString
	var at sql.NullTime
	ptrs[0], ptrs[1] = &id, &at
	for i := 2; i < len(sel); i++ {
		ptrs[i] = &vals[i]
	}
	var line []byte
	n := 0
	for rows.Next() {
		rows.Scan(ptrs...)
		line = append(line[:0], `{"type":"RECORD","record":{"stream":"users","data":{`...)
		for i, k := range keys {
			v := vals[i+2]
			if v == nil {
				continue
			}
			if i > 0 {
				line = append(line, ',')
			}
			line = append(line, k...)
			line = append(line, ':')
			switch x := v.(type) {
			case string:
				if kinds[i] == 1 {
					line = append(line, x...)
				} else {
					line = strconv.AppendQuote(line, x)
				}
			case int64:
				line = strconv.AppendInt(line, x, 10)
			case float64:
				if !math.IsNaN(x) {
					line = strconv.AppendFloat(line, x, 'g', -1, 64)
				}
			case time.Time:
				line = append(line, '"')
				line = x.AppendFormat(line, time.RFC3339Nano)
				line = append(line, '"')
			}
		}
		line = append(line, `},"emitted_at":`...)
		line = strconv.AppendInt(line, at.Time.UnixMilli(), 10)
		line = append(line, "}}\n"...)
		n++
	}
	return n
}

func TestZZOld(t *testing.T) {
	ctx := context.Background()
	src, _ := source.New(ctx, "source-faker",
		source.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")),
		source.WithConfig(map[string]any{"count": 300000, "seed": 1, "records_per_slice": 1000}), source.WithStreams("users"))
	c := openCache(t)
	rr, err := src.Read(ctx, source.UseCache(c), source.Strategy(cache.StrategyAppend))
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := rr.Stream(ctx, "users")
	for range 3 {
		t0, c0 := time.Now(), cpuNow()
		n := oldExport(ctx, c, ds)
		t.Logf("old: %d rows wall %v cpu %v", n, time.Since(t0), cpuNow()-c0)

	}
}
