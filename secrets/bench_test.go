package secrets

import (
	"fmt"
	"strings"
	"testing"
)

// A ~280-byte RECORD line, the size the read path handles.
var benchLine = `{"type":"RECORD","record":{"stream":"users","data":{"id":1234,"name":"Jane Doe","email":"jane.doe@example.com","address":{"street":"1 Main St","city":"Springfield","zip":"12345"},"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z"},"emitted_at":1704164645000}}`

func BenchmarkMask(b *testing.B) {
	for i := range 20 {
		Register(fmt.Sprintf("bench-secret-%02d-%s", i, strings.Repeat("x", i)))
	}
	b.Run("no-match", func(b *testing.B) {
		b.SetBytes(int64(len(benchLine)))
		for b.Loop() {
			Mask(benchLine)
		}
	})
	withSecret := strings.Replace(benchLine, "Jane Doe", "bench-secret-07-xxxxxxx", 1)
	b.Run("one-match", func(b *testing.B) {
		b.SetBytes(int64(len(withSecret)))
		for b.Loop() {
			Mask(withSecret)
		}
	})
	b.Run("bytes-no-match", func(b *testing.B) {
		line := []byte(benchLine)
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			maskBytes(line)
		}
	})
}
