package airbyteapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/internal/httpbody"
	"github.com/x/goairbyte/internal/httpretry"
	"github.com/x/goairbyte/internal/masklease"
	"github.com/x/goairbyte/secrets"
)

// CloudURL is the root of Airbyte Cloud's public API.
const CloudURL = "https://api.airbyte.com/v1"

// cloudConfigURL is the root of Airbyte Cloud's Configuration API.
const cloudConfigURL = "https://cloud.airbyte.com/api/v1"

// Client talks to one Airbyte instance. It is safe for concurrent use.
type Client struct {
	base       string // public API root, no trailing slash
	configBase string // Configuration API root, "" when unknown
	hc         *http.Client
	auth       authenticator
	retry      RetryPolicy
	pageSize   int
}

// Option configures a Client.
type Option func(*settings) error

type settings struct {
	hc         *http.Client
	auth       []authenticator
	retry      *RetryPolicy
	configBase string
	pageSize   int
}

// WithClientCredentials authenticates with an application's client id and
// secret, as Airbyte Cloud and recent self-managed versions expect.
func WithClientCredentials(clientID, clientSecret string) Option {
	return func(s *settings) error {
		if clientID == "" || clientSecret == "" {
			return errors.New("airbyteapi: WithClientCredentials needs both a client id and a client secret")
		}
		s.auth = append(s.auth, &tokenSource{id: clientID, secret: secrets.NewSecretString(clientSecret)})
		return nil
	}
}

// WithBearerToken authenticates with a token obtained elsewhere. The client
// cannot renew it.
func WithBearerToken(token string) Option {
	return func(s *settings) error {
		if token == "" {
			return errors.New("airbyteapi: WithBearerToken needs a token")
		}
		s.auth = append(s.auth, staticAuth("Bearer "+secrets.NewSecretString(token).Reveal()))
		return nil
	}
}

// WithBasicAuth authenticates with a user name and password (self-managed
// instances).
func WithBasicAuth(user, password string) Option {
	return func(s *settings) error {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.SetBasicAuth(user, password)
		h := r.Header.Get("Authorization")
		secrets.Register(strings.TrimPrefix(h, "Basic "), password)
		s.auth = append(s.auth, staticAuth(h))
		return nil
	}
}

// WithHTTPClient sets the HTTP client (default: one with a 60 s timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("airbyteapi: WithHTTPClient(nil)")
		}
		s.hc = hc
		return nil
	}
}

// WithRetry sets the retry policy (default: five retries over about half
// a minute).
func WithRetry(p RetryPolicy) Option {
	return func(s *settings) error {
		if err := p.Check(); err != nil {
			return fmt.Errorf("airbyteapi: %w", err)
		}
		s.retry = &p
		return nil
	}
}

// WithConfigAPIURL sets the root of the Configuration API. Without it the
// client derives it: Airbyte Cloud's for Airbyte Cloud, <host>/api/v1 for a
// root ending in /api/public/v1.
func WithConfigAPIURL(root string) Option {
	return func(s *settings) error {
		if _, err := url.Parse(root); err != nil || root == "" {
			return fmt.Errorf("airbyteapi: configuration API URL %q: not a URL", root)
		}
		s.configBase = strings.TrimRight(root, "/")
		return nil
	}
}

// WithPageSize sets how many items a listing asks for per page (1..100,
// default 100).
func WithPageSize(n int) Option {
	return func(s *settings) error {
		if n < 1 || n > 100 {
			return fmt.Errorf("airbyteapi: page size %d is outside 1..100", n)
		}
		s.pageSize = n
		return nil
	}
}

// RetryPolicy says how often and how patiently a failed request is retried.
type RetryPolicy = httpretry.Policy

