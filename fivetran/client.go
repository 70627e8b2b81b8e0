// Package fivetran triggers and watches syncs of Fivetran connections
// through Fivetran's REST API, as dagster-fivetran does, and better where
// Fivetran makes it hard.
//
//	c, err := fivetran.New(apiKey, apiSecret)
//	res, err := c.SyncAndPoll(ctx, "connection_id")
//	for _, t := range res.Tables { fmt.Println(t.Schema, t.Name, len(t.Columns)) }
//
// Fivetran has no job ids: a sync is known to be over when
// max(succeeded_at, failed_at) of the connection grows past the value it
// had before the trigger; it failed when failed_at is the one that grew.
//
// When the source's API quota runs out, Fivetran reschedules the sync
// (sync_state "rescheduled", with rescheduled_for). A connection on the
// auto schedule resumes by itself then; one on the manual schedule never
// does — it must be triggered again once rescheduled_for has passed.
// SyncAndPoll does that: it waits until rescheduled_for and triggers the
// sync again (or, with FailOnReschedule, returns a *RescheduledError with
// the time to retry at), where polling alone would wait forever. A
// rescheduled_for already past counts as now; when the server's clock is
// behind ours and it ignores that trigger, the trigger is repeated at the
// longest poll interval, not on every poll.
//
// Requests are retried on 429 (honouring Retry-After), 5xx and network
// errors with backoff and jitter; triggering a sync is safe to repeat. The
// API's refusals match ErrNotFound (404) and ErrUnauthorized (401, 403)
// with errors.Is.
package fivetran

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/x/goairbyte/internal/httpbody"
	"github.com/x/goairbyte/internal/httpretry"
	"github.com/x/goairbyte/secrets"
)

// DefaultURL is Fivetran's API root.
const DefaultURL = "https://api.fivetran.com"

// Client talks to Fivetran's REST API. It is safe for concurrent use.
type Client struct {
	base  string
	auth  string
	hc    *http.Client
	retry httpretry.Policy
}

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the API root (default DefaultURL).
func WithBaseURL(u string) Option {
	return func(c *Client) error {
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "" || p.Host == "" {
			return fmt.Errorf("fivetran: %q is not an absolute URL", u)
		}
		c.base = strings.TrimRight(u, "/")
		return nil
	}
}

// WithHTTPClient sets the HTTP client (default: one with a 60 s timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("fivetran: WithHTTPClient(nil)")
		}
		c.hc = hc
		return nil
	}
}

// withRetry sets the retry policy (default: five retries over about half
// a minute).
func withRetry(p httpretry.Policy) Option {
	return func(c *Client) error {
		if err := p.Check(); err != nil {
			return fmt.Errorf("fivetran: %w", err)
		}
		c.retry = p
		return nil
	}
}

