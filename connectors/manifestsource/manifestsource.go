// Package manifestsource is goairbyte's source-declarative-manifest: the
// connector that runs whatever declarative manifest its config carries,
// as Airbyte's airbyte/source-declarative-manifest image does, on the
// native engine of package declarative instead of the Python CDK.
//
// The manifest comes inside the config, under
// __injected_declarative_manifest (an object), next to the connector's own
// fields; that is how Airbyte's platform and its connector builder run a
// manifest they hold. spec answers, with no config, the generic spec that
// requires that key. check, discover and read take the manifest out of the
// config, validate the rest against the manifest's own spec and run the
// manifest on it; a config the connector updates (a rotated OAuth token,
// sent as a CONTROL message) is sent back with the manifest put in again,
// so that the platform stores a config that still runs.
//
// Custom Python components come as __injected_components_py, with
// __injected_components_py_checksums. As in the CDK they are refused unless
// AIRBYTE_ALLOW_CUSTOM_CODE=true and must match their checksum; even then
// this build runs no Python, so it refuses them with an error naming the
// manifest's custom components: Airbyte's Python image runs such
// manifests.
//
// cmd/source-declarative-manifest serves a Source with package kit; the
// root package goairbyte registers one in process under the name
// source-declarative-manifest. A Source builds the engine of a manifest
// once and keeps the last one built, for the calls that carry the same
// manifest.
package manifestsource

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/internal/builtin"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// The config keys Airbyte's source-declarative-manifest reads, and the
// variable that permits custom code.
const (
	// injectedManifest holds the manifest, as an object.
	injectedManifest = "__injected_declarative_manifest"
	// injectedComponentsPy holds the text of a components.py.
	injectedComponentsPy = "__injected_components_py"
	// injectedChecksums holds the checksums of that text, by algorithm
	// ("md5", "sha256").
	injectedChecksums = "__injected_components_py_checksums"
	// envAllowCustomCode must be "true" for custom code to be considered.
	envAllowCustomCode = "AIRBYTE_ALLOW_CUSTOM_CODE"
)

// Source runs the manifest each config carries. It is a kit.Source.
type Source struct {
	opts []declarative.Option

	// mu guards last, the engine of the last manifest built: Check,
	// Discover and Read of one connection carry the same manifest, and
	// building it again for each cost as much as the call's own work for
	// a large one. One only, as an engine of the corpus's largest
	// manifest holds 23 MB.
	mu   sync.Mutex
	last *built
}

// built is a manifest's engine with the manifest's bytes as they came.
type built struct {
	manifest []byte
	engine   *declarative.Source
}

// engine returns the engine of the manifest raw, building it unless it is
// the last one built.
func (s *Source) engine(raw json.RawMessage) (*declarative.Source, error) {
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	if last != nil && bytes.Equal(last.manifest, raw) {
		return last.engine, nil
	}
	engine, err := declarative.New(raw, s.opts...)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.last = &built{manifest: bytes.Clone(raw), engine: engine}
	s.mu.Unlock()
	return engine, nil
}

// New returns a Source whose engines are built with opts (an HTTP client, a
// clock, a logger).
func New(opts ...declarative.Option) *Source { return &Source{opts: opts} }

// spec is the generic spec of Airbyte's source-declarative-manifest: a
// config must carry the manifest, and may carry anything else.
var spec = protocol.ConnectorSpecification{
	DocumentationURL: builtin.ManifestDocs,
	ConnectionSpecification: json.RawMessage(`{"$schema":"http://json-schema.org/draft-07/schema#",` +
		`"title":"Low-code source spec","type":"object","required":["` + injectedManifest + `"],` +
		`"additionalProperties":true,"properties":{"` + injectedManifest + `":{"title":"Low-code manifest",` +
		`"type":"object","description":"The low-code manifest that defines the components of the source."}}}`),
}

// Spec returns the generic spec: the manifest's own spec is only known
// once a config brings the manifest.
func (s *Source) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	cp := spec
	cp.ConnectionSpecification = append(json.RawMessage(nil), spec.ConnectionSpecification...)
	return &cp, nil
}

// Check runs the injected manifest's check.
func (s *Source) Check(ctx context.Context, config json.RawMessage) error {
	return s.CheckEmit(ctx, config, nil)
}

// CheckEmit runs the injected manifest's check, emitting a config the
// check rotated (a CONTROL message, injected keys put back) through emit:
// it makes the Source a kit.CheckEmitter, so that Serve prints it before
// the CONNECTION_STATUS as Airbyte's image does.
func (s *Source) CheckEmit(ctx context.Context, config json.RawMessage, emit func(*protocol.Message) error) error {
	r, err := s.prepare(ctx, config)
	if err != nil {
		return err
	}
	if emit == nil {
		return r.engine.Check(ctx, r.config)
	}
	return r.engine.CheckEmit(ctx, r.config, r.reinjecting(emit))
}

// Discover runs the injected manifest's discover.
func (s *Source) Discover(ctx context.Context, config json.RawMessage) (*protocol.Catalog, error) {
	r, err := s.prepare(ctx, config)
	if err != nil {
		return nil, err
	}
	return r.engine.Discover(ctx, r.config)
}

// Read runs the injected manifest's read. A config the connector updates
// is emitted with the injected keys put back.
func (s *Source) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog,
	state json.RawMessage, emit func(*protocol.Message) error) error {
	r, err := s.prepare(ctx, config)
	if err != nil {
		return err
	}
	return r.engine.Read(ctx, r.config, catalog, state, r.reinjecting(emit))
}

