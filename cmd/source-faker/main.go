// Command source-faker is goairbyte's Go rewrite of Airbyte's source-faker
// connector: run it with spec, check, discover or read as any Airbyte
// source. All the logic lives in package connectors/faker.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/x/goairbyte/connectors/faker"
)

func main() {
	// SIGTERM is how runners stop a connector: end the read cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := faker.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
