// Command source-faker is goairbyte's Go rewrite of Airbyte's source-faker
// connector: run it with spec, check, discover or read as any Airbyte
// source. All the logic lives in package connectors/faker; the command line,
// signals and output are package kit's.
package main

import (
	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/kit"
)

func main() { kit.Serve(faker.New()) }
