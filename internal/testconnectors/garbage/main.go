// Command garbage is a test connector that mixes non-protocol output into
// stdout: plain text, broken JSON, unknown message types, unknown fields and
// "type" as the last key. It also writes the config's password to stderr and
// into a LOG message, as careless connectors do, for masking tests. With
// "size", it first sends a LOG message and a plain line of that many bytes
// each. The kit
// would never write such lines, so its read writes all of its output
// itself.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func read(ctx context.Context, c base.Config, emit func(*protocol.Message) error) error {
	var out []byte
	message := func(m *protocol.Message) {
		b, err := protocol.AppendMessage(out, m)
		if err != nil {
			panic(err)
		}
		out = b
	}
	line := func(s string) { out = append(append(out, s...), '\n') }
	line("Starting source-garbage v0.0.1 ...")
	fmt.Fprintf(os.Stderr, "connecting with password=%s\n", c.Password)
	message(base.Log(protocol.LevelInfo, "using password "+c.Password))
	if c.Size > 0 {
		message(base.Log(protocol.LevelWarn, "long log "+strings.Repeat("y", c.Size-9)))
		line("long line " + strings.Repeat("z", c.Size-10))
	}
	for i := range max(c.Count, 3) {
		message(base.Record(fmt.Sprintf(`{"id":%d}`, i)))
		switch i % 3 {
		case 0:
			line("{not json")
		case 1:
			line(`{"type":"SOMETHING_ELSE","x":1}`)
		case 2:
			line(fmt.Sprintf(`{"record":{"stream":"items","data":{"id":%d},"emitted_at":1700000000000},"extra":true,"type":"RECORD"}`, 1000+i))
		}
	}
	message(base.State(1))
	_, err := os.Stdout.Write(out)
	return err
}

func main() { kit.Serve(base.Reader(read)) }
