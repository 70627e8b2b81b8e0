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
	ctx := context.Background()
	echoes := func(run func(emit func(*protocol.Message) error) error) []string {
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
	lines := echoes(func(emit func(*protocol.Message) error) error {
		return noop.Destination{}.WriteLines(ctx, nil, nil, strings.NewReader(input), emit)
	})
	decoded := echoes(func(emit func(*protocol.Message) error) error {
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
	if len(lines) != 2 || strings.Join(lines, "\n") != strings.Join(decoded, "\n") ||
		!strings.Contains(lines[0], `"recordCount":2`) || !strings.Contains(lines[1], `"recordCount":1`) {
		t.Fatalf("WriteLines echoed\n%v\nWrite echoed\n%v", lines, decoded)
	}
}
