package declarative

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/protocol"
)

// rotatingOAuth is an OAuthAuthenticator with a refresh_token_updater: the
// API hands out a new refresh token with each access token and the old one
// stops working, so the tokens live in the config, which the connector
// updates and reports (the CDK's SingleUseRefreshTokenOauth2Authenticator):
//
//   - the access token, its expiry date and the refresh token are read
//     from the config at the updater's paths (by default under
//     "credentials"); an expiry date that is missing means expired;
//   - when the token has expired, the refresh request sends the config's
//     refresh token; the response's access token, expiry (expires_in
//     seconds from now, or a date with token_expiry_date_format) and new
//     refresh token are written to the config at their paths;
//   - the whole updated config is then reported: a CONTROL
//     CONNECTOR_CONFIG message during Read (the CDK prints it) and
//     CheckEmit;
//   - every authenticator of the read shares that config, so a token one
//     stream obtained serves the others.
type rotatingOAuth struct {
	*oauthAuth
	refreshName                         string
	accessPath, refreshPath, expiryPath []string
	// errCodes, errKey and errValues recognise a response saying the
	// refresh token is no longer valid: a config error.
	errCodes  map[int]bool
	errKey    string
	errValues map[string]bool
}

// token is get_access_token: the config's access token, refreshed first
// when the config's expiry date has passed.
func (a *rotatingOAuth) token(ctx context.Context, rc *readContext, v *vars) (string, error) {
	rc.rotationMu.Lock()
	defer rc.rotationMu.Unlock()
	cfg := rc.currentConfig()
	now := rc.src.opts.now()
	expiry, err := a.expiry(cfg, now)
	if err != nil {
		return "", err
	}
	if now.After(expiry) {
		if cfg, err = a.rotate(ctx, rc, v, cfg, now); err != nil {
			return "", err
		}
	}
	tok, _ := pathGet(cfg, a.accessPath)
	if tok == nil {
		return "", nil
	}
	return interpolation.Str(tok), nil
}

// expiry is get_token_expiry_date: the config's date, or a day ago when it
// has none.
func (a *rotatingOAuth) expiry(cfg value, now time.Time) (time.Time, error) {
	v, ok := pathGet(cfg, a.expiryPath)
	if !ok || v == "" {
		return now.Add(-24 * time.Hour), nil
	}
	return parseAirbyteDatetime(v)
}

// rotate posts the refresh request and writes the new tokens into a copy
// of the config, which becomes the read's config and is reported.
func (a *rotatingOAuth) rotate(ctx context.Context, rc *readContext, v *vars, cfg value, now time.Time) (value, error) {
	endpoint, err := a.endpoint.evalStr(v)
	if err != nil {
		return nil, err
	}
	form, err := a.refreshForm(rc, cfg, v)
	if err != nil {
		return nil, err
	}
	body, err := a.post(ctx, rc, v, endpoint, form)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) && a.isRevoked(he) {
			return nil, &oauthError{Endpoint: rc.mask.text(endpoint), Err: errRevoked}
		}
		return nil, err
	}
	names := map[string]*tmpl{"access": a.accessTokenName, "expires": a.expiresInName}
	got := map[string]value{}
	for k, t := range names {
		name, err := t.evalStr(v)
		if err != nil {
			return nil, err
		}
		got[k], _ = findKey(body, name, 0)
	}
	newRefresh, _ := findKey(body, a.refreshName, 0)
	newExpiry, err := a.newExpiry(got["expires"], now)
	if err != nil {
		return nil, &oauthError{Endpoint: rc.mask.text(endpoint), Err: err}
	}
	for _, s := range []value{got["access"], newRefresh} {
		if s != nil {
			rc.addSecret(interpolation.Str(s))
		}
	}
	updated := interpolation.Copy(cfg).(*dict)
	setPathValue(updated, a.accessPath, got["access"])
	setPathValue(updated, a.refreshPath, newRefresh)
	setPathValue(updated, a.expiryPath, formatAirbyteDatetime(newExpiry))
	rc.setConfig(updated)
	if err := rc.configUpdated(ctx, updated); err != nil {
		return nil, err
	}
	return updated, nil
}

