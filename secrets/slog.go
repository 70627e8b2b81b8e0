package secrets

import (
	"context"
	"fmt"
	"log/slog"
)

// NewMaskingHandler wraps h so that every message and attribute it handles
// is masked with [Mask] first: string values, errors, fmt.Stringers and
// anything else formatted with %+v. Use it for the library's logger so that
// a secret echoed by a connector never reaches a log file.
func NewMaskingHandler(h slog.Handler) slog.Handler {
	if mh, ok := h.(*maskingHandler); ok {
		return mh
	}
	return &maskingHandler{h: h}
}

type maskingHandler struct{ h slog.Handler }

func (m *maskingHandler) Enabled(ctx context.Context, l slog.Level) bool { return m.h.Enabled(ctx, l) }

func (m *maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.h.Handle(ctx, out)
}

func (m *maskingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return &maskingHandler{h: m.h.WithAttrs(masked)}
}

func (m *maskingHandler) WithGroup(name string) slog.Handler {
	return &maskingHandler{h: m.h.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Mask(v.String()))
	case slog.KindGroup:
		g := v.Group()
		masked := make([]any, len(g))
		for i, e := range g {
			masked[i] = maskAttr(e)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.Any(a.Key, MaskError(x))
		case []byte:
			return slog.String(a.Key, Mask(string(x)))
		default:
			// Structs and maps may hold secrets anywhere; their text form
			// is what a handler would print, so mask that.
			return slog.String(a.Key, Mask(fmt.Sprintf("%+v", x)))
		}
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}
