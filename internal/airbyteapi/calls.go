package airbyteapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/internal/jobtime"
)

// page is one page of a listing, its items still undecoded so that a page
// can be recognised when the server sends it again.
type page struct {
	Data []json.RawMessage `json:"data"`
	Next string            `json:"next,omitempty"`
}

// list iterates over a paged listing at path, asking for the pages by
// offset while the server's pages are full and it says there is more.
// A server that ignores the offset (or a proxy that drops it) answers a
// full page with a next link forever: a page seen before ends the listing
// with an error instead.
func list[T any](ctx context.Context, c *Client, path string, q url.Values) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if q == nil {
			q = url.Values{}
		}
		q.Set("limit", strconv.Itoa(c.pageSize))
		offset := 0
		seen := map[[sha256.Size]byte]int{}
		for {
			q.Set("offset", strconv.Itoa(offset))
			var p page
			if err := c.do(ctx, call{method: http.MethodGet, url: c.base + path, query: q, idempotent: true}, &p); err != nil {
				yield(zero, err)
				return
			}
			if len(p.Data) > 0 {
				h := sha256.New()
				for _, raw := range p.Data {
					h.Write(raw)
					h.Write([]byte{0})
				}
				sum := [sha256.Size]byte(h.Sum(nil))
				if first, ok := seen[sum]; ok {
					yield(zero, fmt.Errorf("airbyteapi: listing %s: the server repeats at offset %d the page it gave at offset %d, so the listing would never end; it may ignore the offset parameter (check a proxy in between)", path, offset, first))
					return
				}
				seen[sum] = offset
			}
			for _, raw := range p.Data {
				var v T
				if err := json.Unmarshal(raw, &v); err != nil {
					yield(zero, fmt.Errorf("airbyteapi: decoding an item of %s: %w", path, err))
					return
				}
				if !yield(v, nil) {
					return
				}
			}
			if len(p.Data) < c.pageSize || p.Next == "" {
				return
			}
			offset += len(p.Data)
		}
	}
}

func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	return c.do(ctx, call{method: http.MethodGet, url: c.base + path, query: q, idempotent: true}, out)
}

func (c *Client) patch(ctx context.Context, path string, body, out any) error {
	// A PATCH sets fields to given values: sending it twice is harmless.
	return c.do(ctx, call{method: http.MethodPatch, url: c.base + path, body: body, idempotent: true}, out)
}

func (c *Client) put(ctx context.Context, path string, body, out any) error {
	// A PUT replaces the object with what it sends: twice is harmless.
	return c.do(ctx, call{method: http.MethodPut, url: c.base + path, body: body, idempotent: true}, out)
}

func (c *Client) delete(ctx context.Context, path string) error {
	err := c.do(ctx, call{method: http.MethodDelete, url: c.base + path, idempotent: true}, nil)
	return err
}

