// Command destination-events serves package events' destination as an
// Airbyte connector program.
package main

import (
	"example.com/outsider/events"
	"github.com/x/goairbyte/kit"
)

func main() { kit.Serve(events.Destination{}) }
