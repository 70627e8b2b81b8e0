package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// A PostgreSQL server whose write-ahead log fills its disk crashes (PANIC:
// could not write to file "pg_wal/…") and restarts, and the load in
// flight sees only its connection end: the error said "write failed: …
// use of closed network connection" or "unexpected EOF", nothing of the
// server or what to do. Here the connection is cut by a proxy in front of
// the test's server, mid-COPY, as a crash cuts it: the error says that the
// connection to the server was lost and to run again, and the same Cache
// then loads the rest, nothing lost or doubled.
func TestConnectionLostMidLoad(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("the test server's DSN %q names no host to put a proxy in front of", dsn)
	}
	p := &cutProxy{server: u.Host}
	u.Host = p.listen(t)
	ctx := context.Background()
	c, err := openDSN(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cat := cachetest.Catalog(cachetest.Stream("users", `{"id":{"type":"integer"},"s":{"type":"string"}}`, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	// Batches of 1,000 records, each followed by its state: the cut comes
	// in the third batch's COPY.
	msgs := func(from int) func(yield func(*protocol.Message, error) bool) {
		return func(yield func(*protocol.Message, error) bool) {
			for i := from; i < 5000; i++ {
				if !yield(cachetest.Rec("users", fmt.Sprintf(`{"id":%d,"s":%q}`, i, strings.Repeat("x", 1000))), nil) {
					return
				}
				if (i+1)%1000 == 0 && !yield(cachetest.StreamState("users", fmt.Sprintf(`{"id":%d}`, i+1)), nil) {
					return
				}
			}
		}
	}
	p.cutAfter.Store(5 << 19) // bytes a connection sends before it is cut
	_, err = c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: cat, Messages: msgs(0), BatchSize: 1000})
	p.cutAfter.Store(0)
	if err == nil {
		t.Fatal("a load whose connection was cut succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "connection to the PostgreSQL server was lost") || !strings.Contains(msg, "run it again") {
		t.Fatalf("the error does not say the connection to the server was lost and to run again: %v", err)
	}
	st, err := c.State(ctx, cache.StateKey{Source: "s", Stream: "users"})
	if err != nil || st == nil {
		t.Fatalf("no state committed before the cut: %v", err)
	}
	var done struct{ ID int }
	if err := json.Unmarshal(st.Stream.StreamState, &done); err != nil || done.ID == 0 || done.ID >= 5000 {
		t.Fatalf("the state committed before the cut: %s, %v", st.Stream.StreamState, err)
	}
	// The same Cache, given the state, loads the rest.
	if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "s", Catalog: cat, Messages: msgs(done.ID), BatchSize: 1000}); err != nil {
		t.Fatalf("the load after the cut: %v", err)
	}
	cachetest.Equal(t, "rows and distinct ids", cachetest.Strings(t, c, `SELECT CAST(count(*) AS text) || ' ' || CAST(count(DISTINCT id) AS text) FROM users`), []string{"5000 5000"})
}

// cutProxy forwards connections to a PostgreSQL server, and cuts a
// connection once it has sent cutAfter bytes to the server (0: never).
type cutProxy struct {
	server   string
	cutAfter atomic.Int64
	wg       sync.WaitGroup
}

func (p *cutProxy) listen(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); p.wg.Wait() })
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", p.server)
			if err != nil {
				client.Close()
				continue
			}
			p.wg.Add(2)
			go func() {
				defer p.wg.Done()
				io.Copy(client, server)
				client.Close()
			}()
			go func() {
				defer p.wg.Done()
				var sent int64
				buf := make([]byte, 32<<10)
				for {
					n, err := client.Read(buf)
					if n > 0 {
						sent += int64(n)
						if cut := p.cutAfter.Load(); cut > 0 && sent > cut {
							break
						}
						if _, err := server.Write(buf[:n]); err != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				server.Close()
				client.Close()
			}()
		}
	}()
	return l.Addr().String()
}
