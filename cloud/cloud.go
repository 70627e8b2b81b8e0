// Package cloud runs and deploys connections on Airbyte (Cloud or
// self-managed), in the shape of PyAirbyte's airbyte.cloud: a [Workspace]
// deploys sources, destinations and connections (each under a name the
// workspace does not hold yet, as PyAirbyte's deploy_source insists by
// default) and lists or deletes them; a [Connection] runs syncs; a
// [SyncResult] waits for one and opens what it wrote.
//
//	client, _ := airbyteapi.New(airbyteapi.CloudURL, airbyteapi.WithClientCredentials(id, secret))
//	ws := cloud.NewWorkspace(client, workspaceID)
//	conn, _ := ws.Connection(ctx, connectionID)
//	res, _ := conn.RunSync(ctx)
//	job, err := res.Wait(ctx) // a *cloud.SyncError when the sync failed
//
// RunSync attaches to the sync the connection is already running instead of
// failing (Airbyte answers a second sync with 409). Wait polls with backoff
// until the job is succeeded, failed or cancelled — incomplete, queued or a
// status it does not know mean "still running" — and cancels the job when
// its context ends, unless told to leave it running. A failed job's error
// carries Airbyte's failure reasons.
//
// For a DuckDB or PostgreSQL destination, SyncResult.Cache opens the
// destination's database as a goairbyte cache, with a Dataset per synced
// stream.
package cloud

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/httpretry"
)

// Workspace is one Airbyte workspace. It holds nothing but its id and
// client, so it is safe for concurrent use as the client is.
type Workspace struct {
	client *api.Client
	id     string
}

// NewWorkspace returns the workspace id reached through client. It makes
// no request.
func NewWorkspace(client *airbyteapi.Client, id string) *Workspace {
	return &Workspace{client: (*api.Client)(client), id: id}
}

// Sources lists the workspace's sources.
func (w *Workspace) Sources(ctx context.Context) iter.Seq2[Source, error] {
	return func(yield func(Source, error) bool) {
		for s, err := range w.client.Sources(ctx, w.id) {
			if !yield(Source(s), err) || err != nil {
				return
			}
		}
	}
}

// Destinations lists the workspace's destinations.
func (w *Workspace) Destinations(ctx context.Context) iter.Seq2[Destination, error] {
	return func(yield func(Destination, error) bool) {
		for d, err := range w.client.Destinations(ctx, w.id) {
			if !yield(Destination(d), err) || err != nil {
				return
			}
		}
	}
}

// Connections lists the workspace's connections.
func (w *Workspace) Connections(ctx context.Context) iter.Seq2[*Connection, error] {
	return func(yield func(*Connection, error) bool) {
		for c, err := range w.client.Connections(ctx, w.id) {
			if !yield(&Connection{w: w, info: c}, err) || err != nil {
				return
			}
		}
	}
}

