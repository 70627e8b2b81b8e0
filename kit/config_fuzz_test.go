package kit

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// FuzzParseCatalog checks the configured catalog as kitcore.Run reads it
// for kit.Serve and the in-process executor alike: no panic, failures are
// config errors, every accepted stream has a name, and the catalog written
// out again reads back the same.
func FuzzParseCatalog(f *testing.F) {
	faker, err := os.ReadFile("testdata/faker_catalog.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(faker)
	for _, s := range []string{
		`{"streams": []}`, `{}`, `{"streams": null}`, `[]`, ` {"streams": [{"stream": {}}]}`,
		`{"streams": [{"stream": {"name": "users"}, "sync_mode": "sideways", "destination_sync_mode": 3}]}`,
		`{"streams": [{"stream": {"name": "users", "json_schema": {"type": "object"}}, "cursor_field": ["a", "b"]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseCatalog(raw)
		if err != nil {
			if FailureType(err) != protocol.FailureConfig {
				t.Fatalf("ParseCatalog(%q) failed with %T %v, not a config error", raw, err, err)
			}
			return
		}
		for i, s := range c.Streams {
			if s.Stream.Name == "" {
				t.Fatalf("ParseCatalog(%q): stream %d has no name", raw, i)
			}
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("ParseCatalog(%q) returned a catalog that does not marshal: %v", raw, err)
		}
		back, err := ParseCatalog(out)
		if err != nil {
			t.Fatalf("ParseCatalog(%q), written as %s, does not read back: %v", raw, out, err)
		}
		if again, _ := json.Marshal(back); !bytes.Equal(again, out) {
			t.Fatalf("ParseCatalog(%q), written as %s, reads back as %s", raw, out, again)
		}
	})
}

// FuzzValidateConfig checks configs against the faker's real spec as
// kit.Serve and the in-process executor do before any command: no panic,
// the verdict and the fields at fault are those the spec's rules give
// (integers at least 1, an integer seed, a boolean; other keys allowed),
// and the reasons are the same whatever strings the config holds, so they
// quote none.
func FuzzValidateConfig(f *testing.F) {
	b, err := os.ReadFile("testdata/faker_spec.json")
	if err != nil {
		f.Fatal(err)
	}
	var spec protocol.ConnectorSpecification
	if err := json.Unmarshal(b, &spec); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"count": 100}`, `{"count": 20, "seed": -1, "records_per_slice": 1000, "always_updated": false, "parallelism": 4}`,
		`{"count": 0}`, `{"count": 1.0, "seed": 1.5}`, `{"count": "100", "always_updated": "true"}`,
		`{"count": 1e3, "parallelism": -0, "records_per_slice": 12345678901234567890123}`, `{"count": 1e400}`,
		`{"extra": {"nested": ["secret"]}, "seed": null}`, `[]`, `"x"`, `{"count": 1`, `{"count": 1} {}`, `{}}`, `{}A`, "{}\v", ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := ValidateConfig(&spec, raw)
		var ice *InvalidConfigError
		if err != nil && (!errors.As(err, &ice) || len(ice.Problems) == 0) {
			t.Fatalf("ValidateConfig(%q) = %T %v, not an *InvalidConfigError with problems", raw, err, err)
		}
		want, ok := fakerFaults(raw)
		if !ok {
			return
		}
		var got []string
		if ice != nil {
			for _, p := range ice.Problems {
				got = append(got, p.Field)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ValidateConfig(%q) faults %q (%v), want %q", raw, got, err, want)
		}
		// The same config with every string replaced by one of the same
		// length (the faker's spec constrains no string's content).
		var v map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if slices.Equal(want, []string{""}) || d.Decode(&v) != nil {
			return
		}
		other, _ := json.Marshal(replaceStrings(v))
		err2 := ValidateConfig(&spec, other)
		var ice2 *InvalidConfigError
		errors.As(err2, &ice2)
		if (ice == nil) != (ice2 == nil) || ice != nil && !reflect.DeepEqual(ice.Problems, ice2.Problems) {
			t.Fatalf("ValidateConfig(%q) = %v, but with other strings (%s) %v", raw, err, other, err2)
		}
	})
}

// bigExponent matches a JSON number whose exponent has four digits or more:
// past float64's range, where validators disagree on what is an integer.
var bigExponent = regexp.MustCompile(`[eE][+-]?0*[0-9]{4,}`)

// fakerFaults is the fields of raw at fault under the faker's spec, sorted
// ("" for a config that is no JSON object); false when it cannot tell.
func fakerFaults(raw []byte) ([]string, bool) {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return []string{""}, true
	}
	if len(bytes.Trim(raw[d.InputOffset():], " \t\r\n")) > 0 { // JSON's white space
		return []string{""}, true // more than one value
	}
	cfg, ok := v.(map[string]any)
	if !ok {
		return []string{""}, true
	}
	var faults []string
	for key, val := range cfg {
		switch key {
		case "count", "records_per_slice", "parallelism", "seed":
			n, ok := val.(json.Number)
			if ok && bigExponent.MatchString(string(n)) {
				return nil, false
			}
			r, isRat := new(big.Rat).SetString(string(n))
			if !ok || !isRat || !r.IsInt() || key != "seed" && r.Cmp(big.NewRat(1, 1)) < 0 {
				faults = append(faults, key)
			}
		case "always_updated":
			if _, ok := val.(bool); !ok {
				faults = append(faults, key)
			}
		}
	}
	slices.Sort(faults)
	return faults, true
}

// replaceStrings replaces every string value of v with one of as many
// characters, in place.
func replaceStrings(v any) any {
	switch v := v.(type) {
	case string:
		return strings.Repeat("q", len([]rune(v)))
	case map[string]any:
		for k, e := range v {
			v[k] = replaceStrings(e)
		}
	case []any:
		for i, e := range v {
			v[i] = replaceStrings(e)
		}
	}
	return v
}
