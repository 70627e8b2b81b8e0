package source

import (
	"github.com/x/goairbyte/protocol"
)

// What the external tests of this package reach that is not exported.

func (r *ReadResult) Catalog() *protocol.ConfiguredCatalog { return r.catalog }
