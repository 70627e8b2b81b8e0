// Command checkfailed is a test connector whose check reports FAILED and
// still exits 0.
package main

import (
	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	a := kit.Parse()
	switch a.Verb {
	case "check":
		kit.Status(false, "invalid api key")
	case "spec":
		kit.Spec()
	case "discover":
		kit.Catalog()
	}
	kit.Flush()
}
