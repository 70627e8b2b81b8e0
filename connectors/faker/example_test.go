package faker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/x/goairbyte/connectors/faker"
	"github.com/x/goairbyte/kit"
)

// The faker is a kit.Source: kit.Run (what cmd/source-faker's kit.Serve
// calls) answers a command line with it. Here a check of a config whose
// count is out of range answers FAILED, naming the field, with exit code 0
// as Airbyte connectors do.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "faker-example-")
	defer os.RemoveAll(dir)
	config := filepath.Join(dir, "config.json")
	_ = os.WriteFile(config, []byte(`{"count": 0}`), 0o600)

	code := kit.Run(context.Background(), faker.New(), []string{"check", "--config", config}, nil, os.Stdout, os.Stderr)
	fmt.Println("exit code", code)
	// Output:
	// {"type":"CONNECTION_STATUS","connectionStatus":{"status":"FAILED","message":"invalid config: field \"count\": minimum: got 0, want 1 (run `spec` to see the options)"}}
	// exit code 0
}
