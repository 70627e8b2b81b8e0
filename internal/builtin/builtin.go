// Package builtin says, in one place, who goairbyte's own connectors are:
// their documentation and version. Their specs (documentationUrl), the
// registry's built-in entries and Connector.DocsURL and Version all read
// it, so that they agree whichever way a connector runs.
package builtin

// docsRoot is where the connectors' packages are documented.
const docsRoot = "https://pkg.go.dev/github.com/x/goairbyte/connectors/"

// The documentation and version of each of our connectors. A version is
// also the tag of the connector's Docker image.
const (
	FakerDocs        = docsRoot + "faker"
	FakerVersion     = "0.1.0"
	LocalJSONDocs    = docsRoot + "localjson"
	LocalJSONVersion = "0.1.0"
	ManifestDocs     = docsRoot + "manifestsource"
	ManifestVersion  = "0.1.0"
	NoopDocs         = docsRoot + "noop"
)

// Identity is what one of our connectors says of itself.
type Identity struct {
	DocsURL string
	Version string // "" for the no-op destination, which has no image
}

var identities = map[string]Identity{
	"source-faker":                {FakerDocs, FakerVersion},
	"destination-local-json":      {LocalJSONDocs, LocalJSONVersion},
	"source-declarative-manifest": {ManifestDocs, ManifestVersion},
	"destination-noop":            {NoopDocs, ""},
}

// Lookup returns the identity of our connector called name; false for any
// other name.
func Lookup(name string) (Identity, bool) {
	id, ok := identities[name]
	return id, ok
}
