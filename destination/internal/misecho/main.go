// Command misecho is a destination that misbehaves with its STATE echoes,
// as its config's "mode" says, for the destination package's tests. It
// writes nothing anywhere; it reads its input line by line and writes each
// echo to stdout unbuffered, so that what it echoed before dying is out.
//
//   - "" echoes every state as it comes (with "counts", each with
//     destinationStats.recordCount: the records since the state before);
//   - "every_other" echoes every second state only, with
//     destinationStats.recordCount counting the records since the state
//     before (a destination that collapses states);
//   - "reverse" holds the states and echoes them last first at the end;
//   - "twice" echoes every state twice;
//   - "fabricate" echoes, after each state, one for the same stream with a
//     raw id above every real one;
//   - "foreign" echoes each state also as one of the config's
//     "other_stream".
//
// With "die" ("exit", "kill" or "panic") it dies that way right after
// echoing its "after"-th state.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"syscall"
)

type config struct {
	Mode        string `json:"mode"`
	Die         string `json:"die"`
	After       int    `json:"after"`
	OtherStream string `json:"other_stream"`
	Counts      bool   `json:"counts"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "spec" {
		fmt.Println(`{"type":"SPEC","spec":{"connectionSpecification":{"type":"object"}}}`)
		return
	}
	if len(os.Args) < 4 || os.Args[1] != "write" {
		fmt.Fprintln(os.Stderr, "usage: misecho spec | write --config FILE --catalog FILE")
		os.Exit(2)
	}
	var c config
	raw, err := os.ReadFile(os.Args[3])
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(1)
	}
	br := bufio.NewReaderSize(os.Stdin, 1<<20)
	var held [][]byte
	states, records := 0, 0
	echo := func(line []byte) {
		os.Stdout.Write(line)
		os.Stdout.Write([]byte("\n"))
	}
	for {
		line, err := br.ReadBytes('\n')
		line = bytes.TrimRight(line, "\n")
		if len(line) > 0 {
			if bytes.Contains(line, []byte(`"type":"RECORD"`)) {
				records++
			} else if bytes.Contains(line, []byte(`"type":"STATE"`)) {
				states++
				var m map[string]any
				if json.Unmarshal(line, &m) != nil {
					panic("bad state line")
				}
				st := m["state"].(map[string]any)
				stream := st["stream"].(map[string]any)
				if c.Counts || c.Mode == "every_other" {
					st["destinationStats"] = map[string]any{"recordCount": records}
					records = 0
					line, _ = json.Marshal(m)
				}
				switch c.Mode {
				case "every_other":
					if states%2 == 0 {
						echo(line)
					}
				case "reverse":
					held = append(held, line)
				case "twice":
					echo(line)
					echo(line)
				case "fabricate":
					echo(line)
					stream["stream_state"] = map[string]any{"_airbyte_raw_id": "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"}
					b, _ := json.Marshal(m)
					echo(b)
				case "foreign":
					echo(line)
					stream["stream_descriptor"] = map[string]any{"name": c.OtherStream}
					b, _ := json.Marshal(m)
					echo(b)
				default:
					echo(line)
				}
				if c.Die != "" && states == c.After {
					switch c.Die {
					case "exit":
						os.Exit(1)
					case "kill":
						syscall.Kill(os.Getpid(), syscall.SIGKILL)
						select {}
					case "panic":
						panic("misecho: dying as told")
					}
				}
			}
		}
		if err != nil {
			break
		}
	}
	for i := len(held) - 1; i >= 0; i-- {
		echo(held[i])
	}
}
