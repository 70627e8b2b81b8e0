package declarative

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/protocol"
)

// oauthAuth is OAuthAuthenticator: a Bearer token obtained from a token
// endpoint (refresh_token or client_credentials grant) and kept until it
// expires. Each authenticator keeps its own token per read, as each CDK
// component instance does. It is the token provider of a bearerAuth that
// asks for the token twice per request, as the CDK does (the requester's
// headers, then the session's auth hook): an expired token is refreshed
// at each ask.
type oauthAuth struct {
	endpoint                          *tmpl
	clientIDName, clientID            *tmpl
	clientSecretName, clientSecret    *tmpl
	refreshTokenName, refreshToken    *tmpl
	accessTokenName, expiresInName    *tmpl
	grantTypeName, grantType          *tmpl
	scopes                            []string
	body, headers                     *tmplMapping
	accessTokenValue, tokenExpiryDate *tmpl
	expiryDateFormat                  string
	send                              *sender
}

// tokenState is one authenticator's token during one read.
type tokenState struct {
	mu      sync.Mutex
	started bool
	token   string
	expires time.Time
}

func (a *oauthAuth) token(ctx context.Context, rc *readContext, v *vars) (string, error) {
	if a.endpoint == nil && a.accessTokenValue != nil {
		return a.accessTokenValue.evalStr(v)
	}
	st := rc.tokenState(a)
	st.mu.Lock()
	defer st.mu.Unlock()
	now := rc.src.opts.now()
	if !st.started {
		// The manifest's access_token_value and token_expiry_date are the
		// token to use until that date (by default, a day ago: expired).
		st.started = true
		if err := a.initialToken(st, v, now); err != nil {
			return "", err
		}
	}
	if st.token != "" && !now.After(st.expires) {
		return st.token, nil
	}
	tok, expires, err := a.refresh(ctx, rc, v, now)
	if err != nil {
		return "", err
	}
	st.token, st.expires = tok, expires
	return tok, nil
}

// initialToken sets the token an authenticator starts with.
func (a *oauthAuth) initialToken(st *tokenState, v *vars, now time.Time) error {
	st.expires = now.Add(-24 * time.Hour)
	if a.accessTokenValue != nil {
		tok, err := a.accessTokenValue.evalStr(v)
		if err != nil {
			return err
		}
		st.token = tok
	}
	if a.tokenExpiryDate != nil {
		s, err := a.tokenExpiryDate.evalStr(v)
		if err != nil {
			return err
		}
		if s != "" {
			t, err := parseAirbyteDatetime(s)
			if err != nil {
				return fmt.Errorf("Invalid token expiry date format: %w", err)
			}
			st.expires = t
		}
	}
	return nil
}

// refresh posts the token request and reads the token and its expiry.
func (a *oauthAuth) refresh(ctx context.Context, rc *readContext, v *vars, now time.Time) (string, time.Time, error) {
	endpoint, err := a.endpoint.evalStr(v)
	if err != nil {
		return "", time.Time{}, err
	}
	if endpoint == "" {
		return "", time.Time{}, errString("OAuthAuthenticator was unable to evaluate token_refresh_endpoint parameter")
	}
	var form []entry
	add := func(name *tmpl, value *tmpl, required string) error {
		n, err := name.evalStr(v)
		if err != nil {
			return err
		}
		if value == nil {
			return nil
		}
		val, err := value.evalStr(v)
		if err != nil {
			return err
		}
		if val == "" && required != "" {
			return errString("OAuthAuthenticator was unable to evaluate " + required + " parameter")
		}
		form = append(form, entry{n, val})
		return nil
	}
	for _, f := range []struct {
		name, value *tmpl
		required    string
	}{
		{a.grantTypeName, a.grantType, ""},
		{a.clientIDName, a.clientID, "client_id"},
		{a.clientSecretName, a.clientSecret, "client_secret"},
		{a.refreshTokenName, a.refreshToken, ""},
	} {
		if err := add(f.name, f.value, f.required); err != nil {
			return "", time.Time{}, err
		}
	}
	form, err = a.finishForm(rc, form, v)
	if err != nil {
		return "", time.Time{}, err
	}
	body, err := a.post(ctx, rc, v, endpoint, form)
	if err != nil {
		return "", time.Time{}, err
	}
	name, err := a.accessTokenName.evalStr(v)
	if err != nil {
		return "", time.Time{}, err
	}
	tokVal, ok := findKey(body, name, 0)
	if !ok || !interpolation.Truthy(tokVal) {
		return "", time.Time{}, &oauthError{Endpoint: rc.mask.text(endpoint), Err: fmt.Errorf("Token refresh API response was missing access token %s", name)}
	}
	tok := interpolation.Str(tokVal)
	rc.addSecret(tok)
	expName, err := a.expiresInName.evalStr(v)
	if err != nil {
		return "", time.Time{}, err
	}
	expVal, _ := findKey(body, expName, 0)
	expires, err := a.expiry(expVal, now)
	if err != nil {
		return "", time.Time{}, &oauthError{Endpoint: rc.mask.text(endpoint), Err: err}
	}
	return tok, expires, nil
}

