package registry

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"
)

// FuzzParseRegistry checks the entry-by-entry reading of a registry: a
// document fails as a whole (a *malformedRegistryError) only when its shape
// is wrong outside any entry; otherwise every entry that decodes alone and
// names a connector resolves, every other one is reported once, and the
// slim copy the loader caches (json.Marshal of the wire form, read back
// with parseBytes, as Loader.load and readFile do) gives the same verdicts.
func FuzzParseRegistry(f *testing.F) {
	fixture, err := os.ReadFile("testdata/oss_registry.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	for _, s := range []string{
		`{"sources": [
  {"name": "Good", "dockerRepository": "airbyte/source-good", "dockerImageTag": "1.0.0"},
  {"name": "No repository", "remoteRegistries": {"pypi": {"packageName": "airbyte-source-norepo"}}},
  {"name": "Bad tag", "dockerRepository": "airbyte/source-badtag", "dockerImageTag": 12}
], "destinations": [{"name": "Dest", "dockerRepository": "airbyte/destination-good"}]}`,
		`{"sources": [null, 1, "x", [], {"dockerRepository": "airbyte/"}, {"dockerRepository": " airbyte/source-a ", "tags": []}]}`,
		`{"sources": [{"dockerRepository": "airbyte/source-a", "tombstone": "yes", "goairbyteMalformed": ""}], "destinations": null}`,
		`{"sources": [{"dockerRepository": "airbyte/source-a"}, {"dockerRepository": "other/source-a", "language": 3}]}`,
		`{"sources": [], "destinations": 12}`,
		`{"sources": 5, "sources": []}`,
		`{"Sources": [{"DockerRepository": "x/y", "remoteRegistries": {"pypi": {"enabled": 1}}}]}`,
		`{"connectors": []}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, w, err := parseWire(data, "fuzz")
		var raw struct {
			Sources      *[]json.RawMessage `json:"sources"`
			Destinations *[]json.RawMessage `json:"destinations"`
		}
		shapeErr := json.Unmarshal(data, &raw)
		if err != nil {
			var me *malformedRegistryError
			if !errors.As(err, &me) || me.entry {
				t.Fatalf("%q: error %v is not a document's *malformedRegistryError", data, err)
			}
			if shapeErr == nil && (raw.Sources != nil || raw.Destinations != nil) {
				t.Fatalf("%q: the document's shape is sound but it failed as a whole: %v", data, err)
			}
			return
		}
		if shapeErr != nil {
			t.Fatalf("%q: read although its shape is wrong (%v)", data, shapeErr)
		}
		wantMalformed := 0
		for _, part := range []struct {
			kind    Kind
			entries *[]json.RawMessage
		}{{KindSource, raw.Sources}, {KindDestination, raw.Destinations}} {
			if part.entries == nil {
				continue
			}
			for _, r := range *part.entries {
				var e wireEntry
				var c *Connector
				err := json.Unmarshal(r, &e)
				if err == nil {
					c, err = e.connector(part.kind)
				}
				if err != nil {
					wantMalformed++
					continue
				}
				// The first entry of a name or repository wins; this
				// one must resolve, to itself or to an earlier one.
				for _, name := range []string{c.Name, c.DockerRepository} {
					if reg.lookup(name) == nil {
						t.Fatalf("%q: the well-formed entry %s does not resolve as %q", data, r, name)
					}
				}
			}
		}
		if len(reg.malformed) != wantMalformed {
			t.Fatalf("%q: %d entries reported malformed, want %d: %v", data, len(reg.malformed), wantMalformed, reg.malformed)
		}
		for _, me := range reg.malformed {
			if !me.entry || me.Source != "fuzz" {
				t.Fatalf("%q: an entry's error %+v", data, me)
			}
		}

		// The disk cache's round trip.
		slim, err := json.Marshal(w)
		if err != nil {
			t.Fatalf("%q: the wire form does not marshal: %v", data, err)
		}
		again, err := parseBytes(slim, "fuzz")
		if err != nil {
			t.Fatalf("%q: the cached copy %s does not read: %v", data, slim, err)
		}
		if got, want := verdicts(again), verdicts(reg); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: the cached copy %s reads as\n%+v\nnot\n%+v", data, slim, got, want)
		}
	})
}

// registryVerdicts is what a registry says of each name: the connector (an
// empty tag list as none, as the cache omits it) or why its entry was
// skipped.
type registryVerdicts struct {
	byName, byRepo map[string]Connector
	malformed      []string
}

func verdicts(r *index) registryVerdicts {
	v := registryVerdicts{byName: map[string]Connector{}, byRepo: map[string]Connector{}}
	for m, by := range map[*map[string]Connector]map[string]*Connector{&v.byName: r.byName, &v.byRepo: r.byRepo} {
		for k, c := range by {
			c := *c
			if len(c.Tags) == 0 {
				c.Tags = nil
			}
			(*m)[k] = c
		}
	}
	for _, me := range r.malformed {
		v.malformed = append(v.malformed, me.connector+": "+me.Error())
	}
	slices.Sort(v.malformed)
	return v
}
