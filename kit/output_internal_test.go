package kit

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// TestRecordEncoderIsAppendRecord keeps the fast record encoder honest:
// whatever the sequence of records, its bytes are protocol.AppendRecord's.
func TestRecordEncoderIsAppendRecord(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	streams := []string{"users", "users", "ünïcode", `quo"te`, "a\u2028b", ""}
	var e recordEncoder
	var got, want []byte
	size := int64(3)
	for i := range 20000 {
		rec := &protocol.Record{
			Stream:    streams[r.IntN(len(streams))],
			Data:      fmt.Appendf(nil, `{"id":%d}`, i),
			EmittedAt: []int64{1700000000000, 1700000000000, 1700000000001, 0, -5, 1 << 62}[r.IntN(6)],
		}
		switch r.IntN(20) {
		case 0:
			rec.Namespace = "ns"
		case 1:
			rec.Meta = &protocol.RecordMeta{Changes: []protocol.RecordMetaChange{{Field: "f", Change: protocol.ChangeNulled, Reason: protocol.ReasonSourceSerializationError}}}
		case 2:
			rec.FileReference = &protocol.FileReference{StagingFileURL: "s", FileSizeBytes: &size}
		case 3:
			rec.Data = nil
		}
		got = e.append(got[:0], rec)
		want = protocol.AppendRecord(want[:0], rec)
		if !bytes.Equal(got, want) {
			t.Fatalf("record %d: %+v\n got %s\nwant %s", i, rec, got, want)
		}
	}
}
