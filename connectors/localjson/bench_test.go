package localjson_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// BenchmarkWrite measures write in process: ~300-byte RECORD lines from
// memory, a state every 1000 records, into an append stream.
func BenchmarkWrite(b *testing.B) {
	const records, stateEvery = 100_000, 1000
	var in bytes.Buffer
	for i := 1; i <= records; i++ {
		fmt.Fprintf(&in, `{"type":"RECORD","record":{"stream":"users","data":{"id":%d,"created_at":"2004-10-28T02:16:07+00:00","updated_at":"2026-11-21T14:01:44+00:00","name":"Rudolf","title":"M.Des","age":66,"email":"wisconsin1930+%d@yandex.com","telephone":"(483) 676-2851","gender":"Fluid","language":"Arabic","address":{"city":"Wooster","state":"Wisconsin","postal_code":"24467"}},"emitted_at":1795269704637}}`+"\n", i, i)
		if i%stateEvery == 0 {
			in.WriteString(stateMsg("users", i))
		}
	}
	tmp := b.TempDir()
	cfg := configFile(b, tmp, filepath.Join(tmp, "dest"))
	cat := catalogFile(b, tmp, configured("users", protocol.DestinationAppend))
	b.SetBytes(int64(in.Len()))
	b.ResetTimer()
	for b.Loop() {
		var errb bytes.Buffer
		if code := kit.Run(context.Background(), localjson.New(), []string{"write", "--config", cfg, "--catalog", cat}, bytes.NewReader(in.Bytes()), io.Discard, &errb); code != 0 {
			b.Fatalf("write: %d %s", code, errb.String())
		}
	}
	b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPipeFromFaker measures the end-to-end pipe of two processes:
// the faker's read of 200,000 users into write (append).
func BenchmarkPipeFromFaker(b *testing.B) {
	if fakerBuildErr != nil {
		b.Fatal(fakerBuildErr)
	}
	const count = 200_000
	tmp := b.TempDir()
	fakerCfg := writeJSON(b, tmp, "faker.json", fmt.Sprintf(`{"count":%d,"seed":1,"records_per_slice":1000}`, count))
	cat := catalogFile(b, tmp, configured("users", protocol.DestinationAppend, []string{"id"}))
	destCfg := configFile(b, tmp, filepath.Join(tmp, "dest"))
	for b.Loop() {
		src := exec.Command(fakerBin, "read", "--config", fakerCfg, "--catalog", cat)
		dst := exec.Command(destBin, "write", "--config", destCfg, "--catalog", cat)
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		src.Stdout, dst.Stdin, dst.Stdout = w, r, io.Discard
		if err := dst.Start(); err != nil {
			b.Fatal(err)
		}
		if err := src.Start(); err != nil {
			b.Fatal(err)
		}
		r.Close()
		w.Close()
		if err := src.Wait(); err != nil {
			b.Fatal(err)
		}
		if err := dst.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(count*b.N)/b.Elapsed().Seconds(), "records/s")
}
