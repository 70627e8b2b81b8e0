// Command gocrash is a test connector written in Go that crashes as a Go
// program does: a few records, then a panic in a goroutine of its own,
// which no recover of the kit's can catch, so the Go runtime prints the
// panic and the goroutine's stack on stderr and exits 2.
package main

import (
	"context"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

func read(ctx context.Context, c base.Config, emit func(*protocol.Message) error) error {
	base.WriteRecords(3)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var pages map[string]int
		pages["next"]++ // assignment to entry in nil map
	}()
	<-done
	return nil
}

func main() { kit.Serve(base.Reader(read)) }
