// Command destination-ingest serves package ingest's destination as an
// Airbyte connector program.
package main

import (
	"example.com/outsider/ingest"
	"github.com/x/goairbyte/kit"
)

func main() { kit.Serve(ingest.Destination{}) }