// New returns a client for the public API rooted at baseURL (CloudURL, or
// http://host:8000/api/public/v1 for a self-managed instance). Exactly one
// way to authenticate may be given; with none, requests go unauthenticated
// (some self-managed instances allow that).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("airbyteapi: %q is not an absolute URL", baseURL)
	}
	var s settings
	for _, o := range opts {
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	if len(s.auth) > 1 {
		return nil, errors.New("airbyteapi: give at most one of WithClientCredentials, WithBearerToken and WithBasicAuth")
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: s.hc, retry: httpretry.Default, pageSize: 100}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 60 * time.Second}
	}
	if s.retry != nil {
		c.retry = *s.retry
	}
	if s.pageSize > 0 {
		c.pageSize = s.pageSize
	}
	c.configBase = s.configBase
	if c.configBase == "" {
		c.configBase = deriveConfigURL(c.base)
	}
	if len(s.auth) == 1 {
		c.auth = s.auth[0]
		if ts, ok := c.auth.(*tokenSource); ok {
			ts.c = c
		}
	}
	return c, nil
}

// deriveConfigURL guesses the Configuration API root from the public one,
// as PyAirbyte does.
func deriveConfigURL(base string) string {
	switch {
	case base == CloudURL:
		return cloudConfigURL
	case strings.HasSuffix(base, "/api/public/v1"):
		return strings.TrimSuffix(base, "/public/v1") + "/v1"
	}
	return ""
}

// authenticator sets the Authorization header of a request.
type authenticator interface {
	header(ctx context.Context) (string, error)
	// invalidate drops a token the server refused; it reports whether a
	// new one can be had.
	invalidate(refused string) bool
}

type staticAuth string

func (a staticAuth) header(context.Context) (string, error) { return string(a), nil }
func (a staticAuth) invalidate(string) bool                 { return false }

// tokenSource exchanges client credentials for bearer tokens and renews
// them: RenewBefore ahead of their expiry, or when the server refuses one.
type tokenSource struct {
	id     string
	secret secrets.SecretString
	c      *Client

	mu      sync.Mutex
	token   string
	expires time.Time
	// held releases the masking of the current token ([0]) and of the one
	// before it ([1]). A token is masked only while it may still be
	// printed: the current one, and the previous one, which a request
	// being retried or an error being written may still hold. The one
	// before that is released, so a client renewing a token every 2.5
	// minutes for days does not grow the process's set of masked values
	// (and the cost of each masked line) without bound. By then it has
	// expired or the server has refused it, unless tokens live less than
	// renewBefore.
	held [2]func()
}

// renewBefore is how long before its announced expiry a token is renewed:
// tokens live three minutes, so a request never starts with a token in its
// last 30 seconds.
const renewBefore = 30 * time.Second

func (t *tokenSource) header(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && time.Until(t.expires) > renewBefore {
		return "Bearer " + t.token, nil
	}
	body := map[string]string{"client_id": t.id, "client_secret": t.secret.Reveal(), "grant_type": "client_credentials"}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	// The token request creates nothing: it is safe to retry.
	if err := t.c.do(ctx, call{method: http.MethodPost, url: t.c.base + "/applications/token", body: body, noAuth: true, idempotent: true}, &out); err != nil {
		return "", fmt.Errorf("airbyteapi: getting an access token with client id %s: %w", t.id, err)
	}
	if out.AccessToken == "" {
		return "", errors.New("airbyteapi: the token endpoint answered without an access_token")
	}
	release := masklease.Hold(out.AccessToken)
	if t.held[1] != nil {
		t.held[1]()
	}
	t.held = [2]func(){release, t.held[0]}
	t.token = out.AccessToken
	t.expires = time.Now().Add(time.Duration(out.ExpiresIn) * time.Second)
	return "Bearer " + t.token, nil
}

func (t *tokenSource) invalidate(refused string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if "Bearer "+t.token == refused {
		t.token = ""
	}
	return true
}

// call is one API request.
type call struct {
	method string
	url    string
	query  url.Values
	body   any
	// idempotent calls are retried on any retryable failure; the others
	// only when the server cannot have acted.
	idempotent bool
	noAuth     bool
	// recover, for a create, looks for what the call would have created
	// after an ambiguous failure; it reports whether it found it (and
	// filled the result).
	recover func(ctx context.Context) (bool, error)
}

