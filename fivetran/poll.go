package fivetran

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/x/goairbyte/internal/httpretry"
)

// PollOption configures SyncAndPoll and ResyncAndPoll.
type PollOption func(*pollSettings)

type pollSettings struct {
	min, max       time.Duration
	manual         bool
	failReschedule bool
}

// PollInterval sets the first and the longest wait between two polls
// (default 2 s growing to 30 s).
func PollInterval(first, longest time.Duration) PollOption {
	return func(p *pollSettings) { p.min, p.max = first, longest }
}

// SwitchToManual puts the connection on the manual schedule before
// triggering, so that Fivetran does not also sync it on its own schedule
// (as dagster-fivetran does when asked).
func SwitchToManual() PollOption { return func(p *pollSettings) { p.manual = true } }

// FailOnReschedule makes a quota reschedule end the poll with a
// *RescheduledError instead of waiting for rescheduled_for.
func FailOnReschedule() PollOption { return func(p *pollSettings) { p.failReschedule = true } }

// SyncFailedError is a sync that ended with failed_at.
type SyncFailedError struct {
	// ConnectionID is the connection whose sync failed.
	ConnectionID string
	// FailedAt is the connection's new failed_at, when the sync ended.
	FailedAt time.Time
	// Tasks are what Fivetran asks the user to fix, if anything.
	Tasks []Notice
}

// Error says which connection failed when.
func (e *SyncFailedError) Error() string {
	s := fmt.Sprintf("fivetran: the sync of connection %s failed at %s", e.ConnectionID, e.FailedAt.Format(time.RFC3339))
	for _, t := range e.Tasks {
		s += "; " + t.Message
		if t.Details != "" {
			s += ": " + t.Details
		}
	}
	return s
}

// RescheduledError is a sync Fivetran rescheduled for lack of API quota,
// returned under FailOnReschedule. RetryAt is rescheduled_for.
type RescheduledError struct {
	// ConnectionID is the connection whose sync was rescheduled.
	ConnectionID string
	// RetryAt is when to trigger the sync again; a manual connection does
	// not resume by itself.
	RetryAt time.Time
}

// Error says when to retry.
func (e *RescheduledError) Error() string {
	return fmt.Sprintf("fivetran: the sync of connection %s was rescheduled for %s (the source's API quota ran out)",
		e.ConnectionID, e.RetryAt.Format(time.RFC3339))
}

// ErrPaused: the connection is paused, so no sync would ever run.
var ErrPaused = errors.New("fivetran: the connection is paused; resume it in Fivetran before syncing")

// SyncResult is a finished, successful sync.
type SyncResult struct {
	// Connection is the connection as the sync left it.
	Connection *Connection
	// Triggers counts the triggers it took (more than one after quota
	// reschedules of a manual connection).
	Triggers int
	// Tables are the connection's enabled tables with their columns.
	Tables []Table
}

// SyncAndPoll triggers a sync and polls until it is over; it returns the
// synced tables, a *SyncFailedError, a *RescheduledError (under
// FailOnReschedule), ErrPaused, or the context's error. When ctx ends
// first, the sync goes on in Fivetran, whose API has no call that cancels
// one (unlike cloud's Wait, which cancels its Airbyte job).
func (c *Client) SyncAndPoll(ctx context.Context, id string, opts ...PollOption) (*SyncResult, error) {
	return c.run(ctx, id, func(ctx context.Context) error { return c.sync(ctx, id, false) }, opts)
}

// ResyncAndPoll triggers a historical resync — of the whole connection
// (tables nil) or of the given tables by schema — and polls like
// SyncAndPoll.
func (c *Client) ResyncAndPoll(ctx context.Context, id string, tables map[string][]string, opts ...PollOption) (*SyncResult, error) {
	return c.run(ctx, id, func(ctx context.Context) error { return c.resync(ctx, id, tables) }, opts)
}

