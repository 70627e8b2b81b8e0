package declarative

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/protocol"
)

// TestSourcesShareConnections builds a Source per read, as the in-process
// source-declarative-manifest does per command, in a program that syncs
// all day. The Sources given no client share one pool: a Source dropped
// leaves no connection open beyond the pool's idle limit per host (2).
// With a transport of its own, each kept its idle connections open for 90
// seconds after its last request.
func TestSourcesShareConnections(t *testing.T) {
	items := &pagedItems{total: 4 * aheadPageSize}
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	srv := httptest.NewUnstartedServer(items)
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.Start()
	defer srv.Close()
	text := []byte(strings.ReplaceAll(string(aheadManifest), "https://api.example.com", srv.URL))
	for range 10 {
		src, err := New(text, withSleep(noSleep))
		if err != nil {
			t.Fatal(err)
		}
		cat, err := src.Discover(context.Background(), faultConfig)
		if err != nil {
			t.Fatal(err)
		}
		cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0], SyncMode: protocol.SyncFullRefresh}}}
		if err := src.Read(context.Background(), faultConfig, cc, nil, func(*protocol.Message) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	openConns := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(open)
	}
	// The pool closes a connection beyond its limit as it takes it back;
	// the server sees the close a moment later.
	deadline := time.Now().Add(5 * time.Second)
	for openConns() > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open after 10 Sources read and were dropped, want at most 2", openConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
