package cache

import (
	crand "crypto/rand"
	"math/rand/v2"
	"time"

	"github.com/oklog/ulid/v2"
)

// idGen makes _airbyte_raw_id values: ULIDs that increase strictly in
// the order records arrive, even within one millisecond or if the clock
// steps back, so they double as arrival order. It allocates nothing: at
// hundreds of thousands of records a second its cost is felt.
type idGen struct {
	ms      uint64
	entropy *ulid.MonotonicEntropy
	id      ulid.ULID
	text    [ulid.EncodedSize]byte
}

// now is the cache's clock: of the ids' time part and of a load's
// stateCommitInterval. Tests step it.
var now = time.Now

func newIDGen() *idGen {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return &idGen{entropy: ulid.Monotonic(rand.NewChaCha8(seed), 0)}
}

// next returns the next id as text, valid until the following call.
func (g *idGen) next() []byte {
	ms := max(ulid.Timestamp(now()), g.ms)
	// An error means the entropy ran out within one millisecond: move on
	// to the next.
	for g.entropy.MonotonicRead(ms, g.id[6:]) != nil {
		ms++
	}
	g.ms = ms
	_ = g.id.SetTime(ms) // fails only after the year 10889
	_ = g.id.MarshalTextTo(g.text[:])
	return g.text[:]
}

// above makes every id that follows greater than id, an id another load
// made: their time part moves past its millisecond. An id that is not a
// ULID (a row someone wrote by hand) is ignored.
func (g *idGen) above(id string) {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return
	}
	g.ms = max(g.ms, u.Time()+1)
}
