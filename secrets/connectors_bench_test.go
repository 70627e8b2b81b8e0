package secrets_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/masklease"
	"github.com/x/goairbyte/secrets"
)

// benchRecordLine is a ~280-byte RECORD line, the size the read path
// handles, holding no secret.
const benchRecordLine = `{"type":"RECORD","record":{"stream":"users","data":{"id":1234,"name":"Jane Doe","email":"jane.doe@example.com","address":{"street":"1 Main St","city":"Springfield","zip":"12345"},"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z"},"emitted_at":1704164645000}}`

// BenchmarkAfterDroppedConnectors is the cost of masking a line and of
// masking a new config's secret (held, then released: what each new
// Connector's run costs) in a process that has made, used and dropped
// 4,000 Connectors, each with a secret of its own: a server's months of
// tenants and jobs.
func BenchmarkAfterDroppedConnectors(b *testing.B) {
	env := offlineEnv()
	for i := range 4000 {
		if _, err := checkedDest(b, env, fmt.Sprintf("good-bench-dropped-%04d-%s", i, strings.Repeat("s", 24))); err != nil {
			b.Fatal(err)
		}
	}
	settleForms(0)
	b.Logf("masked forms after 4,000 dropped Connectors: %d", secrets.MaskedForms())
	b.Run("mask", func(b *testing.B) {
		b.SetBytes(int64(len(benchRecordLine)))
		for b.Loop() {
			secrets.Mask(benchRecordLine)
		}
	})
	b.Run("hold-new-secret", func(b *testing.B) {
		i := 0
		for b.Loop() {
			masklease.Hold(fmt.Sprintf("good-bench-new-%06d-%s", i, strings.Repeat("n", 24)))()
			i++
		}
	})
	runtime.KeepAlive(env)
}
