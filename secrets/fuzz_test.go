package secrets

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzMask registers one or two secrets with a masker of its own and checks
// that masking never panics, leaves text without a secret as it is, and
// never lets a registered secret, in any of its encoded forms, through.
func FuzzMask(f *testing.F) {
	f.Add("hunter22", "", "password=hunter22&x=1")
	f.Add(`pa"ss\word<&>`+"\n", "word<&>xyz", `{"password":"pa\"ss\\word\u003c\u0026\u003e\n"}`)
	f.Add("été-secret/1", "secret/1é", `{'k': 'été-secret/1', "p": "\u00e9t\u00e9-secret\/1"} %C3%A9t%C3%A9-secret%2F1`)
	f.Add("abcd1234", "1234wxyz", "abcd1234wxyz 1234wxyzabcd1234")
	f.Add("aaaa", "aaaaa", "aaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, s1, s2, text string) {
		m := &masker{values: map[string]struct{}{}}
		m.register([]string{s1, s2})
		st := m.state.Load()
		var forms []string
		for _, s := range []string{s1, s2} {
			if len(s) < minMaskLength {
				continue
			}
			for _, v := range encodedForms(s) {
				// A form holding '*' can be made up again by the mask
				// itself next to the text around it.
				if len(v) >= minMaskLength && !strings.Contains(v, "*") {
					forms = append(forms, v)
				}
			}
		}
		for _, in := range []string{text, text + s1 + text, s2 + text + s1} {
			out := st.mask(in)
			for _, v := range forms {
				if strings.Contains(out, v) {
					t.Fatalf("secrets %q, %q: %q masked as %q still holds %q", s1, s2, in, out, v)
				}
			}
			found := false
			for _, v := range forms {
				found = found || strings.Contains(in, v)
			}
			if !found && !strings.Contains(in, "*") && out != in {
				t.Fatalf("secrets %q, %q: %q holds none, masked as %q", s1, s2, in, out)
			}
		}
	})
}

// FuzzDotenv checks that parseDotenv never panics on any file, and that a
// value written double-quoted with its escapes, or single-quoted when it
// holds no single quote, reads back exactly, whatever line surrounds it.
func FuzzDotenv(f *testing.F) {
	f.Add("KEY=value # comment\nexport B='x'\n", "a \"b\"\n\\c $d\te")
	f.Add("K=\"unterminated\n", "multi\nline\r\nvalue\\")
	f.Add("# only a comment\r\n", "")
	f.Fuzz(func(t *testing.T, file, value string) {
		parseDotenv(strings.NewReader(file))
		if strings.Contains(value, "\r") {
			return // a CR before a raw newline is dropped with it; written escaped below
		}
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
		for _, line := range []string{`KEY="` + r.Replace(value) + `"`, `export KEY = "` + r.Replace(value) + `" # c`} {
			got, err := parseDotenv(strings.NewReader("A=1\n" + line + "\nB=2\n"))
			if err != nil || got["KEY"] != value || got["A"] != "1" || got["B"] != "2" {
				t.Fatalf("%q (for %q) reads as %q, %v", line, value, got, err)
			}
		}
		if !strings.Contains(value, "'") {
			line := "KEY='" + value + "'"
			got, err := parseDotenv(strings.NewReader(line + "\nB=2"))
			if err != nil || got["KEY"] != value || got["B"] != "2" {
				t.Fatalf("%q reads as %q, %v", line, got, err)
			}
		}
	})
}

// fuzzManager gives every secret a value made from its name.
type fuzzManager struct{}

func (fuzzManager) Name() string { return "fuzz" }
func (fuzzManager) Get(_ context.Context, name string) (SecretString, bool, error) {
	return NewSecretString("v<" + name + ">\u2028"), true, nil
}

// FuzzResolveRaw holds the in-place resolution of JSON text to the decoded
// one: both give the same value, and the text keeps everything else.
func FuzzResolveRaw(f *testing.F) {
	f.Add(`{"b": "secret_reference::X", "a": [1.0, "secret_reference::Y"]}`)
	f.Add(`["secret_reference::\u0041", {"secret_reference::K": {}}, []]`)
	f.Add(`"secret_reference::top"`)
	f.Fuzz(func(t *testing.T, text string) {
		var in any
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		if !json.Valid([]byte(text)) || dec.Decode(&in) != nil || !strings.Contains(text, ReferencePrefix) {
			return
		}
		opts := []Option{WithManager(fuzzManager{}), WithPrompt(false)}
		raw, err := ResolveReferences(context.Background(), json.RawMessage(text), opts...)
		if err != nil {
			if strings.Contains(err.Error(), "not valid JSON") {
				t.Fatalf("%s: %v", text, err)
			}
			return // a name no manager may ask for (empty)
		}
		want, err := ResolveReferences(context.Background(), in, opts...)
		if err != nil {
			t.Fatalf("%s: the text resolved, the decoded value failed: %v", text, err)
		}
		var got any
		d := json.NewDecoder(strings.NewReader(string(raw.(json.RawMessage))))
		d.UseNumber()
		if err := d.Decode(&got); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s resolved to %s (%v), want %v", text, raw, err, want)
		}
	})
}
