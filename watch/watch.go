// Package watch is a polling sensor for remote syncs: an iterator of
// sync-completion events for a set of Airbyte connections and Fivetran
// connections, as Dagster's sensors do, resumable from a cursor the caller
// keeps.
//
//	w, _ := watch.New(watch.Airbyte(client, connectionID), watch.Interval(time.Minute))
//	cur, _ := watch.LoadCursor("watch-cursor.json")
//	for ev, err := range w.Events(ctx, cur) {
//		if err != nil { log.Print(err); continue } // the next round retries
//		handle(ev)
//		cur.Save("watch-cursor.json") // ev is never reported again
//	}
//
// An Airbyte sync is identified by its job id: job ids grow, and a
// connection runs one job at a time, so the cursor keeps per connection the
// highest job id reported. Every job type that ends a sync is reported:
// sync, reset, refresh and clear. Fivetran has no job ids: the cursor keeps per
// connection the completion time (max of succeeded_at and failed_at)
// reported last, and Fivetran shows only the latest, so two syncs that
// both end between two polls are seen as one. Either way no sync is
// reported twice, whoever started it — this library, a schedule or a user
// — and a connection the cursor does not know yet starts at its latest
// finished sync, which is not reported. An id of no connection, Airbyte's
// or Fivetran's, or credentials the service refuses, end Events with an
// error naming it, on the first poll, before any event (see [Airbyte] and
// [Fivetran]).
package watch

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/fivetran"
	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/atomicfile"
	"github.com/x/goairbyte/internal/httpretry"
	"github.com/x/goairbyte/internal/jobtime"
)

// Event is one finished sync.
type Event struct {
	Service     string    `json:"service"`            // "airbyte" or "fivetran"
	Connection  string    `json:"connection"`         // the connection id given to Airbyte or Fivetran
	JobID       int64     `json:"job_id,omitempty"`   // Airbyte's
	JobType     string    `json:"job_type,omitempty"` // Airbyte's: sync, reset, refresh or clear
	Status      string    `json:"status"`             // succeeded, failed or cancelled
	CompletedAt time.Time `json:"completed_at"`       // Airbyte's job last update; Fivetran's succeeded_at or failed_at
	Rows        int64     `json:"rows,omitempty"`     // rows the Airbyte job synced; 0 for Fivetran
}

// Cursor is how far a watch has reported, per connection. Persist it (it
// marshals as JSON) to resume without repeating or missing events.
type Cursor struct {
	// Airbyte maps each Airbyte connection id to the highest job id
	// reported, or passed over as already finished when first seen.
	Airbyte map[string]int64 `json:"airbyte,omitempty"`
	// Fivetran maps each Fivetran connection id to the latest completion
	// time seen.
	Fivetran map[string]time.Time `json:"fivetran,omitempty"`
}

// LoadCursor reads a cursor file; a missing file is an empty cursor.
func LoadCursor(path string) (*Cursor, error) {
	c := &Cursor{}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("watch: cursor file %s: %w", path, err)
	}
	return c, nil
}

// Save writes the cursor to path atomically: after a crash or a power
// loss the file holds this cursor or the one before, never a part of one.
func (c *Cursor) Save(path string) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// Watcher polls the connections it was given.
type Watcher struct {
	ab       *api.Client
	abConns  []string
	ft       *fivetran.Client
	ftConns  []string
	interval time.Duration
	saveTo   string // SaveCursor's path; "" when the caller saves

	mu    sync.Mutex      // guards found: Events may run concurrently
	found map[string]bool // the Airbyte ids whose connection was read
}

// Option configures a Watcher.
type Option func(*Watcher) error

// Airbyte watches Airbyte connections by id. The first poll reads each
// id's connection (one request per id, once per Watcher) before it lists
// any jobs: an id of no connection (a name, a typo), whose job list is
// empty, would be watched in silence for ever, so Events ends with an
// error naming it that matches airbyteapi.ErrNotFound, before any event.
// Give ids, not names: cloud.Workspace.Connections lists them with their
// names, and goab watch looks names up. A connection deleted after that
// first read (or replaced: a connections Apply that changes its source's
// or destination's type makes it again under a new id) is watched in
// silence; a new Watcher, as each goab watch run makes, finds it gone.
func Airbyte(c *airbyteapi.Client, connectionIDs ...string) Option {
	return func(w *Watcher) error {
		if c == nil || len(connectionIDs) == 0 {
			return errors.New("watch: Airbyte needs a client and at least one connection id")
		}
		w.ab, w.abConns = (*api.Client)(c), append(w.abConns, connectionIDs...)
		return nil
	}
}

// Fivetran watches Fivetran connections by id. As for Airbyte, the first
// poll reads each id's connection before it polls any: an id of no
// connection (a typo), which would fail every poll for ever, ends Events
// with an error naming it that matches fivetran.ErrNotFound, before any
// event.
func Fivetran(c *fivetran.Client, connectionIDs ...string) Option {
	return func(w *Watcher) error {
		if c == nil || len(connectionIDs) == 0 {
			return errors.New("watch: Fivetran needs a client and at least one connection id")
		}
		w.ft, w.ftConns = c, append(w.ftConns, connectionIDs...)
		return nil
	}
}

