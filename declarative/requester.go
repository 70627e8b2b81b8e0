package declarative

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// httpRequester is the HttpRequester component: it builds one request from
// its templates, the authenticator's options and the options of the
// paginator and stream slicer, and sends it through its sender.
type httpRequester struct {
	urlBase *tmpl
	path    *tmpl
	method  string
	opts    *optionsProvider
	auth    authenticator
	send    *sender
}

// bodyMethods are the methods requests sends a body with.
var bodyMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true}

// build makes the request for the given variables. pathOverride replaces
// the requester's path (a RequestPath page token); extra are the options
// of the paginator and stream slicer.
func (r *httpRequester) build(ctx context.Context, rc *readContext, v *vars, pathOverride *string, extra requestOptions) (*outRequest, error) {
	base, err := r.urlBase.evalStr(v)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	var path string
	if pathOverride != nil && *pathOverride != "" {
		path = *pathOverride
	} else if r.path != nil {
		if path, err = r.path.evalStr(v); err != nil {
			return nil, err
		}
		path = strings.TrimLeft(path, "/")
	}
	u := urljoin(base, path)
	if err := missingSchema(u); err != nil {
		return nil, err
	}

	own, err := r.opts.options(v)
	if err != nil {
		return nil, err
	}
	authOpts, err := r.auth.options(ctx, rc, v)
	if err != nil {
		return nil, err
	}
	all, err := mergeOptions(own, authOpts, extra)
	if err != nil {
		return nil, err
	}
	for _, p := range all.params {
		if _, ok := p.val.(*dict); ok {
			return nil, fmt.Errorf("Invalid value for `%s` parameter. The values of request params cannot be an object.", p.key)
		}
	}
	params := dedupeQuery(u, all.params)
	if u, err = prepareURL(u, urlencode(params)); err != nil {
		return nil, err
	}

	req := &outRequest{method: r.method, url: u}
	for _, h := range all.headers {
		req.headers = append(req.headers, entry{h.key, interpolation.Str(h.val)})
	}
	if bodyMethods[r.method] {
		switch {
		case len(all.bodyJSON) > 0 && (len(all.bodyData) > 0 || all.bodyText != nil):
			return nil, errString("At the same time only one of the 'request_body_data' and 'request_body_json' functions can return data")
		case len(all.bodyJSON) > 0:
			body, err := pyJSON(nil, dictOf(all.bodyJSON))
			if err != nil {
				return nil, err
			}
			req.body, req.ctype = body, "application/json"
		case all.bodyText != nil:
			req.body = []byte(*all.bodyText)
		case len(all.bodyData) > 0:
			req.body, req.ctype = []byte(urlencode(all.bodyData)), "application/x-www-form-urlencoded"
		}
	}
	return req, nil
}

// dedupeQuery drops parameters that the URL already carries with the same
// value (the CDK's _dedupe_query_params).
func dedupeQuery(u string, params []entry) []entry {
	i := strings.IndexByte(u, '?')
	if i < 0 || len(params) == 0 {
		return params
	}
	q := u[i+1:]
	if j := strings.IndexByte(q, '#'); j >= 0 {
		q = q[:j]
	}
	existing, err := url.ParseQuery(q)
	if err != nil && len(existing) == 0 {
		return params
	}
	out := params[:0:0]
	for _, p := range params {
		if vs, ok := existing[p.key]; ok && len(vs) > 0 && vs[0] == interpolation.Str(p.val) {
			continue
		}
		out = append(out, p)
	}
	return out
}
