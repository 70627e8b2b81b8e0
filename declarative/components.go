package declarative

import "github.com/x/goairbyte/declarative/internal/manifest"

// PythonComponents lists the custom components of a manifest's text, the
// ones that name a Python class (class_name) and so run only on the Python
// CDK, each as "class at path"; none means the native engine can run it.
// A manifest that does not load is an error.
func PythonComponents(manifestText []byte) ([]string, error) {
	m, err := manifest.Load(manifestText)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range m.Components() {
		if c.ClassName != "" {
			out = append(out, c.ClassName+" at "+c.Path)
		}
	}
	return out, nil
}
