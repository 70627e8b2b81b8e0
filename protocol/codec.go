package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/x/goairbyte/internal/jsonscan"
)

// defaultMaxLineSize is the longest line a Decoder accepts unless told
// otherwise: 256 MiB. Longer lines are skipped and reported as unparsed.
const defaultMaxLineSize = 256 << 20

// unparsedHead is how much of an over-long line the Decoder keeps for the
// caller's log.
const unparsedHead = 8 << 10

// Decoder reads protocol messages, one per line, from a connector's output.
// It tolerates everything real connectors do: lines that are not JSON or not
// protocol messages come back as a Message with Unparsed set and never end
// the stream; unknown fields are ignored; emitted_at in seconds is
// normalised to milliseconds; "\r\n" line ends and a last line without a
// newline are fine.
//
// RECORD lines take a fast path that does not use encoding/json. To save
// allocations the Decoder carves the Data of small records out of shared
// 64 KiB blocks and hands out Message values from shared slabs; everything
// it returns stays valid after the next Decode, but keeping one record
// alive keeps its block alive. Clone Data if you keep a few records for long.
type Decoder struct {
	r       *bufio.Reader
	max     int
	line    []byte
	lines   int64
	pending []byte
	p       parser
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{
		r:   bufio.NewReaderSize(r, 1<<20),
		max: defaultMaxLineSize,
		p:   parser{pooled: true},
	}
}

// setMaxLineSize sets the longest line accepted (at least 64 MiB is
// recommended; real connectors emit large records). Longer lines come back
// as unparsed messages holding the line's first 8 KiB.
func (d *Decoder) setMaxLineSize(n int) { d.max = n }

// lastLine returns the raw bytes of the line behind the last message Decode
// returned, without the newline (only the head of an over-long line). It is
// only valid until the next call to Decode.
func (d *Decoder) lastLine() []byte { return d.line }

// Decode returns the next message. It returns io.EOF when the input ends.
// Blank lines are skipped. Any other error is an error of the reader.
func (d *Decoder) Decode() (*Message, error) {
	for {
		line, tooLong, err := d.readLine()
		if err != nil {
			d.line = nil
			return nil, err
		}
		d.lines++
		line = bytes.TrimSpace(line)
		d.line = line
		if tooLong {
			return d.tooLong(line), nil
		}
		if len(line) == 0 {
			continue
		}
		m := d.p.parse(line)
		if m.Malformed != nil {
			m.Malformed.Line = d.lines
		}
		return m, nil
	}
}

// tooLong is the message of a line over the limit, given its head: unparsed,
// and malformed when the head says it is a RECORD or a STATE, so that a
// reader counts a lost record rather than taking it for chatter.
func (d *Decoder) tooLong(head []byte) *Message {
	m := &Message{Unparsed: bytes.Clone(head)}
	if t := claimedType(head); t != "" {
		m.Malformed = &MalformedLine{Type: t, Stream: claimedStream(head), Line: d.lines,
			Err: fmt.Errorf("the line is longer than %s, the longest a message may be", sizeText(d.max))}
	}
	return m
}

