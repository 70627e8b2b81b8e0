package cache

// ExportPageSize is exportPageSize, for the tests of package cache_test.
const ExportPageSize = exportPageSize
