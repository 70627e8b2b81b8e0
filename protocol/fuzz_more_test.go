package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// FuzzEncodeRoundTrip checks that whatever parses as a protocol message
// encodes into one line that parses back into the same message.
func FuzzEncodeRoundTrip(f *testing.F) {
	for _, line := range agreementCorpus(f) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m := ParseMessage(line)
		if !m.isProtocol() {
			return
		}
		out, err := AppendMessage(nil, m)
		if err != nil {
			return // a non-finite number, invalid JSON in a blob, ...
		}
		if bytes.Count(out, []byte("\n")) != 1 || out[len(out)-1] != '\n' {
			t.Fatalf("%q encoded as %q: not one line", line, out)
		}
		back := ParseMessage(out)
		m.Raw, back.Raw = nil, nil
		// Milliseconds before 1973 read as seconds: emitted_at is
		// ambiguous there by design.
		if m.Record != nil && back.Record != nil && m.Record.EmittedAt > 0 && m.Record.EmittedAt < secondsThreshold {
			back.Record.EmittedAt = m.Record.EmittedAt
		}
		if m.Trace != nil && back.Trace != nil && m.Trace.EmittedAt > 0 && m.Trace.EmittedAt < secondsThreshold {
			back.Trace.EmittedAt = m.Trace.EmittedAt
		}
		if m.Control != nil && back.Control != nil && m.Control.EmittedAt > 0 && m.Control.EmittedAt < secondsThreshold {
			back.Control.EmittedAt = m.Control.EmittedAt
		}
		// A missing blob (nil) is written as null and reads back as the
		// bytes null: compare what the messages say, and below the bytes.
		if !reflect.DeepEqual(m, back) && dump(m) != dump(back) {
			t.Fatalf("%q encoded as %q, which parses as\n%s\nnot\n%s", line, out, dump(back), dump(m))
		}
		again, err := AppendMessage(nil, back)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("%q encoded as %q, then as %q (%v)", line, out, again, err)
		}
	})
}

// dump shows a message with its payload, not the payload's address.
func dump(m *Message) string {
	b, _ := json.Marshal(m)
	return fmt.Sprintf("%s (unparsed %q)", b, m.Unparsed)
}

// FuzzDecoder checks the Decoder against ParseMessage line by line, with
// every message kept until the end: the pooled records and shared data
// blocks of one line must not change what an earlier line decoded to, and
// over-long lines come back as their head, unparsed, malformed when the
// head claims a RECORD or STATE.
func FuzzDecoder(f *testing.F) {
	var all []string
	for _, l := range messageLines {
		all = append(all, l)
	}
	sort.Strings(all)
	f.Add([]byte(strings.Join(all, "\n")), uint8(0))
	f.Add([]byte("{\"type\":\"RECORD\",\"record\":{\"stream\":\"s\",\"data\":{\"a\":1},\"emitted_at\":1}}\r\n\n  \nnot json\n{\"type\":\"RECORD\",\"record\":{\"stream\":\"t\",\"data\":{},\"emitted_at\":2}}"), uint8(40))
	f.Fuzz(func(t *testing.T, input []byte, max uint8) {
		dec := NewDecoder(bytes.NewReader(input))
		if max > 0 {
			dec.setMaxLineSize(int(max))
		}
		var got []*Message
		for {
			m, err := dec.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		lines := bytes.Split(input, []byte("\n"))
		if len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		var want []*Message
		for i, l := range lines {
			switch {
			case max > 0 && len(l) > int(max):
				m := &Message{Unparsed: bytes.Clone(bytes.TrimSpace(l[:min(len(l), unparsedHead)]))}
				if t := claimedType(m.Unparsed); t != "" {
					m.Malformed = &MalformedLine{Type: t, Stream: claimedStream(m.Unparsed), Line: int64(i + 1),
						Err: fmt.Errorf("the line is longer than %d bytes, the longest a message may be", max)}
				}
				want = append(want, m)
			case len(bytes.TrimSpace(l)) > 0:
				m := ParseMessage(bytes.TrimSpace(l))
				if m.Malformed != nil {
					m.Malformed.Line = int64(i + 1)
				}
				want = append(want, m)
			}
		}
		if dec.lines != int64(len(lines)) {
			t.Fatalf("%q: the Decoder counted %d lines, not %d", input, dec.lines, len(lines))
		}
		if len(got) != len(want) {
			t.Fatalf("%q: the Decoder returned %d messages, not %d", input, len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("%q: message %d is\n%s\nnot\n%s", input, i, dump(got[i]), dump(want[i]))
			}
		}
	})
}
