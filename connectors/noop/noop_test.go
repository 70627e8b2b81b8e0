package noop_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/x/goairbyte/connectors/noop"
	"github.com/x/goairbyte/protocol"
)

const input = `{"type":"RECORD","record":{"stream":"users","data":{"id":1},"emitted_at":1}}
{"type":"RECORD","record":{"stream":"users","data":{"id":2},"emitted_at":1}}
not a protocol line
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"n":2}}}}
{"type":"RECORD","record":{"stream":"users","data":{"id":3},"emitted_at":1}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"n":3}}}}
`

// TestWriteLinesEqualsWrite: the raw-input path echoes the same states with
// the same counts as the decoded one.
func TestWriteLinesEqualsWrite(t *testing.T) {
	lines, decoded := echoes(t, input)
	if len(lines) != 2 || strings.Join(lines, "\n") != strings.Join(decoded, "\n") ||
		!strings.Contains(lines[0], `"recordCount":2`) || !strings.Contains(lines[1], `"recordCount":1`) {
		t.Fatalf("WriteLines echoed\n%v\nWrite echoed\n%v", lines, decoded)
	}
}

// TestWriteLinesOddLines: lines the raw path used to get wrong echo as
// Write echoes them — a last STATE with no newline, a STATE longer than the
// read buffer, a STATE whose payload mentions "type":"RECORD", a STATE whose
// "type" key comes last, and a record whose "type" key is not first.
func TestWriteLinesOddLines(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	rec := `{"type":"RECORD","record":{"stream":"users","data":{"id":1},"emitted_at":1}}` + "\n"
	for name, in := range map[string]string{
		"no final newline": rec + `{"type":"STATE","state":{"type":"LEGACY","data":{"n":1}}}`,
		"longer than the buffer": rec + rec + `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"big":"` +
			big + `"}}}}` + "\n" + rec,
		"payload mentions RECORD": rec + `{"type":"STATE","state":{"type":"LEGACY","data":{"last":{"type":"RECORD"}}}}` + "\n",
		"type key last":           rec + `{"state":{"type":"LEGACY","data":{"n":1}},"type":"STATE"}` + "\n",
		"record type not first":   `{"record":{"stream":"users","data":{"id":1},"emitted_at":1},"type":"RECORD"}` + "\n" + rec + `{"type":"STATE","state":{"type":"LEGACY","data":{"n":2}}}` + "\n",
		"a long record, then a state": `{"type":"RECORD","record":{"stream":"users","data":{"s":"` + big + `"},"emitted_at":1}}` + "\n" +
			`{"type":"STATE","state":{"type":"LEGACY","data":{"n":1}}}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			lines, decoded := echoes(t, in)
			if len(lines) != 1 || lines[0] != decoded[0] || len(decoded) != 1 {
				t.Fatalf("WriteLines echoed %d states, Write %d; first: %.200s / %.200s", len(lines), len(decoded), first(lines), first(decoded))
			}
		})
	}
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// echoes runs input through WriteLines and through Write on the decoded
// messages, and returns the states each echoed, as JSON.
func echoes(t *testing.T, input string) (lines, decoded []string) {
	t.Helper()
	ctx := context.Background()
	collect := func(run func(emit func(*protocol.Message) error) error) []string {
		var out []string
		if err := run(func(m *protocol.Message) error {
			b, _ := json.Marshal(m.State)
			out = append(out, string(b))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	lines = collect(func(emit func(*protocol.Message) error) error {
		return noop.Destination{}.WriteLines(ctx, nil, nil, strings.NewReader(input), emit)
	})
	decoded = collect(func(emit func(*protocol.Message) error) error {
		dec := protocol.NewDecoder(strings.NewReader(input))
		return noop.Destination{}.Write(ctx, nil, nil, func(yield func(*protocol.Message, error) bool) {
			for {
				m, err := dec.Decode()
				if err == io.EOF || !yield(m, err) {
					return
				}
			}
		}, emit)
	})
	return lines, decoded
}
