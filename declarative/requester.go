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
	urlBase *tmpl // nil: none, only with url
	url     *tmpl // nil: none
	path    *tmpl // nil: none
	// joinsAsCDK7: the requester has url or lacks url_base or path, as
	// only CDKs newer than 6.31.1 accept, and its URL is built as they
	// build it (target).
	joinsAsCDK7 bool
	method      string
	opts        *optionsProvider
	auth        authenticator
	send        *sender
}

// target is the URL of a request before its query. With url_base and
// path, as CDK 6.31.1 has them, it is url_base with a slash added (its
// get_url_base: os.path.join(url_base, "")) joined to the path. Otherwise
// it is built as CDK 7.28.2's HttpRequester._get_url builds it
// (airbyte_cdk/sources/declarative/requesters/http_requester.py): url_base
// joined to the path if url_base is not empty, else url joined to the
// path if the path is not empty, else url, where joining (_join_url)
// keeps the base as it is for an empty path and otherwise adds a slash to
// it before urljoin. In both the path loses its leading slashes, and a
// RequestPath page token replaces it.
func (r *httpRequester) target(v *vars, pathOverride *string) (string, error) {
	eval := func(t *tmpl) (string, error) {
		if t == nil {
			return "", nil
		}
		return t.evalStr(v)
	}
	// Evaluated in the CDK's order: url (7.28.2 only), url_base, path.
	var url string
	var err error
	if r.joinsAsCDK7 {
		if url, err = eval(r.url); err != nil {
			return "", err
		}
	}
	base, err := eval(r.urlBase)
	if err != nil {
		return "", err
	}
	path := ""
	if pathOverride != nil && *pathOverride != "" {
		path = *pathOverride
	} else if path, err = eval(r.path); err != nil {
		return "", err
	} else {
		path = strings.TrimLeft(path, "/")
	}
	if !r.joinsAsCDK7 {
		if !strings.HasSuffix(base, "/") {
			base += "/"
		}
		return urljoin(base, path), nil
	}
	if base == "" {
		base = url
	}
	if path == "" {
		return base, nil
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return urljoin(base, path), nil
}

// bodyMethods are the methods requests sends a body with.
var bodyMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true}

// build makes the request for the given variables. pathOverride replaces
// the requester's path (a RequestPath page token); extra are the options
// of the paginator and stream slicer.
func (r *httpRequester) build(ctx context.Context, rc *readContext, v *vars, pathOverride *string, extra requestOptions) (*outRequest, error) {
	u, err := r.target(v, pathOverride)
	if err != nil {
		return nil, err
	}
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
