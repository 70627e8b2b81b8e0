// Package termsafe makes text that came from a connector safe to write to a
// terminal. A connector's messages, stream names and stderr reach goab's
// errors and progress line as they were sent; an escape sequence among them
// would be obeyed by the terminal: clearing the screen, recolouring what
// follows, retitling the window or, with OSC 52, writing the clipboard.
package termsafe

import (
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// String returns s with every control character, Unicode format character
// (such as the bidirectional overrides that reorder what is shown) and
// invalid byte written as a visible Go escape: "\x1b", "\u202e". Anything
// else is kept, and s is returned as it is when it holds nothing to escape.
func String(s string) string { return escape(s, unsafe) }

// escape writes the runes of s for which bad holds as Go escapes.
func escape(s string, bad func(rune) bool) string {
	i := strings.IndexFunc(s, bad)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if !bad(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRuneToASCII(r) // '\x1b', '\u202e', '\ufffd'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// unsafe reports whether a terminal could act on r rather than show it.
// Invalid bytes decode as utf8.RuneError and are escaped too: they can be
// part of a C1 control sequence in a terminal that reads Latin-1.
func unsafe(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// maxHead is how much of a connector's text an error quotes: a few
// screens. Whoever needs all of it has the field the text came from, or
// the connector's log file.
const maxHead = 8 << 10

// Head returns s cut to its first 8 KiB or a little less, at a character
// boundary, followed by how many bytes were left out; s itself when it is
// no longer. A connector's message may be megabytes long: an error that
// quotes it whole floods the terminal and every log that prints the error.
func Head(s string) string { return head(s, maxHead) }

func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)-cut) + " more bytes)"
}

// Writer escapes, in everything written to it, what String escapes except
// newlines and tabs, which lay out lines and tables. Each Write is escaped
// on its own, so write whole strings (fmt and text/tabwriter do).
type Writer struct {
	w io.Writer
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes p to the underlying writer with its unsafe characters
// escaped, and reports len(p) when all of it was written.
func (t *Writer) Write(p []byte) (int, error) {
	s := string(p)
	if strings.IndexFunc(s, unsafeInText) < 0 {
		return t.w.Write(p)
	}
	if _, err := io.WriteString(t.w, escape(s, unsafeInText)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func unsafeInText(r rune) bool { return r != '\n' && r != '\t' && unsafe(r) }

// AppendJSON appends the JSON text b to dst so that a terminal shows it
// rather than acts on it, without changing the value it encodes: inside
// strings, what String escapes is written as a JSON escape ("\u009b",
// "\u202e"; an invalid byte as "\ufffd", the character decoders read it
// as), and between tokens a carriage return, which would let what follows
// overwrite the line, is dropped. Newlines and tabs between tokens are
// kept: they lay out indented JSON and JSON lines.
//
// b must be valid JSON, one value or several in a row: then control
// characters stand only between tokens and every other character String
// escapes only inside strings, so the value is kept.
func AppendJSON(dst, b []byte) []byte {
	if !needsJSONEscape(b) {
		return append(dst, b...) // the common case
	}
	inString := false
	for j := 0; j < len(b); {
		c := b[j]
		switch {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && j+1 < len(b) && b[j+1] < utf8.RuneSelf && !unsafe(rune(b[j+1])):
			dst = append(dst, c, b[j+1]) // an escaped character, maybe '"'
			j += 2
			continue
		case c >= utf8.RuneSelf || unsafe(rune(c)):
			r, n := utf8.DecodeRune(b[j:])
			switch {
			case !unsafe(r) || !inString && (r == '\n' || r == '\t'):
				dst = append(dst, b[j:j+n]...)
			case inString:
				dst = appendJSONEscape(dst, r)
			}
			j += n
			continue
		}
		dst = append(dst, c)
		j++
	}
	return dst
}

// needsJSONEscape reports whether b holds anything but printable ASCII,
// newlines and tabs, which AppendJSON keeps as they are.
func needsJSONEscape(b []byte) bool {
	for _, c := range b {
		if c >= 0x7f || c < ' ' && c != '\n' && c != '\t' {
			return true
		}
	}
	return false
}

// appendJSONEscape writes r as a "\u" escape, a surrogate pair beyond the
// Basic Multilingual Plane.
func appendJSONEscape(dst []byte, r rune) []byte {
	if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
		return appendJSONEscape(appendJSONEscape(dst, r1), r2)
	}
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
