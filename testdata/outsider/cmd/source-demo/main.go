// Command source-demo serves package demo's connector as an Airbyte
// connector program.
package main

import (
	"example.com/outsider/demo"
	"github.com/x/goairbyte/kit"
)

func main() { kit.Serve(demo.Source{}) }
