// Package cachetest is the test suite every cache backend runs, plus
// helpers that build protocol message streams and run the faker connector.
// It is used by the backends' tests; it is not part of the public API.
package cachetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"os/exec"

	"github.com/x/goairbyte/protocol"
)

// Rec is a RECORD message of stream with data (a JSON object).
func Rec(stream, data string) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: stream, Data: json.RawMessage(data), EmittedAt: 1700000000000}}
}

// StreamState is a STREAM state message.
func StreamState(stream, state string) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
		Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: stream}, StreamState: json.RawMessage(state)}}}
}

// GlobalState is a GLOBAL state message with one stream state per pair of
// (stream, state) arguments.
func GlobalState(shared string, pairs ...string) *protocol.Message {
	g := &protocol.GlobalState{SharedState: json.RawMessage(shared)}
	for i := 0; i+1 < len(pairs); i += 2 {
		g.StreamStates = append(g.StreamStates, protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: pairs[i]}, StreamState: json.RawMessage(pairs[i+1])})
	}
	return &protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateGlobal, Global: g}}
}

// LegacyState is a LEGACY state message (no type).
func LegacyState(data string) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeState, State: &protocol.State{Data: json.RawMessage(data)}}
}

// Status is a STREAM_STATUS trace of stream.
func Status(stream string, status protocol.StreamStatus) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceStreamStatus, EmittedAt: 1700000000000,
		StreamStatus: &protocol.StreamStatusTrace{StreamDescriptor: protocol.StreamDescriptor{Name: stream}, Status: status}}}
}

// Encode writes messages as protocol lines.
func Encode(msgs ...*protocol.Message) []byte {
	var buf bytes.Buffer
	enc := protocol.NewEncoder(&buf)
	for _, m := range msgs {
		if err := enc.Encode(m); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}

// Decode yields the messages of protocol lines, as a connector's output.
func Decode(r io.Reader) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		dec := protocol.NewDecoder(r)
		for {
			m, err := dec.Decode()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}

// Messages round-trips messages through the encoder and decoder.
func Messages(msgs ...*protocol.Message) iter.Seq2[*protocol.Message, error] {
	return Decode(bytes.NewReader(Encode(msgs...)))
}

// AsBuilt yields msgs as they are, without the round trip through the
// decoder that Messages makes (and that validates record data).
func AsBuilt(msgs ...*protocol.Message) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		for _, m := range msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// FailAfter yields msgs, then err.
func FailAfter(err error, msgs ...*protocol.Message) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		for m, e := range Messages(msgs...) {
			if !yield(m, e) {
				return
			}
		}
		yield(nil, err)
	}
}

// Command yields the decoded stdout of cmd, which it starts, and fails if
// the command fails.
func Command(cmd *exec.Cmd) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		out, err := cmd.StdoutPipe()
		if err != nil {
			yield(nil, err)
			return
		}
		if err := cmd.Start(); err != nil {
			yield(nil, err)
			return
		}
		stopped := false
		defer func() {
			if stopped {
				cmd.Process.Kill()
			}
			cmd.Wait()
		}()
		for m, err := range Decode(out) {
			if !yield(m, err) {
				stopped = true
				return
			}
		}
		if err := cmd.Wait(); err != nil {
			yield(nil, err)
		}
	}
}