// Interval sets the pause between two polls of every connection (default
// 30 s).
func Interval(d time.Duration) Option {
	return func(w *Watcher) error {
		if d <= 0 {
			return fmt.Errorf("watch: interval %v must be positive", d)
		}
		w.interval = d
		return nil
	}
}

// SaveCursor makes Events save its cursor to path (see Cursor.Save) after
// each event the loop body has handled and after every round that moved
// the cursor without an event (a connection seen for the first time
// starts from its newest sync). A watch killed at any moment then resumes
// without passing over a sync: at worst the event the loop body was
// handling comes again. Without it the caller saves, and a connection's
// starting point is kept only once an event or the caller's save comes.
func SaveCursor(path string) Option {
	return func(w *Watcher) error {
		if path == "" {
			return errors.New("watch: SaveCursor needs a path")
		}
		w.saveTo = path
		return nil
	}
}

// save saves cur where SaveCursor said, if it did.
func (w *Watcher) save(cur *Cursor) error {
	if w.saveTo == "" {
		return nil
	}
	if err := cur.Save(w.saveTo); err != nil {
		return fmt.Errorf("watch: saving the cursor: %w", err)
	}
	return nil
}

// New returns a watcher; give it at least one of Airbyte and Fivetran.
func New(opts ...Option) (*Watcher, error) {
	w := &Watcher{interval: 30 * time.Second}
	for _, o := range opts {
		if err := o(w); err != nil {
			return nil, err
		}
	}
	if len(w.abConns)+len(w.ftConns) == 0 {
		return nil, errors.New("watch: nothing to watch: give Airbyte or Fivetran connections")
	}
	return w, nil
}

// Events polls until ctx ends or the loop stops, yielding each finished
// sync once, oldest first per connection, and advancing cur before it
// yields. A failed poll yields an error; the next round tries again. An
// id of no connection, or credentials refused (airbyteapi.ErrUnauthorized,
// fivetran.ErrUnauthorized), at the first poll end Events with an error
// (see Airbyte and Fivetran).
func (w *Watcher) Events(ctx context.Context, cur *Cursor) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if cur.Airbyte == nil {
			cur.Airbyte = map[string]int64{}
		}
		if cur.Fivetran == nil {
			cur.Fivetran = map[string]time.Time{}
		}
		for {
			if !w.round(ctx, cur, yield) {
				return
			}
			if httpretry.Sleep(ctx, w.interval) != nil {
				return
			}
		}
	}
}

// round polls every connection once; false means stop.
func (w *Watcher) round(ctx context.Context, cur *Cursor, yield func(Event, error) bool) bool {
	moved := false // the cursor changed with no event saved after it
	// deliver yields ev and saves the cursor once the loop body handled
	// it, even when the body then stopped the loop; false means stop.
	deliver := func(ev Event) bool {
		more := yield(ev, nil)
		moved = false
		if err := w.save(cur); err != nil && more {
			more = yield(Event{}, err)
		}
		return more
	}
	// Every connection is checked before any is polled, so that an id of
	// no connection ends the watch before it reports anything.
	unchecked := map[string]bool{}
	for _, c := range w.checks() {
		if err := w.check(ctx, c); err != nil {
			if ctx.Err() != nil || !yield(Event{}, err) || c.ends(err) {
				return false
			}
			unchecked[c.key()] = true // the next round tries again
		}
	}
	for _, id := range w.abConns {
		if unchecked["Airbyte/"+id] {
			continue
		}
		before, known := cur.Airbyte[id]
		evs, err := w.airbyteEvents(ctx, id, cur)
		if err != nil {
			if ctx.Err() != nil || !yield(Event{}, err) {
				return false
			}
			continue
		}
		if after := cur.Airbyte[id]; !known || after != before {
			moved = true
		}
		for _, ev := range evs {
			cur.Airbyte[id] = ev.JobID
			if !deliver(ev) {
				return false
			}
		}
	}
	for _, id := range w.ftConns {
		if unchecked["Fivetran/"+id] {
			continue
		}
		conn, err := w.ft.Connection(ctx, id)
		if err != nil {
			if ctx.Err() != nil || !yield(Event{}, err) {
				return false
			}
			continue
		}
		at, failed := conn.LastCompletion()
		last, known := cur.Fivetran[id]
		cur.Fivetran[id] = maxTime(last, at)
		if !known || !cur.Fivetran[id].Equal(last) {
			moved = true
		}
		if !known || !at.After(last) {
			continue
		}
		ev := Event{Service: "fivetran", Connection: id, Status: "succeeded", CompletedAt: at}
		if failed {
			ev.Status = "failed"
		}
		if !deliver(ev) {
			return false
		}
	}
	if moved {
		if err := w.save(cur); err != nil && !yield(Event{}, err) {
			return false
		}
	}
	return ctx.Err() == nil
}

