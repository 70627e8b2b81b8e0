package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Kind says whether a connector reads (source) or writes (destination).
type Kind string

// The connector kinds.
const (
	KindSource      Kind = "source"
	KindDestination Kind = "destination"
)

// InstallType is a way a connector can be installed, as used by
// [Loader.Available].
type InstallType string

// The install types.
const (
	InstallDocker InstallType = "docker" // every connector with a Docker image
	InstallPython InstallType = "python" // an enabled PyPI package
	InstallYAML   InstallType = "yaml"   // a manifest-only connector: a manifest.yaml, no code of its own
	InstallJava   InstallType = "java"   // written in Java (Docker only in practice)
	InstallAny    InstallType = "any"    // every connector
)

// ParseInstallType accepts the install type names, "manifest" as a synonym
// of "yaml" and "" as "any".
func ParseInstallType(s string) (InstallType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "any", "all":
		return InstallAny, nil
	case "docker":
		return InstallDocker, nil
	case "python", "pypi":
		return InstallPython, nil
	case "yaml", "manifest", "manifest-only", "low-code":
		return InstallYAML, nil
	case "java":
		return InstallJava, nil
	}
	return "", fmt.Errorf("registry: unknown install type %q; use docker, python, yaml (manifest), java or any", s)
}

// Connector is one registry entry.
type Connector struct {
	Name             string   // "source-faker", the last part of DockerRepository
	Kind             Kind     // source or destination
	DisplayName      string   // "Sample Data (Faker)"
	DefinitionID     string   // sourceDefinitionId or destinationDefinitionId
	DockerRepository string   // "airbyte/source-faker"
	DockerImageTag   string   // the current version, "6.2.10"
	Language         string   // "python", "java", "manifest-only", "go", ...
	PyPIPackage      string   // "airbyte-source-faker", when published to PyPI
	PyPIEnabled      bool     // whether the PyPI package is meant to be installed
	DocumentationURL string   // the connector's documentation page
	ReleaseStage     string   // "alpha", "beta", "generally_available", "custom"
	SupportLevel     string   // "community", "certified", "archived"
	Tags             []string // "language:python", "cdk:low-code", ...
	Tombstone        bool     // deprecated and removed from Airbyte's catalogue
	BuiltIn          bool     // one of goairbyte's own connectors
}

// hasTag reports whether the entry carries tag, such as "cdk:low-code".
func (c *Connector) hasTag(tag string) bool { return slices.Contains(c.Tags, tag) }

// Supports reports whether the connector can be installed the way t says.
func (c *Connector) Supports(t InstallType) bool {
	switch t {
	case InstallAny, "":
		return true
	case InstallDocker:
		return c.DockerRepository != ""
	case InstallPython:
		return c.PyPIEnabled && c.PyPIPackage != "" && c.Language == "python"
	case InstallYAML:
		// As PyAirbyte: only manifest-only connectors. A low-code connector
		// published as a Python package (tag cdk:low-code, language python)
		// has code of its own and installs the Python way.
		return c.Kind == KindSource && c.Language == "manifest-only"
	case InstallJava:
		return c.Language == "java"
	}
	return false
}

// index is a parsed registry: every connector by name. A Loader hands
// the same index, and the same *Connector entries, to every caller:
// read them, do not modify them (copy an entry to change it).
type index struct {
	// Source is where the registry came from (a URL, a file, "built-in"),
	// for messages.
	Source string
	byName map[string]*Connector
	byRepo map[string]*Connector
	// malformed are the entries skipped as malformed: the loader logs
	// them, and a lookup of their name says why it fails.
	malformed []*malformedRegistryError
}

// lookup returns the connector called name, or nil. name is a connector
// name ("source-faker") or a Docker repository ("airbyte/source-faker").
// The entry is shared (see index): read it, do not modify it.
func (r *index) lookup(name string) *Connector {
	if r == nil {
		return nil
	}
	if c, ok := r.byName[name]; ok {
		return c
	}
	return r.byRepo[name]
}

// malformedEntry returns the skipped entry of the connector name (or
// Docker repository), nil when no skipped entry has that name.
func (r *index) malformedEntry(name string) *malformedRegistryError {
	if r == nil || name == "" {
		return nil
	}
	for _, me := range r.malformed {
		if me.connector != "" && (name == me.connector || strings.HasSuffix(name, "/"+me.connector)) {
			return me
		}
	}
	return nil
}

