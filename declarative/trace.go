package declarative

import (
	"context"

	"github.com/x/goairbyte/protocol"
)

// Tracing ties each request and record to the partition it was made for.
// It is off unless a test turns it on (withTracer): the conformance test
// compares the CDK's sequence of requests and records per partition,
// which only the engine can attribute.

// tracer observes a read: each partition as it starts (m is nil), then
// every record it emits, with the partition's label. Requests carry the
// same label in their context (labelOf).
type tracer func(label string, m *protocol.Message)

// withTracer turns tracing on.
func withTracer(t tracer) Option {
	return func(o *options) error { o.tracer = t; return nil }
}

type labelKey struct{}

// labelOf returns the partition label a request's context carries ("" when
// tracing is off).
func labelOf(ctx context.Context) string {
	s, _ := ctx.Value(labelKey{}).(string)
	return s
}

// labelled returns ctx labelled with the stream and slice it reads
// ("stream\t{slice}"), under
// the label ctx already has (a parent read inside a child's partition
// routing). Without a tracer ctx is returned as it is.
func (rc *readContext) labelled(ctx context.Context, stream string, slice *streamSlice) context.Context {
	if rc.src.opts.tracer == nil {
		return ctx
	}
	label := stream
	if slice != nil && slice.value != nil && slice.value.Len() > 0 {
		b, _ := encodeJSON(slice.value)
		label += "\t" + string(b)
	}
	if outer := labelOf(ctx); outer != "" {
		label = outer + " <- " + label
	}
	return context.WithValue(ctx, labelKey{}, label)
}

// trace reports a message to the tracer, if any.
func (rc *readContext) trace(ctx context.Context, m *protocol.Message) {
	if t := rc.src.opts.tracer; t != nil {
		t(labelOf(ctx), m)
	}
}