// run is SyncAndPoll's and ResyncAndPoll's state machine.
func (c *Client) run(ctx context.Context, id string, trigger func(context.Context) error, opts []PollOption) (*SyncResult, error) {
	ps := pollSettings{min: 2 * time.Second, max: 30 * time.Second}
	for _, o := range opts {
		o(&ps)
	}
	if ps.min <= 0 || ps.max < ps.min {
		return nil, fmt.Errorf("fivetran: PollInterval(%v, %v): want 0 < first <= longest", ps.min, ps.max)
	}
	conn, err := c.Connection(ctx, id)
	if err != nil {
		return nil, err
	}
	if conn.Paused {
		return nil, ErrPaused
	}
	if ps.manual && conn.ScheduleType != "manual" {
		if conn, err = c.setScheduleType(ctx, id, "manual"); err != nil {
			return nil, err
		}
	}
	before, _ := conn.LastCompletion()
	if err := trigger(ctx); err != nil {
		return nil, err
	}
	res := &SyncResult{Triggers: 1}
	wait := ps.min
	// triggeredFor is the rescheduled_for the last trigger after a
	// reschedule was for: seeing it again means that trigger did not take.
	var triggeredFor time.Time
	for {
		if err := httpretry.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, ps.max)
		if conn, err = c.Connection(ctx, id); err != nil {
			return nil, err
		}
		if at, failed := conn.LastCompletion(); at.After(before) {
			if failed {
				return nil, &SyncFailedError{ConnectionID: id, FailedAt: at, Tasks: conn.Status.Tasks}
			}
			res.Connection = conn
			if res.Tables, err = c.tables(ctx, id); err != nil {
				return nil, err
			}
			return res, nil
		}
		switch {
		case conn.Paused:
			return nil, ErrPaused
		case conn.Status.SyncState != stateRescheduled || conn.Status.RescheduledFor == nil:
			continue
		case ps.failReschedule:
			return nil, &RescheduledError{ConnectionID: id, RetryAt: *conn.Status.RescheduledFor}
		}
		// A rescheduled_for already past (the server's clock is behind
		// ours, or the time came while we slept) means now.
		at := *conn.Status.RescheduledFor
		untilAt := time.Until(at)
		if conn.ScheduleType != "manual" {
			// On the auto schedule Fivetran resumes by itself at
			// rescheduled_for: poll from then on. Once it is past,
			// the interval keeps growing, or every poll would come
			// at the shortest one until the server's clock got there.
			if untilAt > 0 {
				wait = max(ps.min, min(untilAt, ps.max))
			}
			continue
		}
		// A manual connection stays rescheduled until triggered again
		// after rescheduled_for.
		again := at.Equal(triggeredFor)
		if again && wait < ps.max {
			// The trigger for this time did not take: the server's
			// clock has not reached it yet. Poll on at the growing
			// interval and trigger again only at the longest one, not
			// on every poll.
			continue
		}
		if untilAt > 0 {
			if err := httpretry.Sleep(ctx, untilAt); err != nil {
				return nil, err
			}
		}
		if err := c.sync(ctx, id, false); err != nil {
			return nil, err
		}
		res.Triggers++
		if !again {
			wait = ps.min // a new attempt: watch it closely
		}
		triggeredFor = at
	}
}

// Table is one table a connection syncs.
type Table struct {
	// Schema and Name are the table's schema and name in the source, as
	// the schema config spells them (case matters).
	Schema, Name string
	// NameInDestination is the table's name in the destination.
	NameInDestination string
	// SchemaInDestination is the destination schema the table is in.
	SchemaInDestination string
	// Columns are the table's enabled columns, sorted by Name.
	Columns []Column
}

// Column is one column of a table, as Fivetran's schema config shows it.
type Column struct {
	// Name and NameInDestination are the column's names in the source
	// and in the destination.
	Name, NameInDestination string
	// Hashed says Fivetran writes a hash of the column's values instead
	// of the values; PrimaryKey says the column is part of the table's
	// primary key.
	Hashed, PrimaryKey bool
}

type columnConfig struct {
	NameInDestination string `json:"name_in_destination"`
	Enabled           bool   `json:"enabled"`
	Hashed            bool   `json:"hashed"`
	IsPrimaryKey      bool   `json:"is_primary_key"`
}

// tables lists the connection's enabled tables and their enabled columns,
// sorted.
func (c *Client) tables(ctx context.Context, id string) ([]Table, error) {
	var cfg struct {
		Schemas map[string]struct {
			NameInDestination string `json:"name_in_destination"`
			Enabled           bool   `json:"enabled"`
			Tables            map[string]struct {
				NameInDestination string                  `json:"name_in_destination"`
				Enabled           bool                    `json:"enabled"`
				Columns           map[string]columnConfig `json:"columns"`
			} `json:"tables"`
		} `json:"schemas"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/connections/"+url.PathEscape(id)+"/schemas", nil, nil, &cfg); err != nil {
		return nil, err
	}
	var out []Table
	for sname, s := range cfg.Schemas {
		if !s.Enabled {
			continue
		}
		for tname, t := range s.Tables {
			if !t.Enabled {
				continue
			}
			tb := Table{Schema: sname, Name: tname, NameInDestination: t.NameInDestination, SchemaInDestination: s.NameInDestination}
			cols := t.Columns
			if len(cols) == 0 {
				// The schema config lists only columns a user
				// changed; the columns call lists them all.
				var err error
				if cols, err = c.columns(ctx, id, sname, tname); err != nil {
					return nil, err
				}
			}
			for cname, col := range cols {
				if col.Enabled {
					tb.Columns = append(tb.Columns, Column{Name: cname, NameInDestination: col.NameInDestination, Hashed: col.Hashed, PrimaryKey: col.IsPrimaryKey})
				}
			}
			slices.SortFunc(tb.Columns, func(a, b Column) int { return strings.Compare(a.Name, b.Name) })
			out = append(out, tb)
		}
	}
	slices.SortFunc(out, func(a, b Table) int {
		if a.Schema != b.Schema {
			return strings.Compare(a.Schema, b.Schema)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

func (c *Client) columns(ctx context.Context, id, schema, table string) (map[string]columnConfig, error) {
	var out struct {
		Columns map[string]columnConfig `json:"columns"`
	}
	path := "/v1/connections/" + url.PathEscape(id) + "/schemas/" + url.PathEscape(schema) + "/tables/" + url.PathEscape(table) + "/columns"
	return out.Columns, c.do(ctx, http.MethodGet, path, nil, nil, &out)
}
