package declarative

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
	"github.com/x/goairbyte/protocol"
)

// builder builds components from the resolved manifest, once per
// connector (the CDK's ModelToComponentFactory). Every template is
// compiled here. Components the engine does not build are not an error at
// this stage: they were listed by the unsupported scan, and the streams
// that use them are refused before a request.
type builder struct {
	src *Source
	// parents are the names of streams other streams read as parents;
	// their requesters cache responses, as the CDK sets use_cache on them.
	parents map[string]bool
	// mentionsState is set when a template compiled since the stream
	// being built began mentions stream_state.
	mentionsState bool
}

// parentNames lists the streams read as parents of a partition router.
func parentNames(root *manifest.Map) map[string]bool {
	out := map[string]bool{}
	for _, e := range root.List("streams") {
		n, ok := e.(*manifest.Map)
		if !ok {
			continue
		}
		pr, _ := n.Map("retriever").Get("partition_router")
		routers := []any{pr}
		if l, ok := pr.([]any); ok {
			routers = l
		}
		for _, r := range routers {
			if rm, ok := r.(*manifest.Map); ok {
				for _, pc := range rm.List("parent_stream_configs") {
					if pm, ok := pc.(*manifest.Map); ok {
						out[pm.Map("stream").String("name")] = true
					}
				}
			}
		}
	}
	return out
}

// paramsOf returns a component's $parameters as a dict.
func paramsOf(n *manifest.Map) *dict {
	if p := n.Map("$parameters"); p != nil {
		return fromManifest(p).(*dict)
	}
	return interpolation.NewDict(0)
}

// compile compiles a template string (an InterpolatedString).
func (b *builder) compile(src string, params *dict) (*tmpl, error) {
	s, err := interpolation.NewString(src, "")
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", src, err)
	}
	if strings.Contains(src, "stream_state") {
		b.mentionsState = true
	}
	return &tmpl{src: src, s: s, params: params}, nil
}

// condition compiles field k of n as an InterpolatedBoolean (nil when
// absent or empty).
func (b *builder) condition(n *manifest.Map, k string) (*tmpl, error) {
	v, ok := n.Get(k)
	if !ok || v == nil || v == "" {
		return nil, nil
	}
	src := interpolation.Str(fromManifest(v))
	if bv, isBool := v.(bool); isBool {
		src = map[bool]string{true: "True", false: "False"}[bv]
	}
	t, err := b.compile(src, paramsOf(n))
	if err != nil {
		return nil, err
	}
	if t.b, err = interpolation.NewBoolean(src); err != nil {
		return nil, fmt.Errorf("condition %q: %w", src, err)
	}
	return t, nil
}

// template compiles field k of component n (nil when absent). A number or
// bool is compiled as Python's str() of it, as InterpolatedString does.
func (b *builder) template(n *manifest.Map, k string) (*tmpl, error) {
	v, ok := n.Get(k)
	if !ok || v == nil {
		return nil, nil
	}
	return b.compileValue(v, paramsOf(n), k)
}

func (b *builder) compileValue(v any, params *dict, what string) (*tmpl, error) {
	switch x := v.(type) {
	case string:
		return b.compile(x, params)
	case int64, float64, bool:
		return b.compile(interpolation.Str(fromManifest(x)), params)
	}
	return nil, fmt.Errorf("%s: expected a string, got %T", what, v)
}

// requireTemplate is template for a required field.
func (b *builder) requireTemplate(n *manifest.Map, k string) (*tmpl, error) {
	t, err := b.template(n, k)
	if err == nil && t == nil {
		err = fmt.Errorf("%s: missing %s", n.String("type"), k)
	}
	return t, err
}

// mapping compiles an InterpolatedMapping field.
func (b *builder) mapping(n *manifest.Map, k string) (*tmplMapping, error) {
	m := n.Map(k)
	if m == nil {
		return nil, nil
	}
	params := paramsOf(n)
	out := &tmplMapping{}
	for _, key := range m.Keys() {
		kt, err := b.compile(key, params)
		if err != nil {
			return nil, err
		}
		val, _ := m.Get(key)
		out.keys = append(out.keys, kt)
		if s, ok := val.(string); ok {
			vt, err := b.compile(s, params)
			if err != nil {
				return nil, err
			}
			out.vals = append(out.vals, vt)
		} else {
			out.vals = append(out.vals, fromManifest(val))
		}
	}
	return out, nil
}