// finishForm adds the scopes and refresh_request_body to the OAuth fields
// of a refresh request (build_refresh_request_body: a body key the OAuth
// fields already set is not overridden). The OAuth fields' values are
// secrets.
func (a *oauthAuth) finishForm(rc *readContext, form []entry, v *vars) ([]entry, error) {
	for _, e := range form {
		rc.addSecret(interpolation.Str(e.val))
	}
	if len(a.scopes) > 0 {
		l := make([]value, len(a.scopes))
		for i, s := range a.scopes {
			l[i] = s
		}
		form = append(form, entry{"scopes", l})
	}
	extra, err := a.body.evalNonNull(v)
	if err != nil {
		return nil, err
	}
	for _, e := range extra {
		if !hasKey(form, e.key) {
			form = append(form, e)
		}
	}
	return form, nil
}

// post sends a refresh request and returns its decoded body.
func (a *oauthAuth) post(ctx context.Context, rc *readContext, v *vars, endpoint string, form []entry) (value, error) {
	headers, err := a.headers.evalNonNull(v)
	if err != nil {
		return nil, err
	}
	u, err := prepareURL(endpoint, "")
	if err == nil {
		headers, err = urlBasicAuth(u, headers)
	}
	if err != nil {
		return nil, &oauthError{Endpoint: rc.mask.text(endpoint), Err: errString(rc.mask.text(err.Error()))}
	}
	req := &outRequest{method: "POST", url: u, headers: headers,
		body: []byte(urlencode(form)), ctype: "application/x-www-form-urlencoded"}
	resp, _, err := a.send.send(ctx, rc, req, v)
	if err != nil {
		return nil, &oauthError{Endpoint: rc.mask.text(endpoint), Err: err}
	}
	body, err := resp.decode()
	if err != nil {
		return nil, &oauthError{Endpoint: rc.mask.text(endpoint), Err: err}
	}
	return body, nil
}

// expiry reads expires_in (seconds) or, with a token_expiry_date_format,
// the time of expiration. The CDK 6.31.1 reads that time with
// ab_datetime_parse(str(value)), not with the format (which manifests
// write in pendulum's tokens, as source-square's "YYYY-MM-DDTHH:mm:ss[Z]").
func (a *oauthAuth) expiry(v value, now time.Time) (time.Time, error) {
	s := interpolation.Str(v)
	if a.expiryDateFormat != "" {
		t, err := parseAirbyteDatetime(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("Invalid token expiry date format: %w", err)
		}
		return t, nil
	}
	// int(float(str(value))): Python's float strips blanks, and int of a
	// NaN fails as a string that is no number does.
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) {
		return time.Time{}, fmt.Errorf("Invalid expires_in value: %s. Expected number of seconds when no format specified.", s)
	}
	return addSeconds(now, f)
}

