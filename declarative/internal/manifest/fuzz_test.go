package manifest

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/shareddata"
)

// FuzzLoad checks that Load never panics on any YAML, fails only with
// *Error or *ValidationError, stays fast (aliases and references are
// bounded by the expansion budget) and gives the same answer twice.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"source-zapier-supported-storage", "source-n8n", "source-xkcd"} {
		if p, err := shareddata.Path("manifests/corpus/" + name + "/manifest.yaml"); err == nil {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	for _, s := range []string{
		``, `[]`, `a`, `version: 6.0.0`, "a: &a [1,2]\nb: [*a, *a]\n",
		"definitions:\n  r:\n    $ref: \"#/definitions/r\"\nstreams: [\"#/definitions/r\"]\nversion: 6.0.0\n",
		"definitions:\n  a: {x: 1}\n  b:\n    $ref: \"#/definitions/a\"\n    y: 2\nstreams:\n  - $ref: \"#/definitions/b\"\nversion: 6.0.0\n",
		"streams:\n  - type: DeclarativeStream\n    $parameters: {name: s}\n    retriever: {}\nversion: 6.0.0\ncheck: {stream_names: [s]}\n",
		"x: \"#/x\"\nstreams: [\"#/x\"]\n", "a: &a {b: *a}\n", "{\"streams\": [1], \"version\": \"99.0.0\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		m, err := Load(data)
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("Load took %v on %q", d, data)
		}
		var me *Error
		var ve *ValidationError
		if err != nil && !errors.As(err, &me) && !errors.As(err, &ve) {
			t.Fatalf("Load(%q) failed with %T %v", data, err, err)
		}
		if err == nil && (m == nil || m.Root == nil) {
			t.Fatalf("Load(%q) returned no manifest and no error", data)
		}
		_, err2 := Load(data)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("Load(%q) twice: %v, then %v", data, err, err2)
		}
	})
}
