package declarative

import (
	"context"
	"sync"

	"github.com/x/goairbyte/protocol"
)

// Reading a page ahead. A slice of the concurrent read requests its next
// page, then decodes and selects its records on a goroutine of its own
// while the records of the page before are encoded and emitted: the next
// page's token is known once a page is selected, and the wait for the
// response and the decoding move off the goroutine that emits (the second
// core).
//
// What the CDK observes stays as it was:
//   - the requests are those of a read page by page, in the same order: the
//     next request is sent only when the one before gave a token (and the
//     data feed's check passed), as the CDK does once the records are
//     emitted; that is equivalent only because the concurrent read's
//     record callback fails only when the read stops (the caller stopped
//     listening, or the context is done) or the stream fails (a cursor
//     value the cursor's parse refuses with another error than
//     ValueError, which the CDK's main thread raises while its worker
//     reads on), and its feed and keep windows do not move during the
//     read. A read that stops has sent at most the one request ahead, as
//     the in-process executor's batches read ahead too;
//   - records keep their order, and a page's error (HTTP, selection,
//     pagination) comes after the records of the pages before it; records
//     are encoded ahead too (which also moves that work off the emitting
//     goroutine), so a record that will not encode is found before the
//     next request, and none follows its page, as none would follow its
//     failure;
//   - what the fetch of the page ahead emits (a RATE_LIMITED status, a
//     rotated config) waits for the records before it (emitGate).
//
// The synchronous read, parent reads and check read page by page: their
// callbacks move the cursor a data feed checks, or fail.

// readAhead reads the slice's pages one ahead of emit. It returns when the
// slice is read, or at the first error, after the goroutine has stopped.
func (p *pager) readAhead(ctx context.Context, emit recordFunc) error {
	ctx, cancel := context.WithCancel(ctx)
	gate := &emitGate{rc: p.rc}
	pages := make(chan *fetchedPage)
	go p.fetchAhead(ctx, gate, pages)
	defer func() {
		cancel()
		for range pages {
		}
	}()
	for n := 0; ; n++ {
		if err := gate.release(n); err != nil {
			return err
		}
		pg, ok := <-pages
		if !ok {
			return ctx.Err()
		}
		if err := pg.emitAll(ctx, emit); err != nil {
			return err
		}
		if pg.done() {
			return pg.err
		}
	}
}

// fetchAhead fetches page after page into pages until the last, an error,
// or ctx is done; it closes pages when it returns.
func (p *pager) fetchAhead(ctx context.Context, gate *emitGate, pages chan<- *fetchedPage) {
	defer close(pages)
	for n := 0; ; n++ {
		pg := p.fetch(gate.page(ctx, n), true)
		if !pg.done() {
			p.advance(pg)
		}
		select {
		case pages <- pg:
		case <-ctx.Done():
			return
		}
		if pg.done() {
			return
		}
	}
}

// emitGate holds what the fetch of a page emits until the reader has
// emitted the records of the pages before it: a page-by-page read would
// have sent that page's request only then.
type emitGate struct {
	rc *readContext

	mu sync.Mutex
	// waiting is the page the reader waits for: its fetch emits at once.
	waiting int
	// held is what the fetch of the page after it emitted meanwhile.
	held []*protocol.Message
}

type gateKey struct{}

// gatedPage is a page's place behind its gate, carried by the context of
// the page's fetch.
type gatedPage struct {
	gate *emitGate
	n    int
}

// page returns ctx for the fetch of page n.
func (g *emitGate) page(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, gateKey{}, gatedPage{g, n})
}

// emit emits m for page n, or holds it while the reader is behind. A held
// message's error comes from release.
func (g *emitGate) emit(n int, m *protocol.Message) error {
	g.mu.Lock()
	if n > g.waiting {
		g.held = append(g.held, m)
		g.mu.Unlock()
		return nil
	}
	g.mu.Unlock()
	return g.rc.emit(m)
}

// release tells the gate that the reader waits for page n: what its fetch
// emitted so far goes out, in order, and what it emits next at once.
func (g *emitGate) release(n int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting = n
	held := g.held
	g.held = nil
	for _, m := range held {
		if err := g.rc.emit(m); err != nil {
			return err
		}
	}
	return nil
}

// emitFor emits a message that a request's fetch gives rise to, through
// the gate of a page read ahead when ctx belongs to one.
func (rc *readContext) emitFor(ctx context.Context, m *protocol.Message) error {
	if gp, ok := ctx.Value(gateKey{}).(gatedPage); ok {
		return gp.gate.emit(gp.n, m)
	}
	return rc.emit(m)
}
