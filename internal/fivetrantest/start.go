package fivetrantest

import (
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// Start starts a server for the test t, with the faker built from this
// module, and closes it when t ends. API violations fail t.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New(t, testenv.BuildBinary(t, "./cmd/source-faker"))
	if err != nil {
		t.Fatalf("fivetrantest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}
