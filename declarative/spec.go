package declarative

import (
	"encoding/json"
	"fmt"

	"github.com/x/goairbyte/declarative/internal/manifest"
	"github.com/x/goairbyte/protocol"
)

// buildSpec makes the SPEC of the manifest's Spec component as the CDK's
// Spec.generate_spec does: the connection specification as written, the
// documentation URL and advanced_auth when set, normalisation and dbt off.
func buildSpec(root *manifest.Map) (*protocol.ConnectorSpecification, error) {
	spec := root.Map("spec")
	if spec == nil {
		return nil, fmt.Errorf("declarative: the manifest has no spec")
	}
	cs, err := manifest.JSON(mustGet(spec, "connection_specification"))
	if err != nil {
		return nil, err
	}
	no := false
	out := &protocol.ConnectorSpecification{
		ConnectionSpecification: cs,
		DocumentationURL:        spec.String("documentation_url"),
		SupportsNormalization:   &no,
		SupportsDBT:             &no,
	}
	if aa := spec.Map("advanced_auth"); aa != nil {
		clean := withoutParameters(aa)
		raw, err := manifest.JSON(clean)
		if err != nil {
			return nil, err
		}
		out.AdvancedAuth = new(protocol.AdvancedAuth)
		if err := json.Unmarshal(raw, out.AdvancedAuth); err != nil {
			return nil, fmt.Errorf("declarative: spec.advanced_auth: %w", err)
		}
	}
	return out, nil
}

// withoutParameters drops the $parameters the loader pushed into a
// component, where they are not data (the CDK's models drop them too).
func withoutParameters(m *manifest.Map) *manifest.Map {
	c := manifest.Clone(m).(*manifest.Map)
	c.Delete("$parameters")
	return c
}

func mustGet(m *manifest.Map, k string) any {
	v, _ := m.Get(k)
	return v
}
