// Command traceerror is a test connector whose read reports a TRACE ERROR
// (config_error) and exits 0.
package main

import (
	"time"

	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	kit.Common()
	kit.Record(kit.M{"id": 1})
	kit.Emit(kit.M{"type": "TRACE", "trace": kit.M{
		"type": "ERROR", "emitted_at": time.Now().UnixMilli(),
		"error": kit.M{"message": "the start date is in the future", "internal_message": "ValueError: start_date", "failure_type": "config_error"},
	}})
	kit.Flush()
}
