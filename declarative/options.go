package declarative

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Option configures a Source at construction.
type Option func(*options) error

type options struct {
	client *http.Client
	now    func() time.Time
	logger *slog.Logger
	// sleep waits between retries; tests replace it to keep the recorded
	// backoffs from taking real time.
	sleep func(ctx context.Context, d time.Duration) error
	// maxBody is the most the engine reads of one response; tests lower
	// it from maxResponseBody.
	maxBody int64
	// stallTimeout is how long a response may send nothing (headers or
	// body) before the request is given up on; tests lower it from
	// defaultStallTimeout.
	stallTimeout time.Duration
	// maxPartitions is how many partitions a per-partition cursor keeps;
	// tests lower it from defaultMaxPartitions.
	maxPartitions int
	// tracer, when set, sees every record with its partition's label.
	tracer tracer
}

// WithHTTPClient sets the client used for every request the connector
// makes, OAuth token refreshes and session logins included; its transport,
// jar, timeout and CheckRedirect are honoured, while a redirect to another
// origin drops the headers the manifest set (see the package doc). The default is
// a client over a transport like http.DefaultTransport (HTTPS_PROXY and the
// system's CAs honoured), one that every Source built without this option
// shares, keeping up to 256 idle connections to a host. Its transport sees each URL as the CDK encodes it, with the path
// decoded in URL.Path (URL.EscapedPath and URL.String give the bytes sent),
// and sends it in origin form ("GET /path?query"), as requests does.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("declarative: WithHTTPClient(nil)")
		}
		o.client = c
		return nil
	}
}

// WithClock sets the clock behind now_utc(), today_utc() and every date
// window. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("declarative: WithClock(nil)")
		}
		o.now = now
		return nil
	}
}

// WithLogger sets where the engine logs (requests, retries, slices). The
// default discards everything: the library is silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("declarative: WithLogger(nil)")
		}
		o.logger = l
		return nil
	}
}

// sharedTransport is the transport of the Sources given no client. It is
// one for all of them, as http.DefaultTransport is for a program's
// clients: a program that builds a Source per sync (the in-process
// source-declarative-manifest builds one per command) reuses connections
// across them, and a Source it drops leaves none open beyond the pool's
// idle limits. With one transport each, every Source dropped kept its
// idle connections, and a goroutine per connection, for 90 seconds.
//
// Its pool keeps up to maxIdlePerHost idle connections to each host, where
// http.DefaultTransport keeps 2: a service reading one API for many
// customers at once put back more connections than 2 after each round of
// requests, closed the rest and dialled again, so that 100 concurrent reads
// of 20 pages opened 1,149 connections for 2,000 requests, and 200 reads
// 2,845 for 4,000, each closed one left in TIME_WAIT.
var sharedTransport = sync.OnceValue(func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdlePerHost
	t.MaxIdleConns = maxIdle
	return t
})

// maxIdlePerHost is how many idle connections the shared transport keeps to
// one host, and maxIdle to all hosts together; past its IdleConnTimeout
// (90 s) an idle connection is closed whatever these say.
const (
	maxIdlePerHost = 256
	maxIdle        = 1024
)

func buildOptions(opts []Option) (options, error) {
	o := options{now: time.Now, sleep: sleepCtx, maxBody: maxResponseBody, stallTimeout: defaultStallTimeout, maxPartitions: defaultMaxPartitions}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	if o.client == nil {
		o.client = &http.Client{Transport: sharedTransport()}
	}
	o.client = guardRedirects(o.client)
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
