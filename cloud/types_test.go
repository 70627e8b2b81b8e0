package cloud

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	"github.com/x/goairbyte/airbyteapi"
	api "github.com/x/goairbyte/internal/airbyteapi"
)

// jobServer answers for job 7 of connection c1 with every field of the
// job and of its failure set, as a server that reports them all would.
func jobServer(t *testing.T, status string) *SyncResult {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/public/v1/jobs/7", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jobId": 7, "status": "` + status + `", "jobType": "sync", "startTime": "2026-12-06T10:00:00Z",
			"connectionId": "c1", "lastUpdatedAt": "2026-12-06T10:08:06Z", "duration": "PT8M6S",
			"bytesSynced": 4096, "rowsSynced": 12}`))
	})
	mux.HandleFunc("POST /api/v1/jobs/get_without_logs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"job": {"id": 7}, "attempts": [
			{"attempt": {"id": 0, "status": "failed", "failureSummary": {"failures": [{"failureOrigin": "replication", "failureType": "transient_error", "externalMessage": "first try lost"}]}}},
			{"attempt": {"id": 1, "status": "failed", "failureSummary": {"failures": [{"failureOrigin": "source",
				"failureType": "config_error", "externalMessage": "bad key", "internalMessage": "KeyError: 'api_key'",
				"streamDescriptor": {"name": "users"}}]}}}]}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client, err := airbyteapi.New(srv.URL+"/api/public/v1", airbyteapi.WithBearerToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	conn := &Connection{w: NewWorkspace(client, "ws"), info: api.Connection{ID: "c1"}}
	return &SyncResult{conn: conn, JobID: 7}
}

// allSet fails the test when a field of v is zero: the comparison that
// follows could not see that field lost.
func allSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("%T.%s is not set in the test's values", v, rv.Type().Field(i).Name)
		}
	}
}

// Wait's Job is the job as the server reported it, every field copied
// into this package's type.
func TestWaitReturnsEveryFieldOfTheJob(t *testing.T) {
	res := jobServer(t, "succeeded")
	job, err := res.Wait(context.Background(), fast)
	if err != nil {
		t.Fatal(err)
	}
	want := Job{ID: 7, Status: JobSucceeded, JobType: JobTypeSync, StartTime: "2026-12-06T10:00:00Z", ConnectionID: "c1",
		LastUpdatedAt: "2026-12-06T10:08:06Z", Duration: "PT8M6S", BytesSynced: 4096, RowsSynced: 12}
	allSet(t, want)
	if *job != want {
		t.Fatalf("Wait's job\n %+v, want\n %+v", *job, want)
	}
}

// A SyncError carries the job's status and every field of its last
// attempt's failures.
func TestSyncErrorCarriesEveryFieldOfTheFailures(t *testing.T) {
	res := jobServer(t, "failed")
	job, err := res.Wait(context.Background(), fast)
	var se *SyncError
	if !errors.As(err, &se) || !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("err = %v, want a failed *SyncError", err)
	}
	if job == nil || job.Status != JobFailed || job.BytesSynced != 4096 {
		t.Fatalf("Wait's job with the error: %+v", job)
	}
	wantF := Failure{Origin: "source", Type: "config_error", Message: "bad key", Internal: "KeyError: 'api_key'", Stream: "users"}
	allSet(t, wantF)
	if se.JobID != 7 || se.ConnectionID != "c1" || se.Status != JobFailed || se.Attempts != 2 ||
		!slices.Equal(se.Failures, []Failure{wantF}) {
		t.Fatalf("SyncError of job %d of %s %s after %d attempts with %+v; want job 7 of c1 failed after 2 attempts with %+v",
			se.JobID, se.ConnectionID, se.Status, se.Attempts, se.Failures, wantF)
	}
}

// Only succeeded, failed and cancelled are terminal, and cloud's statuses
// are the client's, whose rule Terminal asks.
func TestJobStatusTerminal(t *testing.T) {
	for s, want := range map[JobStatus]bool{JobPending: false, JobQueued: false, JobRunning: false, JobIncomplete: false,
		JobSucceeded: true, JobFailed: true, JobCancelled: true, "paused": false} {
		if got := s.Terminal(); got != want {
			t.Errorf("%s.Terminal() = %v, want %v", s, got, want)
		}
	}
	for s, a := range map[JobStatus]api.JobStatus{JobPending: api.JobPending, JobQueued: api.JobQueued, JobRunning: api.JobRunning,
		JobIncomplete: api.JobIncomplete, JobSucceeded: api.JobSucceeded, JobFailed: api.JobFailed, JobCancelled: api.JobCancelled} {
		if string(s) != string(a) {
			t.Errorf("cloud's %q is the client's %q", s, a)
		}
	}
}