// refreshForm is build_refresh_request_body with the config's refresh
// token. A client id or secret under "credentials" in the config wins over
// the manifest's, as the CDK reads them.
func (a *rotatingOAuth) refreshForm(rc *readContext, cfg value, v *vars) ([]entry, error) {
	value := func(t *tmpl, configPath ...string) (value, error) {
		if len(configPath) > 0 {
			if c, ok := pathGet(cfg, configPath); ok {
				return c, nil
			}
		}
		if t == nil {
			return "", nil
		}
		return t.evalStr(v)
	}
	var form []entry
	for _, f := range []struct {
		name  *tmpl
		value *tmpl
		path  []string
	}{
		{a.grantTypeName, a.grantType, nil},
		{a.clientIDName, a.clientID, []string{"credentials", "client_id"}},
		{a.clientSecretName, a.clientSecret, []string{"credentials", "client_secret"}},
	} {
		n, err := f.name.evalStr(v)
		if err != nil {
			return nil, err
		}
		val, err := value(f.value, f.path...)
		if err != nil {
			return nil, err
		}
		form = append(form, entry{n, val})
	}
	refresh, ok := pathGet(cfg, a.refreshPath)
	if !ok {
		refresh = ""
	}
	form = append(form, entry{a.refreshName, refresh})
	return a.finishForm(rc, form, v)
}

// newExpiry is get_new_token_expiry_date: a date with
// token_expiry_date_format, else now plus expires_in seconds.
func (a *rotatingOAuth) newExpiry(v value, now time.Time) (time.Time, error) {
	if a.expiryDateFormat != "" {
		return parseAirbyteDatetime(v)
	}
	var secs float64
	switch x := v.(type) {
	case int64:
		secs = float64(x)
	case float64:
		secs = x
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("invalid literal for int() with base 10: %s", interpolation.Repr(x))
		}
		secs = float64(n)
	default:
		return time.Time{}, fmt.Errorf("int() argument must be a string, a bytes-like object or a real number, not '%s'", strings.Trim(strings.TrimPrefix(pyTypeName(v), "<class "), "'>"))
	}
	return addSeconds(now.UTC(), secs)
}

// isRevoked is _wrap_refresh_token_exception: the response's status is
// one of refresh_token_error_status_codes and its JSON body's
// refresh_token_error_key holds one of refresh_token_error_values.
func (a *rotatingOAuth) isRevoked(he *httpError) bool {
	if !a.errCodes[he.Status] || he.body == nil {
		return false
	}
	v, err := decodeJSON(he.body)
	if err != nil {
		return false
	}
	got, ok := dictGet(v, a.errKey)
	if !ok {
		return false
	}
	s, isStr := got.(string)
	return isStr && a.errValues[s]
}

// errRevoked is the CDK's message for a refresh token the API no longer
// accepts.
var errRevoked = errString("Refresh token is invalid or expired. Please re-authenticate from Sources/<your source>/Settings.")

// setPathValue sets value at a path of keys, creating dicts on the way
// (dpath.new).
func setPathValue(d *dict, path []string, value value) {
	if len(path) == 0 {
		return
	}
	setPath(d, path, value)
}

// parseAirbyteDatetime is the CDK's ab_datetime_parse for the forms a
// config holds: a Unix timestamp, a date, or an ISO-8601 / RFC 3339
// datetime with "T" or " " (UTC when it has no offset).
func parseAirbyteDatetime(v value) (time.Time, error) {
	s := interpolation.Str(v)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && !strings.HasPrefix(s, "+") {
		if n < 0 || len(strconv.FormatInt(n, 10)) > 10 {
			return time.Time{}, fmt.Errorf("Could not parse datetime string: %s", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{
		"2006-01-02", time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("Could not parse datetime string: %s", s)
}

// formatAirbyteDatetime is str() of an AirbyteDateTime: ISO-8601 with "T",
// the offset as +00:00, microseconds only when there are some.
func formatAirbyteDatetime(t time.Time) string {
	layout := "2006-01-02T15:04:05-07:00"
	if t.Nanosecond()/1000 != 0 {
		layout = "2006-01-02T15:04:05.000000-07:00"
	}
	return t.Truncate(time.Microsecond).Format(layout)
}

// configUpdated reports an updated config as a CONTROL CONNECTOR_CONFIG
// message, when there is an emit function (Read, CheckEmit).
func (rc *readContext) configUpdated(ctx context.Context, cfg *dict) error {
	data, err := encodeJSON(cfg)
	if err != nil {
		return err
	}
	if rc.emitFn != nil {
		return rc.emitFor(ctx, &protocol.Message{Type: protocol.TypeControl, Control: &protocol.Control{
			Type: protocol.ControlConnectorConfig, EmittedAt: rc.nowMillis(),
			ConnectorConfig: &protocol.ControlConnectorConfigMessage{Config: data},
		}})
	}
	return nil
}