// connectors returns the connectors that support t, sorted by name.
// Tombstoned (removed) connectors are left out.
func (r *index) connectors(t InstallType) []*Connector {
	if r == nil {
		return nil
	}
	var out []*Connector
	for _, c := range r.byName {
		if !c.Tombstone && c.Supports(t) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *Connector) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// names returns every connector name, sorted, tombstoned ones included.
func (r *index) names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// add inserts c. The first entry of a name wins, which is how built-ins take
// precedence: they are added first.
func (r *index) add(c *Connector) {
	if r.byName == nil {
		r.byName = map[string]*Connector{}
		r.byRepo = map[string]*Connector{}
	}
	if _, ok := r.byName[c.Name]; !ok {
		r.byName[c.Name] = c
	}
	if _, ok := r.byRepo[c.DockerRepository]; !ok {
		r.byRepo[c.DockerRepository] = c
	}
}

// merge returns a registry with the entries of r, then those of others that
// r does not have.
func merge(source string, regs ...*index) *index {
	out := &index{Source: source}
	for _, r := range regs {
		if r == nil {
			continue
		}
		for _, n := range r.names() {
			out.add(r.byName[n])
		}
		for repo, c := range r.byRepo {
			if _, ok := out.byRepo[repo]; !ok {
				out.byRepo[repo] = c
			}
		}
		out.malformed = append(out.malformed, r.malformed...)
	}
	return out
}

// malformedRegistryError says that a registry document could not be read,
// or, from a lookup, that the connector's entry in it could not: one
// malformed entry is skipped and leaves the others usable.
type malformedRegistryError struct {
	Source string // the URL or file
	Line   int    // 1-based position of the problem, 0 when unknown
	Column int    // 1-based byte column on Line, 0 when Line is
	Detail string // what is wrong, such as a field of the wrong JSON type
	Err    error  // the JSON decoding error; nil for a problem found after decoding

	entry     bool   // one entry is malformed, not the document
	connector string // that entry's connector name, "" when it cannot be told
}

// Error names the source, the position (or the entry) and what is wrong.
func (e *malformedRegistryError) Error() string {
	if e.entry {
		who := "an entry"
		if e.connector != "" {
			who = fmt.Sprintf("the entry of connector %q", e.connector)
		}
		return fmt.Sprintf("registry %s: %s is malformed, so it was skipped: %s; the other connectors are unaffected: run this one with an explicit Docker image or executable, or report the entry to the registry's maintainers",
			e.Source, who, e.Detail)
	}
	pos := ""
	if e.Line > 0 {
		pos = fmt.Sprintf(" at line %d, column %d", e.Line, e.Column)
	}
	return fmt.Sprintf("registry %s is malformed%s: %s; check the file or AIRBYTE_LOCAL_REGISTRY, or delete the cached copy to fetch it again",
		e.Source, pos, e.Detail)
}

// Unwrap returns the JSON error, when there is one.
func (e *malformedRegistryError) Unwrap() error { return e.Err }

// The wire format: only what we use; encoding/json skips the rest (the
// large spec objects included) without building values for it.
type wireRegistry struct {
	Sources      *[]wireEntry `json:"sources"`
	Destinations *[]wireEntry `json:"destinations"`
}

type wireEntry struct {
	SourceDefinitionID      string   `json:"sourceDefinitionId,omitempty"`
	DestinationDefinitionID string   `json:"destinationDefinitionId,omitempty"`
	Name                    string   `json:"name,omitempty"`
	DockerRepository        string   `json:"dockerRepository"`
	DockerImageTag          string   `json:"dockerImageTag,omitempty"`
	DocumentationURL        string   `json:"documentationUrl,omitempty"`
	ReleaseStage            string   `json:"releaseStage,omitempty"`
	SupportLevel            string   `json:"supportLevel,omitempty"`
	Language                string   `json:"language,omitempty"`
	Tags                    []string `json:"tags,omitempty"`
	Tombstone               bool     `json:"tombstone,omitempty"`
	RemoteRegistries        struct {
		PyPI struct {
			Enabled     bool   `json:"enabled,omitempty"`
			PackageName string `json:"packageName,omitempty"`
		} `json:"pypi"`
	} `json:"remoteRegistries"`
	// Malformed says why the entry could not be decoded. No registry has
	// it: it keeps the verdict in the disk cache, whose slim copy of the
	// entry would otherwise read as well formed.
	Malformed string `json:"goairbyteMalformed,omitempty"`
}

// parse reads a registry document in the Airbyte OSS registry format.
// source names where it came from, for error messages. A document that
// cannot be read is a *malformedRegistryError; an entry that cannot (no
// dockerRepository, a field of the wrong type) is skipped, and
// [Loader.Lookup] of its name is that error.
func parse(r io.Reader, source string) (*index, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("registry: reading %s: %w", source, err)
	}
	return parseBytes(data, source)
}

// parseBytes is [parse] for a document in memory.
func parseBytes(data []byte, source string) (*index, error) {
	reg, _, err := parseWire(data, source)
	return reg, err
}

