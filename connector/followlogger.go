package connector

import (
	"context"
	"log/slog"
)

// followingHandler is a slog.Handler that hands each record to the
// Environment's logger of the moment, so that a component made once with
// a logger (the registry loader, made on first use) follows a later
// SetLogger. Attributes and groups added with With and WithGroup are kept
// as steps and replayed on the current handler.
type followingHandler struct {
	env   *Environment
	steps []func(slog.Handler) slog.Handler
}

func (h *followingHandler) current() slog.Handler {
	out := h.env.Logger().Handler()
	for _, step := range h.steps {
		out = step(out)
	}
	return out
}

func (h *followingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.env.Logger().Handler().Enabled(ctx, level)
}

func (h *followingHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.current().Handle(ctx, r)
}

func (h *followingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.with(func(next slog.Handler) slog.Handler { return next.WithAttrs(attrs) })
}

func (h *followingHandler) WithGroup(name string) slog.Handler {
	return h.with(func(next slog.Handler) slog.Handler { return next.WithGroup(name) })
}

func (h *followingHandler) with(step func(slog.Handler) slog.Handler) slog.Handler {
	steps := append(h.steps[:len(h.steps):len(h.steps)], step)
	return &followingHandler{env: h.env, steps: steps}
}
