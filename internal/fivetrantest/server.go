// Package fivetrantest is a Fivetran REST API for tests and examples, on
// 127.0.0.1: the connection calls orchestration uses (details, listing with
// cursor paging, sync, resync of the whole connection or of tables,
// schedule and pause changes, schema and column config), every request and
// answer checked against Fivetran's published OpenAPI description.
//
// A connection follows Fivetran's states: scheduled → syncing → scheduled,
// setting succeeded_at or failed_at at the end; paused; and rescheduled
// with rescheduled_for when the source's quota runs out (Quota). On the
// auto schedule a rescheduled connection resumes by itself once the server's
// Clock passes rescheduled_for; on the manual schedule it stays rescheduled
// until a sync is triggered after that time. A resync keeps its tables
// across a reschedule, and one asked for while paused runs when the
// connection is resumed. Syncs are real: goairbyte's
// faker source runs into the connection's DuckDB file or PostgreSQL schema.
package fivetrantest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/openapitest"
	"github.com/x/goairbyte/internal/servertest"
	"github.com/x/goairbyte/internal/shareddata"
)

// The credentials the server accepts.
const (
	APIKey    = "ft-test-key"
	APISecret = "ft-test-secret-Pq2"
)

// Server is a running fake Fivetran.
type Server struct {
	// URL is the API root to give fivetran.WithBaseURL.
	URL string
	// Clock is the server's time.
	Clock *servertest.Clock

	faker  string
	http   *httptest.Server
	faults *servertest.Faults
	routes *servertest.Routes
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []*conn
	// cycle makes the last page of a listing point back to the first.
	cycle bool
	// emptyCycle makes the last page of a listing point to empty pages
	// whose cursors lead back to each other.
	emptyCycle bool
}

// Connection declares a connection for AddConnection.
type Connection struct {
	GroupID      string
	Schema       string // the connection's name; also its destination schema
	ScheduleType string // "auto" (default) or "manual"
	Paused       bool
	// FakerConfig is the faker's config; Streams the tables it syncs
	// (users, products, purchases).
	FakerConfig map[string]any
	Streams     []string
	// Destination is where syncs write (Schema is set from Schema).
	Destination fakersync.Destination
}

type conn struct {
	Connection
	id             string
	created        time.Time
	syncState      string
	succeeded      *time.Time
	failed         *time.Time
	rescheduledFor *time.Time
	historical     bool
	quota          time.Duration // the next sync runs out of quota for this long
	tasks          []map[string]string
	resyncTables   []string // a table resync in progress
	cancel         context.CancelFunc
	gen            int // the current attempt; a cancelled one finishes silently
}

// New starts a server whose syncs run the faker at fakerPath; API
// violations go to rep. When rep is a test, a missing shared data folder
// (the published API description) skips or fails it (see shareddata.Need).
func New(rep openapitest.Reporter, fakerPath string) (*Server, error) {
	if t, ok := rep.(testing.TB); ok {
		shareddata.Need(t, "remote-specs/fivetran")
	}
	spec, err := openapitest.Fivetran("")
	if err != nil {
		return nil, err
	}
	s := &Server{faker: fakerPath, Clock: &servertest.Clock{}, faults: servertest.NewFaults(), routes: servertest.NewRoutes("")}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.register()
	undocumented := func(r *http.Request, status int) bool {
		switch status {
		case http.StatusUnauthorized, http.StatusNotFound, http.StatusBadRequest, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable:
			return true // refusals and injected faults, which the description omits on some paths
		}
		return false
	}
	h := spec.Middleware(rep, s.faults.Middleware(s.withAuth(s.routes.Mux)), undocumented)
	s.http = httptest.NewServer(s.faults.Truncating(h))
	s.URL = s.http.URL
	return s, nil
}

// Close stops the server and waits for running syncs.
func (s *Server) Close() {
	s.cancel()
	s.http.Close()
	s.wg.Wait()
}

// Inject adds a fault; a Fault's Path is like "/v1/connections".
func (s *Server) Inject(f servertest.Fault) { s.faults.Inject(f) }

// Calls returns how many requests a route pattern such as
// "POST /v1/connections/{id}/sync" handled.
func (s *Server) Calls(pattern string) int { return s.routes.Calls(pattern) }

