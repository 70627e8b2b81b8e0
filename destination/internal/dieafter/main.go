// Command dieafter is the local-JSON destination that SIGKILLs itself after
// receiving N records, N being the config's "die_after_records": the
// destination that dies mid-stream of the destination package's tests.
//
// With the config's "state_log" (a file path), every STATE it echoes is
// first appended to that file and the file fsynced, then written on
// stdout: the file lists, durably, every state the destination committed
// and echoed, including those a killed reader never got. It holds an
// exclusive flock of that file while it runs, so that a test can wait
// until it is gone.
//
// With the config's "echo_log" as well, every STATE it echoes is appended
// to that file once it is written on stdout, and SIGTERM ends it between
// two writes (exit status 143), not in one: the file lists exactly the
// states it wrote on stdout, the last of them last, however it was
// stopped (a SIGKILL between a write and its log line aside).
//
// Without those fields it is the plain local-JSON destination.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/kit"
)

type config struct {
	DieAfter int    `json:"die_after_records"`
	StateLog string `json:"state_log"`
	EchoLog  string `json:"echo_log"`
}

func main() {
	c := readConfig(os.Args[1:])
	in := io.Reader(os.Stdin)
	if c.DieAfter > 0 {
		pr, pw := io.Pipe()
		go func() {
			br := bufio.NewReaderSize(os.Stdin, 1<<20)
			n := 0
			for {
				line, err := br.ReadBytes('\n')
				if bytes.Contains(line, []byte(`"type":"RECORD"`)) {
					if n++; n > c.DieAfter {
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
	out := io.Writer(os.Stdout)
	if c.StateLog != "" {
		f, err := os.OpenFile(c.StateLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "dieafter: state log:", err)
			os.Exit(1)
		}
		sl := &stateLog{out: os.Stdout, log: f}
		if c.EchoLog != "" {
			if sl.echoes, err = os.OpenFile(c.EchoLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "dieafter: echo log:", err)
				os.Exit(1)
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGTERM)
			go func() {
				<-sigs
				sl.mu.Lock() // no write is half done, and none comes after
				os.Exit(128 + int(syscall.SIGTERM))
			}()
		}
		out = sl
	}
	os.Exit(kit.Run(context.Background(), localjson.New(), os.Args[1:], in, out, os.Stderr))
}

// stateLog writes through to out, complete lines only, after appending the
// STATE lines among them to log and fsyncing it: a state is on disk
// before anyone can have read its echo.
type stateLog struct {
	out     io.Writer
	log     *os.File
	echoes  *os.File   // the echo log, or nil
	mu      sync.Mutex // held while a write is under way
	partial []byte     // the start of a line not ended yet
}

func (w *stateLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := append(w.partial, p...)
	end := bytes.LastIndexByte(data, '\n') + 1
	var states []byte
	for line := range bytes.Lines(data[:end]) {
		if bytes.Contains(line, []byte(`"type":"STATE"`)) {
			states = append(states, line...)
		}
	}
	if len(states) > 0 {
		if _, err := w.log.Write(states); err != nil {
			return 0, err
		}
		if err := w.log.Sync(); err != nil {
			return 0, err
		}
	}
	if _, err := w.out.Write(data[:end]); err != nil {
		return 0, err
	}
	if w.echoes != nil && len(states) > 0 {
		if _, err := w.echoes.Write(states); err != nil {
			return 0, err
		}
	}
	w.partial = append([]byte(nil), data[end:]...)
	return len(p), nil
}

// readConfig reads the test's fields of the --config file, none if it
// cannot.
func readConfig(args []string) config {
	var c config
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--config" {
			raw, err := os.ReadFile(args[i+1])
			if err == nil {
				_ = json.Unmarshal(raw, &c)
			}
			return c
		}
	}
	return c
}