// connCheck is a connection a watch reads before it first polls it.
type connCheck struct {
	service, id string
	read        func(context.Context, string) error
	notFound    error  // the sentinel of a connection not there
	refused     error  // the sentinel of credentials refused
	hint        string // what to give instead, for an id not found
}

// ends says whether err, a check's, ends the watch: the connection is not
// there, or the credentials are refused, which no later poll would change.
func (c connCheck) ends(err error) bool {
	return errors.Is(err, c.notFound) || errors.Is(err, c.refused)
}

func (c connCheck) key() string { return c.service + "/" + c.id }

// checks lists the connections to read before polling: every Airbyte one,
// then every Fivetran one.
func (w *Watcher) checks() []connCheck {
	var out []connCheck
	for _, id := range w.abConns {
		out = append(out, connCheck{service: "Airbyte", id: id, notFound: airbyteapi.ErrNotFound, refused: airbyteapi.ErrUnauthorized,
			hint: "give a connection's id, not its name: cloud.Workspace.Connections lists them",
			read: func(ctx context.Context, id string) error { _, err := w.ab.Connection(ctx, id); return err }})
	}
	for _, id := range w.ftConns {
		out = append(out, connCheck{service: "Fivetran", id: id, notFound: fivetran.ErrNotFound, refused: fivetran.ErrUnauthorized,
			hint: "give the connection's id, as Fivetran's API and its setup page show it",
			read: func(ctx context.Context, id string) error { _, err := w.ft.Connection(ctx, id); return err }})
	}
	return out
}

// check reads a connection the first time it is polled, so that an id of
// no connection, or credentials refused, end the watch instead of failing
// or listing nothing for ever. A connection found is not read again; after
// another error (the network, the server) the next round tries again.
func (w *Watcher) check(ctx context.Context, c connCheck) error {
	w.mu.Lock()
	found := w.found[c.key()]
	w.mu.Unlock()
	if found {
		return nil
	}
	err := c.read(ctx, c.id)
	if errors.Is(err, c.notFound) {
		return fmt.Errorf("watch: no %s connection %s (%s): %w", c.service, c.id, c.hint, err)
	}
	if err != nil {
		return fmt.Errorf("watch: reading %s connection %s: %w", c.service, c.id, err)
	}
	w.mu.Lock()
	if w.found == nil {
		w.found = map[string]bool{}
	}
	w.found[c.key()] = true
	w.mu.Unlock()
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// airbyteListings are the job listings that together hold every job of a
// connection: without a type Airbyte lists sync and reset jobs only, so
// refresh and clear jobs, which also end a sync, are asked for by type.
var airbyteListings = []api.JobType{"", api.JobTypeRefresh, api.JobTypeClear}

// airbyteEvents lists the jobs of a connection, of every type, that ended
// after the cursor's, oldest first, stopping before the first still
// running. A connection new to the cursor starts at its newest finished
// job. A connection runs one job at a time, so job ids order its jobs
// across types as they order them within one.
func (w *Watcher) airbyteEvents(ctx context.Context, id string, cur *Cursor) ([]Event, error) {
	last, known := cur.Airbyte[id]
	var jobs []api.Job
	newest, start := int64(-1), last // start: for a new connection, its newest finished job
	for _, typ := range airbyteListings {
		first := true
		for j, err := range w.ab.Jobs(ctx, api.JobFilter{ConnectionID: id, JobType: typ, OrderBy: "createdAt|DESC"}) {
			if err != nil {
				return nil, err
			}
			if first {
				newest, first = max(newest, j.ID), false
			}
			if j.ID <= last {
				break
			}
			if !known && j.Status.Terminal() {
				start = max(start, j.ID)
				break
			}
			jobs = append(jobs, j)
		}
	}
	if known && newest >= 0 && newest < last {
		// Job ids only grow, and the cursor's job was this connection's:
		// a newest job older than it means the cursor is not this
		// server's, and every job up to the cursor's id would be passed
		// over in silence.
		return nil, fmt.Errorf("watch: Airbyte connection %s's newest job is %d, older than job %d the cursor has reported: the cursor comes from another Airbyte instance or the jobs were deleted; remove the connection from the cursor file to start again from its newest job", id, newest, last)
	}
	if !known {
		cur.Airbyte[id] = start
	}
	slices.SortFunc(jobs, func(a, b api.Job) int { return cmp.Compare(a.ID, b.ID) })
	var out []Event
	for i, j := range jobs {
		if j.ID <= start || (i > 0 && j.ID == jobs[i-1].ID) {
			continue // older than a new connection's start; or listed twice
		}
		if !j.Status.Terminal() {
			break
		}
		at, _ := jobtime.Parse(j.LastUpdatedAt)
		out = append(out, Event{Service: "airbyte", Connection: id, JobID: j.ID, JobType: string(j.JobType),
			Status: string(j.Status), CompletedAt: at, Rows: j.RowsSynced})
	}
	return out, nil
}
