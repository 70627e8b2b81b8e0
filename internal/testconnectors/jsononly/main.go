// Command jsononly is a test connector as strict as the strictest real ones:
// config, catalog and state paths must end in .json, flags must come in the
// canonical order, and the files must be private (0600 in a 0700
// directory). Its read echoes what it was given as one record: arguments,
// files, $TEST_ECHO_ENV and /local/probe.txt when there is one.
package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	a := kit.Parse()
	for _, p := range []string{a.Config, a.Catalog, a.State} {
		if p == "" {
			continue
		}
		if !strings.HasSuffix(p, ".json") {
			kit.Fail(2, "file %s: only .json files are accepted", p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			kit.Fail(2, "file %s: %v", p, err)
		}
		if fi.Mode().Perm() != 0o600 {
			kit.Fail(2, "file %s has mode %v, want 0600", p, fi.Mode().Perm())
		}
		di, err := os.Stat(filepath.Dir(p))
		if err != nil || di.Mode().Perm() != 0o700 {
			kit.Fail(2, "directory of %s is not 0700", p)
		}
	}
	switch a.Verb {
	case "spec":
		kit.Spec()
	case "check":
		kit.Status(true, "")
	case "discover":
		kit.Catalog()
	case "read":
		data := kit.M{"args": os.Args[1:], "env": os.Getenv("TEST_ECHO_ENV")}
		if b, err := os.ReadFile("/local/probe.txt"); err == nil {
			data["probe"] = string(b) // a bind mount at /local, in Docker
		}
		for k, p := range map[string]string{"config": a.Config, "catalog": a.Catalog, "state": a.State} {
			if p == "" {
				continue
			}
			var v json.RawMessage
			kit.ReadJSON(p, &v)
			data[k] = v
		}
		kit.Record(data)
	}
	kit.Flush()
}
