package duckdb

import (
	"context"
	"path/filepath"
	"testing"
)

// A raise stops at the memory the process may use: in a container of
// 1 GiB, a load of 1,500 columns raised the limit to 1.2 GB and the kernel
// killed the process, with no error; at DuckDB's own default (80% of the
// container, 819 MB) it loaded. The ceiling is set here as a container's
// would be; a ceiling below the configured limit leaves that limit alone,
// and a read raised to the ceiling is not raised again.
func TestRaiseCeiling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if processMemory() <= 0 {
		t.Fatal("DuckDB's default memory limit could not be read")
	}
	be, err := newConnector(filepath.Join(t.TempDir(), "c.duckdb")).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*database)
	defer b.Close()
	limit := func() int64 {
		t.Helper()
		var s string
		if err := b.db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&s); err != nil {
			t.Fatal(err)
		}
		n, err := parseSize(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	configured := limit()
	for _, tc := range []struct {
		ceiling, want int64
	}{{300 << 20, 300 << 20}, {64 << 20, configured}} {
		b.ceiling = func() int64 { return tc.ceiling }
		restore, err := b.raiseMemory(ctx, tableMemory(1500))
		if err != nil {
			t.Fatal(err)
		}
		// DuckDB shows the limit rounded to a tenth of a MiB.
		if got := limit(); got < tc.want-1<<20 || got > tc.want+1<<20 {
			t.Errorf("ceiling %d: a raise for 1,500 columns set the limit to %d, want %d", tc.ceiling, got, tc.want)
		}
		if again, ok, err := b.RaiseAgain(ctx); err != nil || ok {
			if again != nil {
				again()
			}
			t.Errorf("ceiling %d: a read at the ceiling was raised again (%v)", tc.ceiling, err)
		}
		restore()
		if got := limit(); got != configured {
			t.Errorf("ceiling %d: the limit is %d after the raise, want %d", tc.ceiling, got, configured)
		}
	}
}
