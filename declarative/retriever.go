package declarative

import (
	"context"

	"github.com/x/goairbyte/declarative/interpolation"
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

// readSlice reads every page of one slice, calling emit with each record in
// order. state is what templates see as stream_state.
func (r *simpleRetriever) readSlice(ctx context.Context, rc *readContext, stream string, slice *streamSlice, state Value, slicer sliceOptions, emit func(*dict) error) error {
	base := rc.vars()
	base.set(interpolation.VarStreamSlice, slice.value)
	base.set(interpolation.VarStreamState, state)
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
		recs, err := r.selector.selectRecords(bodies, &v)
		if err != nil {
			return err
		}
		var last Value
		for _, rec := range recs {
			if err := emit(rec); err != nil {
				return err
			}
			last = rec
		}
		lastToken = tok
		next, err := r.paginator.next(&page{resp: resp, body: bodies[0], size: len(recs), lastRecord: last, lastToken: lastToken}, &v)
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
