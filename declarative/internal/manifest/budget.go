package manifest

// maxValues bounds how many values (mappings, lists and scalars) a manifest
// may expand to once its YAML aliases and its references are copied in
// place. The largest of the 372 manifests in the shared corpus expands to
// 168,709 values (source-appfigures, 56,497 as written); twelve times that
// leaves room for any real connector, while anchors or references that
// repeat each other ("billion laughs") stop within a second instead of
// exhausting memory.
const maxValues = 2_000_000

// values is what remains of a manifest's expansion budget.
type values int

// spend takes n values from the budget and fails once it runs out.
func (v *values) spend(n int) error {
	*v -= values(n)
	if *v < 0 {
		return &Error{Message: printer.Sprintf("the manifest expands to more than %d values once its YAML aliases and references are copied in place: anchors or references repeat each other (real manifests stay under 200,000)", maxValues)}
	}
	return nil
}
