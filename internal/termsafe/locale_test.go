package termsafe

import (
	"strings"
	"testing"
)

func TestUnicode(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LANG": "POSIX"}, false},
		{map[string]string{"LANG": "en_US"}, false},
		{map[string]string{"LANG": "en_US.ISO-8859-15"}, false},
		{map[string]string{"LANG": "C.UTF-8"}, true},
		{map[string]string{"LANG": "en_US.UTF-8"}, true},
		{map[string]string{"LANG": "en_US.utf8"}, true},
		{map[string]string{"LANG": "de_DE.utf8@euro"}, true},
		// LC_ALL wins over LC_CTYPE, which wins over LANG; an empty one
		// counts as unset.
		{map[string]string{"LC_ALL": "C", "LANG": "en_US.UTF-8"}, false},
		{map[string]string{"LC_CTYPE": "POSIX", "LANG": "en_US.UTF-8"}, false},
		{map[string]string{"LC_ALL": "en_US.UTF-8", "LC_CTYPE": "C", "LANG": "C"}, true},
		{map[string]string{"LC_ALL": "", "LC_CTYPE": "C.UTF-8", "LANG": "C"}, true},
		{map[string]string{"LC_ALL": "", "LC_CTYPE": "", "LANG": "C.UTF-8"}, true},
		// A dumb terminal is ASCII whatever the locale.
		{map[string]string{"TERM": "dumb", "LANG": "en_US.UTF-8"}, false},
		{map[string]string{"TERM": "xterm-256color", "LANG": "en_US.UTF-8"}, true},
	} {
		if got := Unicode(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("Unicode(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// ASCIIWriter replaces the library's own glyphs, passes other text as it
// came (a connector's "é" among it), and reports the length it was given.
func TestASCIIWriter(t *testing.T) {
	var b strings.Builder
	w := ASCIIWriter(&b)
	for _, in := range []string{"cut… (9 more bytes)\n", "slots: a × b\n", "x → y\n", "café, plain\n"} {
		if n, err := w.Write([]byte(in)); n != len(in) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", in, n, err)
		}
	}
	if want := "cut... (9 more bytes)\nslots: a x b\nx -> y\ncafé, plain\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
