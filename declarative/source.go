package declarative

import (
	"context"
	"encoding/json"

	"github.com/x/goairbyte/declarative/manifest"
	"github.com/x/goairbyte/protocol"
)

// Source is a declarative connector: a manifest loaded, validated and built
// into components once, ready to answer spec, check, discover and read. It
// is safe for concurrent use; each call works on its own config and state.
type Source struct {
	opts        options
	manifest    *manifest.Manifest
	spec        *protocol.ConnectorSpecification
	unsupported []manifest.Component
}

// New loads a manifest (the text of a manifest.yaml) and builds the
// connector. A manifest that does not load or validate is an error
// (*manifest.Error, *manifest.ValidationError). A manifest that needs
// components the engine does not run still builds, so that Spec works; its
// Check, Discover and Read return an *UnsupportedError before any request.
func New(manifestText []byte, opts ...Option) (*Source, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	m, err := manifest.Load(manifestText)
	if err != nil {
		return nil, err
	}
	s := &Source{opts: o, manifest: m}
	if s.spec, err = buildSpec(m.Root); err != nil {
		return nil, err
	}
	s.unsupported = unsupportedComponents(m)
	return s, nil
}

// Unsupported returns the error Check, Discover and Read give for this
// manifest when it needs components the engine does not run, else nil.
func (s *Source) Unsupported() error {
	if len(s.unsupported) == 0 {
		return nil
	}
	return &UnsupportedError{Components: s.unsupported}
}

// Spec returns the connector's specification, the manifest's spec block.
func (s *Source) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	cp := *s.spec
	cp.ConnectionSpecification = append(json.RawMessage(nil), s.spec.ConnectionSpecification...)
	return &cp, nil
}

// unsupportedComponents lists the components of m that name Python code or
// that this engine does not build.
func unsupportedComponents(m *manifest.Manifest) []manifest.Component {
	var out []manifest.Component
	for _, c := range m.Components() {
		if c.ClassName != "" || !supportedTypes[c.Type] {
			out = append(out, c)
		}
	}
	return out
}

// supportedTypes are the component types the engine builds. A manifest
// using any other is refused before its first request.
var supportedTypes = map[string]bool{
	"Spec": true,
}
