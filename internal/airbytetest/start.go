package airbytetest

import (
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// Start starts a server for the test t, with the faker built from this
// module, and closes it when t ends. API violations fail t.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	faker := testenv.BuildBinary(t, "./cmd/source-faker")
	s, err := New(t, faker, opts...)
	if err != nil {
		t.Fatalf("airbytetest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}
