package cachename

import (
	"path/filepath"
	"testing"
)

func TestNames(t *testing.T) {
	if err := Validate("my cache"); err == nil {
		t.Fatal("a name with a space was accepted")
	}
	if err := Validate("ok_name_1"); err != nil {
		t.Fatal(err)
	}
	if n := New(); Validate(n) != nil {
		t.Fatalf("generated name %q is not valid", n)
	}
	if got, want := Path(".cache", "default_cache"), filepath.Join(".cache", "default_cache", "default_cache.duckdb"); got != want {
		t.Fatalf("Path = %s, want %s", got, want)
	}
}
