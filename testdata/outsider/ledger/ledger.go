// Package ledger is a source connector written with package kit whose
// data a reconciliation test controls exactly: each stream's rows come
// from the config, in cursor order, and a read sends those whose cursor u
// is at or past the state's (ties at the boundary again: the Airbyte
// contract is at least once), with a STREAM state after every page. The
// config can make a read fail after so many records (a TRACE ERROR, exit
// 1, or a kill -9 as a program), and name streams whose states are never
// sent.
package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Source is the connector.
type Source struct{}

var _ kit.Source = Source{}

// Stream is a stream of the config: its name, its primary key (none: the
// cache appends it) and whether it has a region field.
type Stream struct {
	Name   string     `json:"name"`
	Key    [][]string `json:"key,omitempty"`
	Region bool       `json:"region,omitempty"`
}

// Config is the connector's config.
type Config struct {
	Streams []Stream                    `json:"streams"`
	Rows    map[string][]map[string]any `json:"rows"`
	Page    int                         `json:"page"`
	FailAt  int                         `json:"fail_at,omitempty"` // records sent before the read fails; 0: never
	How     string                      `json:"how,omitempty"`     // error, exit or kill
	NoState []string                    `json:"no_state,omitempty"`
	Got     string                      `json:"got,omitempty"` // a file the state a read got is appended to
	Extra   map[string]json.RawMessage  `json:"extra,omitempty"`
}

func (Source) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["streams","rows","page"],"properties":{"page":{"type":"integer","minimum":1},"how":{"enum":["","error","exit","kill"]}}}`)}, nil
}

func (Source) Check(context.Context, json.RawMessage) error { return nil }

func parse(raw json.RawMessage) (Config, error) {
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, kit.ConfigError(err)
	}
	return c, nil
}

// Discover gives each stream the fields id, u (the cursor), v and, when
// the stream says so, region.
func (Source) Discover(_ context.Context, raw json.RawMessage) (*protocol.Catalog, error) {
	c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	cat := &protocol.Catalog{}
	yes := true
	for _, s := range c.Streams {
		props := `"id":{"type":"integer"},"u":{"type":"integer"},"v":{"type":["null","string"]}`
		if s.Region {
			props += `,"region":{"type":"string"}`
		}
		cat.Streams = append(cat.Streams, protocol.Stream{Name: s.Name, JSONSchema: json.RawMessage(`{"type":"object","properties":{` + props + `}}`),
			SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}, SourceDefinedCursor: &yes,
			DefaultCursorField: []string{"u"}, SourceDefinedPrimaryKey: s.Key})
	}
	return cat, nil
}

// Read sends each configured stream's rows from its state on.
func (Source) Read(ctx context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage, emit func(*protocol.Message) error) error {
	c, err := parse(raw)
	if err != nil {
		return err
	}
	if c.Got != "" {
		got := "none"
		if state != nil {
			got = string(state)
		}
		f, err := os.OpenFile(c.Got, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		_, err = f.WriteString(got + "\n")
		if err := errors.Join(err, f.Close()); err != nil {
			return err
		}
	}
	states, err := kit.ParseState(state)
	if err != nil {
		return err
	}
	byStream, err := kit.StreamStates(states)
	if err != nil {
		return err
	}
	from := map[string]float64{}
	for sd, st := range byStream {
		var s struct{ U float64 }
		if err := json.Unmarshal(st, &s); err != nil {
			return err
		}
		from[sd.Name] = s.U
	}
	sent := 0
	for _, cs := range catalog.Streams {
		name := cs.Stream.Name
		inPage := 0
		var last float64
		for _, row := range c.Rows[name] {
			u, _ := row["u"].(float64)
			if cs.SyncMode == protocol.SyncIncremental && u < from[name] {
				continue
			}
			if c.FailAt > 0 && sent == c.FailAt {
				return fail(c.How)
			}
			data, err := json.Marshal(row)
			if err != nil {
				return err
			}
			if err := emit(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: name, Data: data}}); err != nil {
				return err
			}
			sent++
			last = u
			if inPage++; inPage == c.Page {
				inPage = 0
				if err := stateOf(c, name, last, emit); err != nil {
					return err
				}
			}
		}
		if inPage > 0 {
			if err := stateOf(c, name, last, emit); err != nil {
				return err
			}
		}
	}
	return nil
}

func stateOf(c Config, stream string, u float64, emit func(*protocol.Message) error) error {
	if slices.Contains(c.NoState, stream) {
		return nil
	}
	return emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream, Stream: &protocol.StreamState{
		StreamDescriptor: protocol.StreamDescriptor{Name: stream}, StreamState: json.RawMessage(`{"u":` + strconv.FormatFloat(u, 'f', -1, 64) + `}`)}}})
}

// fail ends a read as how says: exit and kill only make sense in a
// program, where the records emitted have had time to leave the buffer.
func fail(how string) error {
	switch how {
	case "exit":
		time.Sleep(100 * time.Millisecond)
		os.Exit(1)
	case "kill":
		time.Sleep(100 * time.Millisecond)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return errors.New("the ledger API failed")
}