// AddConnection creates a connection and returns its id.
func (s *Server) AddConnection(c Connection) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ScheduleType == "" {
		c.ScheduleType = "auto"
	}
	c.Destination.Schema = c.Schema
	x := &conn{Connection: c, id: fmt.Sprintf("conn_%d_%s", len(s.conns)+1, strings.ReplaceAll(c.Schema, "_", "")), created: s.Clock.Now(), syncState: "scheduled"}
	if c.Paused {
		x.syncState = "paused"
	}
	s.conns = append(s.conns, x)
	return x.id
}

// CycleCursor makes the last page of a listing carry a next_cursor that
// points back to the first page, as a server that loses its place would:
// a client that follows cursors blindly lists forever.
func (s *Server) CycleCursor() {
	s.mu.Lock()
	s.cycle = true
	s.mu.Unlock()
}

// The cursors of the empty pages CycleEmptyPages serves; no connection id
// looks like them.
const emptyCursorA, emptyCursorB = "empty-page-a", "empty-page-b"

// CycleEmptyPages makes the last page of a listing carry a next_cursor to
// an empty page, whose next_cursor leads to another empty page, whose
// next_cursor leads back to the first: a client that follows cursors
// blindly asks for empty pages forever, and sees no item twice.
func (s *Server) CycleEmptyPages() {
	s.mu.Lock()
	s.emptyCycle = true
	s.mu.Unlock()
}

// Quota makes the next sync of a connection run out of API quota: it is
// rescheduled for d later.
func (s *Server) Quota(id string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.find(id); c != nil {
		c.quota = d
	}
}

// StartSync starts a sync as Fivetran's scheduler would.
func (s *Server) StartSync(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.find(id); c != nil {
		s.trigger(c, false, nil)
	}
}

// SyncState returns a connection's sync_state.
func (s *Server) SyncState(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resume()
	if c := s.find(id); c != nil {
		return c.syncState
	}
	return ""
}