// addSeconds is the CDK's now + timedelta(seconds=int(n)) for a token's
// lifetime. A Duration holds only 292 years: an expires_in of 1e10 (an API's
// "never") wrapped around to a token already expired, refreshed at every
// request, and -1e10 to one that never expired. Python holds any date from
// the year 1 to 9999 and fails past it (OverflowError); so does addSeconds,
// saying why.
func addSeconds(now time.Time, n float64) (time.Time, error) {
	n = math.Trunc(n)
	at := float64(now.Unix()) + n
	if math.IsNaN(at) || at < float64(minDatetime.Unix()) || at > float64(maxDatetime.Unix()) {
		return time.Time{}, fmt.Errorf("the token endpoint's expires_in of %v seconds puts the token's expiry outside the years 1 to 9999; the CDK fails on it too: check the token endpoint's answer", n)
	}
	return time.Unix(int64(at), int64(now.Nanosecond())).In(now.Location()), nil
}

// minDatetime and maxDatetime are the range of Python's datetime.
var (
	minDatetime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDatetime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

func hasKey(es []entry, k string) bool {
	for _, e := range es {
		if e.key == k {
			return true
		}
	}
	return false
}

// findKey finds a key in a response, at the top or nested up to five
// levels (the CDK's _find_and_get_value_from_response).
func findKey(v value, key string, depth int) (value, bool) {
	if depth > 5 {
		return nil, false
	}
	switch x := v.(type) {
	case *dict:
		if val, ok := x.Get(key); ok {
			return val, true
		}
		for _, e := range x.All() {
			if val, ok := findKey(e, key, depth+1); ok {
				return val, true
			}
		}
	case []value:
		for _, e := range x {
			if val, ok := findKey(e, key, depth+1); ok {
				return val, true
			}
		}
	}
	return nil, false
}

// oauthError is a failed OAuth token refresh.
type oauthError struct {
	// Endpoint is the token endpoint (masked).
	Endpoint string
	// Err is what failed.
	Err error
}

// Error names the endpoint and the failure.
func (e *oauthError) Error() string {
	return "Error while refreshing access token at " + e.Endpoint + ": " + e.Err.Error()
}

// Unwrap returns the failure.
func (e *oauthError) Unwrap() error { return e.Err }

// failureType is config_error: the credentials are wrong or expired.
func (e *oauthError) failureType() protocol.FailureType { return protocol.FailureConfig }

// sessionTokenProvider is SessionTokenProvider: a token read from the
// response of a login request, kept for expiration_duration (without one,
// the CDK logs in again every time it needs the token).
type sessionTokenProvider struct {
	login    *httpRequester
	path     []string
	duration *interpolation.Duration
}

func (p *sessionTokenProvider) token(ctx context.Context, rc *readContext, v *vars) (string, error) {
	st := rc.tokenState(p)
	st.mu.Lock()
	defer st.mu.Unlock()
	now := rc.src.opts.now()
	if st.token != "" && p.duration != nil && !st.expires.Before(now) {
		return st.token, nil
	}
	lv := rc.vars()
	req, err := p.login.build(ctx, rc, lv, nil, requestOptions{})
	if err != nil {
		return "", err
	}
	resp, ignored, err := p.login.send.send(ctx, rc, req, lv)
	if err != nil {
		return "", err
	}
	if ignored {
		return "", errString("Failed to get session token, response got ignored by requester")
	}
	bodies, err := decodeBody(resp)
	if err != nil {
		return "", err
	}
	tok, ok := pathGet(bodies[0], p.path)
	if !ok || tok == nil {
		return "", errString("Failed to get session token, token is None")
	}
	st.token = interpolation.Str(tok)
	rc.addSecret(st.token)
	if p.duration != nil {
		if st.expires, err = p.duration.AddTo(now); err != nil {
			return "", err
		}
	}
	return st.token, nil
}
