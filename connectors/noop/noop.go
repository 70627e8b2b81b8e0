// Package noop is the no-op destination: it discards every record and
// confirms every state at once, echoing each STATE with the number of
// records that came before it. It measures what a source and the pipeline
// cost on their own. It is a kit.Destination, so it runs in process (the
// root package goairbyte registers it as "destination-noop") or as a
// program served by kit.
package noop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"

	"github.com/x/goairbyte/protocol"
)

// Name is the no-op destination's connector name.
const Name = "destination-noop"

// Destination is the no-op destination. The zero value is ready to use.
type Destination struct{}

// Spec accepts any config.
func (Destination) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{
		DocumentationURL:        "https://github.com/x/goairbyte",
		ConnectionSpecification: json.RawMessage(`{"type":"object","title":"No-op destination","properties":{}}`),
		SupportedDestinationSyncModes: []protocol.DestinationSyncMode{
			protocol.DestinationAppend, protocol.DestinationOverwrite, protocol.DestinationAppendDedup},
	}, nil
}

// Check always succeeds: there is nothing to connect to.
func (Destination) Check(ctx context.Context, config json.RawMessage) error { return nil }

// WriteLines is Write on the raw input (kit.LineWriter): it recognises
// RECORD and STATE lines by their type without decoding records, so that
// the no-op destination costs next to nothing and measures the rest of the
// pipeline. Only STATE lines are parsed.
func (Destination) WriteLines(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input io.Reader, emit func(*protocol.Message) error) error {
	br := bufio.NewReaderSize(input, 1<<20)
	var n float64
	start := true // the next fragment begins a line
	for {
		frag, err := br.ReadSlice('\n')
		if start && len(frag) > 0 {
			switch {
			case bytes.Contains(frag, []byte(`"type":"RECORD"`)):
				n++
			case err == nil && bytes.Contains(frag, []byte(`"type":"STATE"`)):
				if m := protocol.ParseMessage(bytes.Clone(frag)); m.Type == protocol.TypeState && m.State != nil {
					c := n
					m.State.DestinationStats = &protocol.StateStats{RecordCount: &c}
					n = 0
					if err := emit(m); err != nil {
						return err
					}
				}
			}
		}
		// A line longer than the buffer comes in several fragments; only
		// its first one is looked at.
		start = !errors.Is(err, bufio.ErrBufferFull)
		if err != nil && start {
			if errors.Is(err, io.EOF) {
				return ctx.Err()
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Write discards the records of input and echoes each STATE with
// destinationStats.recordCount set to the records since the previous one.
func (Destination) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	var n float64
	for m, err := range input {
		if err != nil {
			return err
		}
		switch {
		case m.Type == protocol.TypeRecord:
			n++
		case m.Type == protocol.TypeState && m.State != nil:
			c := n
			m.State.DestinationStats = &protocol.StateStats{RecordCount: &c}
			n = 0
			if err := emit(m); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
