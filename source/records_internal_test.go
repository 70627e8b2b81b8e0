package source

import (
	"testing"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// EmittedAt is the protocol's milliseconds in UTC, as the cache stores
// them, not in the program's local zone.
func TestEmittedAtIsUTC(t *testing.T) {
	r := Record{rec: &protocol.Record{Stream: "s", EmittedAt: 1700000000123}}
	got := r.EmittedAt()
	if got.Location() != time.UTC || !got.Equal(time.Date(2023, 11, 14, 22, 13, 20, 123e6, time.UTC)) {
		t.Fatalf("EmittedAt = %v (%v), want 2023-11-14 22:13:20.123 UTC", got, got.Location())
	}
}

// A record whose emitted_at is 0 (a connector that did not say) has the
// zero time, which IsZero tells, not 1 January 1970.
func TestEmittedAtUnknownIsZero(t *testing.T) {
	r := Record{rec: &protocol.Record{Stream: "s"}}
	if got := r.EmittedAt(); !got.IsZero() {
		t.Fatalf("EmittedAt of emitted_at 0 = %v, want the zero time", got)
	}
}

// NormaliseNames promises the names the cache gives the columns: a
// leading digit gets a "_" before it, and a letter whose lower case is
// ASCII (the Kelvin sign's is "k") is that letter, as in cache.NormalizeName.
// Records gave "1st_place" for the column "_1st_place", "_elvin" for "kelvin".
func TestNormaliseNamesAsTheCacheNamesColumns(t *testing.T) {
	for _, name := range []string{"name", "Name", "1st Place", "2", "\u212aelvin", "a-b.c", "_x", "ÄÖ1", "0_already"} {
		want, err := cache.NormalizeName(name)
		if err != nil {
			t.Fatalf("cache.NormalizeName(%q): %v", name, err)
		}
		if got := normaliseName(name); got != want {
			t.Errorf("NormaliseNames makes %q %q; the cache's column is %q", name, got, want)
		}
	}
	// A name with no ASCII letter or digit has no column (the cache refuses
	// its stream); Records still gives it a name.
	if got := normaliseName("€"); got != "_" {
		t.Errorf("normaliseName(€) = %q, want _", got)
	}
}
