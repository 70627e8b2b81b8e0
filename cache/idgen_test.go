package cache

import (
	"bytes"
	"testing"

	"github.com/oklog/ulid/v2"
)

// The raw ids double as arrival order: they must be valid ULIDs that
// increase strictly, also when many fall in one millisecond and when the
// clock steps back.
func TestIDGenIncreasesStrictly(t *testing.T) {
	g := newIDGen()
	prev := bytes.Clone(g.next())
	for i := range 200_000 {
		if i == 100_000 {
			g.ms += 3_600_000 // as if the clock had stepped back an hour
		}
		id := g.next()
		if _, err := ulid.ParseStrict(string(id)); err != nil {
			t.Fatalf("id %d: %q is not a ULID: %v", i, id, err)
		}
		if bytes.Compare(id, prev) <= 0 {
			t.Fatalf("id %d: %s does not follow %s", i, id, prev)
		}
		prev = append(prev[:0], id...)
	}
}

func BenchmarkIDGen(b *testing.B) {
	g := newIDGen()
	for b.Loop() {
		_ = g.next()
	}
}
