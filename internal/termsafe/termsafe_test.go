package termsafe

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"plain: users 1,000 · 3 s":         "plain: users 1,000 · 3 s",
		"bad \x1b[31mred\x1b[0m":           `bad \x1b[31mred\x1b[0m`,
		"clip \x1b]52;c;aGVsbG8=\a!":       `clip \x1b]52;c;aGVsbG8=\a!`,
		"line\nbreak\ttab\rreturn":         `line\nbreak\ttab\rreturn`,
		"c1 \u009b2J del \x7f":             `c1 \u009b2J del \x7f`,
		"bidi \u202eevil\u202c":            `bidi \u202eevil\u202c`,
		"invalid \xff byte":                `invalid \ufffd byte`,
		"accents été, 日本, emoji 🙂 survive": "accents été, 日本, emoji 🙂 survive",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	for _, s := range []string{"STREAM\tROWS\n", "users\x1b[2J\t3\n", "plain\n", "no newline \u202e"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	want := "STREAM\tROWS\nusers\\x1b[2J\t3\nplain\nno newline \\u202e"
	if b.String() != want {
		t.Fatalf("wrote %q, want %q", b.String(), want)
	}
}

func TestAppendJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"plain","b":[1,2.5e3,null]}`:          `{"a":"plain","b":[1,2.5e3,null]}`,
		"{\n\t\"a\": \"été 日本 🙂\"\n}\n":             "{\n\t\"a\": \"été 日本 🙂\"\n}\n",
		"{\"csi\":\"\u009b2J\",\"del\":\"\x7f\"}":   `{"csi":"\u009b2J","del":"\u007f"}`,
		"{\"bidi\u202e\":\"\u202eevil\"}":           `{"bidi\u202e":"\u202eevil"}`,
		"{\"tag\":\"\U000e0001\"}":                  `{"tag":"\udb40\udc01"}`,
		"{\"bad\":\"\xff\"}":                        `{"bad":"\ufffd"}`,
		"{\"a\":1,\r\"b\":2}\r\n":                   "{\"a\":1,\"b\":2}\n",
		`{"q":"\"` + "\u202e" + `\\","e":"\u009b"}`: `{"q":"\"\u202e\\","e":"\u009b"}`,
	} {
		got := string(AppendJSON([]byte("x"), []byte(in)))
		if got != "x"+want {
			t.Errorf("AppendJSON(%q) = %q, want %q", in, got[1:], want)
		}
	}
}

func TestHead(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 5, "short"},
		{"longer", 4, "long… (2 more bytes)"},
		{"ééé", 3, "é… (4 more bytes)"}, // not in the middle of the second é
		{"ééé", 4, "éé… (2 more bytes)"},
	} {
		if got := head(c.s, c.n); got != c.want {
			t.Errorf("head(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