// reinjecting wraps emit so that a config the connector updates (a CONTROL
// message) goes out with the injected keys put back.
func (r *run) reinjecting(emit func(*protocol.Message) error) func(*protocol.Message) error {
	return func(m *protocol.Message) error {
		if m.Type == protocol.TypeControl && m.Control != nil && m.Control.ConnectorConfig != nil {
			full, err := r.reinject(m.Control.ConnectorConfig.Config)
			if err != nil {
				return err
			}
			cp := *m.Control
			cc := *m.Control.ConnectorConfig
			cc.Config = full
			cp.ConnectorConfig = &cc
			m = &protocol.Message{Type: m.Type, Control: &cp}
		}
		return emit(m)
	}
}

// run is one command's engine and config.
type run struct {
	engine *declarative.Source
	// config is the config without the injected keys.
	config json.RawMessage
	// injected holds the injected keys, as they came.
	injected map[string]json.RawMessage
}

// prepare takes the injected keys out of config, refuses custom code,
// builds the engine (or takes the last one, for the same manifest) and
// validates the rest of the config against the manifest's spec.
func (s *Source) prepare(ctx context.Context, config json.RawMessage) (*run, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(config, &fields); err != nil || fields == nil {
		return nil, kit.ConfigError(errors.New("the config must be a JSON object"))
	}
	raw, ok := fields[injectedManifest]
	if !ok {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, kit.ConfigError(fmt.Errorf("%s must be at the root of the config, which has only the keys %v", injectedManifest, keys))
	}
	r := &run{injected: map[string]json.RawMessage{}}
	for _, k := range []string{injectedManifest, injectedComponentsPy, injectedChecksums} {
		if v, ok := fields[k]; ok {
			r.injected[k] = v
			delete(fields, k)
		}
	}
	if err := refuseCustomCode(raw, r.injected); err != nil {
		return nil, err
	}
	engine, err := s.engine(raw)
	if err != nil {
		return nil, kit.ConfigError(fmt.Errorf("%s: %w", injectedManifest, err))
	}
	rest, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	own, err := engine.Spec(ctx)
	if err != nil {
		return nil, err
	}
	if err := kit.ValidateConfig(own, rest); err != nil {
		return nil, err
	}
	r.engine, r.config = engine, rest
	return r, nil
}

// reinject returns config with the injected keys put back.
func (r *run) reinject(config json.RawMessage) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(config, &fields); err != nil {
		return nil, fmt.Errorf("the connector's updated config is not a JSON object: %w", err)
	}
	for k, v := range r.injected {
		fields[k] = v
	}
	return json.Marshal(fields)
}

// refuseCustomCode refuses injected Python code: not permitted without
// AIRBYTE_ALLOW_CUSTOM_CODE=true, tampered when it does not match its
// checksums, and beyond this build when permitted and intact.
func refuseCustomCode(rawManifest json.RawMessage, injected map[string]json.RawMessage) error {
	rawCode, ok := injected[injectedComponentsPy]
	if !ok {
		return nil
	}
	if !strings.EqualFold(os.Getenv(envAllowCustomCode), "true") {
		return fmt.Errorf("the config carries custom Python components (%s), and custom connector code is not permitted here; "+
			"an administrator permits it by setting %s=true", injectedComponentsPy, envAllowCustomCode)
	}
	var code string
	if err := json.Unmarshal(rawCode, &code); err != nil || code == "" {
		return kit.ConfigError(fmt.Errorf("%s must be the non-empty text of a components.py", injectedComponentsPy))
	}
	var sums map[string]string
	if raw, ok := injected[injectedChecksums]; ok {
		if err := json.Unmarshal(raw, &sums); err != nil {
			return kit.ConfigError(fmt.Errorf("%s must map algorithms (md5, sha256) to hex digests: %w", injectedChecksums, err))
		}
	}
	if len(sums) == 0 {
		return kit.ConfigError(fmt.Errorf("%s comes without %s: a checksum is required to trust the code", injectedComponentsPy, injectedChecksums))
	}
	for algo, want := range sums {
		var h hash.Hash
		switch algo {
		case "md5":
			h = md5.New()
		case "sha256":
			h = sha256.New()
		default:
			return kit.ConfigError(fmt.Errorf("%s: unsupported checksum type %q; use md5 or sha256", injectedChecksums, algo))
		}
		h.Write([]byte(code))
		if hex.EncodeToString(h.Sum(nil)) != want {
			return fmt.Errorf("the %s checksum of %s does not match: the code may have been tampered with", algo, injectedComponentsPy)
		}
	}
	components, _ := declarative.PythonComponents(rawManifest) // a manifest that does not load is reported later
	return &customCodeError{Components: components}
}

// customCodeError says that a manifest comes with Python code, permitted
// and intact, which this build cannot run.
type customCodeError struct {
	// Components lists the manifest's custom components as "class at path".
	Components []string
}

// Error names the components and what runs them.
func (e *customCodeError) Error() string {
	which := "its custom components"
	if len(e.Components) > 0 {
		which = strings.Join(e.Components, ", ")
	}
	return fmt.Sprintf("this source-declarative-manifest is goairbyte's pure-Go build and runs no Python, so it cannot run "+
		"the custom components of %s (%s); run the manifest with Airbyte's image airbyte/source-declarative-manifest",
		injectedComponentsPy, which)
}