// mayRepeat reports whether the call may be sent again after a failure the
// server may have acted on: an idempotent call may; a create only when its
// recover did not find what it would have created. A false return with a
// recover set means it was found and the result filled.
func (cl call) mayRepeat(ctx context.Context) bool {
	if cl.idempotent {
		return true
	}
	if cl.recover == nil {
		return false
	}
	found, err := cl.recover(ctx)
	return err != nil || !found // not created: sending again cannot duplicate it
}

// do runs c with retries and decodes a 2xx answer into out (when not nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("airbyteapi: encoding the %s %s request: %w", cl.method, cl.url, err)
		}
	}
	u := cl.url
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	reauthed := false
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, cl, u, body)
		var retryAfter time.Duration
		retry := false
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if af, ok := err.(*authFailure); ok {
				// The token request was retried as it needed: its failure
				// (refused credentials, an unreachable server) is the
				// answer, not a lost answer of this request to retry.
				return af.err
			}
			err = &networkError{Method: cl.method, URL: u, Err: err}
			if httpretry.RefusedBeforeSending(err) {
				retry = true
			} else if retry = cl.mayRepeat(ctx); !retry && cl.recover != nil {
				return nil // found what the lost answer was about
			}
		case resp.StatusCode == http.StatusUnauthorized && c.auth != nil && !cl.noAuth && !reauthed:
			resp.Body.Close()
			if c.auth.invalidate(resp.Request.Header.Get("Authorization")) {
				reauthed = true
				attempt--
				continue
			}
			err = c.apiError(cl.method, u, resp)
		case resp.StatusCode == http.StatusTooManyRequests:
			retryAfter = httpretry.RetryAfter(resp.Header.Get("Retry-After"))
			err = c.apiError(cl.method, u, resp)
			retry = true // refused before it was acted on
		case resp.StatusCode >= 500:
			err = c.apiError(cl.method, u, resp)
			if retry = cl.mayRepeat(ctx); !retry && cl.recover != nil {
				return nil
			}
		case resp.StatusCode >= 300:
			return c.apiError(cl.method, u, resp)
		default:
			raw, rerr := httpbody.Read(resp.Body, httpbody.MaxAPIAnswer)
			resp.Body.Close()
			var tooLarge *httpbody.TooLargeError
			switch {
			case rerr == nil && out == nil:
				return nil
			case rerr == nil:
				if err := json.Unmarshal(raw, out); err != nil {
					return fmt.Errorf("airbyteapi: decoding the answer to %s %s: %w", cl.method, u, err)
				}
				return nil
			case errors.As(rerr, &tooLarge):
				return fmt.Errorf("airbyteapi: reading the answer to %s %s: %w", cl.method, u, rerr)
			case ctx.Err() != nil:
				return ctx.Err()
			}
			// The answer was cut off: the call was acted on, but its
			// result is lost, as when the connection drops after sending.
			err = &networkError{Method: cl.method, URL: u, Err: fmt.Errorf("the answer was cut off: %w", rerr)}
			if retry = cl.mayRepeat(ctx); !retry && cl.recover != nil {
				return nil
			}
		}
		if !retry || attempt >= c.retry.MaxAttempts {
			return secrets.MaskError(err)
		}
		if err := httpretry.Sleep(ctx, c.retry.Backoff(attempt, retryAfter)); err != nil {
			return err
		}
	}
}

// send makes one HTTP exchange.
func (c *Client) send(ctx context.Context, cl call, u string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != nil && !cl.noAuth {
		h, err := c.auth.header(ctx)
		if err != nil {
			return nil, &authFailure{err}
		}
		req.Header.Set("Authorization", h)
	}
	return c.hc.Do(req)
}

// apiError reads a non-2xx answer into an *APIError and closes its body.
func (c *Client) apiError(method, u string, resp *http.Response) error {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	msg := strings.TrimSpace(string(b))
	var m struct {
		Message string `json:"message"`
		Detail  string `json:"detail"`
		Title   string `json:"title"`
	}
	if json.Unmarshal(b, &m) == nil {
		for _, s := range []string{m.Detail, m.Message, m.Title} {
			if s != "" {
				msg = s
				break
			}
		}
	}
	return &APIError{Method: method, URL: u, Status: resp.StatusCode, Message: secrets.Mask(msg)}
}
