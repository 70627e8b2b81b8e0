package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/x/goairbyte/executor"
)

// Reading a stream from a connector on PATH; breaking out of the loop would
// stop it at once.
func Example() {
	ctx := context.Background()
	src, err := executor.New("source-faker", executor.Method{Kind: executor.KindLocal, Path: "source-faker"}, executor.Runtime{})
	if err != nil {
		fmt.Println(err) // a *NotInstalledError when it is not on PATH
		return
	}
	catalog := json.RawMessage(`{"streams":[{"stream":{"name":"users","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)
	records := 0
	for msg, err := range src.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"count":10}`), Catalog: catalog}) {
		var ce *executor.ConnectorError
		if errors.As(err, &ce) {
			fmt.Println("failed:", ce.Message, ce.StderrTail, ce.LogFile)
			return
		}
		if msg != nil && msg.Record != nil {
			records++
		}
	}
	fmt.Println(records, "records")
}
