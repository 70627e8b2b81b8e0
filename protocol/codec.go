package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// DefaultMaxLineSize is the longest line a Decoder accepts unless told
// otherwise: 256 MiB. Longer lines are skipped and reported as unparsed.
const DefaultMaxLineSize = 256 << 20

// Decoder reads protocol messages, one per line, from a connector's output.
// It tolerates everything real connectors do: lines that are not JSON or not
// protocol messages come back as a Message with Unparsed set and never end
// the stream; unknown fields are ignored; emitted_at in seconds is
// normalised to milliseconds.
type Decoder struct {
	r       *bufio.Reader
	max     int
	line    []byte
	lines   int64
	pending []byte
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 1<<20), max: DefaultMaxLineSize}
}

// SetMaxLineSize sets the longest line accepted (at least 64 MiB is
// recommended; real connectors emit large records).
func (d *Decoder) SetMaxLineSize(n int) { d.max = n }

// Lines is the number of lines read so far.
func (d *Decoder) Lines() int64 { return d.lines }

// LastLine returns the raw bytes of the line behind the last message Decode
// returned, without the newline. It is only valid until the next call to
// Decode.
func (d *Decoder) LastLine() []byte { return d.line }

// Decode returns the next message. It returns io.EOF when the input ends.
// Blank lines are skipped. Any other error is an error of the reader.
func (d *Decoder) Decode() (*Message, error) {
	for {
		line, err := d.readLine()
		if err != nil {
			return nil, err
		}
		d.lines++
		line = bytes.TrimSpace(line)
		d.line = line
		if len(line) == 0 {
			continue
		}
		return ParseMessage(line), nil
	}
}

var errTooLong = errors.New("line too long")

// readLine returns the next line, without its newline. Lines longer than the
// limit are drained and returned truncated with errTooLong swallowed: the
// caller sees them as unparsed output.
func (d *Decoder) readLine() ([]byte, error) {
	d.pending = d.pending[:0]
	for {
		frag, err := d.r.ReadSlice('\n')
		if err == nil {
			if len(d.pending) == 0 {
				return frag[:len(frag)-1], nil
			}
			d.pending = append(d.pending, frag[:len(frag)-1]...)
			return d.pending, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(d.pending)+len(frag) > d.max {
				// Keep the head for the caller's log, drop the rest of the line.
				if len(d.pending) < 4096 {
					d.pending = append(d.pending, frag...)
				}
				continue
			}
			d.pending = append(d.pending, frag...)
			continue
		}
		if err == io.EOF {
			if len(frag) == 0 && len(d.pending) == 0 {
				return nil, io.EOF
			}
			d.pending = append(d.pending, frag...)
			return d.pending, nil
		}
		return nil, err
	}
}

// ParseMessage parses one line. It never fails: a line that is not a
// protocol message is returned with Unparsed set to a copy of it.
func ParseMessage(line []byte) *Message {
	m := new(Message)
	if err := json.Unmarshal(line, m); err != nil || !m.Type.Known() || !m.payloadPresent() {
		return &Message{Unparsed: bytes.Clone(line)}
	}
	m.normalise()
	return m
}

// payloadPresent reports whether the payload field that Type names is set.
func (m *Message) payloadPresent() bool {
	switch m.Type {
	case TypeRecord:
		return m.Record != nil && len(m.Record.Data) > 0 && m.Record.Data[0] == '{'
	case TypeState:
		return m.State != nil
	case TypeLog:
		return m.Log != nil
	case TypeSpec:
		return m.Spec != nil
	case TypeConnectionStatus:
		return m.ConnectionStatus != nil
	case TypeCatalog:
		return m.Catalog != nil
	case TypeTrace:
		return m.Trace != nil
	case TypeControl:
		return m.Control != nil
	case TypeDestinationCatalog:
		return m.DestinationCatalog != nil
	}
	return false
}

// secondsThreshold separates epoch seconds from epoch milliseconds: 1e11 ms
// is March 1973, 1e11 s is the year 5138.
const secondsThreshold = 1e11

// NormaliseEmittedAt turns an epoch timestamp in seconds into milliseconds
// and leaves one in milliseconds as it is.
func NormaliseEmittedAt(v float64) float64 {
	if v > 0 && v < secondsThreshold {
		return v * 1000
	}
	return v
}

func (m *Message) normalise() {
	switch {
	case m.Record != nil:
		m.Record.EmittedAt = int64(NormaliseEmittedAt(float64(m.Record.EmittedAt)))
	case m.Trace != nil:
		m.Trace.EmittedAt = NormaliseEmittedAt(m.Trace.EmittedAt)
	case m.Control != nil:
		m.Control.EmittedAt = NormaliseEmittedAt(m.Control.EmittedAt)
	}
}

// Encoder writes protocol messages, one per line.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder writing to w. Each Encode is one Write call.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes m as one line.
func (e *Encoder) Encode(m *Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	e.buf = append(append(e.buf[:0], b...), '\n')
	_, err = e.w.Write(e.buf)
	return err
}
