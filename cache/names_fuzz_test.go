package cache

import (
	"errors"
	"testing"

	"github.com/x/goairbyte/internal/cacheerr"
)

// FuzzNormalizeName checks that a normalized name is an identifier of
// [a-z0-9_] that does not start with a digit and holds a letter or a digit,
// that normalizing it again keeps it, and that a refused name is a
// *cacheerr.NameError.
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Users", "2fa codes", "___", "", "Straße", "\u212aelvin", "İstanbul", "\xff", "a-b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		out, err := NormalizeName(name)
		if err != nil {
			var ne *cacheerr.NameError
			if !errors.As(err, &ne) {
				t.Fatalf("NormalizeName(%q) failed with %T %v", name, err, err)
			}
			return
		}
		alnum := false
		for i := 0; i < len(out); i++ {
			c := out[i]
			switch {
			case 'a' <= c && c <= 'z':
				alnum = true
			case '0' <= c && c <= '9':
				if i == 0 {
					t.Fatalf("NormalizeName(%q) = %q starts with a digit", name, out)
				}
				alnum = true
			case c == '_':
			default:
				t.Fatalf("NormalizeName(%q) = %q holds %q", name, out, c)
			}
		}
		if !alnum {
			t.Fatalf("NormalizeName(%q) = %q has no letter or digit", name, out)
		}
		if again, err := NormalizeName(out); again != out || err != nil {
			t.Fatalf("NormalizeName(%q) = %q, which normalizes to %q, %v", name, out, again, err)
		}
	})
}
