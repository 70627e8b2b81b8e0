package declarative

import (
	"context"
	"encoding/base64"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// Authenticators add credentials to requests (auth in the CDK). The
// contract of an authenticator:
//
//   - options returns what it injects into a request: headers, query
//     parameters, form-body or JSON-body fields. It may perform requests
//     of its own (an OAuth refresh, a session login) through rc, which
//     also receives the secrets it obtains, so that they are masked;
//   - retryHeaders returns the headers it sets again before a request is
//     retried: the CDK's HTTP client calls the session's auth hook before
//     each retry, which asks for the token again (a session login without
//     expiration logs in again, an expired OAuth token is refreshed);
//   - it is built once per connector and safe for concurrent use: tokens
//     it caches are guarded.
type authenticator interface {
	options(ctx context.Context, rc *readContext, v *vars) (requestOptions, error)
	retryHeaders(ctx context.Context, rc *readContext, v *vars) ([]entry, error)
}

// noAuth is NoAuth.
type noAuth struct{}

func (noAuth) options(context.Context, *readContext, *vars) (requestOptions, error) {
	return requestOptions{}, nil
}

func (noAuth) retryHeaders(context.Context, *readContext, *vars) ([]entry, error) { return nil, nil }

// tokenProvider yields the token an ApiKey or Bearer authenticator sends.
type tokenProvider interface {
	token(ctx context.Context, rc *readContext, v *vars) (string, error)
}

// templateToken is InterpolatedStringTokenProvider: str() of a template.
type templateToken struct{ t *tmpl }

func (p templateToken) token(_ context.Context, _ *readContext, v *vars) (string, error) {
	return p.t.evalStr(v)
}

// apiKeyAuth is ApiKeyAuthenticator: the token under a field name in a
// header, query parameter or body.
type apiKeyAuth struct {
	option   *requestOption
	provider tokenProvider
	fetches  int // how many times the CDK asks for the token per request
}

func (a *apiKeyAuth) options(ctx context.Context, rc *readContext, v *vars) (requestOptions, error) {
	var o requestOptions
	tok, err := fetchToken(ctx, rc, v, a.provider, a.fetches)
	if err != nil {
		return o, err
	}
	err = a.option.injectInto(&o, tok, v)
	return o, err
}

// retryHeaders is the hook's header: the CDK asks for the token twice (the
// header's name, then its value) when the key goes in a header, and sets
// nothing otherwise.
func (a *apiKeyAuth) retryHeaders(ctx context.Context, rc *readContext, v *vars) ([]entry, error) {
	if a.option.into != injectHeader {
		return nil, nil
	}
	tok, err := fetchToken(ctx, rc, v, a.provider, 2)
	if err != nil {
		return nil, err
	}
	var o requestOptions
	err = a.option.injectInto(&o, tok, v)
	return o.headers, err
}

// fetchToken asks the provider n times, keeping the last token.
func fetchToken(ctx context.Context, rc *readContext, v *vars, p tokenProvider, n int) (string, error) {
	var tok string
	var err error
	for i := 0; i < max(n, 1); i++ {
		if tok, err = p.token(ctx, rc, v); err != nil {
			return "", err
		}
	}
	return tok, nil
}

// bearerAuth is BearerAuthenticator.
type bearerAuth struct {
	provider tokenProvider
	fetches  int
}

func (a *bearerAuth) options(ctx context.Context, rc *readContext, v *vars) (requestOptions, error) {
	tok, err := fetchToken(ctx, rc, v, a.provider, a.fetches)
	if err != nil {
		return requestOptions{}, err
	}
	return requestOptions{headers: []entry{{"Authorization", "Bearer " + tok}}}, nil
}

func (a *bearerAuth) retryHeaders(ctx context.Context, rc *readContext, v *vars) ([]entry, error) {
	tok, err := a.provider.token(ctx, rc, v)
	if err != nil {
		return nil, err
	}
	return []entry{{"Authorization", "Bearer " + tok}}, nil
}

// basicAuth is BasicHttpAuthenticator.
type basicAuth struct{ username, password *tmpl }

func (a *basicAuth) options(_ context.Context, rc *readContext, v *vars) (requestOptions, error) {
	u, err := a.username.evalStr(v)
	if err != nil {
		return requestOptions{}, err
	}
	p := ""
	if a.password != nil {
		if p, err = a.password.evalStr(v); err != nil {
			return requestOptions{}, err
		}
	}
	enc := base64.StdEncoding.EncodeToString([]byte(u + ":" + p))
	if rc != nil {
		rc.addSecret(enc)
	}
	return requestOptions{headers: []entry{{"Authorization", "Basic " + enc}}}, nil
}

func (a *basicAuth) retryHeaders(ctx context.Context, rc *readContext, v *vars) ([]entry, error) {
	o, err := a.options(ctx, rc, v)
	return o.headers, err
}

// selectiveAuth is SelectiveAuthenticator: the config value at a path
// chooses one of several authenticators.
type selectiveAuth struct {
	path    []*tmpl
	choices map[string]authenticator
}

func (a *selectiveAuth) options(ctx context.Context, rc *readContext, v *vars) (requestOptions, error) {
	chosen, err := a.choose(v)
	if err != nil {
		return requestOptions{}, err
	}
	return chosen.options(ctx, rc, v)
}

func (a *selectiveAuth) retryHeaders(ctx context.Context, rc *readContext, v *vars) ([]entry, error) {
	chosen, err := a.choose(v)
	if err != nil {
		return nil, err
	}
	return chosen.retryHeaders(ctx, rc, v)
}

// choose follows the selection path through the config.
func (a *selectiveAuth) choose(v *vars) (authenticator, error) {
	cur := v.config
	for _, p := range a.path {
		k, err := p.evalStr(v)
		if err != nil {
			return nil, err
		}
		next, ok := dictGet(cur, k)
		if !ok {
			return nil, errString("The path from `authenticator_selection_path` is not found in the config.")
		}
		cur = next
	}
	key := interpolation.Str(cur)
	chosen, ok := a.choices[key]
	if !ok {
		return nil, errString("The authenticator `" + key + "` is not found.")
	}
	return chosen, nil
}
