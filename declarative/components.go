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
// built from the text already knows them: its PythonComponents method
// loads nothing again.
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

// PythonComponents lists the manifest's custom components as the function
// PythonComponents does, from the manifest New loaded.
func (s *Source) PythonComponents() []string {
	return pythonComponents(s.unsupported)
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