// Connection returns one connection of the workspace.
func (w *Workspace) Connection(ctx context.Context, id string) (*Connection, error) {
	c, err := w.client.Connection(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.WorkspaceID != w.id {
		return nil, fmt.Errorf("cloud: connection %s belongs to workspace %s, not %s", id, c.WorkspaceID, w.id)
	}
	return &Connection{w: w, info: *c}, nil
}

// PermanentlyDeleteSource deletes a source and, as Airbyte does, its
// connections.
func (w *Workspace) PermanentlyDeleteSource(ctx context.Context, id string) error {
	return w.client.DeleteSource(ctx, id)
}

// PermanentlyDeleteDestination deletes a destination and its connections.
func (w *Workspace) PermanentlyDeleteDestination(ctx context.Context, id string) error {
	return w.client.DeleteDestination(ctx, id)
}

// PermanentlyDeleteConnection deletes a connection and, when told, its
// source and destination too.
func (w *Workspace) PermanentlyDeleteConnection(ctx context.Context, id string, alsoSource, alsoDestination bool) error {
	c, err := w.client.Connection(ctx, id)
	if err != nil {
		return err
	}
	if err := w.client.DeleteConnection(ctx, id); err != nil {
		return err
	}
	if alsoSource {
		if err := w.client.DeleteSource(ctx, c.SourceID); err != nil {
			return err
		}
	}
	if alsoDestination {
		return w.client.DeleteDestination(ctx, c.DestinationID)
	}
	return nil
}

// definitionID finds the definition of a connector by its registry name.
func (w *Workspace) definitionID(ctx context.Context, connector string) (string, error) {
	d, err := w.client.FindDefinition(ctx, w.id, connector)
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// DeployDestination creates a destination of the connector type (such as
// "destination-duckdb") with its config. Like DeploySource, it refuses a
// name the workspace's destinations already have.
func (w *Workspace) DeployDestination(ctx context.Context, name, connector string, config map[string]any) (*Destination, error) {
	if err := refuseTaken(w, "destination", name, "Destinations", "PermanentlyDeleteDestination", w.client.Destinations(ctx, w.id),
		func(d api.Destination) (string, string) { return d.Name, d.ID }); err != nil {
		return nil, err
	}
	def, err := w.definitionID(ctx, connector)
	if err != nil {
		return nil, err
	}
	d, err := w.client.CreateDestination(ctx, api.ActorCreate{Name: name, DefinitionID: def, WorkspaceID: w.id, Configuration: config})
	if err != nil {
		return nil, err
	}
	return (*Destination)(d), nil
}

// ConnectionOption configures DeployConnection.
type ConnectionOption func(*connectionRequest)

// connectionRequest is the request DeployConnection sends, which its
// options adjust.
type connectionRequest = api.ConnectionCreate

// WithPrefix puts prefix before every table the connection writes.
func WithPrefix(prefix string) ConnectionOption {
	return func(c *connectionRequest) { c.Prefix = prefix }
}

// WithCron schedules the connection with a Quartz cron expression
// (Airbyte's, such as "0 0 * * * ?"); without it the connection is manual.
func WithCron(expr string) ConnectionOption {
	return func(c *connectionRequest) {
		c.Schedule = &api.Schedule{ScheduleType: api.ScheduleCron, CronExpression: expr}
	}
}

// WithNamespace writes the streams into the destination namespace (schema)
// format, such as "analytics".
func WithNamespace(format string) ConnectionOption {
	return func(c *connectionRequest) {
		c.NamespaceDefinition, c.NamespaceFormat = "custom_format", format
	}
}

// DeployConnection creates a connection from a deployed source to a
// destination, syncing the streams the source had selected when deployed.
// Like DeploySource, it refuses a name the workspace's connections already
// have (whatever their source and destination).
func (w *Workspace) DeployConnection(ctx context.Context, name string, src *DeployedSource, dst *Destination, opts ...ConnectionOption) (*Connection, error) {
	if err := refuseTaken(w, "connection", name, "Connections", "PermanentlyDeleteConnection", w.client.Connections(ctx, w.id),
		func(c api.Connection) (string, string) { return c.Name, c.ID }); err != nil {
		return nil, err
	}
	req := api.ConnectionCreate{Name: name, SourceID: src.ID, DestinationID: dst.ID,
		Schedule: &api.Schedule{ScheduleType: api.ScheduleManual}}
	if len(src.Streams) > 0 {
		req.Configurations = &api.StreamConfigurations{}
		for _, s := range src.Streams {
			sc, ok := src.streams[s]
			if !ok {
				sc = api.StreamConfiguration{Name: s}
			}
			req.Configurations.Streams = append(req.Configurations.Streams, sc)
		}
	}
	for _, o := range opts {
		o(&req)
	}
	c, err := w.client.CreateConnection(ctx, req)
	if err != nil {
		return nil, err
	}
	return &Connection{w: w, info: *c}, nil
}

// refuseTaken fails, with an error matching airbyteapi.ErrConflict, when
// one of objects (the workspace's sources, destinations or connections, of
// the given kind) is called name: deploying another would make two of
// one name, which a connections plan and goab's lookups by name then refuse
// as ambiguous, and which a program that deploys on every run would pile
// up. lister and deleter name the Workspace methods that find and delete
// such an object, for the message.
func refuseTaken[T any](w *Workspace, kind, name, lister, deleter string, objects iter.Seq2[T, error], nameID func(T) (string, string)) error {
	var ids []string
	for o, err := range objects {
		if err != nil {
			return fmt.Errorf("cloud: listing the %ss of workspace %s, to check that none is named %q: %w", kind, w.id, name, err)
		}
		if n, id := nameID(o); n == name {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return fmt.Errorf("cloud: %w: workspace %s already has a %s named %q (id %s), and another of that name would make it ambiguous: "+
		"use that one (Workspace.%s lists it), delete it first (Workspace.%s), deploy under another name, "+
		"or declare it in a connections file, whose Apply updates it in place",
		api.ErrConflict, w.id, kind, name, strings.Join(ids, ", "), lister, deleter)
}

// DeployedSource is a source created by DeploySource, with the streams
// its connections sync by default.
type DeployedSource struct {
	Source
	// Streams names the streams selected on the source when it was
	// deployed (a name that streams of several namespaces share as
	// namespace.name); when empty, DeployConnection leaves the choice to
	// Airbyte.
	Streams []string
	// streams are the catalog's name and namespace of each of Streams, as
	// DeploySource found them, for DeployConnection to send.
	streams map[string]api.StreamConfiguration
}

// Connection is a connection of a workspace.
type Connection struct {
	w    *Workspace
	info api.Connection
}

// ID returns the connection id.
func (c *Connection) ID() string { return c.info.ID }

// Name returns the connection's name in the workspace, the one a
// connections file declares it by: Workspace.Connections finds a
// connection's id by it, for watch.Airbyte.
func (c *Connection) Name() string { return c.info.Name }

// RunSync starts a sync of the connection and returns without waiting;
// call Wait on the result. When the connection is already syncing, the
// result follows that sync (Attached reports it). A connection that is not
// active (inactive, deprecated) is not synced: the error says so and
// matches airbyteapi.ErrConflict, Airbyte's answer.
func (c *Connection) RunSync(ctx context.Context) (*SyncResult, error) {
	j, err := c.w.client.CreateJob(ctx, c.info.ID, api.JobTypeSync)
	attached := false
	if errors.Is(err, api.ErrConflict) {
		// Airbyte answers 409 to a sync of a connection that is not
		// active too, saying only "Could not fulfill request".
		if info, gerr := c.w.client.Connection(ctx, c.info.ID); gerr == nil && info.Status != "" && info.Status != api.StatusActive {
			return nil, fmt.Errorf("cloud: connection %s is %s, and Airbyte syncs only an active connection: set its status to active (status: active in a connections file, then apply): %w",
				c.info.ID, info.Status, err)
		}
		var running *api.Job
		running, err = c.w.client.RunningJob(ctx, c.info.ID, "")
		if err == nil && running == nil {
			return nil, fmt.Errorf("cloud: connection %s refused a sync as busy, but runs no job now: try again", c.info.ID)
		}
		j, attached = running, true
	}
	if err != nil {
		return nil, err
	}
	return &SyncResult{conn: c, JobID: j.ID, Attached: attached, last: *j}, nil
}

// SyncResult is one sync job of a connection.
type SyncResult struct {
	conn *Connection
	// JobID is Airbyte's job id.
	JobID int64
	// Attached is true when RunSync found the connection syncing already
	// and follows that job.
	Attached bool
	last     api.Job
}

// Streams lists the streams the connection syncs.
func (r *SyncResult) Streams() []string {
	var out []string
	for _, s := range r.conn.info.Configurations.Streams {
		out = append(out, s.Name)
	}
	return out
}

// WaitOption configures Wait.
type WaitOption func(*waitSettings)

type waitSettings struct {
	min, max  time.Duration
	keepAlive bool
}

// PollInterval sets the first and the longest wait between two polls
// (default 1 s growing to 30 s).
func PollInterval(first, longest time.Duration) WaitOption {
	return func(w *waitSettings) { w.min, w.max = first, longest }
}

// LeaveRunning leaves the job running when Wait's context ends; by default
// Wait cancels it.
func LeaveRunning() WaitOption { return func(w *waitSettings) { w.keepAlive = true } }

// Wait polls the job until it ends. It returns the job when it succeeded,
// a *SyncError when it failed or was cancelled, and the context's error
// (after cancelling the job, unless LeaveRunning) when ctx ends first.
func (r *SyncResult) Wait(ctx context.Context, opts ...WaitOption) (*Job, error) {
	ws := waitSettings{min: time.Second, max: 30 * time.Second}
	for _, o := range opts {
		o(&ws)
	}
	if ws.min <= 0 || ws.max < ws.min {
		return nil, fmt.Errorf("cloud: PollInterval(%v, %v): want 0 < first <= longest", ws.min, ws.max)
	}
	p := poller{interval: ws.min, max: ws.max}
	for {
		j, err := r.conn.w.client.Job(ctx, r.JobID)
		if ctx.Err() != nil {
			return nil, r.stop(ctx, ws.keepAlive)
		}
		if err != nil {
			return nil, err
		}
		if j.Status != r.last.Status {
			p.reset()
		}
		r.last = *j
		if j.Status.Terminal() {
			if j.Status == api.JobSucceeded {
				return jobOf(j), nil
			}
			return jobOf(j), r.failure(ctx, j)
		}
		if err := p.wait(ctx); err != nil {
			return nil, r.stop(ctx, ws.keepAlive)
		}
	}
}

// stop ends a Wait whose context ended: it cancels the job unless told
// not to, and returns the context's error.
func (r *SyncResult) stop(ctx context.Context, keep bool) error {
	if keep {
		return ctx.Err()
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	j, err := r.conn.w.client.CancelJob(cctx, r.JobID)
	if err != nil {
		return fmt.Errorf("cloud: %w; cancelling job %d failed too: %v", ctx.Err(), r.JobID, err)
	}
	if j.Status.Terminal() && j.Status != api.JobCancelled {
		// It ended before the cancellation reached it.
		return fmt.Errorf("cloud: job %d had %s when the wait was given up: %w", r.JobID, j.Status, ctx.Err())
	}
	return fmt.Errorf("cloud: job %d cancelled: %w", r.JobID, ctx.Err())
}

// failure builds the error of a failed or cancelled job, with the failure
// reasons of its last attempt when the Configuration API gives them.
func (r *SyncResult) failure(ctx context.Context, j *api.Job) error {
	e := &SyncError{JobID: j.ID, ConnectionID: r.conn.info.ID, Status: JobStatus(j.Status)}
	atts, err := r.conn.w.client.Attempts(ctx, j.ID)
	if err != nil {
		e.detailErr = err
	}
	e.Attempts = len(atts)
	if len(atts) > 0 {
		e.Failures = failuresOf(atts[len(atts)-1].Failures)
	}
	return e
}

// poller waits between polls: first interval, doubling up to max.
type poller struct {
	interval, max, cur time.Duration
}

func (p *poller) reset() { p.cur = 0 }

func (p *poller) wait(ctx context.Context) error {
	if p.cur == 0 {
		p.cur = p.interval
	} else {
		p.cur = min(2*p.cur, p.max)
	}
	return httpretry.Sleep(ctx, p.cur)
}
