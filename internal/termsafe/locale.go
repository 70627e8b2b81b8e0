package termsafe

import (
	"io"
	"strings"
)

// Unicode reports whether a terminal started in the environment getenv
// reads (os.Getenv, or a test's map) shows characters beyond ASCII, such as
// '·' and '…': whether its locale's character set is UTF-8, and TERM is not
// "dumb". The locale is the first of LC_ALL, LC_CTYPE and LANG that is set
// and not empty, as setlocale(3) decides the character type; none, "C" and
// "POSIX" are ASCII, and so is any other charset: "en_US" (Latin-1),
// "en_US.ISO-8859-15". "C.UTF-8", "en_US.UTF-8" and "de_DE.utf8@euro" are
// UTF-8.
//
// This is the one place that decides it: goab asks it for its own output,
// and the Environment for the progress lines it draws.
func Unicode(getenv func(string) string) bool {
	if getenv("TERM") == "dumb" {
		return false
	}
	var loc string
	for _, name := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if loc = getenv(name); loc != "" {
			break
		}
	}
	_, charset, ok := strings.Cut(loc, ".")
	if !ok {
		return false // "", "C", "POSIX", "en_US": no UTF-8 named
	}
	charset, _, _ = strings.Cut(charset, "@")
	charset = strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(charset))
	return charset == "utf8"
}

// asciiGlyphs maps the characters beyond ASCII that goairbyte's own
// messages use to what a terminal that is not UTF-8 can show.
var asciiGlyphs = strings.NewReplacer("…", "...", "×", "x", "→", "->")

// ASCIIWriter returns a writer that replaces, in everything written to it,
// the few characters beyond ASCII of goairbyte's own messages ("…" where a
// long text is cut, "×", "→") by ASCII ones, for a terminal whose locale is
// not UTF-8 (see Unicode). Other text, a connector's words among it, is
// written as it came. Each Write is replaced on its own, so write whole
// records or paragraphs (log/slog handlers and fmt.Fprintf do).
func ASCIIWriter(w io.Writer) io.Writer { return asciiWriter{w} }

type asciiWriter struct{ w io.Writer }

// Write writes p with the glyphs replaced, and reports len(p) when all of
// it was written.
func (a asciiWriter) Write(p []byte) (int, error) {
	s := string(p)
	r := asciiGlyphs.Replace(s)
	if r == s {
		return a.w.Write(p)
	}
	if _, err := io.WriteString(a.w, r); err != nil {
		return 0, err
	}
	return len(p), nil
}
