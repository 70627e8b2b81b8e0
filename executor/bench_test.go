package executor_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
)

var (
	fakerConfig  = json.RawMessage(`{"count":1000000,"seed":1}`)
	usersCatalog = json.RawMessage(`{"streams":[{"stream":{"name":"users","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)
)

// BenchmarkRunFakerUsers reads the faker's 1,000,000 users through each
// executor and reports records per second (the issue asks for at least
// 600k/s locally and 250k/s in Docker).
func BenchmarkRunFakerUsers(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		bin := testenv.BuildBinary(b, "./cmd/source-faker")
		l := build[executor.Executor](b, "source-faker", executor.Method{Kind: executor.KindLocal, Path: bin}, executor.Runtime{LogDir: b.TempDir()})
		benchRead(b, l)
	})
	b.Run("inprocess", func(b *testing.B) {
		p := build[executor.Executor](b, "source-faker", executor.Method{Kind: executor.KindInProcess, Connector: faker.New()}, executor.Runtime{})
		benchRead(b, p)
	})
	b.Run("docker", func(b *testing.B) {
		cli := testenv.Docker(b)
		d := build[executor.Executor](b, "source-faker", executor.Method{Kind: executor.KindDocker, Image: testenv.FakerImage(b, cli), DockerClient: cli},
			executor.Runtime{LogDir: b.TempDir()})
		benchRead(b, d)
	})
}

func benchRead(b *testing.B, e executor.Executor) {
	var records int
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		n := 0
		for m, err := range e.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Config: fakerConfig, Catalog: usersCatalog}) {
			if err != nil {
				b.Fatal(err)
			}
			if m.Record != nil {
				n++
			}
		}
		if n != 1_000_000 {
			b.Fatalf("got %d records, want 1,000,000", n)
		}
		records += n
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
}