// New returns a client authenticating with an API key and secret.
func New(apiKey, apiSecret string, opts ...Option) (*Client, error) {
	if apiKey == "" || apiSecret == "" {
		return nil, errors.New("fivetran: an API key and an API secret are both needed")
	}
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(apiKey, apiSecret)
	c := &Client{base: DefaultURL, auth: r.Header.Get("Authorization"), hc: &http.Client{Timeout: 60 * time.Second}, retry: httpretry.Default}
	// The key is the other half of the credential, and goab masks it too.
	secrets.Register(apiKey, apiSecret, strings.TrimPrefix(c.auth, "Basic "))
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// apiError is an answer with a status other than 2xx.
type apiError struct {
	// Method and URL are the failed request's HTTP method and full URL,
	// query string included.
	Method, URL string
	// Status is the HTTP status code of the answer, such as 404.
	Status int
	Code   string // Fivetran's code, such as "NotFound_Connection"
	// Message is Fivetran's explanation, or the raw body when the answer
	// has none; secrets masked.
	Message string
}

// Error says which request failed and how.
func (e *apiError) Error() string {
	s := fmt.Sprintf("fivetran: %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is matches ErrNotFound for 404 and ErrUnauthorized for 401 and 403.
func (e *apiError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

var (
	// ErrNotFound: the connection (or schema, table) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the API key and secret were refused (HTTP 401 or
	// 403), as airbyteapi.ErrUnauthorized is for Airbyte.
	ErrUnauthorized = errors.New("unauthorized")
)

// envelope is Fivetran's answer: {code, message, data}.
type envelope struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// do sends one request with retries and decodes the envelope's data into
// out. Every call here is safe to repeat: reads, PATCHes that set values,
// and sync triggers (a second trigger of a syncing connection is a no-op).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	for attempt := 1; ; attempt++ {
		retryAfter, retry, err := c.once(ctx, method, u, b, out)
		if err == nil || !retry || attempt >= c.retry.MaxAttempts {
			return secrets.MaskError(err)
		}
		if err := httpretry.Sleep(ctx, c.retry.Backoff(attempt, retryAfter)); err != nil {
			return err
		}
	}
}

func (c *Client) once(ctx context.Context, method, u string, body []byte, out any) (retryAfter time.Duration, retry bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json;version=2")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		return 0, true, fmt.Errorf("fivetran: %s %s: no answer: %w", method, u, err)
	}
	defer resp.Body.Close()
	raw, readErr := httpbody.Read(resp.Body, httpbody.MaxAPIAnswer)
	var env envelope
	envErr := json.Unmarshal(raw, &env)
	if resp.StatusCode >= 300 {
		e := &apiError{Method: method, URL: u, Status: resp.StatusCode, Code: env.Code, Message: secrets.Mask(env.Message)}
		if e.Message == "" {
			e.Message = secrets.Mask(strings.TrimSpace(string(raw)))
		}
		return httpretry.RetryAfter(resp.Header.Get("Retry-After")), resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, e
	}
	if readErr != nil {
		// The answer was cut off: a lost connection may go better on a
		// retry, an oversized answer will not.
		var tooLarge *httpbody.TooLargeError
		return 0, !errors.As(readErr, &tooLarge), fmt.Errorf("fivetran: reading the answer to %s %s: %w", method, u, readErr)
	}
	if out != nil && envErr != nil {
		return 0, false, fmt.Errorf("fivetran: decoding the answer to %s %s: %w", method, u, envErr)
	}
	if out != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return 0, false, fmt.Errorf("fivetran: decoding the answer to %s %s: %w", method, u, err)
		}
	}
	return 0, false, nil
}

// Connection is a Fivetran connection (formerly "connector").
type Connection struct {
	// ID is the connection's identifier, what the Client's methods take.
	ID string `json:"id"`
	// Service is the connector type, such as "google_sheets".
	Service string `json:"service"`
	// Schema is the connection's name in Fivetran, which is also the name
	// of the schema it writes in the destination.
	Schema string `json:"schema"`
	// GroupID identifies the group (the destination) the connection
	// belongs to.
	GroupID string `json:"group_id"`
	// Paused is true while the connection is paused and runs no sync.
	Paused       bool   `json:"paused"`
	ScheduleType string `json:"schedule_type"` // "auto" or "manual"
	// SyncFrequency is the time between two syncs on the auto schedule,
	// in minutes (360 is every six hours).
	SyncFrequency int `json:"sync_frequency"`
	// SucceededAt is when the last successful sync ended; nil if none has.
	SucceededAt *time.Time `json:"succeeded_at,omitempty"`
	// FailedAt is when the last failed sync ended; nil if none has.
	FailedAt *time.Time `json:"failed_at,omitempty"`
	// Status is the connection's setup and sync state.
	Status Status `json:"status"`
}

// Status is a connection's state.
type Status struct {
	// SetupState is "connected" when the setup works, "incomplete" when it
	// never passed its tests, or "broken".
	SetupState string `json:"setup_state"`
	SyncState  string `json:"sync_state"` // scheduled, syncing, paused, rescheduled
	// UpdateState is "on_schedule", or "delayed" when the data is later
	// than the schedule promises.
	UpdateState string `json:"update_state"`
	// IsHistoricalSync is true when the running or next sync is a
	// historical one, re-reading all the source's data (see ResyncAndPoll).
	IsHistoricalSync bool `json:"is_historical_sync"`
	// RescheduledFor is when a rescheduled sync may run again (UTC); set
	// only while SyncState is "rescheduled".
	RescheduledFor *time.Time `json:"rescheduled_for,omitempty"`
	// Tasks are what the user must do to fix the connection, such as
	// reconnecting; empty when nothing is asked.
	Tasks []Notice `json:"tasks,omitempty"`
	// Warnings are problems that do not stop the connection from syncing.
	Warnings []Notice `json:"warnings,omitempty"`
}

