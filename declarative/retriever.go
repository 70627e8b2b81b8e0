package declarative

import (
	"context"
	"hash/maphash"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// simpleRetriever is the SimpleRetriever component (retrievers in the
// CDK): for one stream slice it requests page after page, selects the
// records of each and asks the paginator for the next token.
type simpleRetriever struct {
	requester *httpRequester
	paginator paginator
	selector  *recordSelector
	// ignoreSlicerOnPaginated drops the slicer's options from requests
	// after the first page (ignore_stream_slicer_parameters_on_paginated_requests).
	ignoreSlicerOnPaginated bool
}

// sliceOptions gives the options the stream slicer (partition router and
// cursor) injects for a slice.
type sliceOptions func(v *vars) (requestOptions, error)

// sliceRead is one slice to read and what the read of it depends on.
type sliceRead struct {
	stream string
	slice  *streamSlice
	// state is what templates see as stream_state.
	state value
	// options are what the stream's partition router and cursor inject.
	options sliceOptions
	// feed stops the pagination at a page whose last record is outside
	// the cursor's window (is_data_feed); keep drops the records outside
	// it (is_client_side_incremental). Nil when the cursor asks neither.
	feed, keep syncWindow
	// ahead reads the next page while this one's records are emitted
	// (read_ahead.go): only for a callback that fails only when the read
	// stops, and feed and keep windows that do not move during the slice.
	ahead bool
}

// syncWindow is the CDK's should_be_synced for the records of a slice.
type syncWindow interface {
	shouldSync(slice *streamSlice, rec *dict) (bool, error)
}

// selectWatcher is a syncWindow told of each record the selector keeps
// (its record filter's condition included), in order, before the next
// record is asked about.
type selectWatcher interface {
	selected()
}

// readSlice reads every page of one slice, calling emit with each record in
// order.
func (r *simpleRetriever) readSlice(ctx context.Context, rc *readContext, sr *sliceRead, emit recordFunc) error {
	base := rc.vars()
	base.set(interpolation.VarStreamSlice, sr.slice.value)
	base.set(interpolation.VarStreamState, sr.state)
	tok, err := r.paginator.initialToken(base)
	if err != nil {
		return err
	}
	p := &pager{r: r, rc: rc, sr: sr, base: base, tok: tok}
	if tok != nil {
		p.seen.visit(tok)
	}
	if sr.ahead {
		return p.readAhead(ctx, emit)
	}
	for {
		pg := p.fetch(ctx, false)
		if err := pg.emitAll(ctx, emit); err != nil {
			return err
		}
		if pg.done() {
			return pg.err
		}
		// After the records: a data feed's cursor moves with them.
		p.advance(pg)
		if pg.done() {
			return pg.err
		}
	}
}

// recordFunc receives a slice's records in order: each with its JSON when
// the page was encoded ahead (read_ahead.go), nil otherwise.
type recordFunc func(rec *dict, data []byte) error

// pager is the pagination of one slice: its fields are where it stands,
// fetch and advance are its steps (the request of a page, then the token
// of the next).
type pager struct {
	r    *simpleRetriever
	rc   *readContext
	sr   *sliceRead
	base *vars
	// tok is the next page's token (nil for none).
	tok value
	// seen is the tokens requested so far.
	seen tokenCycle
}

// fetchedPage is one page's selected records, with how the slice goes on
// once they are emitted.
type fetchedPage struct {
	recs []*dict
	data [][]byte // the records' JSON when the fetch encoded them, else nil
	// err ends the slice after the records; last ends it without error.
	err  error
	last bool

	v    vars // the page's template variables
	tok  value
	resp *response
	body value
}

func (pg *fetchedPage) done() bool { return pg.err != nil || pg.last }

// emitAll emits the page's records in order, with their JSON when the
// fetch encoded them. Every recordContextCheck records, from the first, it
// returns ctx.Err() once ctx is done: emit need not look at it, and a page
// may hold millions of records.
func (pg *fetchedPage) emitAll(ctx context.Context, emit recordFunc) error {
	for i, rec := range pg.recs {
		if err := contextDone(ctx, i); err != nil {
			return err
		}
		var data []byte
		if pg.data != nil {
			data = pg.data[i]
		}
		if err := emit(rec, data); err != nil {
			return err
		}
	}
	return nil
}

// fetch requests the page of p.tok and selects its records. An error in
// selecting fails the page before any of its records. encode also encodes
// each record, as emitting it would (on the goroutine that reads ahead, not
// the one that emits): the page then fails after the records before the
// first that does not encode, with the error emitting it would give.
func (p *pager) fetch(ctx context.Context, encode bool) *fetchedPage {
	if err := ctx.Err(); err != nil {
		return &fetchedPage{err: err}
	}
	r, rc, sr := p.r, p.rc, p.sr
	pg := &fetchedPage{v: *p.base, tok: p.tok}
	v := &pg.v
	if interpolation.Truthy(pg.tok) {
		npt := interpolation.NewDict(1)
		npt.Set("next_page_token", pg.tok)
		v.set(interpolation.VarNextPageToken, npt)
	} else {
		pg.tok = nil
		v.set(interpolation.VarNextPageToken, nil)
	}
	fail := func(err error) *fetchedPage { return &fetchedPage{err: err} }
	extra, err := r.paginator.options(pg.tok, v)
	if err != nil {
		return fail(err)
	}
	if pg.tok == nil || !r.ignoreSlicerOnPaginated {
		so, err := sr.options(v)
		if err != nil {
			return fail(err)
		}
		if extra, err = mergeOptions(extra, so); err != nil {
			return fail(err)
		}
	}
	var override *string
	if path, ok, err := r.paginator.path(pg.tok, v); err != nil {
		return fail(err)
	} else if ok {
		override = &path
	}
	req, err := r.requester.build(ctx, rc, v, override, extra)
	if err != nil {
		return fail(err)
	}
	resp, _, err := r.requester.send.send(ctx, rc, req, v)
	if err != nil {
		return fail(err)
	}
	if !resp.ok() {
		// An ignored error response has no records and ends the slice.
		return &fetchedPage{last: true}
	}
	bodies, err := decodeBody(resp)
	if err != nil {
		return fail(err)
	}
	var keep func(*dict) (bool, error)
	var selected func()
	if sr.keep != nil {
		keep = func(rec *dict) (bool, error) { return sr.keep.shouldSync(sr.slice, rec) }
		if w, ok := sr.keep.(selectWatcher); ok {
			selected = w.selected
		}
	}
	if pg.recs, err = r.selector.selectRecords(ctx, bodies, v, keep, selected); err != nil {
		return fail(err)
	}
	pg.resp, pg.body = resp, bodies[0]
	if encode {
		pg.data = make([][]byte, 0, len(pg.recs))
		for i, rec := range pg.recs {
			data, err := encodeRecord(rec)
			if err != nil {
				pg.recs, pg.err = pg.recs[:i], recordEncodeError(sr.stream, err)
				break
			}
			pg.data = append(pg.data, data)
		}
	}
	return pg
}

// advance takes the token of the page after pg, or ends the slice at pg
// (pg.last, or pg.err: the data feed's check or the paginator failed).
func (p *pager) advance(pg *fetchedPage) {
	var last *dict
	if n := len(pg.recs); n > 0 {
		last = pg.recs[n-1]
	}
	if feed := p.sr.feed; feed != nil && last != nil && last.Len() > 0 {
		ok, err := feed.shouldSync(p.sr.slice, last)
		if err != nil {
			pg.err = err
			return
		}
		if !ok {
			// The API returns the newest records first: the rest are older.
			pg.last = true
			return
		}
	}
	info := &page{resp: pg.resp, body: pg.body, size: len(pg.recs), lastToken: pg.tok}
	if last != nil {
		info.lastRecord = last
	}
	next, err := p.r.paginator.next(info, &pg.v)
	switch {
	case err != nil:
		pg.err = err
	case next == nil:
		pg.last = true
	case pg.tok != nil && interpolation.Equal(next, pg.tok), p.seen.visit(next):
		pg.err = &paginationError{Stream: p.sr.stream, Token: p.rc.mask.text(interpolation.Str(next))}
	default:
		p.tok = next
	}
}

// maxSeenTokens is how many page tokens of a slice tokenCycle keeps (as
// 8-byte hashes, under 1 MB with the map's overhead): far more pages than
// a slice of the conformance data has (2), so a cycle of real tokens is
// caught at its first repeat.
const maxSeenTokens = 1 << 14

// tokenCycle finds a paginator whose tokens come round again (A, B, A, …):
// the requests would repeat, and the CDK would loop forever. The first
// maxSeenTokens tokens of a slice are kept as hashes, so a repeat among
// them is found at once; past that, memory stays bounded and a cycle is
// found by Brent's method (one token kept, replaced at each power of two),
// before about twice as many tokens as its first round took. A 64-bit hash makes a false repeat among 16k
// tokens a one in 10^11 chance.
type tokenCycle struct {
	seen map[uint64]struct{}
	// Past maxSeenTokens: mark is the token kept, steps the tokens since,
	// power the number after which the mark moves on.
	mark         uint64
	steps, power int
}

var tokenSeed = maphash.MakeSeed()

// visit notes tok as requested; it reports whether it was already.
func (c *tokenCycle) visit(tok value) bool {
	h := maphash.String(tokenSeed, interpolation.Repr(tok))
	if len(c.seen) < maxSeenTokens {
		if _, ok := c.seen[h]; ok {
			return true
		}
		if c.seen == nil {
			c.seen = map[uint64]struct{}{}
		}
		c.seen[h] = struct{}{}
		c.mark, c.power = h, 1
		return false
	}
	if _, ok := c.seen[h]; ok || h == c.mark {
		return true
	}
	if c.steps++; c.steps == c.power {
		c.mark, c.steps, c.power = h, 0, 2*c.power
	}
	return false
}
