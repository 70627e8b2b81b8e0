// Command seconds is a test connector that writes emitted_at in seconds
// instead of milliseconds.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func read(ctx context.Context, c base.Config, emit func(*protocol.Message) error) error {
	for i := range 3 {
		m := base.Record(fmt.Sprintf(`{"id":%d}`, i))
		m.Record.EmittedAt = time.Now().Unix()
		if err := emit(m); err != nil {
			return err
		}
	}
	return nil
}

func main() { kit.Serve(base.Reader(read)) }
