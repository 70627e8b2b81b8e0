// Command source-twoway serves twoway.Connector, its SpecMode from the
// TWOWAY_SPEC variable.
package main

import (
	"os"

	"github.com/x/goairbyte/internal/testconnectors/twoway"
	"github.com/x/goairbyte/kit"
)

func main() { kit.Serve(twoway.Connector{SpecMode: os.Getenv("TWOWAY_SPEC")}) }
