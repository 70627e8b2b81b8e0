// Command lastwords is a test connector, a source and a destination, that
// has more to say once it is told to stop: its read and its write emit a
// STATE with cursor 0, wait for SIGTERM and then emit "count" more (cursors
// 1 to count, 1,000 when count is 0) and exit, as a destination that
// echoes the states it committed while it shuts down; with a negative
// count it goes on emitting them until it is killed (the kit ends it after
// its own grace period); with flush_ms it waits that long first, as a
// destination flushing a batch to a slow store. Its write ignores its
// input.
package main

import (
	"context"
	"encoding/json"
	"iter"
	"time"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

type lastWords struct{ base.Items }

// say emits the first state, and the others once ctx is cancelled.
func say(ctx context.Context, config json.RawMessage, emit func(*protocol.Message) error) error {
	c, err := base.ParseConfig(config)
	if err != nil {
		return err
	}
	n := c.Count
	if n == 0 {
		n = 1000
	}
	if err := emit(base.State(0)); err != nil {
		return err
	}
	<-ctx.Done()
	time.Sleep(time.Duration(c.FlushMillis) * time.Millisecond)
	for i := 1; i <= n || n < 0; i++ {
		if err := emit(base.State(i)); err != nil {
			return err
		}
	}
	return nil
}

func (lastWords) Read(ctx context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	return say(ctx, config, emit)
}

func (lastWords) Write(ctx context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog,
	_ iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	return say(ctx, config, emit)
}

// main serves it as our connectors are: SIGTERM cancels the context.
func main() { kit.Serve(lastWords{}) }
