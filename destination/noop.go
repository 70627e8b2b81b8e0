package destination

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"iter"

	"github.com/x/goairbyte/protocol"
)

// noopWrite is the no-op destination's write command: it reads every line,
// discards the records and echoes each STATE with the count of records
// since the previous one.
func noopWrite(in io.Reader) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		br := bufio.NewReaderSize(in, 1<<20)
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
						if !yield(m, nil) {
							return
						}
					}
				}
			}
			// A line longer than the buffer comes in several fragments;
			// only its first one is looked at.
			start = !errors.Is(err, bufio.ErrBufferFull)
			if err != nil && start {
				if !errors.Is(err, io.EOF) {
					yield(nil, err)
				}
				return
			}
		}
	}
}
