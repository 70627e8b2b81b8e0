package kit

import "github.com/x/goairbyte/internal/kitcore"

// What the external tests of this package reach that is not exported.

type InvalidConfigError = kitcore.InvalidConfigError

var (
	ValidateConfig = validateConfig
	ParseCatalog   = parseCatalog
	EmitCopies     = emitCopies
	FailureType    = kitcore.FailureType
)
