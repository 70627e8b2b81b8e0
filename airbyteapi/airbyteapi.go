// Package airbyteapi connects to an Airbyte instance: Airbyte Cloud's API
// ([CloudURL]) or a self-managed one's (<host>/api/public/v1). A [Client]
// holds the root, the credentials and the transport; packages cloud,
// connections and watch do the work through it.
//
//	client, err := airbyteapi.New(airbyteapi.CloudURL,
//		airbyteapi.WithClientCredentials(clientID, clientSecret))
//	ws := cloud.NewWorkspace(client, workspaceID)
//
// Credentials are client credentials (exchanged for a bearer token that
// lives three minutes; the client renews it before it expires and once
// more when the server answers 401) or a fixed bearer token. Requests that
// fail with 429, a 5xx status or a network error are retried with
// exponential backoff and full jitter, honouring Retry-After; a request
// that creates something is never repeated blind: after an ambiguous
// failure the client first looks for what it would have created.
//
// Errors of the server match [ErrNotFound], [ErrConflict] and
// [ErrUnauthorized] with errors.Is; a Configuration API call (a
// connector's spec, a failed job's reasons) whose root the client cannot
// derive fails with an error matching [ErrNoConfigAPI]. Secrets never
// appear in errors.
package airbyteapi

import (
	"net/http"
	"time"

	"github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/httpretry"
)

// CloudURL is the root of Airbyte Cloud's public API.
const CloudURL = airbyteapi.CloudURL

// Client is a connection to one Airbyte instance, for cloud.NewWorkspace,
// connections.New and watch.Airbyte. It is safe for concurrent use.
type Client airbyteapi.Client

// Option configures a Client.
type Option struct{ o airbyteapi.Option }

// New returns a client for the public API rooted at baseURL (CloudURL, or
// http://host:8000/api/public/v1 for a self-managed instance). At most one
// way to authenticate may be given; with none, requests go unauthenticated
// (some self-managed instances allow that).
func New(baseURL string, opts ...Option) (*Client, error) {
	raw := make([]airbyteapi.Option, len(opts))
	for i, o := range opts {
		raw[i] = o.o
	}
	c, err := airbyteapi.New(baseURL, raw...)
	return (*Client)(c), err
}

// WithClientCredentials authenticates with an application's client id and
// secret, as Airbyte Cloud and recent self-managed versions expect.
func WithClientCredentials(clientID, clientSecret string) Option {
	return Option{airbyteapi.WithClientCredentials(clientID, clientSecret)}
}

// WithBearerToken authenticates with a token obtained elsewhere. The client
// cannot renew it.
func WithBearerToken(token string) Option { return Option{airbyteapi.WithBearerToken(token)} }

// WithHTTPClient sets the HTTP client (default: one with a 60 s timeout).
func WithHTTPClient(hc *http.Client) Option { return Option{airbyteapi.WithHTTPClient(hc)} }

// RetryPolicy says how often and how patiently a failed request is
// retried. A request that met a network error, a 429 or a 5xx is sent
// again when that cannot do a thing twice (a create only when the server
// cannot have acted on it), after an exponential backoff with full jitter
// that waits at least what a Retry-After header asks and never longer than
// MaxDelay. New fails on a policy with MaxAttempts < 1, BaseDelay <= 0 or
// MaxDelay < BaseDelay.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included.
	MaxAttempts int
	// BaseDelay is the first backoff; it doubles with every attempt.
	BaseDelay time.Duration
	// MaxDelay caps a backoff, Retry-After's included.
	MaxDelay time.Duration
}

// WithRetry sets the retry policy (default: five retries over about half
// a minute).
func WithRetry(p RetryPolicy) Option {
	return Option{airbyteapi.WithRetry(httpretry.Policy(p))}
}

// WithConfigAPIURL sets the root of the Configuration API. Without it the
// client derives it: Airbyte Cloud's for Airbyte Cloud, <host>/api/v1 for a
// root ending in /api/public/v1.
func WithConfigAPIURL(root string) Option { return Option{airbyteapi.WithConfigAPIURL(root)} }

// Sentinel errors the server's answers match with errors.Is.
var (
	// ErrNotFound: the object does not exist (HTTP 404).
	ErrNotFound = airbyteapi.ErrNotFound
	// ErrConflict: the request conflicts with the object's state, such as
	// a sync started while another runs (HTTP 409).
	ErrConflict = airbyteapi.ErrConflict
	// ErrUnauthorized: the credentials were refused (HTTP 401 or 403).
	ErrUnauthorized = airbyteapi.ErrUnauthorized
	// ErrNoConfigAPI: a call needs the Configuration API, whose root the
	// client cannot derive from the public API's (one that does not end in
	// /api/public/v1, such as behind a proxy); WithConfigAPIURL gives it.
	ErrNoConfigAPI = airbyteapi.ErrNoConfigAPI
)