// sizeText says n bytes in MiB when it is a whole number of them.
func sizeText(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readLine returns the next line, without its newline. A line longer than
// the limit is drained and only its head returned, with tooLong set.
func (d *Decoder) readLine() (line []byte, tooLong bool, err error) {
	if cap(d.pending) > 4<<20 {
		d.pending = nil // do not hold on to the buffer of a huge line
	}
	d.pending = d.pending[:0]
	size := 0
	for {
		frag, err := d.r.ReadSlice('\n')
		switch {
		case err == nil || err == io.EOF:
			if err == io.EOF && len(frag) == 0 && size == 0 {
				return nil, false, io.EOF
			}
			if err == nil {
				frag = frag[:len(frag)-1]
			}
			size += len(frag)
			if size > d.max {
				return d.keepHead(frag), true, nil
			}
			if len(d.pending) == 0 {
				return frag, false, nil // the common case: no copy
			}
			return append(d.pending, frag...), false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			size += len(frag)
			if size > d.max {
				d.pending = d.keepHead(frag)
				continue
			}
			d.pending = append(d.pending, frag...)
		default:
			return nil, false, err
		}
	}
}

// keepHead adds what is still missing of the first unparsedHead bytes of an
// over-long line.
func (d *Decoder) keepHead(frag []byte) []byte {
	if n := unparsedHead - len(d.pending); n > 0 {
		d.pending = append(d.pending, frag[:min(n, len(frag))]...)
	}
	if len(d.pending) > unparsedHead {
		d.pending = d.pending[:unparsedHead]
	}
	return d.pending
}

// ParseMessage parses one line. It never fails: a line that is not a
// protocol message is returned with Unparsed set to a copy of it. The
// returned message shares no memory with line.
func ParseMessage(line []byte) *Message {
	var p parser
	return p.parse(line)
}

// parser holds the allocation state of a Decoder. The zero value allocates
// every message on its own, as ParseMessage needs.
type parser struct {
	pooled bool
	boxes  []recordBox
	block  []byte
	names  map[string]string
	fr     fastRecord
}

// recordBox puts a RECORD message and its record in one allocation.
type recordBox struct {
	m Message
	r Record
}

const (
	boxSlab      = 128
	dataBlock    = 64 << 10
	maxBlockData = 4 << 10
	maxNames     = 4096
)

func (p *parser) parse(line []byte) *Message {
	p.fr = fastRecord{}
	if scanRecordLine(line, &p.fr) {
		if m := p.record(&p.fr); m != nil {
			if p.fr.extra {
				m.Raw = bytes.Clone(line)
			}
			return m
		}
	}
	return parseSlow(line)
}

// record builds the message from a successful scan; nil sends the line to
// the slow path.
func (p *parser) record(fr *fastRecord) *Message {
	stream, ok := fastString(fr.stream, fr.streamEsc, p.intern)
	if !ok {
		return nil
	}
	ns, ok := fastString(fr.namespace, fr.nsEsc, p.intern)
	if !ok {
		return nil
	}
	var box *recordBox
	if p.pooled {
		if len(p.boxes) == 0 {
			p.boxes = make([]recordBox, boxSlab)
		}
		box, p.boxes = &p.boxes[0], p.boxes[1:]
	} else {
		box = new(recordBox)
	}
	r := &box.r
	r.Stream, r.Namespace, r.EmittedAt = stream, ns, fr.emittedAt
	if fr.meta != nil {
		if err := json.Unmarshal(fr.meta, &r.Meta); err != nil {
			return nil
		}
	}
	if fr.fileRef != nil {
		if err := json.Unmarshal(fr.fileRef, &r.FileReference); err != nil {
			return nil
		}
	}
	r.Data = p.copyData(fr.data)
	box.m.Type, box.m.Record = TypeRecord, r
	return &box.m
}

// copyData copies record data, small records into a shared block. The full
// slice expression keeps an append by the caller from running into the next
// record.
func (p *parser) copyData(data []byte) json.RawMessage {
	n := len(data)
	if !p.pooled || n > maxBlockData {
		return bytes.Clone(data)
	}
	if cap(p.block)-len(p.block) < n {
		p.block = make([]byte, 0, dataBlock)
	}
	start := len(p.block)
	p.block = append(p.block, data...)
	return p.block[start : start+n : start+n]
}

// intern returns stream and namespace names as shared strings: a sync has
// few of them, and a map lookup keyed by string(b) does not allocate.
func (p *parser) intern(b []byte) string {
	if !p.pooled {
		return string(b)
	}
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if p.names == nil {
		p.names = make(map[string]string)
	}
	if len(p.names) < maxNames {
		p.names[s] = s
	}
	return s
}

// parseSlow parses any message with encoding/json.
func parseSlow(line []byte) *Message {
	m := new(Message)
	err := json.Unmarshal(line, m)
	if err != nil || !m.Type.known() || !m.payloadPresent() {
		u := &Message{Unparsed: bytes.Clone(line)}
		if t := claimedType(line); t != "" {
			if err == nil {
				err = fmt.Errorf("the %s message has no valid %s", t, strings.ToLower(string(t)))
			}
			u.Malformed = &MalformedLine{Type: t, Stream: claimedStream(line), Err: err}
		}
		return u
	}
	m.normalise()
	if hasUnknownKeys(line) {
		m.Raw = bytes.Clone(line)
	}
	return m
}

// hasUnknownKeys reports whether a message line has top-level keys (or
// record keys) this package does not model, which a destination may rely
// on. It scans the keys without decoding anything; a line it cannot scan
// (escaped keys, say) counts as having some, which only keeps its bytes.
func hasUnknownKeys(line []byte) bool {
	unknown, ok := objectKeys(line, jsonscan.SkipWS(line, 0), messageKeys, func(key []byte, v int) bool {
		if string(key) != "record" || v >= len(line) || line[v] != '{' {
			return false
		}
		u, ok := objectKeys(line, v, recordKeys, nil)
		return u || !ok
	})
	return unknown || !ok
}

// objectKeys walks the keys of the object at b[i] ('{'): it reports whether
// one is not in known, or inner says so of a known key's value (given its
// index); ok is false when the object cannot be scanned.
func objectKeys(b []byte, i int, known []string, inner func(key []byte, v int) bool) (unknown, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return false, false
	}
	i = jsonscan.SkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return false, true
	}
	for {
		key, v, ok := jsonscan.ScanKey(b, i)
		if !ok {
			return false, false
		}
		if !slices.Contains(known, string(key)) || (inner != nil && inner(key, v)) {
			return true, true
		}
		if i = jsonscan.SkipValue(b, v, 1); i < 0 {
			return false, false
		}
		next, done, ok := jsonscan.AfterMember(b, i)
		if !ok {
			return false, false
		}
		if done {
			return false, true
		}
		i = next
	}
}

