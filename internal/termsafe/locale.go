package termsafe

import "strings"

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
