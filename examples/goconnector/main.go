// Command goconnector is a source connector written in Go with package kit,
// used two ways: in process, from a Go program, and as an Airbyte connector
// program that any Airbyte runner can start.
//
// The connector, source-logfile, reads the lines of a text file as records
// of one stream, "lines". It reads incrementally: its state is the number of
// lines read, so a second read sends only the lines appended since.
//
//	go run ./examples/goconnector                  # the demo: two reads, in process
//	go build -o source-logfile ./examples/goconnector
//	./source-logfile spec                          # the same value, as a connector program
//	goab read source-logfile --local-executable ./source-logfile --config '{"path": "/var/log/app.log"}'
//
// In process, the records reach the cache with no encoding and no pipe:
// connector.WithGoConnector gives GetSource the value itself.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

func main() {
	// Started with a connector command (spec, check, discover, read), the
	// program is the connector: kit.Serve owns the command line, validates
	// the config against the spec and writes the protocol on stdout.
	if len(os.Args) > 1 && slices.Contains([]string{"spec", "check", "discover", "read"}, os.Args[1]) {
		kit.Serve(logFile{})
	}
	goairbyte.DefaultEnvironment().SetProgress()
	dir, err := os.MkdirTemp("", "goconnector-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), os.Stdout, dir); err != nil {
		log.Fatal(err)
	}
}

// run writes a small log in dir, reads it into a DuckDB cache in dir,
// appends to it and reads again, printing what each read loaded.
func run(ctx context.Context, w io.Writer, dir string) error {
	logPath := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logPath, []byte("GET / 200\nGET /about 200\nPOST /login 302\n"), 0o644); err != nil {
		return err
	}
	c, err := goairbyte.NewLocalCache(ctx, "logs", dir)
	if err != nil {
		return err
	}
	defer c.Close()
	src, err := goairbyte.GetSource(ctx, "source-logfile",
		connector.WithGoConnector(logFile{}),
		connector.WithConfig(map[string]any{"path": logPath}))
	if err != nil {
		return err
	}
	var table string
	for i, appended := range []string{"", "GET /health 200\nPOST /orders 201\n"} {
		if appended != "" {
			if err := appendTo(logPath, appended); err != nil {
				return err
			}
		}
		res, err := src.Read(ctx, source.UseCache(c))
		if err != nil {
			return err
		}
		lines, err := res.Stream(ctx, "lines")
		if err != nil {
			return err
		}
		rows, err := lines.Count(ctx)
		if err != nil {
			return err
		}
		table = lines.QualifiedTableName()
		fmt.Fprintf(w, "read %d: %d lines loaded, %d rows in the cache\n", i+1, res.StreamRecords()["lines"], rows)
	}

	rows, err := c.Query(ctx, `SELECT line_number, "text" FROM `+table+` ORDER BY line_number DESC LIMIT 2`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(w, "last lines:")
	for rows.Next() {
		var n int64
		var text string
		if err := rows.Scan(&n, &text); err != nil {
			return err
		}
		fmt.Fprintf(w, "  %d: %s\n", n, text)
	}
	return rows.Err()
}

func appendTo(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// logFile is the connector: a kit.Source, so kit.Serve can serve it and
// connector.WithGoConnector can run it in process.
type logFile struct{}

// config is what the spec below describes.
type config struct {
	Path string `json:"path"`
}

// cursor is the stream's state: how many lines were read.
type cursor struct {
	LineNumber int64 `json:"line_number"`
}

// Spec describes the config; kit validates every config against it.
func (logFile) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{
		"type": "object", "required": ["path"],
		"properties": {"path": {"type": "string", "title": "Log file", "description": "The text file to read, one record per line."}}}`)}, nil
}

// Check says whether the file can be read.
func (logFile) Check(_ context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return err
	}
	return f.Close()
}

// Discover returns the one stream: the line number is its primary key and
// its cursor.
func (logFile) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	defined := true
	return &protocol.Catalog{Streams: []protocol.Stream{{
		Name: "lines",
		JSONSchema: json.RawMessage(`{"type": "object", "properties": {
			"line_number": {"type": "integer"}, "text": {"type": "string"}}}`),
		SupportedSyncModes:      []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
		SourceDefinedCursor:     &defined,
		DefaultCursorField:      []string{"line_number"},
		SourceDefinedPrimaryKey: [][]string{{"line_number"}},
	}}}, nil
}

// Read emits the lines after the state's line number (all of them in a
// full refresh), then the new state. A state every 10,000 lines lets a
// long read that fails resume from where it was.
func (logFile) Read(ctx context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	for _, s := range catalog.Streams {
		if s.Stream.Name != "lines" {
			// kit ends every stream Read leaves open as COMPLETE: a
			// stream this connector does not have must fail the read,
			// not pass for an empty one.
			return kit.ConfigError(fmt.Errorf("the catalog names stream %q; this connector has only \"lines\"", s.Stream.Name))
		}
	}
	i := slices.IndexFunc(catalog.Streams, func(s protocol.ConfiguredStream) bool { return s.Stream.Name == "lines" })
	if i < 0 {
		return nil // the stream was not selected
	}
	var from cursor
	if catalog.Streams[i].SyncMode == protocol.SyncIncremental {
		if from, err = parseState(state); err != nil {
			return err
		}
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	at := from
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<20)
	for n := int64(1); scanner.Scan(); n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if n <= from.LineNumber {
			continue
		}
		data, err := json.Marshal(map[string]any{"line_number": n, "text": scanner.Text()})
		if err != nil {
			return err
		}
		// EmittedAt says when the line was read (kit stamps a record left
		// at 0 with the time of its emit).
		rec := &protocol.Record{Stream: "lines", Data: data, EmittedAt: time.Now().UnixMilli()}
		if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: rec}); err != nil {
			return err
		}
		at.LineNumber = n
		if n%10_000 == 0 {
			if err := emitState(emit, at); err != nil {
				return err
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return err
	}
	return emitState(emit, at)
}

func parseConfig(raw json.RawMessage) (config, error) {
	var cfg config
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.Path == "" {
		// A config error is the user's to fix: FailureType config, not system.
		return cfg, kit.ConfigError(errors.New(`the config needs "path", the file to read`))
	}
	return cfg, nil
}

// parseState finds the stream's cursor in whatever form of state the
// runner passed (STREAM, GLOBAL or LEGACY): kit reads them all.
func parseState(raw json.RawMessage) (cursor, error) {
	var c cursor
	states, err := kit.ParseState(raw)
	if err != nil {
		return c, err
	}
	byStream, err := kit.StreamStates(states)
	if err != nil {
		return c, err
	}
	if s, ok := byStream[protocol.StreamDescriptor{Name: "lines"}]; ok {
		if err := json.Unmarshal(s, &c); err != nil {
			return c, kit.ConfigError(fmt.Errorf("the state of stream lines: %w", err))
		}
	}
	return c, nil
}

func emitState(emit func(*protocol.Message) error, c cursor) error {
	blob, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
		Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: "lines"}, StreamState: blob}}})
}
