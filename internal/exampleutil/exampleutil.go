// Package exampleutil is what goairbyte's runnable examples share: building
// the module's own connectors into executables.
//
// Connectors run as separate processes that speak the Airbyte protocol, so
// an example needs the faker (and the local-JSON destination) as files it
// can execute. A fresh clone has no Docker image of them and no registry to
// fetch one from, but it does have their Go source and the Go toolchain that
// runs the example: [Build] compiles cmd/<name> into a temporary directory (a
// second or two; Go caches the build after the first time).
package exampleutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles the connector cmd/<name> of this module ("source-faker" or
// "destination-local-json") as a static executable in a new temporary
// directory. It returns the executable's path and a function that removes
// the directory.
func Build(ctx context.Context, name string) (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "goairbyte-example-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/x/goairbyte/cmd/"+name)
	// Static, like the connector images: no cgo toolchain needed.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building the %s connector (run the examples from the goairbyte checkout, with Go on PATH): %v\n%s", name, err, out)
	}
	return bin, cleanup, nil
}
