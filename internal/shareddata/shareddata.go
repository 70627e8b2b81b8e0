// Package shareddata finds the team's shared data folder, which the tests
// read but the repository does not hold: the real manifest-only
// connectors with the Python CDK's recorded behaviour (manifests/), the
// published OpenAPI descriptions of the Airbyte and Fivetran APIs
// (remote-specs/) and the faker's reference schemas (faker/). It sits
// beside the checkout as ../shared, or wherever GOAIRBYTE_SHARED_DIR says.
//
// A test that needs it calls Need: without the folder the test is skipped
// with a message saying how to provide it, or fails when
// GOAIRBYTE_REQUIRE_SHARED=1 (as .ci/run sets), so that nothing is
// skipped silently in CI.
package shareddata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// DirEnv names the shared data folder when it is not ../shared beside the
// checkout.
const DirEnv = "GOAIRBYTE_SHARED_DIR"

// RequireEnv, set to 1, turns a missing shared folder from a skip into a
// failure.
const RequireEnv = "GOAIRBYTE_REQUIRE_SHARED"

// marker is a file every copy of the folder has.
const marker = "manifests/README.md"

// Dir returns the shared data folder: DirEnv's, or the first "shared"
// folder beside the working directory or one of its parents.
func Dir() (string, error) {
	if dir := os.Getenv(DirEnv); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return "", fmt.Errorf("%s=%s is not the shared data folder (it has no %s)", DirEnv, dir, marker)
		}
		return dir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "shared")
		if _, err := os.Stat(filepath.Join(cand, marker)); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no shared data folder (../shared beside the checkout); set " + DirEnv + " to where it is")
		}
		dir = parent
	}
}

// Path returns the path of rel inside the shared data folder.
func Path(rel string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, rel), nil
}

// Need returns the path of rel inside the shared data folder. When the
// folder or rel is missing it skips t, or fails it when RequireEnv is 1.
func Need(t testing.TB, rel string) string {
	t.Helper()
	p, err := existing(rel)
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("shared test data: %v (%s=1)", err, RequireEnv)
		}
		t.Skipf("shared test data: %v; set %s=1 to fail instead of skipping", err, RequireEnv)
	}
	return p
}

// RequireForPackage is for the TestMain of a package whose every test and
// example needs rel (an example cannot skip itself): when rel is missing it
// says so and exits 0 before any test runs, or exits 1 when RequireEnv is
// 1.
func RequireForPackage(rel string) {
	_, err := existing(rel)
	if err == nil {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		fmt.Fprintf(os.Stderr, "FAIL: shared test data: %v (%s=1)\n", err, RequireEnv)
		os.Exit(1)
	}
	fmt.Printf("SKIP: every test of this package: shared test data: %v; set %s=1 to fail instead of skipping\n", err, RequireEnv)
	os.Exit(0)
}

// existing is Path, and an error when nothing is there.
func existing(rel string) (string, error) {
	p, err := Path(rel)
	if err == nil {
		_, err = os.Stat(p)
	}
	return p, err
}
