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

	"github.com/x/goairbyte/internal/builtin"
	"github.com/x/goairbyte/protocol"
)

// Name is the no-op destination's connector name.
const Name = "destination-noop"

// Destination is the no-op destination. The zero value is ready to use.
type Destination struct{}

// Spec accepts any config.
func (Destination) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{
		DocumentationURL:        builtin.NoopDocs,
		ConnectionSpecification: json.RawMessage(`{"type":"object","title":"No-op destination","properties":{}}`),
		SupportedDestinationSyncModes: []protocol.DestinationSyncMode{
			protocol.DestinationAppend, protocol.DestinationOverwrite, protocol.DestinationAppendDedup},
	}, nil
}

// Check always succeeds: there is nothing to connect to.
func (Destination) Check(ctx context.Context, config json.RawMessage) error { return nil }

// WriteLines is Write on the raw input (kit.LineWriter): a line that begins
// as a RECORD message does ({"type":"RECORD", as every encoder we know
// writes one) is counted without being decoded, so that the no-op
// destination costs next to nothing and measures the rest of the pipeline.
// Every other line is parsed whole, however long: a STATE is echoed
// exactly as Write echoes it, wherever its "type" key stands and whatever
// its payload holds, and a record written another way is still counted.
func (Destination) WriteLines(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input io.Reader, emit func(*protocol.Message) error) error {
	br := bufio.NewReaderSize(input, 1<<20)
	e := echoer{emit: emit}
	var (
		long    []byte // the start of a line longer than the buffer, gathered
		skipped bool   // the line under way is a record's: skip the rest
	)
	for {
		frag, err := br.ReadSlice('\n')
		ends := !errors.Is(err, bufio.ErrBufferFull) // frag ends its line, or the input
		switch {
		case skipped:
		case long == nil && recordPrefix(frag):
			e.records++
			skipped = !ends
		case !ends:
			long = append(long, frag...)
		default:
			line := frag
			if long != nil {
				line, long = append(long, frag...), nil
			}
			if len(bytes.TrimSpace(line)) == 0 {
				break
			}
			if err := e.message(protocol.ParseMessage(bytes.Clone(line))); err != nil {
				return err
			}
		}
		if ends {
			skipped = false
		}
		if err != nil && ends {
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

// recordPrefix reports whether a line begins as a RECORD message, with the
// compact or the spaced separator.
func recordPrefix(line []byte) bool {
	return bytes.HasPrefix(line, []byte(`{"type":"RECORD"`)) || bytes.HasPrefix(line, []byte(`{"type": "RECORD"`))
}

// Write discards the records of input and echoes each STATE with
// destinationStats.recordCount set to the records since the previous one.
func (Destination) Write(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	e := echoer{emit: emit}
	for m, err := range input {
		if err != nil {
			return err
		}
		if err := e.message(m); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// echoer counts records and echoes each STATE with
// destinationStats.recordCount set to the records since the one before.
type echoer struct {
	records float64
	emit    func(*protocol.Message) error
}

func (e *echoer) message(m *protocol.Message) error {
	switch {
	case m.Type == protocol.TypeRecord:
		e.records++
	case m.Type == protocol.TypeState && m.State != nil:
		c := e.records
		m.State.DestinationStats = &protocol.StateStats{RecordCount: &c}
		e.records = 0
		return e.emit(m)
	}
	return nil
}
