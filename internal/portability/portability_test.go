package portability

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// targets are the systems checked besides the one the tests run on: one
// per operating system, on the architecture its developers mostly use
// (the code has no architecture-specific file).
var targets = []struct{ goos, goarch string }{
	{"windows", "amd64"},
	{"darwin", "arm64"},
}

// duckdbPrefix begins the import path of DuckDB's Go bindings, which need cgo.
const duckdbPrefix = "github.com/duckdb/"

// TestCompilesElsewhere type-checks, for every target with cgo off, the
// packages a user builds: every package of the module outside an internal
// directory, with the module's packages it imports (test-only helpers are
// not among those), less the ones that import DuckDB. Test files are left
// out: the tests use Linux-only helpers. Type-checking from source finds
// what compiling would (an undefined syscall.Kill, a field SysProcAttr has
// not) in seconds, where compiling the standard library for two more
// systems takes minutes on a cold build cache.
func TestCompilesElsewhere(t *testing.T) {
	root := moduleRoot(t)
	pkgs := portablePackages(t, root)
	t.Logf("checking %d packages: %s", len(pkgs), strings.Join(pkgs, " "))
	for _, tg := range targets {
		t.Run(tg.goos+"/"+tg.goarch, func(t *testing.T) {
			cfg := &packages.Config{
				Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps |
					packages.NeedSyntax | packages.NeedTypes,
				Dir: root,
				Env: append(os.Environ(), "CGO_ENABLED=0", "GOOS="+tg.goos, "GOARCH="+tg.goarch),
			}
			loaded, err := packages.Load(cfg, pkgs...)
			if err != nil {
				t.Fatalf("loading the packages for %s/%s: %v", tg.goos, tg.goarch, err)
			}
			packages.Visit(loaded, nil, func(p *packages.Package) {
				for _, e := range p.Errors {
					t.Errorf("CGO_ENABLED=0 GOOS=%s GOARCH=%s: %s: %v", tg.goos, tg.goarch, p.PkgPath, e)
				}
			})
		})
	}
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("go env GOMOD: %v %s", err, out)
	}
	return filepath.Dir(string(bytes.TrimSpace(out)))
}

// portablePackages lists the packages TestCompilesElsewhere checks.
func portablePackages(t *testing.T, root string) []string {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{} // the module's packages, by import path
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		deps[f[0]] = f[1:]
	}
	include := map[string]bool{}
	for p, d := range deps {
		if isInternal(p) || importsDuckDB(d) {
			continue
		}
		include[p] = true
		for _, dep := range d {
			if _, ours := deps[dep]; ours {
				include[dep] = true
			}
		}
	}
	pkgs := slices.Sorted(maps.Keys(include))
	if len(pkgs) == 0 {
		t.Fatal("no package to check")
	}
	return pkgs
}

func isInternal(path string) bool {
	for _, elem := range strings.Split(path, "/") {
		if elem == "internal" {
			return true
		}
	}
	return false
}

func importsDuckDB(deps []string) bool {
	for _, d := range deps {
		if strings.HasPrefix(d, duckdbPrefix) {
			return true
		}
	}
	return false
}
