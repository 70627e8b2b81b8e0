// Package openapitest checks HTTP traffic against the published OpenAPI
// descriptions of the services goairbyte talks to (Airbyte's public and
// Configuration APIs, Fivetran's REST API), kept in ../shared/remote-specs.
//
// A test server wraps its handler with [Spec.Middleware]: every request it
// receives and every response it gives is validated, and a violation fails
// the test. Each description is loaded and its router built once per test
// binary.
package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/x/goairbyte/internal/shareddata"
	"gopkg.in/yaml.v3"
)

// Reporter receives the violations; *testing.T is one.
type Reporter interface {
	Errorf(format string, args ...any)
}

// Spec is one loaded description with its router.
type Spec struct {
	name   string
	prefix string // the path the description's paths are relative to
	router routers.Router
}

type loaded struct {
	once sync.Once
	spec *Spec
	err  error
}

var airbyte, airbyteConfig, fivetran loaded

// Airbyte returns Airbyte's public API (api.yaml with api.overlay.yaml
// merged in), with paths under prefix (such as "/api/public/v1").
func Airbyte(prefix string) (*Spec, error) {
	return load(&airbyte, prefix, func() (*openapi3.T, error) {
		base, err := readYAML("airbyte/api.yaml")
		if err != nil {
			return nil, err
		}
		overlay, err := readYAML("airbyte/api.overlay.yaml")
		if err != nil {
			return nil, err
		}
		mergeOverlay(base, overlay)
		return loadMap("airbyte public API", base)
	})
}

// AirbyteConfig returns Airbyte's Configuration API (config.yaml), with
// paths under prefix (such as "/api"; its paths start with /v1).
func AirbyteConfig(prefix string) (*Spec, error) {
	return load(&airbyteConfig, prefix, func() (*openapi3.T, error) {
		m, err := readYAML("airbyte/config.yaml")
		if err != nil {
			return nil, err
		}
		return loadMap("airbyte configuration API", m)
	})
}

// Fivetran returns Fivetran's REST API, pruned to the paths orchestration
// needs, with paths under prefix ("" for a server at the root).
func Fivetran(prefix string) (*Spec, error) {
	return load(&fivetran, prefix, func() (*openapi3.T, error) {
		path, err := shareddata.Path("remote-specs/fivetran/fivetran-pruned.json")
		if err != nil {
			return nil, err
		}
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			return nil, err
		}
		patchFivetran(doc)
		return doc, nil
	})
}

// patchFivetran repairs what the published Fivetran description gets
// wrong in a way that would refuse every real answer: sync_frequency is an
// integer whose enum lists strings ("1", "5", ...), so no integer can match
// it. The enum is rewritten as the integers it means.
func patchFivetran(doc *openapi3.T) {
	for _, s := range doc.Components.Schemas {
		if s.Value == nil {
			continue
		}
		if p := s.Value.Properties["sync_frequency"]; p != nil && p.Value != nil && p.Value.Type.Is("integer") {
			for i, e := range p.Value.Enum {
				if str, ok := e.(string); ok {
					var n float64
					if _, err := fmt.Sscan(str, &n); err == nil {
						p.Value.Enum[i] = n
					}
				}
			}
		}
	}
}

func load(l *loaded, prefix string, f func() (*openapi3.T, error)) (*Spec, error) {
	l.once.Do(func() {
		doc, err := f()
		if err != nil {
			l.err = err
			return
		}
		// The tests serve the API on 127.0.0.1 under a prefix that the
		// middleware strips: route on paths alone.
		doc.Servers = openapi3.Servers{{URL: "/"}}
		// Relaxed as ../shared/remote-specs/README.md says: the
		// published examples and patterns are not all valid.
		r, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaPatternValidation())
		if err != nil {
			l.err = err
			return
		}
		l.spec = &Spec{name: doc.Info.Title, router: r}
	})
	if l.err != nil {
		return nil, fmt.Errorf("openapitest: loading the API description: %w", l.err)
	}
	s := *l.spec
	s.prefix = strings.TrimRight(prefix, "/")
	return &s, nil
}

func readYAML(rel string) (map[string]any, error) {
	path, err := shareddata.Path("remote-specs/" + rel)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return m, nil
}

// mergeOverlay adds the overlay's components (per kind) and top-level
// keys to the description.
func mergeOverlay(base, overlay map[string]any) {
	for k, v := range overlay {
		if k != "components" {
			base[k] = v
			continue
		}
		comps, _ := base["components"].(map[string]any)
		if comps == nil {
			comps = map[string]any{}
			base["components"] = comps
		}
		for kind, defs := range v.(map[string]any) {
			dst, _ := comps[kind].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				comps[kind] = dst
			}
			for name, def := range defs.(map[string]any) {
				dst[name] = def
			}
		}
	}
}

func loadMap(what string, m map[string]any) (*openapi3.T, error) {
	b, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return doc, nil
}

// Middleware validates every request next receives and every response it
// gives against the description. A request that violates it is answered
// 400 without reaching next; any violation fails t. A response whose status
// the operation does not document passes only when undocumented allows it
// (a service's real answers the description omits, such as Airbyte's 409 on
// a second sync, or an injected fault), and then its body is not checked.
func (s *Spec) Middleware(t Reporter, next http.Handler, undocumented func(r *http.Request, status int) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, s.prefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		vr := r.Clone(r.Context())
		vr.URL.Path = strings.TrimPrefix(r.URL.Path, s.prefix)
		vr.URL.RawPath = ""
		vr.RequestURI = ""
		vr.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := s.router.FindRoute(vr)
		if err != nil {
			t.Errorf("openapitest: %s: %s %s is not in the description: %v", s.name, r.Method, r.URL.Path, err)
			http.Error(w, "not in the API description", http.StatusNotFound)
			return
		}
		in := &openapi3filter.RequestValidationInput{
			Request: vr, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			t.Errorf("openapitest: %s: request %s %s violates the description: %v", s.name, r.Method, r.URL.Path, err)
			http.Error(w, "request violates the API description: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if r.Context().Err() != nil {
			return // the client went away: nothing was answered
		}
		res := rec.Result()
		documented := route.Operation.Responses.Status(res.StatusCode) != nil || route.Operation.Responses.Default() != nil
		if !documented && (undocumented == nil || !undocumented(r, res.StatusCode)) {
			t.Errorf("openapitest: %s: %s %s answered %d, which the description does not document", s.name, r.Method, r.URL.Path, res.StatusCode)
		}
		if documented {
			out := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
			}
			out.SetBodyBytes(rec.Body.Bytes())
			if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
				t.Errorf("openapitest: %s: response %d to %s %s violates the description: %v\nbody: %s", s.name, res.StatusCode, r.Method, r.URL.Path, err, truncate(rec.Body.String(), 2000))
			}
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
