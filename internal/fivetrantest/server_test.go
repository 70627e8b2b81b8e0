package fivetrantest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func call(t *testing.T, s *Server, method, path string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(APIKey, APISecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestResyncOfAPausedConnectionRunsWhenResumed: Fivetran performs a resync
// asked for while the connection is paused once it is re-enabled.
func TestResyncOfAPausedConnectionRunsWhenResumed(t *testing.T) {
	s := Start(t)
	path := filepath.Join(t.TempDir(), "duckdb")
	id := s.AddConnection(Connection{GroupID: "g", Schema: "faker_data", ScheduleType: "manual", Paused: true,
		FakerConfig: map[string]any{"count": 5}, Streams: []string{"users", "products"}, Destination: fakersync.Destination{DuckDBPath: path}})
	if st := call(t, s, http.MethodPost, "/v1/connections/"+id+"/resync", map[string]any{"scope": map[string][]string{"faker_data": {"users"}}}); st != http.StatusOK {
		t.Fatalf("resync: %d", st)
	}
	if got := s.SyncState(id); got != "paused" {
		t.Fatalf("sync_state %q while paused", got)
	}
	if st := call(t, s, http.MethodPatch, "/v1/connections/"+id, map[string]any{"paused": false}); st != http.StatusOK {
		t.Fatalf("resume: %d", st)
	}
	for deadline := time.Now().Add(20 * time.Second); s.SyncState(id) == "syncing"; {
		if time.Now().After(deadline) {
			t.Fatal("the resync did not end")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	done := s.find(id).succeeded != nil
	s.mu.Unlock()
	if !done {
		t.Fatal("no sync ran when the paused connection was resumed")
	}
}
