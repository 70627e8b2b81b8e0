// Command seconds is a test connector that writes emitted_at in seconds
// instead of milliseconds.
package main

import (
	"time"

	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	kit.Common()
	for i := range 3 {
		kit.Emit(kit.M{"type": "RECORD", "record": kit.M{"stream": "items", "data": kit.M{"id": i}, "emitted_at": time.Now().Unix()}})
	}
	kit.Flush()
}
