// Package airbyteapi is a small, hand-written client for the Airbyte API:
// the public API of Airbyte Cloud (https://api.airbyte.com/v1) and of
// self-managed Airbyte (<host>/api/public/v1), plus the two calls of the
// older Configuration API that the public one lacks (a connector's spec and
// a job's failure reasons).
//
// It is the machinery behind the public packages: package
// github.com/x/goairbyte/airbyteapi hands users an opaque Client (this
// Client under another name, converted with (*airbyteapi.Client)(c)), and
// cloud, connections and watch make their calls through this one.
//
// It covers what orchestration and connections-as-code need: workspaces,
// connector definitions, sources, destinations, connections (streams with
// sync modes, cursor, primary key, selected fields; schedule; prefix;
// namespace; status) and jobs (sync, reset, refresh, clear; get, list,
// cancel).
//
//	c, err := airbyteapi.New(airbyteapi.CloudURL,
//		airbyteapi.WithClientCredentials(clientID, clientSecret))
//	job, err := c.CreateJob(ctx, connectionID, airbyteapi.JobTypeSync)
//
// # Behaviour on the wire
//
// Credentials are client credentials (exchanged at POST /applications/token
// for a bearer token that lives three minutes; the client renews it before it
// expires and once more when the server answers 401), a fixed bearer token, or
// basic auth (self-managed).
//
// Requests that fail with 429, a 5xx status or a network error are retried
// with exponential backoff and full jitter, honouring Retry-After. A request
// that creates something (a source, a job, ...) is never retried blind: it is
// retried only when the server cannot have acted on it (a refused connection,
// a 429); after any other failure the client first looks for what the
// request would have created and returns that when it is there.
//
// Listings are iterators ([iter.Seq2]) that fetch page after page as the
// loop asks for more.
//
// Errors from the server are [*APIError] values; errors.Is matches them
// against [ErrNotFound], [ErrConflict] and [ErrUnauthorized]. A
// Configuration API call whose root the client could not derive from the
// public API's (see [WithConfigAPIURL]) fails with an error matching
// [ErrNoConfigAPI]. Secrets never appear in errors: the client masks its
// credentials with package secrets.
package airbyteapi