// buildStreams builds every stream of the manifest.
func (b *builder) buildStreams(root *manifest.Map, unsupported []manifest.Component) ([]*stream, error) {
	var out []*stream
	for i, e := range root.List("streams") {
		n, ok := e.(*manifest.Map)
		if !ok {
			continue
		}
		path := fmt.Sprintf("$.streams[%d]", i)
		var own []manifest.Component
		for _, c := range unsupported {
			if c.Path == path || strings.HasPrefix(c.Path, path+".") || strings.HasPrefix(c.Path, path+"[") {
				own = append(own, c)
			}
		}
		var st *stream
		var err error
		if n.String("type") == "StateDelegatingStream" {
			st, err = b.stateDelegatingStream(n, path, own)
		} else {
			st, err = b.stream(n, path, own, 0)
		}
		if err != nil {
			// The CDK builds streams only for check, discover and read; so
			// does the error.
			st = &stream{name: n.String("name"), path: path, buildErr: fmt.Errorf("%s (%s): %w", path, n.String("name"), err)}
		}
		out = append(out, st)
	}
	return out, nil
}

// stream builds a DeclarativeStream at a nesting level (0: a stream of
// the manifest, 1: the parent of one, 2: a parent's parent...). With
// unsupported components, only what the catalog needs is built.
func (b *builder) stream(n *manifest.Map, path string, unsupported []manifest.Component, level int) (*stream, error) {
	st := &stream{name: n.String("name"), path: path, unsupported: unsupported}
	// The templates of the stream's own components, not those of its
	// parents (built below, each a stream of its own).
	outer := b.mentionsState
	b.mentionsState = false
	defer func() {
		st.templatesReadState = b.mentionsState
		b.mentionsState = outer
	}()
	pk, err := primaryKey(mustGet(n, "primary_key"))
	if err != nil {
		return nil, err
	}
	st.primaryKey = pk
	if sl := n.Map("schema_loader"); sl != nil && sl.String("type") == "InlineSchemaLoader" {
		schema, _ := sl.Get("schema")
		if schema == nil {
			schema = manifest.NewMap()
		}
		if st.schema, err = manifest.JSON(schema); err != nil {
			return nil, err
		}
	}
	if inc := n.Map("incremental_sync"); inc != nil && inc.String("type") == "DatetimeBasedCursor" {
		if st.cursor, err = b.datetimeCursor(inc); err != nil {
			return nil, fmt.Errorf("incremental_sync: %w", err)
		}
	}
	if len(unsupported) > 0 {
		return st, nil
	}
	ret := n.Map("retriever")
	if ret.String("type") == "AsyncRetriever" {
		if level > 0 {
			return nil, fmt.Errorf("retriever: an AsyncRetriever stream read as a parent is not built")
		}
		if st.async, err = b.asyncRetriever(ret, st.name, n); err != nil {
			return nil, fmt.Errorf("retriever: %w", err)
		}
		return st, nil
	}
	if st.retriever, err = b.retriever(ret, st.name, n, level); err != nil {
		return nil, fmt.Errorf("retriever: %w", err)
	}
	if pr, ok := ret.Get("partition_router"); ok && pr != nil {
		if st.router, err = b.router(pr, level); err != nil {
			return nil, fmt.Errorf("partition_router: %w", err)
		}
	}
	st.synchronous = st.cursor != nil && st.readsStreamState()
	return st, nil
}

// readsStreamState is the CDK's test for streams it cannot read
// concurrently: a requester path or option, a record filter or an added
// field whose template mentions stream_state.
func (s *stream) readsStreamState() bool {
	r := s.retriever
	if r.requester.path.mentions("stream_state") || r.requester.opts.usesStreamState() {
		return true
	}
	// A client-side incremental stream's filter is the CDK's decorator,
	// which its test passes over.
	if f := r.selector.filter; f != nil && !s.cursor.clientSide && f.condition.mentions("stream_state") {
		return true
	}
	for _, t := range r.selector.transformations {
		if af, ok := t.(*addFields); ok {
			for _, f := range af.fields {
				if f.value.mentions("stream_state") {
					return true
				}
			}
		}
	}
	return false
}

