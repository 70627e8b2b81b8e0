// Command source-ledger serves package ledger's connector as an Airbyte
// connector program.
package main

import (
	"example.com/outsider/ledger"
	"github.com/x/goairbyte/kit"
)

func main() { kit.Serve(ledger.Source{}) }