// Notice is a task or warning Fivetran attaches to a connection.
type Notice struct {
	// Code identifies the kind of notice, for programs to test.
	Code string `json:"code"`
	// Message is a short label for people, such as "Reconnect".
	Message string `json:"message"`
	// Details adds context to Message; empty when there is none.
	Details string `json:"details,omitempty"`
}

// stateRescheduled is the sync_state of a sync Fivetran rescheduled for
// lack of API quota.
const stateRescheduled = "rescheduled"

// LastCompletion is when the connection last finished a sync, failed or
// not (zero when it never did), and whether that sync failed.
func (c *Connection) LastCompletion() (at time.Time, failed bool) {
	if c.SucceededAt != nil {
		at = *c.SucceededAt
	}
	if c.FailedAt != nil && c.FailedAt.After(at) {
		return *c.FailedAt, true
	}
	return at, false
}

// Connection returns one connection.
func (c *Client) Connection(ctx context.Context, id string) (*Connection, error) {
	var x Connection
	return &x, c.do(ctx, http.MethodGet, "/v1/connections/"+url.PathEscape(id), nil, nil, &x)
}

// connections lists the connections of a group ("" for all), page by page.
// A page that repeats a connection already listed, or a next_cursor already
// followed (empty pages whose cursors cycle repeat no connection), ends the
// listing with an error: the server lost its place, and following it would
// list forever.
func (c *Client) connections(ctx context.Context, groupID string) iter.Seq2[Connection, error] {
	return func(yield func(Connection, error) bool) {
		q := url.Values{"limit": {"100"}}
		if groupID != "" {
			q.Set("group_id", groupID)
		}
		listed, followed := map[string]bool{}, map[string]bool{}
		for {
			var page struct {
				Items      []Connection `json:"items"`
				NextCursor string       `json:"next_cursor"`
			}
			if err := c.do(ctx, http.MethodGet, "/v1/connections", q, nil, &page); err != nil {
				yield(Connection{}, err)
				return
			}
			for _, x := range page.Items {
				if listed[x.ID] {
					yield(Connection{}, fmt.Errorf("fivetran: listing connections: the server's next_cursor led back to connection %s, already listed, so the listing would never end; list again later", x.ID))
					return
				}
				listed[x.ID] = true
				if !yield(x, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			if followed[page.NextCursor] {
				yield(Connection{}, fmt.Errorf("fivetran: listing connections: the server gave next_cursor %q a second time, so the listing would never end; list again later", page.NextCursor))
				return
			}
			followed[page.NextCursor] = true
			q.Set("cursor", page.NextCursor)
		}
	}
}

// sync triggers a sync; with force, a running sync is restarted.
func (c *Client) sync(ctx context.Context, id string, force bool) error {
	return c.do(ctx, http.MethodPost, "/v1/connections/"+url.PathEscape(id)+"/sync", nil, map[string]bool{"force": force}, nil)
}

// resync triggers a historical sync of the whole connection (tables nil)
// or of the listed tables, by schema.
func (c *Client) resync(ctx context.Context, id string, tables map[string][]string) error {
	body := map[string]any{}
	if tables != nil {
		body["scope"] = tables
	}
	return c.do(ctx, http.MethodPost, "/v1/connections/"+url.PathEscape(id)+"/resync", nil, body, nil)
}

// setScheduleType sets the schedule: "auto" or "manual".
func (c *Client) setScheduleType(ctx context.Context, id, scheduleType string) (*Connection, error) {
	var x Connection
	return &x, c.do(ctx, http.MethodPatch, "/v1/connections/"+url.PathEscape(id), nil, map[string]string{"schedule_type": scheduleType}, &x)
}

// setPaused pauses or resumes a connection.
func (c *Client) setPaused(ctx context.Context, id string, paused bool) (*Connection, error) {
	var x Connection
	return &x, c.do(ctx, http.MethodPatch, "/v1/connections/"+url.PathEscape(id), nil, map[string]bool{"paused": paused}, &x)
}
