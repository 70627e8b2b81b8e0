package faker

// Internals the external tests use.
var (
	ConfiguredCatalog = configuredCatalog
	Catalog           = catalog
)