// primaryKey normalises a primary key (a string, a list of strings, or a
// list of lists) into the catalog's list of paths.
func primaryKey(v any) ([][]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return nil, nil
		}
		return [][]string{{x}}, nil
	case []any:
		var out [][]string
		for _, e := range x {
			switch y := e.(type) {
			case string:
				out = append(out, []string{y})
			case []any:
				if len(y) != 1 {
					return nil, fmt.Errorf("nested primary keys are not supported, found %v", v)
				}
				s, _ := y[0].(string)
				out = append(out, []string{s})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("primary_key: unexpected %T", v)
}

func (b *builder) retriever(n *manifest.Map, streamName string, streamNode *manifest.Map, level int) (*simpleRetriever, error) {
	r := &simpleRetriever{}
	if v, _ := n.Get("ignore_stream_slicer_parameters_on_paginated_requests"); v == true {
		r.ignoreSlicerOnPaginated = true
	}
	var err error
	if r.requester, err = b.requester(n.Map("requester"), streamName); err != nil {
		return nil, fmt.Errorf("requester: %w", err)
	}
	// The CDK turns the cache on for the manifest's streams that are
	// parents and for the parents they name, not for deeper ancestors.
	if v, _ := n.Map("requester").Get("use_cache"); v == true || (level == 0 && b.parents[streamName]) || level == 1 {
		r.requester.send.useCache = true
	}
	// The paginator strips from a next-page URL the requester's url, else
	// its url_base (CDK 7.28.2's create_simple_retriever: _url or _url_base).
	urlBase := r.requester.urlBase
	if r.requester.url != nil {
		urlBase = r.requester.url
	}
	if r.paginator, err = b.paginator(n.Map("paginator"), urlBase); err != nil {
		return nil, fmt.Errorf("paginator: %w", err)
	}
	var ts []transformation
	for _, e := range streamNode.List("transformations") {
		t, err := b.transformation(e.(*manifest.Map))
		if err != nil {
			return nil, fmt.Errorf("transformations: %w", err)
		}
		ts = append(ts, t)
	}
	if r.selector, err = b.selector(n.Map("record_selector"), ts, streamNode); err != nil {
		return nil, fmt.Errorf("record_selector: %w", err)
	}
	return r, nil
}

func (b *builder) requester(n *manifest.Map, streamName string) (*httpRequester, error) {
	if n == nil {
		return nil, fmt.Errorf("missing")
	}
	r := &httpRequester{method: "GET"}
	if m := n.String("http_method"); m != "" {
		r.method = strings.ToUpper(m)
	}
	var err error
	// A requester without url_base or path is one only newer CDKs accept
	// (the manifest package lets its url through only without url_base).
	r.joinsAsCDK7 = !n.Has("url_base") || !n.Has("path")
	if r.url, err = b.template(n, "url"); err != nil {
		return nil, err
	}
	if r.url == nil || n.Has("url_base") {
		if r.urlBase, err = b.requireTemplate(n, "url_base"); err != nil {
			return nil, err
		}
	}
	if r.path, err = b.template(n, "path"); err != nil {
		return nil, err
	}
	r.opts = &optionsProvider{}
	if r.opts.params, r.opts.paramsText, err = b.requestInput(n, "request_parameters"); err != nil {
		return nil, err
	}
	if r.opts.headers, r.opts.headersText, err = b.requestInput(n, "request_headers"); err != nil {
		return nil, err
	}
	if bd, ok := n.Get("request_body_data"); ok && bd != nil {
		if s, isStr := bd.(string); isStr {
			if r.opts.bodyDataText, err = b.compile(s, paramsOf(n)); err != nil {
				return nil, err
			}
		} else if r.opts.bodyData, err = b.mapping(n, "request_body_data"); err != nil {
			return nil, err
		}
	}
	if bj, ok := n.Get("request_body_json"); ok && bj != nil {
		root, err := b.compileNested(bj, paramsOf(n))
		if err != nil {
			return nil, err
		}
		r.opts.bodyJSON = &tmplNested{root: root}
	}
	if len(r.opts.bodyData.keysOrNil()) > 0 && r.opts.bodyJSON != nil {
		if m := n.Map("request_body_json"); m != nil && m.Len() > 0 {
			return nil, fmt.Errorf("RequestOptionsProvider should only contain either 'request_body_data' or 'request_body_json' not both")
		}
	}
	if a := n.Map("authenticator"); a != nil {
		if r.auth, err = b.authenticator(a); err != nil {
			return nil, fmt.Errorf("authenticator: %w", err)
		}
	} else {
		r.auth = noAuth{}
	}
	eh := n.Map("error_handler")
	if eh == nil {
		eh = manifest.NewMap()
		eh.Set("type", "DefaultErrorHandler")
	}
	handler, err := b.errorHandler(eh)
	if err != nil {
		return nil, fmt.Errorf("error_handler: %w", err)
	}
	r.send = b.sender(handler)
	r.send.stream, r.send.auth = streamName, r.auth
	return r, nil
}

// requestInput compiles request_parameters or request_headers: a mapping
// of templates, or one template string whose value is the mapping (the
// CDK's InterpolatedRequestInputProvider; an empty string is no input).
func (b *builder) requestInput(n *manifest.Map, k string) (*tmplMapping, *tmpl, error) {
	if s, ok := mustGet(n, k).(string); ok && s != "" {
		t, err := b.compile(s, paramsOf(n))
		return nil, t, err
	}
	m, err := b.mapping(n, k)
	return m, nil, err
}

func (m *tmplMapping) keysOrNil() []*tmpl {
	if m == nil {
		return nil
	}
	return m.keys
}

func (b *builder) authenticator(n *manifest.Map) (authenticator, error) {
	var err error
	switch n.String("type") {
	case "NoAuth":
		return noAuth{}, nil
	case "BearerAuthenticator":
		t, err := b.requireTemplate(n, "api_token")
		if err != nil {
			return nil, err
		}
		return &bearerAuth{provider: templateToken{t}, fetches: 1}, nil
	case "BasicHttpAuthenticator":
		a := &basicAuth{}
		if a.username, err = b.requireTemplate(n, "username"); err != nil {
			return nil, err
		}
		if a.password, err = b.template(n, "password"); err != nil {
			return nil, err
		}
		return a, nil
	case "ApiKeyAuthenticator":
		a := &apiKeyAuth{fetches: 1}
		tok, err := b.template(n, "api_token")
		if err != nil {
			return nil, err
		}
		if tok == nil {
			tok, _ = b.compile("", paramsOf(n))
		}
		a.provider = templateToken{tok}
		inj := n.Map("inject_into")
		hdr, _ := n.Get("header")
		switch {
		case inj == nil && hdr == nil:
			return nil, fmt.Errorf("ApiKeyAuthenticator: one of inject_into or header must be set")
		case inj != nil && hdr != nil:
			return nil, fmt.Errorf("ApiKeyAuthenticator: inject_into and header cannot both be set")
		case inj != nil:
			ro, err := b.requestOption(inj)
			if err != nil {
				return nil, err
			}
			a.option = ro
		default:
			a.option = &requestOption{into: injectHeader}
			if a.option.field, err = b.template(n, "header"); err != nil {
				return nil, err
			}
		}
		return a, nil
	case "SelectiveAuthenticator":
		a := &selectiveAuth{choices: map[string]authenticator{}}
		for _, p := range n.List("authenticator_selection_path") {
			t, err := b.compileValue(p, paramsOf(n), "authenticator_selection_path")
			if err != nil {
				return nil, err
			}
			a.path = append(a.path, t)
		}
		auths := n.Map("authenticators")
		for _, k := range auths.Keys() {
			sub, err := b.authenticator(auths.Map(k))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			a.choices[k] = sub
		}
		return a, nil
	case "OAuthAuthenticator":
		return b.oauth(n)
	case "SessionTokenAuthenticator":
		return b.sessionToken(n)
	}
	return nil, fmt.Errorf("unsupported authenticator %q", n.String("type"))
}

// templateOr compiles field k of n, or def when it is absent.
func (b *builder) templateOr(n *manifest.Map, k, def string) (*tmpl, error) {
	t, err := b.template(n, k)
	if err == nil && t == nil {
		t, err = b.compile(def, paramsOf(n))
	}
	return t, err
}

func (b *builder) oauth(n *manifest.Map) (authenticator, error) {
	a := &oauthAuth{expiryDateFormat: n.String("token_expiry_date_format")}
	var err error
	for _, f := range []struct {
		dst      **tmpl
		key, def string
	}{
		{&a.clientIDName, "client_id_name", "client_id"},
		{&a.clientSecretName, "client_secret_name", "client_secret"},
		{&a.refreshTokenName, "refresh_token_name", "refresh_token"},
		{&a.accessTokenName, "access_token_name", "access_token"},
		{&a.expiresInName, "expires_in_name", "expires_in"},
		{&a.grantTypeName, "grant_type_name", "grant_type"},
		{&a.grantType, "grant_type", "refresh_token"},
	} {
		if *f.dst, err = b.templateOr(n, f.key, f.def); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		dst *(*tmpl)
		key string
	}{
		{&a.endpoint, "token_refresh_endpoint"}, {&a.clientID, "client_id"}, {&a.clientSecret, "client_secret"},
		{&a.refreshToken, "refresh_token"}, {&a.accessTokenValue, "access_token_value"}, {&a.tokenExpiryDate, "token_expiry_date"},
	} {
		if *f.dst, err = b.template(n, f.key); err != nil {
			return nil, err
		}
	}
	for _, s := range n.List("scopes") {
		a.scopes = append(a.scopes, interpolation.Str(fromManifest(s)))
	}
	if a.body, err = b.mapping(n, "refresh_request_body"); err != nil {
		return nil, err
	}
	if a.headers, err = b.mapping(n, "refresh_request_headers"); err != nil {
		return nil, err
	}
	handler, err := b.errorHandler(defaultErrorHandlerNode())
	if err != nil {
		return nil, err
	}
	a.send = b.sender(refreshErrorHandler{handler})
	a.send.retryTime = refreshRetryTime
	a.send.outsideBudget = true
	if u := n.Map("refresh_token_updater"); u != nil {
		return &bearerAuth{provider: b.rotatingOAuth(a, u), fetches: 2}, nil
	}
	if a.clientID == nil || a.clientSecret == nil {
		return nil, fmt.Errorf("OAuthAuthenticator configuration error: Both 'client_id' and 'client_secret' are required for the basic OAuth flow.")
	}
	if a.grantType.src == "refresh_token" && a.refreshToken == nil {
		return nil, fmt.Errorf("OAuthAuthenticator configuration error: A 'refresh_token' is required when the 'grant_type' is set to 'refresh_token'.")
	}
	if a.grantType.src != "refresh_token" {
		// Only the refresh_token grant sends a refresh token.
		a.refreshToken = a.refreshTokenOnlyIfSet(n)
	}
	return &bearerAuth{provider: a, fetches: 2}, nil
}

// rotatingOAuth finishes an OAuthAuthenticator with a
// refresh_token_updater (the CDK's
// DeclarativeSingleUseRefreshTokenOauth2Authenticator, which skips the
// basic flow's checks).
func (b *builder) rotatingOAuth(a *oauthAuth, u *manifest.Map) *rotatingOAuth {
	r := &rotatingOAuth{oauthAuth: a, refreshName: "refresh_token",
		accessPath:  []string{"credentials", "access_token"},
		refreshPath: []string{"credentials", "refresh_token"},
		expiryPath:  []string{"credentials", "token_expiry_date"},
		errCodes:    map[int]bool{}, errValues: map[string]bool{}, errKey: u.String("refresh_token_error_key")}
	if s := u.String("refresh_token_name"); s != "" {
		r.refreshName = s
	}
	for k, dst := range map[string]*[]string{"access_token_config_path": &r.accessPath, "refresh_token_config_path": &r.refreshPath, "token_expiry_date_config_path": &r.expiryPath} {
		if l, ok := u.Get(k); ok && l != nil {
			*dst = nil
			for _, e := range u.List(k) {
				*dst = append(*dst, interpolation.Str(fromManifest(e)))
			}
		}
	}
	for _, c := range u.List("refresh_token_error_status_codes") {
		if i, ok := toInt(c); ok {
			r.errCodes[int(i)] = true
		}
	}
	for _, e := range u.List("refresh_token_error_values") {
		r.errValues[interpolation.Str(fromManifest(e))] = true
	}
	return r
}

// refreshTokenOnlyIfSet keeps a refresh_token of another grant when the
// manifest sets one (the CDK sends it whenever it is not None).
func (a *oauthAuth) refreshTokenOnlyIfSet(n *manifest.Map) *tmpl {
	if v, ok := n.Get("refresh_token"); ok && v != nil {
		return a.refreshToken
	}
	return nil
}

func defaultErrorHandlerNode() *manifest.Map {
	m := manifest.NewMap()
	m.Set("type", "DefaultErrorHandler")
	return m
}

func (b *builder) sessionToken(n *manifest.Map) (authenticator, error) {
	login, err := b.requester(n.Map("login_requester"), "")
	if err != nil {
		return nil, fmt.Errorf("login_requester: %w", err)
	}
	p := &sessionTokenProvider{login: login}
	for _, e := range n.List("session_token_path") {
		p.path = append(p.path, interpolation.Str(fromManifest(e)))
	}
	if d := n.String("expiration_duration"); d != "" {
		dur, err := interpolation.ParseDuration(d)
		if err != nil {
			return nil, fmt.Errorf("expiration_duration: %w", err)
		}
		p.duration = &dur
	}
	ra := n.Map("request_authentication")
	if ra.String("type") == "Bearer" {
		return &bearerAuth{provider: p, fetches: sessionFetches(p, 2)}, nil
	}
	ro, err := b.requestOption(ra.Map("inject_into"))
	if err != nil {
		return nil, err
	}
	fetches := 1
	if ro.into == injectHeader {
		fetches = 4
	}
	return &apiKeyAuth{option: ro, provider: p, fetches: sessionFetches(p, fetches)}, nil
}

// sessionFetches is how many times the CDK asks a session token provider
// for its token per request: without an expiration_duration every ask is a
// login, and the recorded traffic shows each. A Bearer header is computed
// twice (request headers, then the session's auth hook); an ApiKey header
// four times (its name and value, twice); other injections once.
func sessionFetches(p *sessionTokenProvider, n int) int {
	if p.duration != nil {
		return 1
	}
	return n
}

func (b *builder) errorHandler(n *manifest.Map) (errorHandler, error) {
	switch n.String("type") {
	case "CompositeErrorHandler":
		h := &compositeErrorHandler{}
		for _, e := range n.List("error_handlers") {
			sub, err := b.errorHandler(e.(*manifest.Map))
			if err != nil {
				return nil, err
			}
			h.handlers = append(h.handlers, sub)
			if d, ok := sub.(*defaultErrorHandler); ok {
				h.backoffs = append(h.backoffs, d.backoffs...)
			}
			if c, ok := sub.(*compositeErrorHandler); ok {
				h.backoffs = append(h.backoffs, c.backoffs...)
			}
		}
		if len(h.handlers) == 0 {
			return nil, fmt.Errorf("CompositeErrorHandler expects at least 1 underlying error handler")
		}
		return h, nil
	case "DefaultErrorHandler":
		h := &defaultErrorHandler{maxRetry: defaultMaxRetries}
		if v, ok := n.Get("max_retries"); ok && v != nil {
			switch x := v.(type) {
			case int64:
				h.maxRetry = int(x)
			case string:
				i, err := strconv.Atoi(x)
				if err != nil {
					return nil, fmt.Errorf("max_retries %q is not an integer", x)
				}
				h.maxRetry = i
			}
		}
		for _, e := range n.List("response_filters") {
			f, err := b.responseFilter(e.(*manifest.Map))
			if err != nil {
				return nil, err
			}
			h.filters = append(h.filters, f)
		}
		for _, e := range n.List("backoff_strategies") {
			s, err := b.backoff(e.(*manifest.Map))
			if err != nil {
				return nil, err
			}
			h.backoffs = append(h.backoffs, s)
		}
		return h, nil
	}
	return nil, fmt.Errorf("unsupported error handler %q", n.String("type"))
}

func (b *builder) responseFilter(n *manifest.Map) (*responseFilter, error) {
	f := &responseFilter{httpCodes: map[int]bool{}}
	if a := n.String("action"); a != "" {
		act, ok := actionNames[a]
		if !ok {
			return nil, fmt.Errorf("unknown action %q", a)
		}
		f.action, f.hasAction = act, true
	}
	f.failureType = protocol.FailureType(n.String("failure_type"))
	for _, c := range n.List("http_codes") {
		if i, ok := c.(int64); ok {
			f.httpCodes[int(i)] = true
		}
	}
	var err error
	if f.predicate, err = b.condition(n, "predicate"); err != nil {
		return nil, err
	}
	f.errorContains = n.String("error_message_contains")
	if f.errorMessage, err = b.template(n, "error_message"); err != nil {
		return nil, err
	}
	return f, nil
}

func (b *builder) backoff(n *manifest.Map) (backoffStrategy, error) {
	var err error
	switch n.String("type") {
	case "ConstantBackoffStrategy":
		s := &constantBackoff{}
		s.seconds, err = b.requireTemplate(n, "backoff_time_in_seconds")
		return s, err
	case "ExponentialBackoffStrategy":
		s := &exponentialBackoff{}
		if s.factor, err = b.template(n, "factor"); err == nil && s.factor == nil {
			s.factor, err = b.compile("5", paramsOf(n))
		}
		return s, err
	case "WaitTimeFromHeader":
		s := &waitTimeFromHeader{}
		if s.header, err = b.requireTemplate(n, "header"); err != nil {
			return nil, err
		}
		if s.regex, err = b.template(n, "regex"); err != nil {
			return nil, err
		}
		if v, ok := n.Get("max_waiting_time_in_seconds"); ok {
			switch x := v.(type) {
			case int64:
				s.maxWaiting = float64(x)
			case float64:
				s.maxWaiting = x
			}
		}
		return s, nil
	case "WaitUntilTimeFromHeader":
		s := &waitUntilTimeFromHeader{now: b.src.opts.now}
		if s.header, err = b.requireTemplate(n, "header"); err != nil {
			return nil, err
		}
		if s.regex, err = b.template(n, "regex"); err != nil {
			return nil, err
		}
		s.minWait, err = b.template(n, "min_wait")
		return s, err
	}
	return nil, fmt.Errorf("unsupported backoff strategy %q", n.String("type"))
}

func (b *builder) paginator(n *manifest.Map, urlBase *tmpl) (paginator, error) {
	if n == nil || n.String("type") == "NoPagination" {
		return noPagination{}, nil
	}
	if n.String("type") != "DefaultPaginator" {
		return nil, fmt.Errorf("unsupported paginator %q", n.String("type"))
	}
	p := &defaultPaginator{urlBase: urlBase}
	var err error
	if t, _ := n.Get("url_base"); t != nil {
		if p.urlBase, err = b.template(n, "url_base"); err != nil {
			return nil, err
		}
	}
	if o := n.Map("page_size_option"); o != nil {
		if p.sizeOption, err = b.requestOption(o); err != nil {
			return nil, err
		}
	}
	if o := n.Map("page_token_option"); o != nil {
		if o.String("type") == "RequestPath" {
			p.tokenPath = true
		} else if p.tokenOpt, err = b.requestOption(o); err != nil {
			return nil, err
		}
	}
	s := n.Map("pagination_strategy")
	switch s.String("type") {
	case "CursorPagination":
		c := &cursorPagination{}
		if c.cursorValue, err = b.requireTemplate(s, "cursor_value"); err != nil {
			return nil, err
		}
		if c.stop, err = b.condition(s, "stop_condition"); err != nil {
			return nil, err
		}
		if size, ok := s.Get("page_size"); ok && size != nil {
			c.size, c.hasSize = toInt(size)
		}
		p.strategy = c
	case "PageIncrement":
		c := &pageIncrement{}
		if v, ok := s.Get("start_from_page"); ok && v != nil {
			c.startFrom, _ = toInt(v)
		}
		if v, _ := s.Get("inject_on_first_request"); v == true {
			c.injectFirst = true
		}
		if size, ok := s.Get("page_size"); ok && size != nil && size != "" {
			if c.size, err = b.compileValue(size, paramsOf(s), "page_size"); err != nil {
				return nil, err
			}
		}
		p.strategy = c
	case "OffsetIncrement":
		c := &offsetIncrement{}
		if v, _ := s.Get("inject_on_first_request"); v == true {
			c.injectFirst = true
		}
		if size, ok := s.Get("page_size"); ok && size != nil && size != "" {
			if c.size, err = b.compileValue(size, paramsOf(s), "page_size"); err != nil {
				return nil, err
			}
		}
		p.strategy = c
	default:
		return nil, fmt.Errorf("unsupported pagination strategy %q", s.String("type"))
	}
	if p.sizeOption != nil {
		if c, ok := p.strategy.(*cursorPagination); ok && !c.hasSize {
			return nil, fmt.Errorf("page_size_option cannot be set if the pagination strategy does not have a page_size")
		}
	}
	return p, nil
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), true
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return i, err == nil
	}
	return 0, false
}

