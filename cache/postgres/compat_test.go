package postgres_test

import (
	"testing"

	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
)

// TestCompat opens PostgreSQL schemas that earlier versions of goairbyte
// wrote and continues them (see cachetest.Compat).
func TestCompat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds earlier versions of goairbyte")
	}
	cachetest.Compat(t, "postgres", testenv.Postgres, openPrefixed, testenv.BuildBinary(t, "./cmd/source-faker"))
}

// TestDamaged opens PostgreSQL schemas whose internal tables were changed
// by hand (see cachetest.Damaged).
func TestDamaged(t *testing.T) {
	t.Parallel()
	cachetest.Damaged(t, testenv.Postgres, openDSN)
}
