package secrets

import (
	"fmt"
	"math/rand/v2"
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

// benchToken is the i-th access token of a run: a JWT of the size Airbyte
// issues (about 1 KB), distinct from every other.
func benchToken(i int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	r := rand.New(rand.NewPCG(uint64(i), 7))
	b := []byte(fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.%06d.", i))
	for len(b) < 1001 {
		b = append(b, alphabet[r.IntN(len(alphabet))])
	}
	return string(b)
}

// tokensPerDay is how many tokens a client renewing every 2.5 minutes
// (three-minute tokens, renewed 30 s early) fetches in a day.
const tokensPerDay = 24 * 60 * 2 / 5

// newBenchMasker is a masker holding 20 configured secrets.
func newBenchMasker() *masker {
	m := &masker{values: map[string]struct{}{}}
	for i := range 20 {
		m.register([]string{fmt.Sprintf("bench-secret-%02d-%s", i, strings.Repeat("x", i))})
	}
	return m
}

// BenchmarkTokenRenewal is the cost of one token renewal, and of masking a
// line, in a process that has renewed its access token for a day.
func BenchmarkTokenRenewal(b *testing.B) {
	b.Run("permanent", func(b *testing.B) {
		m := newBenchMasker()
		for i := range tokensPerDay {
			m.register([]string{benchToken(i)})
		}
		b.Run("renew", func(b *testing.B) {
			i := tokensPerDay
			for b.Loop() {
				tok := benchToken(i)
				m.register([]string{tok})
				b.StopTimer() // keep the set at a day's size
				for _, f := range encodedForms(tok) {
					delete(m.values, f)
				}
				b.StartTimer()
			}
		})
		b.Run("mask", func(b *testing.B) {
			st := m.state.Load()
			for b.Loop() {
				st.mask(benchLine)
			}
			b.ReportMetric(float64(len(st.values)), "entries")
		})
	})
	b.Run("leased", func(b *testing.B) {
		m := newBenchMasker()
		var held [2]func() // the current and the previous token, as airbyteapi keeps them
		renew := func(i int) {
			release := m.lease([]string{benchToken(i)})
			if held[1] != nil {
				held[1]()
			}
			held = [2]func(){release, held[0]}
		}
		for i := range tokensPerDay {
			renew(i)
		}
		b.Run("renew", func(b *testing.B) {
			i := tokensPerDay
			for b.Loop() {
				renew(i)
				i++
			}
		})
		b.Run("mask", func(b *testing.B) {
			st := m.state.Load()
			for b.Loop() {
				st.mask(benchLine)
			}
			b.ReportMetric(float64(len(st.values)), "entries")
		})
	})
}
