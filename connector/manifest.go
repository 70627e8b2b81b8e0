package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/httpbody"
	"github.com/x/goairbyte/internal/runmethod"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/secrets"
)

// This file runs sources from declarative manifests: one given with
// WithManifest, or the published manifest of a connector the registry
// says is manifest-only. Either runs in process on the declarative engine;
// the registry's, from the connector's Docker image instead when its
// manifest uses what the engine does not run and a Docker engine answers.

// wayManifest is how check names the manifest way of running a connector.
const wayManifest = "WithManifest"

// checkManifestArg reports a WithManifest argument of a type it does not
// take, before anything runs.
func (s *settings) checkManifestArg(name string) error {
	switch m := s.manifest.(type) {
	case string:
		if strings.TrimSpace(m) == "" {
			return &OptionError{Connector: name, Option: wayManifest, Reason: "an empty path; give a path or URL of a manifest.yaml, or its text as []byte"}
		}
		// No path or URL holds a line break; a manifest's text always does.
		if strings.ContainsAny(m, "\n\r") {
			return &OptionError{Connector: name, Option: wayManifest, Reason: "a string is a path or URL, and this one holds a line break, as a manifest's text does; pass the text as []byte(m)"}
		}
		return nil
	case []byte, json.RawMessage, map[string]any:
		return nil
	}
	reason := fmt.Sprintf("it takes a path or URL (string), the manifest's text ([]byte) or a map[string]any, not %T", s.manifest)
	if b, ok := s.manifest.(bool); ok && b {
		reason += "; for PyAirbyte's source_manifest=True give no WithManifest: a source the registry marks manifest-only runs from its published manifest"
	}
	return &OptionError{Connector: name, Option: wayManifest, Reason: reason}
}

// manifestText returns the text of the WithManifest argument and where it
// came from, downloading a URL with the connector's HTTP client.
func (s *settings) manifestText(ctx context.Context, name string) ([]byte, string, error) {
	switch m := s.manifest.(type) {
	case []byte:
		return m, "given as text", nil
	case json.RawMessage:
		return m, "given as text", nil
	case map[string]any:
		b, err := json.Marshal(m)
		if err != nil {
			return nil, "", &OptionError{Connector: name, Option: wayManifest, Reason: "the map is not JSON: " + err.Error()}
		}
		return b, "given as a map", nil
	}
	ref := strings.TrimSpace(s.manifest.(string))
	if u, err := url.Parse(ref); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		text, err := s.download(ctx, ref)
		if err != nil {
			return nil, "", fmt.Errorf("%s: downloading the manifest %s: %w", name, ref, err)
		}
		return text, ref, nil
	}
	text, err := os.ReadFile(ref)
	if err != nil {
		return nil, "", fmt.Errorf("%s: reading the manifest: %w", name, err)
	}
	return text, ref, nil
}

// download fetches a manifest URL within the registry's timeout.
func (s *settings) download(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, registry.DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	client := s.httpClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return httpbody.Read(resp.Body, httpbody.MaxManifest)
}

// engineOptions are the declarative engine's options for the connector:
// its HTTP client (WithHTTPClient, else its Environment's), clock and
// logger.
func (s *settings) engineOptions(name string, rt executor.Runtime, env *Environment) []declarative.Option {
	// The engine logs its requests itself, not through LOG messages the
	// executor masks, and knows as secrets only the fields its spec marks:
	// a resolved reference elsewhere in the config (a query parameter) would
	// reach the program's handler as it is.
	// Its lines name the connector, as the executor's do.
	opts := []declarative.Option{declarative.WithLogger(slog.New(secrets.NewMaskingHandler(rt.Logger.Handler())).With("connector", name))}
	if c := s.engineClient(env); c != nil {
		opts = append(opts, declarative.WithHTTPClient(c))
	}
	if s.clock != nil {
		opts = append(opts, declarative.WithClock(s.clock))
	}
	return opts
}

// engineClient is the HTTP client of the connector's engine: WithHTTPClient's,
// else its Environment's (SetHTTPClient), else nil for the engine's own.
func (s *settings) engineClient(env *Environment) *http.Client {
	if s.httpClient != nil {
		return s.httpClient
	}
	return env.httpClient()
}

// engine builds the declarative engine of the manifest text with the
// connector's HTTP client, clock and logger.
func (s *settings) engine(name string, text []byte, from string, rt executor.Runtime, env *Environment) (*declarative.Source, error) {
	src, err := declarative.New(text, s.engineOptions(name, rt, env)...)
	if err != nil {
		return nil, fmt.Errorf("%s: the manifest %s: %w", name, from, err)
	}
	return src, nil
}

// native builds the in-process executor of the manifest text: the engine
// with the connector's HTTP client, clock and logger.
func (s *settings) native(name string, text []byte, from string, rt executor.Runtime, env *Environment) (resolved, error) {
	src, err := s.engine(name, text, from, rt, env)
	if err != nil {
		return resolved{}, err
	}
	return s.inProcess(name, src, rt)
}

