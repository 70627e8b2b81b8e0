// Command destination-local-json is goairbyte's Local JSON destination
// connector (see package connectors/localjson):
//
//	destination-local-json spec
//	destination-local-json check --config config.json
//	destination-local-json write --config config.json --catalog catalog.json < messages
//
// The command line, signals and output are package kit's.
package main

import (
	"github.com/x/goairbyte/connectors/localjson"
	"github.com/x/goairbyte/kit"
)

func main() { kit.Serve(localjson.New()) }
