// Command destination-local-json is goairbyte's Local JSON destination
// connector (see package connectors/localjson):
//
//	destination-local-json spec
//	destination-local-json check --config config.json
//	destination-local-json write --config config.json --catalog catalog.json < messages
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/x/goairbyte/connectors/localjson"
)

// cancelGrace is how long a cancelled write may take to notice that it was
// cancelled (it checks between messages, so a silent stdin would block it).
// Exiting after that is safe: the connector is built to survive SIGKILL.
const cancelGrace = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		time.Sleep(cancelGrace)
		os.Exit(143)
	}()
	os.Exit(localjson.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
