package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzDecodeYAMLConfig keeps decodeYAMLConfig honest against a JSON config:
// a JSON text read as YAML (it is flow YAML) and the same value written as
// block YAML give what encoding/json with UseNumber gives, numbers exact;
// any YAML decodes without a panic, within the alias limit, and the number
// mark never reaches the connector as a key or a value.
func FuzzDecodeYAMLConfig(f *testing.F) {
	for _, s := range []string{
		`{"big": 123456789012345678901234567890, "neg": -98765432109876543210, "list": [1, 100000000000000000000001]}`,
		`{"precise": 0.12345678901234567890123, "exp": 1.5e300, "tiny": 4.9e-324, "zero": -0, "e": 1E+2}`,
		`{"count": 100, "start_date": "2024-01-01", "nested": {"a": [true, false, null, "x", {"b": 2.50}]}}`,
		`{"mark": "\u0000number:5", "n": 5}`,
		"big: 123456789012345678901234567890\nanchored: &n 99999999999999999999\nagain: *n\nhex: 0x1F\nunderscored: 1_000\n",
		"start_date: 2024-01-01\nupdated: 2024-01-01 10:00:00\nwindows:\n  2024: short\n  true: on\n",
		"base: &b {x: 1, y: 2.0}\nderived:\n  <<: *b\n  z: 3\n",
		"a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
		"x: !!str 12\ny: '12'\nz: .inf\nw: !!float 1\n",
	} {
		f.Add(s)
	}
	f.Fuzz(checkYAMLConfig)
}

// checkYAMLConfig is FuzzDecodeYAMLConfig's check of one text.
func checkYAMLConfig(t *testing.T, text string) {
	got, err := decodeYAMLConfig([]byte(text))
	if err == nil {
		checkNoMark(t, text, got)
	}
	var want map[string]any
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	if d.Decode(&want) != nil || want == nil || d.More() {
		return
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q read as YAML gives\n%s\nas JSON\n%s", text, jsonText(got), jsonText(want))
	}
	// The same value as block YAML, the form a config file is written
	// in (a JSON text read as YAML may fail where JSON does not:
	// duplicate keys, escapes YAML refuses).
	block := blockYAML(want)
	got, err = decodeYAMLConfig(block)
	if err != nil {
		if yaml.Unmarshal(block, new(any)) == nil {
			t.Fatalf("%q as block YAML %q: %v", text, block, err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q as block YAML %q gives\n%s\nwant\n%s", text, block, jsonText(got), jsonText(want))
	}
}

// jsonText is v as JSON, for messages.
func jsonText(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

// checkNoMark fails if a key or a string of cfg starts with the mark
// decodeYAMLConfig gives numbers, unless the document's text could hold it.
func checkNoMark(t *testing.T, text string, cfg map[string]any) {
	t.Helper()
	var doc yaml.Node
	if yaml.Unmarshal([]byte(text), &doc) == nil && markUsed(&doc, "\x00number:") {
		return
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if strings.HasPrefix(v, "\x00number:") {
				t.Fatalf("%q decodes with the number mark in %q", text, v)
			}
		case json.Number:
			if !jsonNumber.MatchString(string(v)) {
				t.Fatalf("%q decodes to the json.Number %q", text, v)
			}
		case map[string]any:
			for k, e := range v {
				walk(k)
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(cfg)
}

// blockYAML writes a value decoded from JSON as block YAML: strings
// double-quoted (JSON's escapes are YAML's), numbers as their text.
func blockYAML(v map[string]any) []byte {
	var b bytes.Buffer
	var write func(v any, indent string)
	scalar := func(v any) string {
		switch v := v.(type) {
		case nil:
			return "null"
		case bool:
			return strconv.FormatBool(v)
		case json.Number:
			return string(v)
		case string:
			q, _ := json.Marshal(v)
			return string(q)
		case map[string]any:
			if len(v) == 0 {
				return "{}"
			}
		case []any:
			if len(v) == 0 {
				return "[]"
			}
		}
		return ""
	}
	write = func(v any, indent string) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				b.WriteString(indent + scalar(k) + ":")
				if s := scalar(v[k]); s != "" {
					b.WriteString(" " + s + "\n")
				} else {
					b.WriteString("\n")
					write(v[k], indent+"  ")
				}
			}
		case []any:
			for _, e := range v {
				b.WriteString(indent + "-")
				if s := scalar(e); s != "" {
					b.WriteString(" " + s + "\n")
				} else {
					b.WriteString("\n")
					write(e, indent+"  ")
				}
			}
		}
	}
	if len(v) == 0 {
		return []byte("{}\n")
	}
	write(v, "")
	return b.Bytes()
}
