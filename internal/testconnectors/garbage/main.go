// Command garbage is a test connector that mixes non-protocol output into
// stdout: plain text, broken JSON, unknown message types, unknown fields and
// "type" as the last key. It also writes the config's password to stderr and
// into a LOG message, as careless connectors do, for masking tests.
package main

import (
	"fmt"
	"os"

	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	_, c := kit.Common()
	kit.Line("Starting source-garbage v0.0.1 ...")
	fmt.Fprintf(os.Stderr, "connecting with password=%s\n", c.Password)
	kit.Log("INFO", "using password "+c.Password)
	for i := range max(c.Count, 3) {
		kit.Record(kit.M{"id": i})
		switch i % 3 {
		case 0:
			kit.Line("{not json")
		case 1:
			kit.Line(`{"type":"SOMETHING_ELSE","x":1}`)
		case 2:
			kit.Line(fmt.Sprintf(`{"record":{"stream":"items","data":{"id":%d},"emitted_at":1700000000000},"extra":true,"type":"RECORD"}`, 1000+i))
		}
	}
	kit.State(1)
	kit.Flush()
}
