// Command lingering is a connector that sends its messages, closes its
// stdout and keeps running, ignoring SIGTERM, as some real connectors do
// (a background thread that never ends). With the argument read it sends
// one record and a state; any other command is answered by nothing.
package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	signal.Ignore(syscall.SIGTERM)
	if len(os.Args) > 1 && os.Args[1] == "read" {
		os.Stdout.WriteString(`{"type":"RECORD","record":{"stream":"items","data":{"id":1},"emitted_at":1}}` + "\n" +
			`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"n":1}}}}` + "\n")
	}
	os.Stdout.Close()
	time.Sleep(time.Hour)
}
