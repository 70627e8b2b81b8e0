// Command stderrexit is a test connector that fails the way many real ones
// do: a few records, then a traceback as plain text on stderr and exit 1,
// with no TRACE message.
package main

import (
	"fmt"
	"os"

	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	kit.Common()
	for i := range 3 {
		kit.Record(kit.M{"id": i})
	}
	kit.Flush()
	fmt.Fprintln(os.Stderr, "Traceback (most recent call last):")
	fmt.Fprintln(os.Stderr, `  File "source.py", line 42, in read`)
	fmt.Fprintln(os.Stderr, "requests.exceptions.ConnectionError: connection refused by api.example.com")
	os.Exit(1)
}