// deleteMissingOK turns the 404 a retried DELETE can see into success.
func deleteMissingOK(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func workspaceQuery(workspaceID string) url.Values {
	q := url.Values{}
	if workspaceID != "" {
		q.Set("workspaceIds", workspaceID)
	}
	return q
}

// Workspaces lists the workspaces the credentials may use.
func (c *Client) Workspaces(ctx context.Context) iter.Seq2[Workspace, error] {
	return list[Workspace](ctx, c, "/workspaces", nil)
}

// Workspace returns one workspace.
func (c *Client) Workspace(ctx context.Context, id string) (*Workspace, error) {
	var w Workspace
	return &w, c.get(ctx, "/workspaces/"+url.PathEscape(id), nil, &w)
}

// SourceDefinitions lists the source types a workspace can use.
func (c *Client) SourceDefinitions(ctx context.Context, workspaceID string) iter.Seq2[Definition, error] {
	return list[Definition](ctx, c, "/workspaces/"+url.PathEscape(workspaceID)+"/definitions/sources", nil)
}

// DestinationDefinitions lists the destination types a workspace can use.
func (c *Client) DestinationDefinitions(ctx context.Context, workspaceID string) iter.Seq2[Definition, error] {
	return list[Definition](ctx, c, "/workspaces/"+url.PathEscape(workspaceID)+"/definitions/destinations", nil)
}

// Sources lists the sources of a workspace ("" for all).
func (c *Client) Sources(ctx context.Context, workspaceID string) iter.Seq2[Source, error] {
	return list[Source](ctx, c, "/sources", workspaceQuery(workspaceID))
}

// Source returns one source.
func (c *Client) Source(ctx context.Context, id string) (*Source, error) {
	var s Source
	return &s, c.get(ctx, "/sources/"+url.PathEscape(id), nil, &s)
}

// CreateSource creates a source. After an ambiguous failure it looks for a
// source of that name in the workspace before sending the request again.
func (c *Client) CreateSource(ctx context.Context, req ActorCreate) (*Source, error) {
	var s Source
	err := c.do(ctx, call{method: http.MethodPost, url: c.base + "/sources", body: req,
		recover: func(ctx context.Context) (bool, error) {
			return findByName(ctx, c.Sources(ctx, req.WorkspaceID), func(x Source) string { return x.Name }, req.Name, &s)
		}}, &s)
	return &s, err
}

// PatchSource updates a source.
func (c *Client) PatchSource(ctx context.Context, id string, req ActorPatch) (*Source, error) {
	var s Source
	return &s, c.patch(ctx, "/sources/"+url.PathEscape(id), req, &s)
}

// PutSource replaces a source's name and configuration. Unlike
// PatchSource, whose configuration Airbyte merges into the stored one
// (a field it leaves out keeps its value), a field it leaves out is gone;
// a secret sent as Mask keeps its stored value.
func (c *Client) PutSource(ctx context.Context, id string, req ActorPut) (*Source, error) {
	var s Source
	return &s, c.put(ctx, "/sources/"+url.PathEscape(id), req, &s)
}

// DeleteSource deletes a source, permanently; a source already gone is not
// an error.
func (c *Client) DeleteSource(ctx context.Context, id string) error {
	return deleteMissingOK(c.delete(ctx, "/sources/"+url.PathEscape(id)))
}

// Destinations lists the destinations of a workspace ("" for all).
func (c *Client) Destinations(ctx context.Context, workspaceID string) iter.Seq2[Destination, error] {
	return list[Destination](ctx, c, "/destinations", workspaceQuery(workspaceID))
}

// Destination returns one destination.
func (c *Client) Destination(ctx context.Context, id string) (*Destination, error) {
	var d Destination
	return &d, c.get(ctx, "/destinations/"+url.PathEscape(id), nil, &d)
}

// CreateDestination creates a destination, with the same care as
// CreateSource.
func (c *Client) CreateDestination(ctx context.Context, req ActorCreate) (*Destination, error) {
	var d Destination
	err := c.do(ctx, call{method: http.MethodPost, url: c.base + "/destinations", body: req,
		recover: func(ctx context.Context) (bool, error) {
			return findByName(ctx, c.Destinations(ctx, req.WorkspaceID), func(x Destination) string { return x.Name }, req.Name, &d)
		}}, &d)
	return &d, err
}

// PatchDestination updates a destination.
func (c *Client) PatchDestination(ctx context.Context, id string, req ActorPatch) (*Destination, error) {
	var d Destination
	return &d, c.patch(ctx, "/destinations/"+url.PathEscape(id), req, &d)
}

// PutDestination replaces a destination's name and configuration, as
// PutSource does a source's.
func (c *Client) PutDestination(ctx context.Context, id string, req ActorPut) (*Destination, error) {
	var d Destination
	return &d, c.put(ctx, "/destinations/"+url.PathEscape(id), req, &d)
}

// DeleteDestination deletes a destination, permanently; one already gone is
// not an error.
func (c *Client) DeleteDestination(ctx context.Context, id string) error {
	return deleteMissingOK(c.delete(ctx, "/destinations/"+url.PathEscape(id)))
}

// Connections lists the connections of a workspace ("" for all).
func (c *Client) Connections(ctx context.Context, workspaceID string) iter.Seq2[Connection, error] {
	return list[Connection](ctx, c, "/connections", workspaceQuery(workspaceID))
}

// Connection returns one connection.
func (c *Client) Connection(ctx context.Context, id string) (*Connection, error) {
	var x Connection
	return &x, c.get(ctx, "/connections/"+url.PathEscape(id), nil, &x)
}

// CreateConnection creates a connection, with the same care as
// CreateSource (a connection is found again by its source, destination and
// name).
func (c *Client) CreateConnection(ctx context.Context, req ConnectionCreate) (*Connection, error) {
	var x Connection
	err := c.do(ctx, call{method: http.MethodPost, url: c.base + "/connections", body: req,
		recover: func(ctx context.Context) (bool, error) {
			for conn, err := range c.Connections(ctx, "") {
				if err != nil {
					return false, err
				}
				if conn.SourceID == req.SourceID && conn.DestinationID == req.DestinationID && conn.Name == req.Name {
					x = conn
					return true, nil
				}
			}
			return false, nil
		}}, &x)
	return &x, err
}

// PatchConnection updates a connection.
func (c *Client) PatchConnection(ctx context.Context, id string, req ConnectionPatch) (*Connection, error) {
	var x Connection
	return &x, c.patch(ctx, "/connections/"+url.PathEscape(id), req, &x)
}

// DeleteConnection deletes a connection; one already gone is not an error.
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	return deleteMissingOK(c.delete(ctx, "/connections/"+url.PathEscape(id)))
}

