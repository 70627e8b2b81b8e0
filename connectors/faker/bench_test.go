package faker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// countingDiscard is io.Discard that counts bytes.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

const benchCount = 200_000

func benchConfig(p int) []byte {
	return fmt.Appendf(nil, `{"count":%d,"seed":1,"records_per_slice":1000,"always_updated":true,"parallelism":%d}`, benchCount, p)
}

// benchmarkRead runs whole reads of one stream as the source-faker binary
// does (kit.Run: command line, files, Serve's buffered encoder) into a
// discarding stdout, and reports records/s: the connector's own speed as a
// process, without the pipe.
func benchmarkRead(b *testing.B, stream string) {
	for _, p := range []int{1, 4} {
		b.Run(fmt.Sprintf("parallelism=%d", p), func(b *testing.B) {
			dir := b.TempDir()
			config, catalog := filepath.Join(dir, "config.json"), filepath.Join(dir, "catalog.json")
			cat, _ := json.Marshal(faker.ConfiguredCatalog(protocol.SyncFullRefresh, stream))
			if os.WriteFile(config, benchConfig(p), 0o600) != nil || os.WriteFile(catalog, cat, 0o600) != nil {
				b.Fatal("cannot write the files")
			}
			args := []string{"read", "--config", config, "--catalog", catalog}
			w := &countingDiscard{}
			for b.Loop() {
				var stderr bytes.Buffer
				if code := kit.Run(context.Background(), faker.New(), args, nil, w, &stderr); code != 0 {
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)*benchCount/sec, "records/s")
			b.ReportMetric(float64(w.n)/sec/1e6, "MB/s")
		})
	}
}

func BenchmarkReadUsers(b *testing.B)     { benchmarkRead(b, "users") }
func BenchmarkReadPurchases(b *testing.B) { benchmarkRead(b, "purchases") }

// benchmarkEmit runs whole reads of one stream in process: Connector.Read
// hands each message to emit, nothing is encoded. This is the speed an
// in-process runner gets before it does anything with the records.
func benchmarkEmit(b *testing.B, stream string) {
	for _, p := range []int{1, 4} {
		b.Run(fmt.Sprintf("parallelism=%d", p), func(b *testing.B) {
			config := benchConfig(p)
			cat := faker.ConfiguredCatalog(protocol.SyncFullRefresh, stream)
			var records, bytes int64
			emit := func(m *protocol.Message) error {
				if m.Record != nil {
					records++
					bytes += int64(len(m.Record.Data))
				}
				return nil
			}
			for b.Loop() {
				if err := faker.New().Read(context.Background(), config, cat, nil, emit); err != nil {
					b.Fatal(err)
				}
			}
			if records != int64(b.N)*benchCount {
				b.Fatalf("%d records in %d reads", records, b.N)
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(records)/sec, "records/s")
			b.ReportMetric(float64(bytes)/sec/1e6, "data-MB/s")
		})
	}
}

func BenchmarkEmitUsers(b *testing.B)     { benchmarkEmit(b, "users") }
func BenchmarkEmitPurchases(b *testing.B) { benchmarkEmit(b, "purchases") }
