// Command echo is a test connector for volume, a source and a destination
// at once: its read emits config "count" records padded to about "size"
// bytes of data, with a state every 10,000; its write sends every message
// it is given back out (RECORDs too, as some destinations do), so that
// input and output flow at the same time, or with "drop_states" every
// message but the STATEs (a destination that never confirms anything).
package main

import (
	"context"
	"encoding/json"
	"iter"
	"strconv"
	"strings"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

type echo struct{ base.Items }

func (echo) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	c, err := base.ParseConfig(config)
	if err != nil {
		return err
	}
	pad := strings.Repeat("x", max(c.Size-30, 0))
	for i := range c.Count {
		data := append(strconv.AppendInt([]byte(`{"id":`), int64(i), 10), `,"pad":"`...)
		data = append(append(data, pad...), `"}`...)
		m := &protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: "items", Data: data, EmittedAt: 1700000000000}}
		if err := emit(m); err != nil {
			return err
		}
		if (i+1)%10000 == 0 {
			if err := emit(base.State(i + 1)); err != nil {
				return err
			}
		}
	}
	return emit(base.State(c.Count))
}

func (echo) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	c, err := base.ParseConfig(config)
	if err != nil {
		return err
	}
	for m, err := range input {
		if err != nil {
			return err
		}
		if m.Unparsed != nil || (c.DropStates && m.Type == protocol.TypeState) {
			continue
		}
		if err := emit(m); err != nil {
			return err
		}
	}
	return nil
}

func main() { kit.Serve(echo{}) }
