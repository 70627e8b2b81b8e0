package airbytetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// jobRec is a job and its attempts. Its status moves
// pending → [queued] → running → (incomplete → running)* → succeeded |
// failed | cancelled.
type jobRec struct {
	ID           int64
	ConnectionID string
	Type         string
	Status       string
	Created      time.Time
	Updated      time.Time
	Rows         int64
	Attempts     []*attemptRec
	cancel       context.CancelFunc
	cancelled    bool
}

type attemptRec struct {
	ID      int64
	Status  string // running, failed, succeeded
	Created time.Time
	Updated time.Time
	Ended   time.Time
	Rows    int64
	Failure *failure
}

type failure struct {
	Origin, Type, Message string
	At                    time.Time
}

func (j *jobRec) terminal() bool {
	return j.Status == "succeeded" || j.Status == "failed" || j.Status == "cancelled"
}

// json is the job as the API shows it, its times in layout.
func (j *jobRec) json(layout string) map[string]any {
	m := map[string]any{
		"jobId": j.ID, "status": j.Status, "jobType": j.Type, "connectionId": j.ConnectionID,
		"startTime": j.Created.Format(layout), "lastUpdatedAt": j.Updated.Format(layout),
	}
	if j.terminal() {
		d := j.Updated.Sub(j.Created).Round(time.Second)
		m["duration"] = fmt.Sprintf("PT%dS", int(d.Seconds()))
		m["rowsSynced"] = j.Rows
	}
	return m
}

// HoldJobs keeps new jobs queued (the workers are busy) until ReleaseJobs.
func (s *Server) HoldJobs() {
	s.mu.Lock()
	s.holdJobs = true
	s.mu.Unlock()
}

// ReleaseJobs lets the queued jobs run.
func (s *Server) ReleaseJobs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holdJobs {
		s.holdJobs = false
		close(s.release)
		s.release = make(chan struct{})
	}
}

// FailAttempts makes the next n attempts of a connection's syncs fail as a
// lost worker does (the connector is stopped mid-run): a transient failure,
// which Airbyte retries.
func (s *Server) FailAttempts(connectionID string, n int) {
	s.mu.Lock()
	s.failNext[connectionID] += n
	s.mu.Unlock()
}

// StartSync starts a sync as the scheduler or the UI would, not through the
// API, and returns its job id.
func (s *Server) StartSync(connectionID string) (int64, error) {
	return s.StartJob(connectionID, "sync")
}

// StartJob starts a job of a type (sync, reset, refresh or clear) as the
// scheduler or the UI would, not through the API, which refuses refreshes,
// and returns its job id.
func (s *Server) StartJob(connectionID, jobType string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.startJob(connectionID, jobType)
	if err != nil {
		return 0, err
	}
	return j.ID, nil
}

var errBusy = errors.New("a sync or reset is already running for this connection")

// errInactive is Airbyte's refusal to sync a connection that is not
// active: SchedulerHandler's submitManualSyncToWorker throws
// IllegalStateException("Can only sync an active connection"), which the
// public API's ConfigClientErrorHandler answers as a 409 state conflict
// whose message is only "Could not fulfill request" (airbyte-platform,
// airbyte-commons-server SchedulerHandler.java and airbyte-server
// publicapi/errorHandlers/ConfigClientErrorHandler.kt). Resets and clears
// of an inactive connection are not refused.
var errInactive = errors.New("Could not fulfill request")

// startJob creates a job and its worker; s.mu is held.
func (s *Server) startJob(connectionID, typ string) (*jobRec, error) {
	c := s.findConn(connectionID)
	if c == nil {
		return nil, fmt.Errorf("no connection %s", connectionID)
	}
	if typ == "sync" && c.Status != "active" {
		return nil, errInactive
	}
	for _, j := range s.jobs {
		if j.ConnectionID == connectionID && !j.terminal() {
			return nil, errBusy
		}
	}
	now := s.Clock.Now()
	j := &jobRec{ID: int64(len(s.jobs) + 1), ConnectionID: connectionID, Type: typ, Status: "pending", Created: now, Updated: now}
	ctx, cancel := context.WithCancel(s.ctx)
	j.cancel = cancel
	s.jobs = append(s.jobs, j)
	s.wg.Add(1)
	go s.work(ctx, j, s.holdJobs, s.release)
	return j, nil
}

