// Command dieafter is the local-JSON destination that SIGKILLs itself after
// receiving N records, N being the config's "die_after_records": the
// destination that dies mid-stream of the destination package's tests.
// Without that field it is the plain local-JSON destination.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"syscall"

	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/kit"
)

func main() {
	limit := dieAfter(os.Args[1:])
	in := io.Reader(os.Stdin)
	if limit > 0 {
		pr, pw := io.Pipe()
		go func() {
			br := bufio.NewReaderSize(os.Stdin, 1<<20)
			n := 0
			for {
				line, err := br.ReadBytes('\n')
				if bytes.Contains(line, []byte(`"type":"RECORD"`)) {
					if n++; n > limit {
						syscall.Kill(os.Getpid(), syscall.SIGKILL)
						select {}
					}
				}
				if _, werr := pw.Write(line); werr != nil || err != nil {
					pw.CloseWithError(err)
					return
				}
			}
		}()
		in = pr
	}
	os.Exit(kit.Run(context.Background(), localjson.New(), os.Args[1:], in, os.Stdout, os.Stderr))
}

// dieAfter reads die_after_records from the --config file, 0 if none.
func dieAfter(args []string) int {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--config" {
			raw, err := os.ReadFile(args[i+1])
			if err != nil {
				return 0
			}
			var c struct {
				DieAfter int `json:"die_after_records"`
			}
			_ = json.Unmarshal(raw, &c)
			return c.DieAfter
		}
	}
	return 0
}