// inProcess is the in-process executor of an engine.
func (s *settings) inProcess(name string, src *declarative.Source, rt executor.Runtime) (resolved, error) {
	ex, err := executor.New(name, executor.Method{Kind: executor.KindInProcess, Connector: src}, rt)
	if err != nil {
		return resolved{}, err
	}
	return resolved{exec: ex, version: s.version, manifest: true}, nil
}

// fromRegistryManifest runs a connector the registry says is manifest-only:
// natively from its published manifest, or from its Docker image when the
// manifest uses what the engine does not run — custom components in
// Python, parts only CDKs newer than 6.31.1 know (Airbyte publishes
// manifests for the CDK its image holds) — and a Docker engine answers.
// Without one, a manifest with Python components, or one whose other such
// parts the engine cannot build around (a newer field of the manifest's
// root), is an error naming them; one whose streams alone use such parts
// runs natively: those streams are refused by name, the others read. So
// does such a one given an option only the engine takes (WithHTTPClient,
// WithClock), which the image would not honour.
func (s *settings) fromRegistryManifest(ctx context.Context, entry *registry.Connector, env *Environment,
	rt executor.Runtime, docker func(image string) (resolved, error)) (resolved, error) {
	m, err := env.Registry().Manifest(ctx, entry.Name, s.version)
	if err != nil {
		return resolved{}, err
	}
	// The manifest is loaded once, by the engine, which lists what it does
	// not run too: loading is most of what a GetSource costs, and a
	// second load for the list doubled it (BenchmarkGetSourceManifest: the
	// corpus's largest manifest 0.49-0.67 s and 310 MB allocated against
	// 0.23-0.29 s and 157 MB, the median one 7.5-11.5 ms against 3.6-3.9
	// ms). Only a manifest the engine cannot build otherwise is loaded
	// again, to tell whether its image runs it. Nothing is kept across
	// GetSource calls: a built engine of the largest holds 23 MB, for
	// 0.23 s saved.
	src, berr := s.engine(entry.Name, m.YAML, m.From, rt, env)
	var parts, custom []string
	var ue *declarative.UnsupportedError
	switch {
	case berr == nil:
		parts, custom = unrun(src.Unsupported())
	case errors.As(berr, &ue):
		parts, custom = unrun(ue.Components)
	default:
		if custom, err = declarative.PythonComponents(m.YAML); err != nil {
			return resolved{}, fmt.Errorf("%s: the manifest %s: %w", entry.Name, m.From, err)
		}
		parts = custom
	}
	native := func() (resolved, error) {
		if err := s.checkWay(entry.Name, wayRegistryManifest); err != nil {
			return resolved{}, err
		}
		env.Logger().Debug("manifest-only connector runs natively", "connector", entry.Name, "manifest", m.From)
		if berr != nil {
			return resolved{}, berr
		}
		return s.inProcess(entry.Name, src, rt)
	}
	// A source only the manifest directory holds has no image: the engine
	// runs it, and refuses the streams of components it does not run, as
	// for a manifest given with WithManifest.
	if len(parts) == 0 || entry.DockerRepository == "" {
		return native()
	}
	image := runmethod.DockerImage(entry, s.version)
	// partly runs the manifest natively, the streams that use such parts
	// refused, when its image cannot be run (why).
	partly := func(why string) (resolved, error) {
		env.Logger().Warn("manifest-only connector runs natively without what its manifest uses and the engine does not run; "+
			"the streams that use it are refused; its Docker image would run them", "connector", entry.Name,
			"unsupported", strings.Join(parts, ", "), "image", image, "why", why)
		return native()
	}
	if perr := runmethod.PingDocker(ctx); perr != nil {
		if len(custom) > 0 {
			return resolved{}, &pythonComponentsError{Connector: entry.Name, Components: custom,
				HasComponentsPy: m.ComponentsPy != nil, Image: image, DockerErr: perr}
		}
		if berr != nil {
			return resolved{}, fmt.Errorf("%w; a Docker engine would run its image %s, but none answers (%v)", berr, image, perr)
		}
		return partly(perr.Error())
	}
	if err := s.checkWay(entry.Name, wayRegistryDocker); err != nil {
		// An option only the engine takes (WithHTTPClient, WithClock):
		// such a connector ran natively before its image was preferred.
		if berr == nil && len(custom) == 0 {
			return partly(err.Error())
		}
		return resolved{}, err
	}
	env.Logger().Debug("manifest-only connector uses what the engine does not run: running its Docker image",
		"connector", entry.Name, "image", image, "unsupported", strings.Join(parts, ", "))
	return docker(image)
}

// unrun names the parts of a manifest the engine does not run, each as
// "type at path", and apart from them its Python components, each as
// "class at path" (as declarative.PythonComponents names them).
func unrun(comps []declarative.UnsupportedComponent) (parts, custom []string) {
	for _, c := range comps {
		if c.ClassName != "" {
			custom = append(custom, c.ClassName+" at "+c.Path)
			parts = append(parts, c.ClassName+" at "+c.Path)
		} else {
			parts = append(parts, c.Type+" at "+c.Path)
		}
	}
	return parts, custom
}