func (s *Server) find(id string) *conn {
	for _, c := range s.conns {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (s *Server) withAuth(next http.Handler) http.Handler {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(APIKey+":"+APISecret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			servertest.WriteJSON(w, http.StatusUnauthorized, map[string]string{"code": "AuthFailed", "message": "invalid API key or secret"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func ok(w http.ResponseWriter, message string, data any) {
	body := map[string]any{"code": "Success", "message": message}
	if data != nil {
		body["data"] = data
	}
	servertest.WriteJSON(w, http.StatusOK, body)
}

func fail(w http.ResponseWriter, status int, code, format string, args ...any) {
	servertest.WriteJSON(w, status, map[string]string{"code": code, "message": fmt.Sprintf(format, args...)})
}

func (s *Server) register() {
	h := s.routes.Handle
	h("GET /v1/connections", s.list)
	h("GET /v1/connections/{id}", s.withConn(func(w http.ResponseWriter, r *http.Request, c *conn) {
		ok(w, "Connection details retrieved successfully", s.connJSON(c))
	}))
	h("PATCH /v1/connections/{id}", s.withConn(s.patch))
	h("POST /v1/connections/{id}/sync", s.withConn(func(w http.ResponseWriter, r *http.Request, c *conn) {
		var req struct {
			Force bool `json:"force"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		s.trigger(c, req.Force, nil)
		ok(w, fmt.Sprintf("Sync has been successfully triggered for connection with id '%s'", c.id), nil)
	}))
	h("POST /v1/connections/{id}/resync", s.withConn(s.resync))
	h("GET /v1/connections/{id}/schemas", s.withConn(func(w http.ResponseWriter, r *http.Request, c *conn) {
		ok(w, "Schema configuration retrieved successfully", map[string]any{
			"schema_change_handling": "ALLOW_ALL", "enable_new_by_default": true,
			"schemas": map[string]any{c.Schema: map[string]any{"name_in_destination": c.Schema, "enabled": true, "tables": s.tables(c)}},
		})
	}))
	h("GET /v1/connections/{id}/schemas/{schema}/tables/{table}/columns", s.withConn(func(w http.ResponseWriter, r *http.Request, c *conn) {
		if r.PathValue("schema") != c.Schema || !slices.Contains(c.Streams, r.PathValue("table")) {
			fail(w, http.StatusNotFound, "NotFound_Table", "no table %s.%s", r.PathValue("schema"), r.PathValue("table"))
			return
		}
		cols, err := columns(r.PathValue("table"))
		if err != nil {
			fail(w, http.StatusInternalServerError, "ServerError", "%v", err)
			return
		}
		ok(w, "Column configuration retrieved successfully", map[string]any{"columns": cols})
	}))
}

// withConn finds the connection of the path (under s.mu) and resumes the
// rescheduled ones whose time has come.
func (s *Server) withConn(h func(http.ResponseWriter, *http.Request, *conn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.resume()
		c := s.find(r.PathValue("id"))
		if c == nil {
			fail(w, http.StatusNotFound, "NotFound_Connection", "Connection with id '%s' doesn't exist", r.PathValue("id"))
			return
		}
		h(w, r, c)
	}
}

// resume restarts the rescheduled syncs of auto-scheduled connections
// whose rescheduled_for has passed; s.mu is held.
func (s *Server) resume() {
	now := s.Clock.Now()
	for _, c := range s.conns {
		if c.syncState == "rescheduled" && c.ScheduleType == "auto" && !c.Paused && !now.Before(*c.rescheduledFor) {
			s.start(c)
		}
	}
}

func ts(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

func (s *Server) connJSON(c *conn) map[string]any {
	status := map[string]any{"setup_state": "connected", "sync_state": c.syncState, "update_state": "on_schedule",
		"is_historical_sync": c.historical, "tasks": c.tasks, "warnings": []any{}}
	if c.rescheduledFor != nil && c.syncState == "rescheduled" {
		status["rescheduled_for"] = ts(c.rescheduledFor)
	}
	if c.tasks == nil {
		status["tasks"] = []any{}
	}
	m := map[string]any{
		"id": c.id, "service": "faker", "schema": c.Schema, "group_id": c.GroupID, "paused": c.Paused,
		"pause_after_trial": false, "schedule_type": c.ScheduleType, "sync_frequency": 360, "service_version": 1,
		"data_delay_sensitivity": "NORMAL",
		"created_at":             ts(&c.created), "status": status, "connected_by": "goairbyte_test",
	}
	if c.succeeded != nil {
		m["succeeded_at"] = ts(c.succeeded)
	}
	if c.failed != nil {
		m["failed_at"] = ts(c.failed)
	}
	return m
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resume()
	var sel []*conn
	for _, c := range s.conns {
		if q.Get("group_id") == "" || c.GroupID == q.Get("group_id") {
			sel = append(sel, c)
		}
	}
	limit := 100
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = n
	}
	start := 0
	switch cur := q.Get("cursor"); {
	case s.emptyCycle && (cur == emptyCursorA || cur == emptyCursorB):
		next := emptyCursorB
		if cur == emptyCursorB {
			next = emptyCursorA
		}
		ok(w, "Connections list retrieved successfully", map[string]any{"items": []any{}, "next_cursor": next})
		return
	case cur != "":
		// The cursor is the id of the first item of the page.
		start = slices.IndexFunc(sel, func(c *conn) bool { return c.id == cur })
		if start < 0 {
			fail(w, http.StatusBadRequest, "InvalidCursor", "invalid cursor")
			return
		}
	}
	end := min(start+limit, len(sel))
	items := []map[string]any{}
	for _, c := range sel[start:end] {
		items = append(items, s.connJSON(c))
	}
	data := map[string]any{"items": items}
	switch {
	case end < len(sel):
		data["next_cursor"] = sel[end].id
	case s.cycle && len(sel) > 0:
		data["next_cursor"] = sel[0].id
	case s.emptyCycle:
		data["next_cursor"] = emptyCursorA
	}
	ok(w, "Connections list retrieved successfully", data)
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, c *conn) {
	var req struct {
		ScheduleType *string `json:"schedule_type"`
		Paused       *bool   `json:"paused"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "InvalidInput", "%v", err)
		return
	}
	if req.ScheduleType != nil {
		c.ScheduleType = *req.ScheduleType
	}
	if req.Paused != nil && *req.Paused != c.Paused {
		c.Paused = *req.Paused
		switch {
		case c.Paused && c.cancel != nil:
			c.cancel()
		case c.Paused:
			c.syncState = "paused"
		case c.historical:
			s.start(c) // the resync asked for while paused
		default:
			c.syncState = "scheduled"
		}
	}
	ok(w, "Connection has been updated", s.connJSON(c))
}

func (s *Server) resync(w http.ResponseWriter, r *http.Request, c *conn) {
	var req struct {
		Scope map[string][]string `json:"scope"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	var tables []string
	if req.Scope != nil {
		if len(req.Scope) == 0 {
			fail(w, http.StatusBadRequest, "InvalidInput", "the scope object is empty")
			return
		}
		for schema, ts := range req.Scope {
			if schema != c.Schema || len(ts) == 0 {
				fail(w, http.StatusBadRequest, "InvalidInput", "schema %q is not this connection's or lists no table", schema)
				return
			}
			for _, t := range ts {
				if !slices.Contains(c.Streams, t) {
					fail(w, http.StatusBadRequest, "InvalidInput", "no table %s.%s", schema, t)
					return
				}
			}
			tables = append(tables, ts...)
		}
	}
	if c.syncState == "syncing" {
		fail(w, http.StatusConflict, "Conflict", "a data sync is in progress")
		return
	}
	c.historical = true
	if tables == nil {
		tables = slices.Clone(c.Streams)
	}
	s.trigger(c, false, tables)
	ok(w, "Re-sync has been triggered successfully", nil)
}

// trigger asks for a sync (a resync when tables is set); s.mu is held.
func (s *Server) trigger(c *conn, force bool, tables []string) {
	switch {
	case c.Paused && tables != nil:
		// "If the connection is paused, the table sync will be
		// scheduled to be performed when the connection is re-enabled"
		// (the resync's description in Fivetran's API): patch starts it.
		c.resyncTables = tables
		return
	case c.Paused:
		return
	case c.syncState == "syncing" && !force:
		return
	case c.syncState == "syncing":
		c.cancel()
	case c.syncState == "rescheduled" && s.Clock.Now().Before(*c.rescheduledFor):
		return // too early: the quota has not come back
	}
	// A resync is pending until it completes, whatever starts the next
	// attempt: the tables asked for are re-imported "and their incremental
	// progress paused until the re-sync completes", and "after the
	// historical sync completes, all subsequent syncs are incremental"
	// (fivetran.com/docs, "Are Incremental Syncs Blocked During a Table
	// Re-Sync?" and "How to Do a Historical Sync Using the REST API"). So a
	// sync triggered after a quota reschedule runs the rescheduled resync,
	// of its tables, rather than an incremental sync of the connection.
	if tables != nil || !(c.syncState == "rescheduled" && c.historical) {
		c.resyncTables = tables
	}
	s.start(c)
}

// start begins a sync attempt; s.mu is held.
func (s *Server) start(c *conn) {
	if c.quota > 0 {
		t := s.Clock.Now().Add(c.quota)
		c.rescheduledFor, c.syncState, c.quota = &t, "rescheduled", 0
		return
	}
	c.syncState, c.rescheduledFor = "syncing", nil
	ctx, cancel := context.WithCancel(s.ctx)
	c.cancel = cancel
	c.gen++
	gen := c.gen
	req := fakersync.Request{Faker: s.faker, Config: c.FakerConfig, Streams: c.Streams, Destination: c.Destination, Strategy: fakersync.Merge}
	if c.resyncTables != nil {
		req.Streams, req.Strategy, req.FullRefresh = c.resyncTables, fakersync.Replace, true
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		_, err := fakersync.Run(ctx, req)
		s.mu.Lock()
		defer s.mu.Unlock()
		if gen != c.gen {
			return // a forced restart replaced this attempt
		}
		now := s.Clock.Now()
		c.cancel, c.historical, c.resyncTables = nil, false, nil
		c.syncState = "scheduled"
		if c.Paused {
			c.syncState = "paused"
		}
		switch {
		case ctx.Err() != nil:
			// cancelled by a pause or a forced restart: no completion
		case err != nil:
			c.failed = &now
			typ, _, msg := fakersync.FailureType(err)
			c.tasks = []map[string]string{{"code": typ, "message": "The sync failed", "details": msg}}
		default:
			c.succeeded, c.tasks = &now, nil
		}
	}()
}