// parseWire parses data and also returns its wire form, which the disk
// cache stores: the same format without the fields we skip (specs, icons),
// a few percent of the size and as much faster to read back.
func parseWire(data []byte, source string) (*index, *wireRegistry, error) {
	var w wireRegistry
	if err := json.Unmarshal(data, &w); err != nil {
		// A field of the wrong type inside one entry spoils only that
		// entry: decode them one by one (only then, as it costs twice).
		var typ *json.UnmarshalTypeError
		if !errors.As(err, &typ) || w.decodeEntries(data) != nil {
			return nil, nil, malformed(data, source, err)
		}
	}
	if w.Sources == nil && w.Destinations == nil {
		return nil, nil, &malformedRegistryError{Source: source,
			Detail: `it has neither a "sources" nor a "destinations" array; is it an Airbyte registry?`}
	}
	reg := &index{Source: source}
	for _, part := range []struct {
		kind    Kind
		key     string
		entries *[]wireEntry
	}{{KindSource, "sources", w.Sources}, {KindDestination, "destinations", w.Destinations}} {
		if part.entries == nil {
			continue
		}
		for i, e := range *part.entries {
			c, err := e.connector(part.kind)
			if err != nil {
				// Upstream entries break one at a time; one of them
				// must not take every other connector with it.
				reg.malformed = append(reg.malformed, &malformedRegistryError{Source: source, entry: true, connector: e.connectorName(),
					Detail: fmt.Sprintf("%s[%d] (%q): %v", part.key, i, e.Name, err)})
				continue
			}
			reg.add(c)
		}
	}
	return reg, &w, nil
}

// decodeEntries decodes data's entries one by one into w, marking those
// that do not decode as Malformed; it fails when the document's shape is
// wrong, outside any entry.
func (w *wireRegistry) decodeEntries(data []byte) error {
	var raw struct {
		Sources      *[]json.RawMessage `json:"sources"`
		Destinations *[]json.RawMessage `json:"destinations"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	decode := func(in *[]json.RawMessage) *[]wireEntry {
		if in == nil {
			return nil
		}
		out := make([]wireEntry, len(*in))
		for i, r := range *in {
			if err := json.Unmarshal(r, &out[i]); err != nil {
				out[i].Malformed = jsonDetail(err)
			}
		}
		return &out
	}
	w.Sources, w.Destinations = decode(raw.Sources), decode(raw.Destinations)
	return nil
}

// connectorName is the entry's connector name: the last part of its
// dockerRepository or, without one, its PyPI package's name without the
// "airbyte-" prefix; "" when neither tells.
func (e *wireEntry) connectorName() string {
	if repo := strings.TrimSpace(e.DockerRepository); repo != "" {
		return repo[strings.LastIndexByte(repo, '/')+1:]
	}
	pkg, ok := strings.CutPrefix(e.RemoteRegistries.PyPI.PackageName, "airbyte-")
	if !ok || pkg == "" {
		return ""
	}
	return pkg
}

func (e *wireEntry) connector(kind Kind) (*Connector, error) {
	if e.Malformed != "" {
		return nil, errors.New(e.Malformed)
	}
	repo := strings.TrimSpace(e.DockerRepository)
	if repo == "" {
		return nil, errors.New("dockerRepository is missing")
	}
	name := repo[strings.LastIndexByte(repo, '/')+1:]
	if name == "" {
		return nil, fmt.Errorf("dockerRepository %q has no connector name", repo)
	}
	id := e.SourceDefinitionID
	if kind == KindDestination {
		id = e.DestinationDefinitionID
	}
	lang := e.Language
	if lang == "" {
		// Older registries only carry the language as a tag.
		for _, t := range e.Tags {
			if l, ok := strings.CutPrefix(t, "language:"); ok {
				lang = l
				break
			}
		}
	}
	return &Connector{
		Name:             name,
		Kind:             kind,
		DisplayName:      e.Name,
		DefinitionID:     id,
		DockerRepository: repo,
		DockerImageTag:   e.DockerImageTag,
		Language:         lang,
		PyPIPackage:      e.RemoteRegistries.PyPI.PackageName,
		PyPIEnabled:      e.RemoteRegistries.PyPI.Enabled,
		DocumentationURL: e.DocumentationURL,
		ReleaseStage:     e.ReleaseStage,
		SupportLevel:     e.SupportLevel,
		Tags:             e.Tags,
		Tombstone:        e.Tombstone,
	}, nil
}

// malformed turns a JSON error into a malformedRegistryError with a line
// and column.
func malformed(data []byte, source string, err error) error {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	me := &malformedRegistryError{Source: source, Detail: jsonDetail(err), Err: err}
	if offset >= 0 && offset <= int64(len(data)) {
		before := data[:offset]
		me.Line = bytes.Count(before, []byte("\n")) + 1
		me.Column = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
		if me.Column == 0 {
			me.Column = 1
		}
	}
	return me
}

// jsonDetail says what a JSON decoding error found wrong.
func jsonDetail(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("field %s should be %s, found JSON %s", typ.Field, typ.Type, typ.Value)
	}
	return err.Error()
}
