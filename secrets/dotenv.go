package secrets

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// parseDotenv reads dotenv syntax, the format of .env files:
//
//	# a comment
//	KEY=value            # unquoted; a " #" starts a comment, spaces trimmed
//	export KEY=value     # the export prefix is accepted and ignored
//	KEY="a \"b\"\n c"    # double quotes: \n \r \t \" \\ escapes, may span lines
//	KEY='literal $x \n'  # single quotes: taken literally, may span lines
//	KEY=                 # empty value
//
// Variable expansion (${OTHER}) is not performed: secrets are taken exactly
// as written. A line that is not KEY=value is an error naming its line.
// When a key repeats, the last value wins.
func parseDotenv(r io.Reader) (map[string]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		// Trailing spaces are kept until the value is known: those of a
		// quoted value that goes on to the next line are part of it.
		line := strings.TrimLeftFunc(lines[i], unicode.IsSpace)
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "\t")) {
			line = strings.TrimLeftFunc(rest, unicode.IsSpace)
		}
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validKey(key) {
			return nil, fmt.Errorf("dotenv line %d: expected KEY=value", lineNo)
		}
		val = strings.TrimLeft(val, " \t")
		if val == "" || (val[0] != '"' && val[0] != '\'') {
			if j := strings.Index(val, " #"); j >= 0 {
				val = val[:j]
			} else if j := strings.Index(val, "\t#"); j >= 0 {
				val = val[:j]
			}
			vars[key] = strings.TrimSpace(val)
			continue
		}
		// A quoted value may continue on the following lines until its
		// closing quote; the raw (untrimmed) lines keep their spaces.
		quote := val[0]
		body := val[1:]
		for {
			if end := closingQuote(body, quote); end >= 0 {
				trailing := strings.TrimSpace(body[end+1:])
				if trailing != "" && !strings.HasPrefix(trailing, "#") {
					return nil, fmt.Errorf("dotenv line %d: unexpected text after the closing quote of %s", lineNo, key)
				}
				body = body[:end]
				break
			}
			i++
			if i >= len(lines) {
				return nil, fmt.Errorf("dotenv line %d: the value of %s has no closing %c quote", lineNo, key, quote)
			}
			body += "\n" + lines[i]
		}
		if quote == '"' {
			body = unescapeDouble(body)
		}
		vars[key] = body
	}
	return vars, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// closingQuote is the index of the quote that ends s, skipping backslash
// escapes inside double quotes; -1 when s does not contain it.
func closingQuote(s string, quote byte) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quote == '"':
			i++
		case s[i] == quote:
			return i
		}
	}
	return -1
}

func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\', '\'', '$':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
