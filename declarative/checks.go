package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
	"github.com/x/goairbyte/protocol"
)

// checkStream is the CheckStream component: the connection is good when
// the first slice of each named stream can be read (checks in the CDK).
type checkStream struct {
	names []string
}

func (b *builder) checkStream(n *manifest.Map) (*checkStream, error) {
	if n == nil {
		return nil, errors.New("the manifest has no check")
	}
	if t := n.String("type"); t != "CheckStream" {
		return nil, nil // refused by the unsupported scan
	}
	c := &checkStream{}
	for _, e := range n.List("stream_names") {
		s, _ := e.(string)
		c.names = append(c.names, s)
	}
	return c, nil
}

// checkError is a failed check. Its message is the CONNECTION_STATUS
// message the CDK gives, masked.
type checkError struct {
	// Message is the CONNECTION_STATUS message.
	Message string
	// Err is the underlying failure, if any.
	Err error
}

// Error returns the CONNECTION_STATUS message.
func (e *checkError) Error() string { return e.Message }

// Unwrap returns the underlying failure.
func (e *checkError) Unwrap() error { return e.Err }

// errStop ends an iteration early.
var errStop = errors.New("stop")

// Check tries the connection as the CDK's CheckStream does: it reads the
// first record of the first slice of each check stream. nil means
// SUCCEEDED; any other error's message is the CDK's FAILED message,
// except an *UnsupportedError, which comes before any request, and the
// context's error. A config whose refresh token a check rotates is lost:
// call CheckEmit to receive it.
func (s *Source) Check(ctx context.Context, config json.RawMessage) error {
	return s.CheckEmit(ctx, config, nil)
}

// CheckEmit is Check that also emits what the CDK prints during a check
// besides its verdict: the CONTROL CONNECTOR_CONFIG message of a rotated
// OAuth refresh token, which the caller must store (the old token is
// invalid), or of a config the spec's config_migrations changed. It makes
// a Source a kit.CheckEmitter. With a nil emit it is Check.
func (s *Source) CheckEmit(ctx context.Context, config json.RawMessage, emit func(*protocol.Message) error) error {
	if s.check == nil {
		return s.unsupportedFor(nil)
	}
	var streams []*stream
	missing := ""
	for _, name := range s.check.names {
		st := s.streamByName(name)
		if st == nil {
			missing = name
			break
		}
		streams = append(streams, st)
	}
	if err := s.unsupportedFor(streams); err != nil {
		return err
	}
	rc, err := s.newReadContext(config)
	if err != nil {
		return err
	}
	rc.emitFn = emit
	// The CDK's CheckStream builds the streams (and runs the config's
	// validations) before it looks for the check's streams among them.
	if err := s.prepareCall(ctx, rc); err != nil {
		var ce *configInvalidError
		if errors.As(err, &ce) {
			return &checkError{Message: interpolation.Repr("Encountered an error while discovering streams. Error: " + ce.msg), Err: err}
		}
		return err
	}
	if missing != "" {
		var names []string
		for _, x := range s.streams {
			names = append(names, "'"+x.name+"'")
		}
		return &checkError{Message: fmt.Sprintf("%s is not part of the catalog. Expected one of dict_keys([%s]).", missing, strings.Join(names, ", "))}
	}
	if len(s.streams) == 0 {
		return &checkError{Message: interpolation.Repr("No streams to connect to from source")}
	}
	for _, st := range streams {
		if err := s.checkOne(ctx, rc, st); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
	return nil
}

// checkOne reads the first record of the first slice of st, its slices
// made by the synchronous cursor as the CDK's availability check makes
// them.
func (s *Source) checkOne(ctx context.Context, rc *readContext, st *stream) error {
	if st.async != nil {
		return s.checkAsync(ctx, rc, st)
	}
	var first *streamSlice
	var lc *legacyCursor
	if st.cursor != nil {
		var err error
		if lc, err = st.cursor.legacy(rc.vars(), s.opts.now); err != nil {
			return s.checkFailure(rc, st, err)
		}
	}
	pick := func(p *dict) error {
		if lc == nil {
			first = newSlice(p, nil)
			return errStop
		}
		ws, err := lc.firstSlice(ctx)
		if err != nil {
			return err
		}
		if len(ws) > 0 {
			first = st.windowSlice(lc, p, ws[0])
			return errStop
		}
		return nil
	}
	var err error
	if st.router == nil {
		err = pick(nil)
	} else {
		err = st.router.partitions(rc.labelled(ctx, st.name, nil), rc, rc.vars(), nil, pick)
	}
	if err != nil && !errors.Is(err, errStop) {
		return s.checkFailure(rc, st, err)
	}
	if first == nil {
		return &checkError{Message: interpolation.Repr(fmt.Sprintf("Cannot attempt to connect to stream %s - no stream slices were found, likely because the parent stream is empty.", st.name))}
	}
	sr := &sliceRead{stream: st.name, slice: first, state: interpolation.NewDict(0), options: st.sliceOptions(first)}
	if st.cursor != nil {
		if sr.feed, sr.keep, err = st.cursor.syncWindows(ctx, st.router != nil, nil, rc.vars(), s.opts.now); err != nil {
			return s.checkFailure(rc, st, err)
		}
	}
	err = st.retriever.readSlice(rc.labelled(ctx, st.name, first), rc, sr, func(*dict, []byte) error { return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return s.checkFailure(rc, st, err)
	}
	return nil
}

// checkFailure words a failed check as the CDK: the traced message of an
// HTTP failure, else "Unable to connect to stream ...", as Python's repr.
func (s *Source) checkFailure(rc *readContext, st *stream, err error) error {
	var he *httpError
	msg := ""
	if errors.As(err, &he) && he.Message != "" {
		msg = he.Message
	} else {
		msg = fmt.Sprintf("Unable to connect to stream %s - %s", st.name, err.Error())
	}
	return &checkError{Message: rc.mask.text(interpolation.Repr(msg)), Err: err}
}