func (s *Server) set(j *jobRec, status string) {
	s.mu.Lock()
	j.Status, j.Updated = status, s.Clock.Now()
	s.mu.Unlock()
}

// work runs a job to its end.
func (s *Server) work(ctx context.Context, j *jobRec, held bool, release chan struct{}) {
	defer s.wg.Done()
	defer j.cancel()
	if held {
		s.set(j, "queued")
		select {
		case <-release:
		case <-ctx.Done():
			s.finishCancelled(j)
			return
		}
	}
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			s.finishCancelled(j)
			return
		}
		s.mu.Lock()
		now := s.Clock.Now()
		a := &attemptRec{ID: int64(n - 1), Status: "running", Created: now, Updated: now}
		j.Attempts = append(j.Attempts, a)
		j.Status, j.Updated = "running", now
		inject := s.failNext[j.ConnectionID] > 0
		if inject {
			s.failNext[j.ConnectionID]--
		}
		c := *s.findConn(j.ConnectionID)
		src, dst := s.findActor("source", c.SourceID), s.findActor("destination", c.DestinationID)
		var plan *syncPlan
		var planErr error
		if src == nil || dst == nil {
			planErr = errors.New("the connection's source or destination is gone")
		} else {
			plan, planErr = s.planSync(j.Type, &c, src, dst)
		}
		s.mu.Unlock()

		var rows int64
		var f *failure
		if planErr != nil {
			f = &failure{Origin: "airbyte_platform", Type: "config_error", Message: planErr.Error()}
		} else {
			actx, stop := context.WithCancel(ctx)
			if inject {
				// A lost worker: the connector is stopped as soon as
				// it has started.
				go func() { time.Sleep(50 * time.Millisecond); stop() }()
			}
			var err error
			rows, err = plan.run(actx)
			stop()
			switch {
			case err == nil:
			case ctx.Err() != nil:
				s.finishCancelled(j)
				return
			case inject:
				f = &failure{Origin: "replication", Type: "transient_error", Message: "The sync's worker was lost and the connector stopped: " + err.Error()}
			default:
				f = classify(err)
			}
		}
		s.mu.Lock()
		now = s.Clock.Now()
		a.Updated, a.Ended, a.Rows = now, now, rows
		if f == nil {
			a.Status = "succeeded"
			j.Status, j.Updated, j.Rows = "succeeded", now, rows
			s.mu.Unlock()
			return
		}
		f.At = now
		a.Status, a.Failure = "failed", f
		if f.Type == "config_error" || n >= s.maxAttempts {
			j.Status, j.Updated = "failed", now
			s.mu.Unlock()
			return
		}
		j.Status, j.Updated = "incomplete", now
		pause := s.retryPause
		s.mu.Unlock()
		select {
		case <-time.After(pause):
		case <-ctx.Done():
		}
	}
}

