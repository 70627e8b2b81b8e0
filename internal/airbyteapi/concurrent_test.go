package airbyteapi_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/airbytetest"
)

// One Client used by many goroutines while its token expires on the
// server: every call succeeds, and the token is renewed once for all of
// them, not once per goroutine that saw it refused.
func TestClientSharedWhileTheTokenRenews(t *testing.T) {
	srv := airbytetest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	var calls atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				if calls.Add(1) == 60 {
					srv.Clock.Advance(airbytetest.TokenLifetime + time.Second) // every goroutine's token expires
				}
				w, err := c.Workspace(ctx, srv.WorkspaceID)
				if err != nil {
					t.Error(err)
					return
				}
				if w.ID != srv.WorkspaceID {
					t.Errorf("workspace %q, want %q", w.ID, srv.WorkspaceID)
				}
			}
		})
	}
	wg.Wait()
	if n := srv.Calls("POST /applications/token"); n != 2 {
		t.Errorf("%d token requests, want 2: the first token and its one renewal", n)
	}
}
