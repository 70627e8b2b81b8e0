package openapitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/shareddata"
)

// recorder is a testing.TB that keeps the errors instead of failing.
type recorder struct {
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) { r.errs = append(r.errs, format) }

func TestSpecsLoad(t *testing.T) {
	shareddata.Need(t, "remote-specs")
	for name, f := range map[string]func() (*Spec, error){
		"airbyte":  func() (*Spec, error) { return Airbyte("/api/public/v1") },
		"config":   func() (*Spec, error) { return AirbyteConfig("/api") },
		"fivetran": func() (*Spec, error) { return Fivetran("") },
	} {
		start := time.Now()
		if _, err := f(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s loaded in %v", name, time.Since(start))
	}
}

// TestMiddlewareCatchesViolations shows that a request or a response that
// breaks the description is reported, and a conforming one is not.
func TestMiddlewareCatchesViolations(t *testing.T) {
	shareddata.Need(t, "remote-specs")
	spec, err := Airbyte("/api/public/v1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, body, answer string
		status                           int
		wantErr                          bool
	}{
		{"good job", "GET", "/jobs/7", "", `{"jobId":7,"status":"running","jobType":"sync","startTime":"2026-01-01T00:00:00Z","connectionId":"c"}`, 200, false},
		{"response misses a required field", "GET", "/jobs/7", "", `{"jobId":7,"status":"running","jobType":"sync"}`, 200, true},
		{"response has an unknown status", "GET", "/jobs/7", "", `{"jobId":7,"status":"exploded","jobType":"sync","startTime":"x","connectionId":"c"}`, 200, true},
		{"request body misses jobType", "POST", "/jobs", `{"connectionId":"c"}`, `{}`, 200, true},
		{"undocumented status", "GET", "/jobs/7", "", `{}`, 418, true},
		{"unknown path", "GET", "/nothing", "", `{}`, 200, true},
	}
	for _, c := range cases {
		rec := &recorder{}
		h := spec.Middleware(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			w.Write([]byte(c.answer))
		}), nil)
		req := httptest.NewRequest(c.method, "/api/public/v1"+c.path, strings.NewReader(c.body))
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got := len(rec.errs) > 0; got != c.wantErr {
			t.Errorf("%s: violation reported = %v, want %v (%v)", c.name, got, c.wantErr, rec.errs)
		}
	}
}

// BenchmarkMiddleware is the cost of checking one request and its answer
// (a job, as Wait polls it) against Airbyte's description.
func BenchmarkMiddleware(b *testing.B) {
	spec, err := Airbyte("/api/public/v1")
	if err != nil {
		b.Fatal(err)
	}
	rec := &recorder{}
	h := spec.Middleware(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jobId":7,"status":"running","jobType":"sync","startTime":"2026-01-01T00:00:00Z","connectionId":"c"}`))
	}), nil)
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/public/v1/jobs/7", nil))
	}
	if len(rec.errs) > 0 {
		b.Fatal(rec.errs)
	}
}
