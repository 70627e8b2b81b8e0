package source

import (
	"testing"
	"time"

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
