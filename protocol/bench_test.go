package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"
)

// sampleRecordLines returns the RECORD lines of one stream of the sample
// read (users lines are ~660 bytes, purchases ~300).
func sampleRecordLines(tb testing.TB, stream string) [][]byte {
	tb.Helper()
	f, err := os.ReadFile("testdata/sample_count25_rps10.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(f))
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(`"stream": "`+stream+`"`)) && bytes.HasPrefix(sc.Bytes(), []byte(`{"type": "RECORD"`)) {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if len(lines) == 0 {
		tb.Fatalf("no %s records in the sample", stream)
	}
	return lines
}

// recordCorpus is 10,000 faker RECORD lines of one stream, as the Python
// faker writes them (with spaces).
func recordCorpus(tb testing.TB, stream string) []byte { return corpusOf(tb, stream, false) }

// corpusOf is recordCorpus, or with compact the same lines without spaces,
// as our faker writes them.
func corpusOf(tb testing.TB, stream string, compact bool) []byte {
	lines := sampleRecordLines(tb, stream)
	var buf bytes.Buffer
	for i := 0; i < 10000; i++ {
		if compact {
			if err := json.Compact(&buf, lines[i%len(lines)]); err != nil {
				tb.Fatal(err)
			}
		} else {
			buf.Write(lines[i%len(lines)])
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// BenchmarkDecodeRecords measures Decoder.Decode over faker RECORD lines
// from a bytes.Reader; one op is one record.
func BenchmarkDecodeRecords(b *testing.B) {
	for _, stream := range []string{"purchases", "users"} {
		b.Run(stream, func(b *testing.B) { benchmarkDecode(b, corpusOf(b, stream, false)) })
		b.Run(stream+"-compact", func(b *testing.B) { benchmarkDecode(b, corpusOf(b, stream, true)) })
	}
}

func benchmarkDecode(b *testing.B, corpus []byte) {
	b.SetBytes(int64(len(corpus) / 10000))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		dec := NewDecoder(bytes.NewReader(corpus))
		for n < b.N {
			m, err := dec.Decode()
			if err == io.EOF {
				break
			}
			if err != nil || m.Record == nil {
				b.Fatalf("decode: %v %+v", err, m)
			}
			n++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeRecordsEncodingJSON is the baseline: the same lines through
// encoding/json with data kept raw.
func BenchmarkDecodeRecordsEncodingJSON(b *testing.B) {
	corpus := recordCorpus(b, "purchases")
	b.SetBytes(int64(len(corpus) / 10000))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		sc := bufio.NewScanner(bytes.NewReader(corpus))
		for n < b.N && sc.Scan() {
			if m := parseSlow(sc.Bytes()); m.Record == nil {
				b.Fatal("not a record")
			}
			n++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