// CreateJob starts a job on a connection. A sync while another job runs
// fails with an error that matches ErrConflict. After an ambiguous failure
// the client looks for the job its call created — the connection's newest
// job of that type, when it still runs or was created at or after the
// moment of the call, even if it is already over — and returns it instead
// of starting a second one.
func (c *Client) CreateJob(ctx context.Context, connectionID string, t JobType) (*Job, error) {
	var j Job
	// Job times are whole seconds (of the server's clock, which we take to
	// agree with ours).
	sent := time.Now().Truncate(time.Second)
	err := c.do(ctx, call{method: http.MethodPost, url: c.base + "/jobs",
		body: map[string]string{"connectionId": connectionID, "jobType": string(t)},
		recover: func(ctx context.Context) (bool, error) {
			newest, err := c.newestJob(ctx, connectionID, t)
			if newest == nil {
				return false, err
			}
			// Looking only for a running job would miss a quick sync
			// that ended before we looked, and start a second one.
			created, ok := jobtime.Parse(newest.StartTime)
			if newest.Status.Terminal() && (!ok || created.Before(sent)) {
				return false, nil
			}
			j = *newest
			return true, nil
		}}, &j)
	return &j, err
}

// RunningJob returns the job of type t the connection is running, nil when
// there is none.
func (c *Client) RunningJob(ctx context.Context, connectionID string, t JobType) (*Job, error) {
	j, err := c.newestJob(ctx, connectionID, t)
	if j == nil || j.Status.Terminal() {
		// Jobs of a connection run one at a time: the newest terminal
		// job means no older one runs.
		return nil, err
	}
	return j, nil
}

// newestJob returns the connection's newest job of type t ("" for any),
// nil when it has none. Airbyte lists only sync and reset jobs when no
// type is given, so "any" asks for each type.
func (c *Client) newestJob(ctx context.Context, connectionID string, t JobType) (*Job, error) {
	types := []JobType{t}
	if t == "" {
		types = []JobType{JobTypeSync, JobTypeReset, JobTypeRefresh, JobTypeClear}
	}
	var newest *Job
	for _, typ := range types {
		for j, err := range c.Jobs(ctx, JobFilter{ConnectionID: connectionID, JobType: typ, OrderBy: "createdAt|DESC"}) {
			if err != nil {
				return nil, err
			}
			if newest == nil || j.ID > newest.ID {
				newest = &j
			}
			break
		}
	}
	return newest, nil
}

// Job returns one job.
func (c *Client) Job(ctx context.Context, id int64) (*Job, error) {
	var j Job
	return &j, c.get(ctx, "/jobs/"+strconv.FormatInt(id, 10), nil, &j)
}

// CancelJob cancels a job and returns it as the server left it. A job that
// has ended is returned as it ended, with no error: Airbyte refuses to
// cancel it (409 "Job is not currently running"), which is also its answer
// to a second try after the answer to the first, which cancelled the job,
// was lost.
func (c *Client) CancelJob(ctx context.Context, id int64) (*Job, error) {
	var j Job
	err := c.do(ctx, call{method: http.MethodDelete, url: c.base + "/jobs/" + strconv.FormatInt(id, 10), idempotent: true}, &j)
	if errors.Is(err, ErrConflict) {
		if now, gerr := c.Job(ctx, id); gerr == nil && now.Status.Terminal() {
			return now, nil
		}
	}
	return &j, err
}

// Jobs lists jobs, newest first unless f.OrderBy says otherwise.
func (c *Client) Jobs(ctx context.Context, f JobFilter) iter.Seq2[Job, error] {
	q := url.Values{}
	if f.ConnectionID != "" {
		q.Set("connectionId", f.ConnectionID)
	}
	if f.JobType != "" {
		q.Set("jobType", string(f.JobType))
	}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	q.Set("orderBy", "createdAt|DESC")
	if f.OrderBy != "" {
		q.Set("orderBy", f.OrderBy)
	}
	return list[Job](ctx, c, "/jobs", q)
}

