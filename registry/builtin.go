package registry

// builtinSource is the name of where built-in entries come from.
const builtinSource = "built-in"

// Builtins returns the registry of goairbyte's own connectors. They are
// always available, online or not, and win over a loaded registry's entry
// of the same name (see the package documentation). The entries are shared:
// treat them as read-only, like every *Connector a Registry returns.
func Builtins() *Registry { return builtins }

var builtins = newBuiltins()

func newBuiltins() *Registry {
	reg := &Registry{Source: builtinSource}
	for _, c := range []*Connector{
		{
			Name:             "source-faker",
			Kind:             KindSource,
			DisplayName:      "Sample Data (Faker, goairbyte)",
			DockerRepository: "goairbyte/source-faker",
			DockerImageTag:   "0.1.0",
			Language:         "go",
			DocumentationURL: "https://pkg.go.dev/github.com/x/goairbyte/connectors/faker",
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
			DockerImageTag:   "0.1.0",
			Language:         "go",
			DocumentationURL: "https://pkg.go.dev/github.com/x/goairbyte/connectors/localjson",
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
			DockerImageTag:   "0.1.0",
			Language:         "go",
			DocumentationURL: "https://pkg.go.dev/github.com/x/goairbyte/connectors/manifestsource",
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
