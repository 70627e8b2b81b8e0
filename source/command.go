package source

import (
	"context"
	"iter"
	"log/slog"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/protocol"
)

// RunCommand runs one connector command through the Source's executor and
// its one message loop (config masking, CONTROL config changes), with the
// Source's config as inv.Config (spec, which needs none, aside). It is the
// low-level door for commands the Source has no method for — package
// destination runs write through it, so that destinations share every
// execution method and option of sources.
func (s *Source) RunCommand(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		if inv.Verb != executor.VerbSpec {
			cfg, err := s.prepare(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			inv.Config = cfg
		}
		for m, err := range s.run(ctx, inv) {
			if !yield(m, err) {
				return
			}
		}
	}
}

// Logger is the logger the Source reports to (WithLogger, else
// slog.Default()).
func (s *Source) Logger() *slog.Logger { return s.logger }

// Mask hides the secret values of the Source's config in text, as every
// error and log line of the Source already is.
func (s *Source) Mask(text string) string { return s.mask(text) }
