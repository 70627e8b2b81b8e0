// Command reticent is a connector that fails the way real connectors do
// when they keep their reason out of the protocol's error messages. The
// config's "mode" says how:
//
//   - discover-log: discover logs the reason at ERROR, sends no CATALOG,
//     exits 0;
//   - discover-stderr: discover writes the reason on stderr only, exits 0;
//   - write-errorlog: write logs the reason at ERROR, then writes "}" on
//     stderr and exits 1;
//   - read-status-failed: read answers CONNECTION_STATUS FAILED, exits 0;
//   - check-empty: check answers FAILED with no message, the reason on
//     stderr, exits 0;
//   - check-noisy: check writes 20 MB on stderr (200,000 numbered lines),
//     then succeeds;
//   - read-global: read sends three records of items and two of events
//     that carry fields the protocol does not define (top-level
//     "_ab_extra" and record-level "partition"), then a GLOBAL state;
//   - read-nothing: read sends nothing at all and exits 0;
//   - read-malformed: read sends, for stream items, a record, a state, three
//     RECORD lines that do not parse (a raw control byte in a string, 10,000
//     levels of nesting, bytes after the JSON), a record and a state.
//
// Otherwise it behaves: discover has a stream "items" (full refresh only)
// and "events" (incremental too, with neither cursor nor primary key), and
// read sends one record of each configured stream.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	verb := ""
	if len(os.Args) > 1 {
		verb = os.Args[1]
	}
	var cfg struct{ Mode string }
	for i, a := range os.Args {
		if a == "--config" && i+1 < len(os.Args) {
			b, _ := os.ReadFile(os.Args[i+1])
			json.Unmarshal(b, &cfg)
		}
	}
	out := func(s string) { fmt.Println(s) }
	logError := func(msg string) {
		b, _ := json.Marshal(msg)
		out(`{"type":"LOG","log":{"level":"ERROR","message":` + string(b) + `}}`)
	}
	switch {
	case verb == "spec":
		out(`{"type":"SPEC","spec":{"connectionSpecification":{"type":"object"}}}`)
	case verb == "discover" && cfg.Mode == "discover-log":
		logError("the API key was rejected by api.example.com (401)")
	case verb == "discover" && cfg.Mode == "discover-stderr":
		fmt.Fprintln(os.Stderr, "Traceback (most recent call last):")
		fmt.Fprintln(os.Stderr, "ConnectionError: cannot reach api.example.com")
	case verb == "write" && cfg.Mode == "write-errorlog":
		io.Copy(io.Discard, os.Stdin)
		logError("the bucket s3://reports does not exist")
		fmt.Fprintln(os.Stderr, "}")
		os.Exit(1)
	case verb == "read" && cfg.Mode == "read-malformed":
		state := func(n int) string {
			return fmt.Sprintf(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"n":%d}}}}`, n)
		}
		out(`{"type":"RECORD","record":{"stream":"items","data":{"id":1},"emitted_at":1}}`)
		out(state(1))
		out("{\"type\":\"RECORD\",\"record\":{\"stream\":\"items\",\"data\":{\"id\":2,\"s\":\"a\x01b\"},\"emitted_at\":1}}")
		out(`{"type":"RECORD","record":{"stream":"items","data":{"id":3,"deep":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `},"emitted_at":1}}`)
		out(`{"type":"RECORD","record":{"stream":"items","data":{"id":4},"emitted_at":1}} trailing`)
		out(`{"type":"RECORD","record":{"stream":"items","data":{"id":5},"emitted_at":1}}`)
		out(state(5))
	case verb == "read" && cfg.Mode == "read-global":
		for i, stream := range []string{"items", "items", "items", "events", "events"} {
			out(fmt.Sprintf(`{"type":"RECORD","_ab_extra":"keep me","record":{"stream":"%s","data":{"id":%d},"emitted_at":1,"partition":7}}`, stream, i))
		}
		out(`{"type":"STATE","state":{"type":"GLOBAL","global":{"shared_state":{"lsn":42},"stream_states":[]}}}`)
	case verb == "read" && cfg.Mode == "read-nothing":
	case verb == "read" && cfg.Mode == "read-status-failed":
		out(`{"type":"CONNECTION_STATUS","connectionStatus":{"status":"FAILED","message":"invalid api key"}}`)
	case verb == "check" && cfg.Mode == "check-noisy":
		w := bufio.NewWriter(os.Stderr)
		for i := 0; i < 200_000; i++ {
			fmt.Fprintf(w, "noise line %06d %s\n", i, strings.Repeat("x", 80))
		}
		w.Flush()
		out(`{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}`)
	case verb == "check" && cfg.Mode == "check-empty":
		fmt.Fprintln(os.Stderr, "401 Unauthorized: the token expired on 2024-01-01")
		out(`{"type":"CONNECTION_STATUS","connectionStatus":{"status":"FAILED"}}`)
	case verb == "check":
		out(`{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}`)
	case verb == "discover":
		out(`{"type":"CATALOG","catalog":{"streams":[{"name":"items","json_schema":{},"supported_sync_modes":["full_refresh"]},` +
			`{"name":"events","json_schema":{"type":"object","properties":{"id":{"type":"integer"}}},"supported_sync_modes":["full_refresh","incremental"]}]}}`)
	case verb == "read":
		var cat struct {
			Streams []struct{ Stream struct{ Name string } }
		}
		for i, a := range os.Args {
			if a == "--catalog" && i+1 < len(os.Args) {
				b, _ := os.ReadFile(os.Args[i+1])
				json.Unmarshal(b, &cat)
			}
		}
		for _, s := range cat.Streams {
			out(`{"type":"RECORD","record":{"stream":"` + s.Stream.Name + `","data":{"id":1},"emitted_at":1}}`)
		}
	case verb == "write":
		io.Copy(io.Discard, os.Stdin)
	}
}