// claimedType is RECORD or STATE when line is a JSON object whose "type"
// says so (in any key position), "" otherwise: what separates a broken
// protocol message from a connector's plain chatter.
func claimedType(line []byte) Type {
	if len(line) == 0 || line[0] != '{' {
		return ""
	}
	for _, t := range []Type{TypeRecord, TypeState} {
		for _, sep := range claimSeps {
			if bytes.Contains(line, []byte(`"type"`+sep+`"`+string(t)+`"`)) {
				return t
			}
		}
	}
	return ""
}

var claimSeps = []string{":", ": ", " : ", " :"}

// claimedStream is the first "stream" or "name" string value in a line
// that does not parse, for messages about it.
func claimedStream(line []byte) string {
	for _, key := range []string{`"stream":"`, `"stream": "`, `"name":"`, `"name": "`} {
		if i := bytes.Index(line, []byte(key)); i >= 0 {
			rest := line[i+len(key):]
			if j := bytes.IndexByte(rest, '"'); j > 0 && j <= 256 {
				return string(rest[:j])
			}
		}
	}
	return ""
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

// normaliseEmittedAt turns an epoch timestamp in seconds into milliseconds
// and leaves one in milliseconds as it is.
func normaliseEmittedAt(v float64) float64 {
	if v > 0 && v < secondsThreshold {
		return v * 1000
	}
	return v
}

// emittedAtMillis reads a record's emitted_at, a JSON number that real
// connectors write as integer milliseconds, fractional milliseconds or
// (fractional) seconds, as integer milliseconds. Values outside int64 become
// 0 (unknown) rather than costing the record. Both decoding paths use it.
func emittedAtMillis(num []byte) (int64, error) {
	if len(num) <= 18 {
		// Plain integers, the common case, without strconv or allocation.
		var v int64
		neg, digits := false, num
		if len(digits) > 0 && digits[0] == '-' {
			neg, digits = true, digits[1:]
		}
		plain := len(digits) > 0
		for _, c := range digits {
			if !jsonscan.IsDigit(c) {
				plain = false
				break
			}
			v = v*10 + int64(c-'0')
		}
		if plain {
			if neg {
				return -v, nil
			}
			if v > 0 && v < secondsThreshold {
				v *= 1000
			}
			return v, nil
		}
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, nil
		}
		return 0, fmt.Errorf("emitted_at %q is not a number", num)
	}
	f = normaliseEmittedAt(f)
	if f != f || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, nil
	}
	return int64(f), nil
}

// UnmarshalJSON decodes a record like encoding/json would, but accepts
// emitted_at as any JSON number (fractional, or in seconds) and normalises
// it to integer milliseconds, and replaces invalid UTF-8 in Data with
// U+FFFD so that the raw data is safe to load into a database.
func (r *Record) UnmarshalJSON(b []byte) error {
	type plain Record // drops this method, keeps the fields
	var aux struct {
		*plain
		EmittedAt json.Number `json:"emitted_at"`
	}
	aux.plain = (*plain)(r)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.EmittedAt = 0
	if aux.EmittedAt != "" {
		ms, err := emittedAtMillis([]byte(aux.EmittedAt))
		if err != nil {
			return err
		}
		r.EmittedAt = ms
	}
	if !utf8.Valid(r.Data) {
		r.Data = bytes.ToValidUTF8(r.Data, []byte("\uFFFD"))
	}
	return nil
}

// normalise applies the protocol's tolerances after a slow-path decode.
// Records normalise emitted_at in Record.UnmarshalJSON.
func (m *Message) normalise() {
	switch {
	case m.Trace != nil:
		m.Trace.EmittedAt = normaliseEmittedAt(m.Trace.EmittedAt)
	case m.Control != nil:
		m.Control.EmittedAt = normaliseEmittedAt(m.Control.EmittedAt)
	}
}
