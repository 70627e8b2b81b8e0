package connector

import (
	"context"
	"iter"
	"log/slog"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// The machinery that source, destination and the root package need of a
// Connector and an Environment reaches them through package core, not as
// methods of this package's API.
func init() {
	core.Register(core.Hooks{
		New: func(ctx context.Context, kind core.Kind, name string, opts any) (any, error) {
			c, err := newConnector(ctx, kind, name, opts.([]Option)...)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		Conn:      func(c any) core.Conn { return coreConn{c.(*Connector)} },
		Env:       func(e any) core.Env { return coreEnv{e.(*Environment)} },
		Operation: withOperation,
	})
}

// coreConn is a Connector as core.Conn.
type coreConn struct{ c *Connector }

func (m coreConn) Kind() core.Kind             { return m.c.kind }
func (m coreConn) Executor() executor.Executor { return m.c.exec }
func (m coreConn) Logger() *slog.Logger        { return m.c.logger }
func (m coreConn) Streams() []string           { return m.c.streams }
func (m coreConn) HasConfig() bool             { return m.c.hasConfig() }

func (m coreConn) ResolvedConfig(ctx context.Context) (map[string]any, error) {
	return m.c.resolvedConfig(ctx)
}

func (m coreConn) ConfigFingerprint(ctx context.Context) (string, error) {
	return m.c.configFingerprint(ctx)
}

func (m coreConn) Run(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error] {
	return m.c.runCommand(ctx, inv, false)
}

func (m coreConn) RunValidated(ctx context.Context, inv executor.Invocation) iter.Seq2[*protocol.Message, error] {
	return m.c.runCommand(ctx, inv, true)
}

func (m coreConn) ProgressOptions(call []progress.Option) []progress.Option {
	return m.c.progressOptions(call)
}

func (m coreConn) DefaultCache(ctx context.Context) (*cache.Cache, error) {
	return m.c.env.defaultCache(ctx)
}

func (m coreConn) Env() any { return m.c.env }

// coreEnv is an Environment as core.Env.
type coreEnv struct{ e *Environment }

func (m coreEnv) SetDefaultCache(open func(ctx context.Context, dir string) (*cache.Cache, error)) {
	m.e.setDefaultCache(open)
}

func (m coreEnv) DefaultCache(ctx context.Context) (*cache.Cache, error) {
	return m.e.defaultCache(ctx)
}

func (m coreEnv) UseProcessSecrets() { m.e.useProcessSecrets() }