// configCall posts body to a Configuration API method such as
// "/jobs/get".
func (c *Client) configCall(ctx context.Context, method string, body, out any) error {
	if c.configBase == "" {
		return &noConfigAPIError{method: method, base: c.base}
	}
	// These calls only read.
	return c.do(ctx, call{method: http.MethodPost, url: c.configBase + method, body: body, idempotent: true}, out)
}

// SourceSpec returns the connection specification (the config's JSON
// schema) of a source definition, from the Configuration API.
func (c *Client) SourceSpec(ctx context.Context, workspaceID, definitionID string) (json.RawMessage, error) {
	var out struct {
		Spec json.RawMessage `json:"connectionSpecification"`
	}
	err := c.configCall(ctx, "/source_definition_specifications/get",
		map[string]string{"sourceDefinitionId": definitionID, "workspaceId": workspaceID}, &out)
	return out.Spec, err
}

// DestinationSpec returns the connection specification of a destination
// definition, from the Configuration API.
func (c *Client) DestinationSpec(ctx context.Context, workspaceID, definitionID string) (json.RawMessage, error) {
	var out struct {
		Spec json.RawMessage `json:"connectionSpecification"`
	}
	err := c.configCall(ctx, "/destination_definition_specifications/get",
		map[string]string{"destinationDefinitionId": definitionID, "workspaceId": workspaceID}, &out)
	return out.Spec, err
}

// Attempts returns the attempts of a job with their failures, from the
// Configuration API.
func (c *Client) Attempts(ctx context.Context, jobID int64) ([]Attempt, error) {
	var out struct {
		Attempts []struct {
			Attempt struct {
				ID             int64  `json:"id"`
				Status         string `json:"status"`
				RecordsSynced  int64  `json:"recordsSynced"`
				BytesSynced    int64  `json:"bytesSynced"`
				FailureSummary *struct {
					Failures []struct {
						Failure
						StreamDescriptor *struct {
							Name string `json:"name"`
						} `json:"streamDescriptor"`
					} `json:"failures"`
				} `json:"failureSummary"`
			} `json:"attempt"`
		} `json:"attempts"`
	}
	if err := c.configCall(ctx, "/jobs/get_without_logs", map[string]int64{"id": jobID}, &out); err != nil {
		return nil, err
	}
	atts := make([]Attempt, 0, len(out.Attempts))
	for _, a := range out.Attempts {
		at := Attempt{ID: a.Attempt.ID, Status: a.Attempt.Status, Records: a.Attempt.RecordsSynced, Bytes: a.Attempt.BytesSynced}
		if fs := a.Attempt.FailureSummary; fs != nil {
			for _, f := range fs.Failures {
				ff := f.Failure
				if f.StreamDescriptor != nil {
					ff.Stream = f.StreamDescriptor.Name
				}
				at.Failures = append(at.Failures, ff)
			}
		}
		atts = append(atts, at)
	}
	return atts, nil
}

// findByName sets *out to the one item of seq called name. Two items of
// that name are an error: the caller cannot know which one it made.
func findByName[T any](ctx context.Context, seq iter.Seq2[T, error], name func(T) string, want string, out *T) (bool, error) {
	found := false
	for v, err := range seq {
		if err != nil {
			return false, err
		}
		if name(v) == want {
			if found {
				return false, fmt.Errorf("airbyteapi: two objects are named %q", want)
			}
			*out, found = v, true
		}
	}
	return found, nil
}

// FindDefinition returns the workspace's definition of a connector given by
// its registry name ("source-faker", "destination-duckdb") or its docker
// repository ("airbyte/source-faker").
func (c *Client) FindDefinition(ctx context.Context, workspaceID, connector string) (*Definition, error) {
	seq := c.SourceDefinitions(ctx, workspaceID)
	if strings.HasPrefix(connector, "destination-") || strings.Contains(connector, "/destination-") {
		seq = c.DestinationDefinitions(ctx, workspaceID)
	}
	for d, err := range seq {
		if err != nil {
			return nil, err
		}
		if d.DockerRepository == connector || strings.HasSuffix(d.DockerRepository, "/"+connector) {
			return &d, nil
		}
	}
	return nil, fmt.Errorf("airbyteapi: workspace %s has no connector %q (names look like source-faker or destination-duckdb): %w", workspaceID, connector, ErrNotFound)
}
