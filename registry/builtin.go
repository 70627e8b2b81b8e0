package registry

import "github.com/x/goairbyte/internal/builtin"

// builtinSource is the name of where built-in entries come from.
const builtinSource = "built-in"

// builtins is the registry of goairbyte's own connectors. They are always
// available, online or not, and win over a loaded registry's entry of the
// same name (see the package documentation). The entries are shared: treat
// them as read-only, like every *Connector an index returns.
var builtins = newBuiltins()

func newBuiltins() *index {
	reg := &index{Source: builtinSource}
	for _, c := range []*Connector{
		{
			Name:             "source-faker",
			Kind:             KindSource,
			DisplayName:      "Sample Data (Faker, goairbyte)",
			DockerRepository: "goairbyte/source-faker",
			DockerImageTag:   builtin.FakerVersion,
			Language:         "go",
			DocumentationURL: builtin.FakerDocs,
			ReleaseStage:     "generally_available",
			SupportLevel:     "community",
			Tags:             []string{"language:go"},
			BuiltIn:          true,
		},
		{
			Name:             "destination-local-json",
			Kind:             KindDestination,
			DisplayName:      "Local JSON (goairbyte)",
			DockerRepository: "goairbyte/destination-local-json",
			DockerImageTag:   builtin.LocalJSONVersion,
			Language:         "go",
			DocumentationURL: builtin.LocalJSONDocs,
			ReleaseStage:     "generally_available",
			SupportLevel:     "community",
			Tags:             []string{"language:go"},
			BuiltIn:          true,
		},
		{
			Name:             "source-declarative-manifest",
			Kind:             KindSource,
			DisplayName:      "Declarative manifest (goairbyte)",
			DockerRepository: "goairbyte/source-declarative-manifest",
			DockerImageTag:   builtin.ManifestVersion,
			Language:         "go",
			DocumentationURL: builtin.ManifestDocs,
			ReleaseStage:     "generally_available",
			SupportLevel:     "community",
			Tags:             []string{"language:go"},
			BuiltIn:          true,
		},
	} {
		reg.add(c)
	}
	return reg
}
