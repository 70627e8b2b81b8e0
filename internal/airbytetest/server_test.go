package airbytetest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const duckDef = "94bd199c-2ff0-4aa2-b98e-17f0acb72610"

// call sends a request with the basic credentials and returns the status
// and the decoded answer.
func call(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(BasicUser, BasicPass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func newDuckDB(t *testing.T, s *Server, cfg map[string]any) string {
	t.Helper()
	status, out := call(t, s, http.MethodPost, "/destinations", map[string]any{"name": "w", "workspaceId": s.WorkspaceID, "definitionId": duckDef, "configuration": cfg})
	if status != http.StatusOK {
		t.Fatalf("create: %d %v", status, out)
	}
	return out["destinationId"].(string)
}

// TestPatchMergesAndPutReplaces: a PATCH's configuration is merged into
// the stored one, a PUT's replaces it; the mask keeps a secret in both;
// destinationType is never stored.
func TestPatchMergesAndPutReplaces(t *testing.T) {
	s := Start(t)
	id := newDuckDB(t, s, map[string]any{"destination_path": "/tmp/a.duckdb", "schema": "raw", "motherduck_api_key": "k1"})
	status, out := call(t, s, http.MethodPatch, "/destinations/"+id, map[string]any{"configuration": map[string]any{
		"destination_path": "/tmp/b.duckdb", "motherduck_api_key": "**********", "destinationType": "duckdb"}})
	if status != http.StatusOK {
		t.Fatalf("patch: %d %v", status, out)
	}
	got := s.StoredConfig(id)
	if got["destination_path"] != "/tmp/b.duckdb" || got["schema"] != "raw" || got["motherduck_api_key"] != "k1" || got["destinationType"] != nil {
		t.Fatalf("after the PATCH the destination holds %v", got)
	}
	status, out = call(t, s, http.MethodPut, "/destinations/"+id, map[string]any{"name": "w2", "configuration": map[string]any{
		"destination_path": "/tmp/c.duckdb", "motherduck_api_key": "**********", "destinationType": "duckdb"}})
	if status != http.StatusOK || out["name"] != "w2" {
		t.Fatalf("put: %d %v", status, out)
	}
	got = s.StoredConfig(id)
	if got["destination_path"] != "/tmp/c.duckdb" || got["schema"] != nil || got["motherduck_api_key"] != "k1" || got["destinationType"] != nil {
		t.Fatalf("after the PUT the destination holds %v", got)
	}
}

// TestConfigsTheSpecRefuses: a create, PATCH or PUT whose result breaks
// the spec is answered 422 and changes nothing; a create may name its
// definition by destinationType.
func TestConfigsTheSpecRefuses(t *testing.T) {
	s := Start(t)
	status, out := call(t, s, http.MethodPost, "/destinations", map[string]any{"name": "w", "workspaceId": s.WorkspaceID, "configuration": map[string]any{"destinationType": "duckdb", "schema": "raw"}})
	if detail, _ := out["detail"].(string); status != http.StatusUnprocessableEntity || !strings.Contains(detail, "$.destination_path: is required") {
		t.Fatalf("create without destination_path: %d %v", status, out)
	}
	status, out = call(t, s, http.MethodPost, "/destinations", map[string]any{"name": "w", "workspaceId": s.WorkspaceID, "configuration": map[string]any{"destinationType": "duckdb", "destination_path": "/tmp/a.duckdb"}})
	if status != http.StatusOK || out["definitionId"] != duckDef {
		t.Fatalf("create by destinationType: %d %v", status, out)
	}
	id := out["destinationId"].(string)
	if got := s.StoredConfig(id); got["destinationType"] != nil {
		t.Fatalf("the destination stores %v", got)
	}
	status, out = call(t, s, http.MethodPatch, "/destinations/"+id, map[string]any{"name": "renamed", "configuration": map[string]any{"schema": 5}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("patch with a number for a string: %d %v", status, out)
	}
	status, out = call(t, s, http.MethodPut, "/destinations/"+id, map[string]any{"name": "renamed", "configuration": map[string]any{"schema": "raw"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("put without destination_path: %d %v", status, out)
	}
	_, out = call(t, s, http.MethodGet, "/destinations/"+id, nil)
	if got := s.StoredConfig(id); out["name"] != "w" || got["destination_path"] != "/tmp/a.duckdb" || got["schema"] != nil {
		t.Fatalf("refused updates changed the destination: %v, %v", out["name"], got)
	}
}

// TestConnectionOfAMissingSource: Airbyte answers a connection whose
// source or destination does not exist with 404.
func TestConnectionOfAMissingSource(t *testing.T) {
	s := Start(t)
	dst := newDuckDB(t, s, map[string]any{"destination_path": "/tmp/a.duckdb"})
	const gone = "00000000-0000-4000-8000-000000000000"
	status, out := call(t, s, http.MethodPost, "/connections", map[string]any{"sourceId": gone, "destinationId": dst})
	if msg, _ := out["message"].(string); status != http.StatusNotFound || !strings.Contains(msg, gone) {
		t.Fatalf("a connection of a missing source: %d %v", status, out)
	}
}