func (b *builder) selector(n *manifest.Map, ts []transformation, streamNode *manifest.Map) (*recordSelector, error) {
	if n == nil {
		return nil, fmt.Errorf("missing")
	}
	s := &recordSelector{transformations: ts}
	ex := n.Map("extractor")
	if ex == nil || ex.String("type") != "DpathExtractor" {
		return nil, fmt.Errorf("unsupported extractor %q", ex.String("type"))
	}
	de := &dpathExtractor{}
	for _, p := range ex.List("field_path") {
		t, err := b.compileValue(p, paramsOf(ex), "field_path")
		if err != nil {
			return nil, err
		}
		de.path = append(de.path, t)
	}
	s.extractor = de
	if n.String("schema_normalization") == "Default" {
		if sl := streamNode.Map("schema_loader"); sl != nil {
			schema, _ := sl.Get("schema")
			s.normalize = newSchemaNormalizer(fromManifest(schema))
		}
	}
	if f := n.Map("record_filter"); f != nil {
		c, err := b.condition(f, "condition")
		if err != nil {
			return nil, err
		}
		if c != nil {
			s.filter = &recordFilter{condition: c}
		}
	}
	return s, nil
}

func (b *builder) transformation(n *manifest.Map) (transformation, error) {
	switch n.String("type") {
	case "AddFields":
		a := &addFields{}
		for _, e := range n.List("fields") {
			f := e.(*manifest.Map)
			var path []string
			for _, p := range f.List("path") {
				path = append(path, interpolation.Str(fromManifest(p)))
			}
			if len(path) == 0 {
				return nil, fmt.Errorf("Expected a non-zero-length path for the AddFields transformation")
			}
			val, err := b.requireTemplate(f, "value")
			if err != nil {
				return nil, err
			}
			vt := ""
			if t := f.String("value_type"); t != "" {
				vt = t
			}
			a.fields = append(a.fields, addedField{path: path, value: val, valueType: vt})
		}
		return a, nil
	case "RemoveFields":
		r := &removeFields{}
		for _, e := range n.List("field_pointers") {
			var ptr []string
			for _, p := range e.([]any) {
				ptr = append(ptr, interpolation.Str(fromManifest(p)))
			}
			r.pointers = append(r.pointers, ptr)
		}
		var err error
		if r.condition, err = b.condition(n, "condition"); err != nil {
			return nil, err
		}
		return r, nil
	case "KeysToLower":
		return keysToLower{}, nil
	case "KeysReplace":
		k := &keysReplace{}
		var err error
		if k.old, err = b.requireTemplate(n, "old"); err != nil {
			return nil, err
		}
		if k.new, err = b.requireTemplate(n, "new"); err != nil {
			return nil, err
		}
		return k, nil
	case "FlattenFields":
		f := flattenFields{lists: true}
		if v, ok := n.Get("flatten_lists"); ok && v == false {
			f.lists = false
		}
		return f, nil
	case "DpathFlattenFields":
		f := &dpathFlattenFields{deleteOrigin: truthyField(n, "delete_origin_value")}
		for _, p := range n.List("field_path") {
			t, err := b.compileValue(p, paramsOf(n), "field_path")
			if err != nil {
				return nil, err
			}
			f.path = append(f.path, t)
		}
		return f, nil
	}
	return nil, fmt.Errorf("unsupported transformation %q", n.String("type"))
}

