package protocol

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// FuzzParseMessage checks that parsing never panics, that whenever the fast
// path accepts a RECORD the line is valid JSON and both paths give the same
// message, and that whatever parses re-encodes into a valid protocol line.
func FuzzParseMessage(f *testing.F) {
	for _, line := range agreementCorpus(f) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := bytes.Clone(line)
		got, want := ParseMessage(line), parseSlow(line)
		if !bytes.Equal(line, orig) {
			t.Fatal("ParseMessage modified its input")
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("paths disagree on %q:\nParseMessage %+v\nencoding/json %+v", line, got, want)
		}
		var fr fastRecord
		var p parser
		if scanRecordLine(line, &fr) && p.record(&fr) != nil {
			if !json.Valid(line) {
				t.Fatalf("fast path accepted invalid JSON %q", line)
			}
			if got.Type != TypeRecord || !json.Valid(got.Record.Data) {
				t.Fatalf("fast path accepted %q, encoding/json made %+v", line, got)
			}
		}
		if got.isProtocol() {
			out, err := AppendMessage(nil, got)
			if err == nil && (!json.Valid(out) || !ParseMessage(out).isProtocol()) {
				t.Fatalf("%q re-encoded as %q", line, out)
			}
		}
		// The same bytes through a Decoder, split into lines, never fail.
		dec := NewDecoder(bytes.NewReader(line))
		for {
			if _, err := dec.Decode(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
	})
}
