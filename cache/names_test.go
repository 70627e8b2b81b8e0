package cache_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// A table prefix ending in "_" is followed by the stream's name directly,
// as in PyAirbyte (pfx_users, not pfx__users); one without gets the "_".
func TestTablePrefix(t *testing.T) {
	t.Parallel()
	for prefix, want := range map[string]string{"pfx_": "pfx_users", "pfx": "pfx_users", "My Pfx-": "my_pfx_users", "raw__": "raw__users"} {
		c := openURL(t, "duckdb:"+filepath.Join(t.TempDir(), "p.duckdb"), cache.WithTablePrefix(prefix))
		loadOne(t, c, "1")
		ds, err := c.Dataset(context.Background(), "users")
		if err != nil || ds.QualifiedTableName() != `"main"."`+want+`"` {
			t.Errorf("prefix %q: table %v (%v), want %s", prefix, ds, err, want)
		}
	}
}

// Names that cannot become identifiers say why in words a user can act
// on.
func TestNameErrors(t *testing.T) {
	t.Parallel()
	_, err := cache.NormalizeName("日本語")
	var ne *cacheerr.NameError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "has no ASCII letter or digit") {
		t.Errorf("a name without ASCII: %v", err)
	}
	c := openURL(t, "duckdb:"+filepath.Join(t.TempDir(), "n.duckdb"))
	for _, field := range []string{"_airbyte_raw_id", "_Airbyte_Meta", "_airbyte_extracted_at"} {
		cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"},"`+field+`":{"type":"string"}}`, protocol.SyncFullRefresh, nil))
		_, err := c.Load(context.Background(), cache.LoadRequest{SourceName: "s", Catalog: cat, Messages: cachetest.Messages()})
		var ce *cacheerr.CollisionError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "reserved") || !strings.Contains(err.Error(), field) {
			t.Errorf("field %s: %v", field, err)
		}
	}
}