func (b *builder) router(v any, level int) (partitionRouter, error) {
	if l, ok := v.([]any); ok {
		c := &cartesianRouter{}
		for _, e := range l {
			r, err := b.router(e, level)
			if err != nil {
				return nil, err
			}
			c.routers = append(c.routers, r)
		}
		return c, nil
	}
	n, ok := v.(*manifest.Map)
	if !ok {
		return nil, fmt.Errorf("unexpected %T", v)
	}
	var err error
	switch n.String("type") {
	case "ListPartitionRouter":
		l := &listRouter{}
		switch vals := mustGet(n, "values").(type) {
		case string:
			if l.values, err = b.compile(vals, paramsOf(n)); err != nil {
				return nil, err
			}
		case []any:
			for _, e := range vals {
				l.literal = append(l.literal, fromManifest(e))
			}
		}
		if l.cursorKey, err = b.requireTemplate(n, "cursor_field"); err != nil {
			return nil, err
		}
		if o := n.Map("request_option"); o != nil {
			if l.option, err = b.requestOption(o); err != nil {
				return nil, err
			}
		}
		return l, nil
	case "SubstreamPartitionRouter":
		s := &substreamRouter{}
		for _, e := range n.List("parent_stream_configs") {
			pn := e.(*manifest.Map)
			pc := &parentConfig{}
			sn := pn.Map("stream")
			if pc.stream, err = b.stream(sn, "", nil, level+1); err != nil {
				return nil, fmt.Errorf("parent stream %s: %w", sn.String("name"), err)
			}
			if pc.parentKey, err = b.requireTemplate(pn, "parent_key"); err != nil {
				return nil, err
			}
			if pc.partitionField, err = b.requireTemplate(pn, "partition_field"); err != nil {
				return nil, err
			}
			if o := pn.Map("request_option"); o != nil {
				if pc.option, err = b.requestOption(o); err != nil {
					return nil, err
				}
			}
			if v, _ := pn.Get("incremental_dependency"); v == true {
				pc.incrementalDep = true
			}
			s.parents = append(s.parents, pc)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unsupported partition router %q", n.String("type"))
}

func (b *builder) datetimeCursor(n *manifest.Map) (*datetimeCursor, error) {
	c := &datetimeCursor{datetimeFormat: n.String("datetime_format")}
	var err error
	if c.cursorField, err = b.requireTemplate(n, "cursor_field"); err != nil {
		return nil, err
	}
	params := paramsOf(n)
	if c.startField, err = b.template(n, "partition_field_start"); err != nil {
		return nil, err
	}
	if c.startField == nil {
		c.startField, _ = b.compile("start_time", params)
	}
	if c.endField, err = b.template(n, "partition_field_end"); err != nil {
		return nil, err
	}
	if c.endField == nil {
		c.endField, _ = b.compile("end_time", params)
	}
	for _, f := range n.List("cursor_datetime_formats") {
		if s, ok := f.(string); ok {
			c.cursorFormats = append(c.cursorFormats, s)
		}
	}
	if c.start, err = b.minMax(mustGet(n, "start_datetime"), params); err != nil {
		return nil, fmt.Errorf("start_datetime: %w", err)
	}
	if ev, ok := n.Get("end_datetime"); ok && ev != nil && ev != "" {
		if c.end, err = b.minMax(ev, params); err != nil {
			return nil, fmt.Errorf("end_datetime: %w", err)
		}
	}
	if c.step, err = b.template(n, "step"); err != nil {
		return nil, err
	}
	c.granularity = n.String("cursor_granularity")
	if (c.step == nil) != (c.granularity == "") {
		return nil, fmt.Errorf("if step is defined, cursor_granularity should be as well and vice-versa")
	}
	if c.lookback, err = b.template(n, "lookback_window"); err != nil {
		return nil, err
	}
	if o := n.Map("start_time_option"); o != nil {
		if c.startOption, err = b.requestOption(o); err != nil {
			return nil, err
		}
	}
	if o := n.Map("end_time_option"); o != nil {
		if c.endOption, err = b.requestOption(o); err != nil {
			return nil, err
		}
	}
	c.compareStrictly = truthyField(n, "is_compare_strictly")
	c.dataFeed = truthyField(n, "is_data_feed")
	c.clientSide = truthyField(n, "is_client_side_incremental")
	if c.dataFeed && c.end != nil {
		return nil, fmt.Errorf("Data feed does not support end_datetime")
	}
	if c.dataFeed && c.clientSide {
		return nil, fmt.Errorf("`Client side incremental` cannot be applied with `data feed`. Choose only 1 from them.")
	}
	return c, nil
}

func (b *builder) minMax(v any, params *dict) (*minMaxDatetime, error) {
	switch x := v.(type) {
	case string:
		t, err := b.compile(x, params)
		return &minMaxDatetime{datetime: t}, err
	case *manifest.Map:
		m := &minMaxDatetime{format: x.String("datetime_format")}
		var err error
		if m.datetime, err = b.requireTemplate(x, "datetime"); err != nil {
			return nil, err
		}
		if m.min, err = b.template(x, "min_datetime"); err != nil {
			return nil, err
		}
		if m.max, err = b.template(x, "max_datetime"); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}
