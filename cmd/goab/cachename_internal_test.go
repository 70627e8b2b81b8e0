package main

import (
	"strings"
	"testing"
)

// benchmark --cache names the cache in its totals line on stdout; a
// PostgreSQL DSN's password was printed there as it was given.
func TestCacheNameHidesThePassword(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"postgres://u9:s3cr3t@127.0.0.1:5432/db?schema=bench", "postgres://u9:xxxxx@127.0.0.1:5432/db?schema=bench"},
		{"host=127.0.0.1 user=u9 password=s3cr3t dbname=db", "host=127.0.0.1 user=u9 password=xxxxx dbname=db"},
		{"host=h password = 's3 cr\\'3t' dbname=db", "host=h password = xxxxx dbname=db"},
		{"./bench.duckdb", "./bench.duckdb"},
		{"duckdb:bench.duckdb?table_prefix=b", "duckdb:bench.duckdb?table_prefix=b"},
	} {
		got := cacheName(tc.target)
		if got != tc.want || strings.Contains(got, "s3") {
			t.Errorf("cacheName(%q) = %q, want %q", tc.target, got, tc.want)
		}
	}
}
