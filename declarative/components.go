package declarative

import (
	"errors"

	"github.com/x/goairbyte/declarative/internal/manifest"
)

// PythonComponents lists the custom components of a manifest's text, the
// ones that name a Python class (class_name) and so run only on the Python
// CDK, each as "class at path"; none means the native engine can run it,
// unless New refuses what only newer CDKs know. A manifest that does not
// load is an error; one that the 6.31.1 schema fails because it uses
// such newer parts has its Python components listed all the same. A Source
// built from the text already knows them, and what else it does not run:
// its Unsupported method loads nothing again.
func PythonComponents(manifestText []byte) ([]string, error) {
	m, err := manifest.Load(manifestText)
	if ne := (*manifest.NewerError)(nil); errors.As(err, &ne) {
		m, err = ne.Manifest, nil // the engine refuses it, its image may run it
	}
	if err != nil {
		return nil, err
	}
	return pythonComponents(m.Components()), nil
}

// Unsupported lists every component and field of the manifest New loaded
// that the engine does not run — custom components naming a Python class
// (ClassName set), parts only CDKs newer than 6.31.1 know, components of
// 6.31.1 the engine does not build — or none when it runs them all. Check,
// Discover and Read refuse the streams (or the whole connector) that use
// them with an *UnsupportedError; an Airbyte image of the connector runs
// them.
func (s *Source) Unsupported() []UnsupportedComponent {
	return unsupported(s.unsupported).Components
}

// pythonComponents are the components of comps that name a Python class.
func pythonComponents(comps []manifest.Component) []string {
	var out []string
	for _, c := range comps {
		if c.ClassName != "" {
			out = append(out, c.ClassName+" at "+c.Path)
		}
	}
	return out
}
