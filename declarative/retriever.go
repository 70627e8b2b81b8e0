package declarative

import (
	"context"

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
	state Value
	// options are what the stream's partition router and cursor inject.
	options sliceOptions
	// feed stops the pagination at a page whose last record is outside
	// the cursor's window (is_data_feed); keep drops the records outside
	// it (is_client_side_incremental). Nil when the cursor asks neither.
	feed, keep syncWindow
}

// syncWindow is the CDK's should_be_synced for the records of a slice.
type syncWindow interface {
	shouldSync(slice *streamSlice, rec *dict) (bool, error)
}

// readSlice reads every page of one slice, calling emit with each record in
// order.
func (r *simpleRetriever) readSlice(ctx context.Context, rc *readContext, sr *sliceRead, emit func(*dict) error) error {
	stream, slice, slicer := sr.stream, sr.slice, sr.options
	base := rc.vars()
	base.set(interpolation.VarStreamSlice, slice.value)
	base.set(interpolation.VarStreamState, sr.state)
	tok, err := r.paginator.initialToken(base)
	if err != nil {
		return err
	}
	var lastToken Value
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		v := *base
		if interpolation.Truthy(tok) {
			npt := interpolation.NewDict(1)
			npt.Set("next_page_token", tok)
			v.set(interpolation.VarNextPageToken, npt)
		} else {
			tok = nil
			v.set(interpolation.VarNextPageToken, nil)
		}
		extra, err := r.paginator.options(tok, &v)
		if err != nil {
			return err
		}
		if tok == nil || !r.ignoreSlicerOnPaginated {
			so, err := slicer(&v)
			if err != nil {
				return err
			}
			if extra, err = mergeOptions(extra, so); err != nil {
				return err
			}
		}
		var override *string
		if p, ok, err := r.paginator.path(tok, &v); err != nil {
			return err
		} else if ok {
			override = &p
		}
		req, err := r.requester.build(ctx, rc, &v, override, extra)
		if err != nil {
			return err
		}
		resp, _, err := r.requester.send.send(ctx, rc, req, &v)
		if err != nil {
			return err
		}
		if !resp.ok() {
			// An ignored error response has no records and ends the slice.
			return nil
		}
		bodies, err := decodeBody(resp)
		if err != nil {
			return err
		}
		var keep func(*dict) (bool, error)
		if sr.keep != nil {
			keep = func(rec *dict) (bool, error) { return sr.keep.shouldSync(slice, rec) }
		}
		recs, err := r.selector.selectRecords(bodies, &v, keep)
		if err != nil {
			return err
		}
		var last *dict
		for _, rec := range recs {
			if err := emit(rec); err != nil {
				return err
			}
			last = rec
		}
		lastToken = tok
		if sr.feed != nil && last != nil && last.Len() > 0 {
			ok, err := sr.feed.shouldSync(slice, last)
			if err != nil {
				return err
			}
			if !ok {
				// The API returns the newest records first: the rest are older.
				return nil
			}
		}
		pg := &page{resp: resp, body: bodies[0], size: len(recs), lastToken: lastToken}
		if last != nil {
			pg.lastRecord = last
		}
		next, err := r.paginator.next(pg, &v)
		if err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		if lastToken != nil && interpolation.Equal(next, lastToken) {
			return &PaginationError{Stream: stream, Token: rc.mask.text(interpolation.Str(next))}
		}
		tok = next
	}
}