func (s *Server) finishCancelled(j *jobRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	for _, a := range j.Attempts {
		if a.Status == "running" {
			a.Status, a.Updated, a.Ended = "failed", now, now
			a.Failure = &failure{Origin: "airbyte_platform", Type: "manual_cancellation", Message: "The sync was cancelled.", At: now}
		}
	}
	j.Status, j.Updated = "cancelled", now
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnectionID string `json:"connectionId"`
		JobType      string `json:"jobType"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if req.JobType == "refresh" {
		// JobsController.publicCreateJob refuses it.
		writeProblem(w, http.StatusUnprocessableEntity, "unprocessable-entity", "Refreshes are not supported in the public API")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.startJob(req.ConnectionID, req.JobType)
	switch {
	case errors.Is(err, errInactive):
		writeProblem(w, http.StatusConflict, "state-conflict", err.Error())
	case errors.Is(err, errBusy):
		writeError(w, http.StatusConflict, "%v", err)
	case err != nil:
		writeError(w, http.StatusBadRequest, "%v", err)
	default:
		writeJSON(w, http.StatusOK, j.json(s.timeLayout))
	}
}

func (s *Server) findJob(r *http.Request) *jobRec {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 || int(id) > len(s.jobs) {
		return nil
	}
	return s.jobs[id-1]
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.findJob(r)
	if j == nil {
		writeError(w, http.StatusNotFound, "no job %s", r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, j.json(s.timeLayout))
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	j := s.findJob(r)
	if j == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "no job %s", r.PathValue("id"))
		return
	}
	if j.terminal() {
		// Airbyte cannot cancel a job that has ended: the cancellation
		// fails ("Failed to cancel ..."), which ConfigClientErrorHandler
		// answers as a 409 state conflict "Job is not currently running".
		s.mu.Unlock()
		writeProblem(w, http.StatusConflict, "state-conflict", "Job is not currently running")
		return
	}
	j.cancelled = true
	j.cancel()
	s.mu.Unlock()
	// Airbyte answers once the cancellation took: wait for the worker.
	for range 200 {
		s.mu.Lock()
		done := j.terminal()
		s.mu.Unlock()
		if done {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, j.json(s.timeLayout))
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Without a jobType Airbyte lists sync and reset jobs only
	// (JobServiceImpl.getJobConfigTypes: SYNC and RESET_CONNECTION):
	// refresh and clear jobs are listed when asked for by type.
	typeOK := func(typ string) bool {
		if want := q.Get("jobType"); want != "" {
			return typ == want
		}
		return typ == "sync" || typ == "reset"
	}
	s.mu.Lock()
	var sel []*jobRec
	for _, j := range s.jobs {
		if (q.Get("connectionId") == "" || j.ConnectionID == q.Get("connectionId")) && typeOK(j.Type) &&
			(q.Get("status") == "" || j.Status == q.Get("status")) {
			sel = append(sel, j)
		}
	}
	field, dir, _ := strings.Cut(q.Get("orderBy"), "|")
	if field == "" {
		field, dir = "createdAt", "ASC"
	}
	slices.SortStableFunc(sel, func(a, b *jobRec) int {
		x, y := a.ID, b.ID // createdAt and jobId order alike
		if field == "updatedAt" {
			x, y = a.Updated.UnixNano(), b.Updated.UnixNano()
		}
		if strings.EqualFold(dir, "DESC") {
			x, y = y, x
		}
		return int(x - y)
	})
	out := make([]map[string]any, len(sel))
	for i, j := range sel {
		out[i] = j.json(s.timeLayout)
	}
	s.mu.Unlock()
	s.paged(w, r, out)
}

// jobInfo answers the Configuration API's jobs/get_without_logs.
func (s *Server) jobInfo(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.ID < 1 || int(req.ID) > len(s.jobs) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no such job"})
		return
	}
	j := s.jobs[req.ID-1]
	status := j.Status
	configType := j.Type
	if configType == "reset" {
		configType = "reset_connection"
	}
	atts := []map[string]any{}
	for _, a := range j.Attempts {
		am := map[string]any{"id": a.ID, "status": a.Status, "createdAt": a.Created.Unix(), "updatedAt": a.Updated.Unix(), "recordsSynced": a.Rows}
		if !a.Ended.IsZero() {
			am["endedAt"] = a.Ended.Unix()
		}
		if f := a.Failure; f != nil {
			am["failureSummary"] = map[string]any{"failures": []map[string]any{{
				"failureOrigin": f.Origin, "failureType": f.Type, "externalMessage": f.Message, "timestamp": f.At.UnixMilli(),
			}}}
		}
		atts = append(atts, map[string]any{"attempt": am})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"job": map[string]any{"id": j.ID, "configType": configType, "configId": j.ConnectionID,
			"createdAt": j.Created.Unix(), "updatedAt": j.Updated.Unix(), "status": status},
		"attempts": atts,
	})
}
