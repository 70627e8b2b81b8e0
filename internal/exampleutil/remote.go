package exampleutil

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
)

// Violations collects what an in-repo test server (internal/airbytetest,
// internal/fivetrantest) found against a service's published API
// description; the examples that use one fail when it found any.
type Violations struct {
	mu   sync.Mutex
	list []string
}

// Errorf records a violation.
func (v *Violations) Errorf(format string, args ...any) {
	v.mu.Lock()
	v.list = append(v.list, fmt.Sprintf(format, args...))
	v.mu.Unlock()
}

// Err returns the violations as one error, nil when there were none.
func (v *Violations) Err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.list) == 0 {
		return nil
	}
	return errors.New("the test server found API violations:\n" + strings.Join(v.list, "\n"))
}

// MainWithFaker is the main of an example that needs the faker and a
// scratch directory: it builds the faker, makes the directory, runs run,
// removes both and exits non-zero on an error.
func MainWithFaker(run func(ctx context.Context, faker, dir string) error) {
	ctx := context.Background()
	faker, cleanup, err := Build(ctx, "source-faker")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "goairbyte-example-")
	if err != nil {
		cleanup()
		log.Fatal(err)
	}
	err = run(ctx, faker, dir)
	cleanup()
	os.RemoveAll(dir)
	if err != nil {
		log.Fatal(err)
	}
}
