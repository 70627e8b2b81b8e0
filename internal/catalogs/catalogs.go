// Package catalogs answers the questions the library asks of a connector's
// catalog: its stream names, a stream by name (or namespace.name), whether a stream supports a
// sync mode, and whether its schema is open.
package catalogs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/x/goairbyte/protocol"
)

// StreamNames lists the catalog's streams in catalog order, each by the
// name that selects it (see Find): its name, or namespace.name for a name
// that streams of several namespaces share.
func StreamNames(c *protocol.Catalog) []string {
	count := make(map[string]int, len(c.Streams))
	for i := range c.Streams {
		count[c.Streams[i].Name]++
	}
	names := make([]string, len(c.Streams))
	for i := range c.Streams {
		names[i] = c.Streams[i].Name
		if count[names[i]] > 1 {
			names[i] = Qualified(&c.Streams[i])
		}
	}
	return names
}

// Qualified is a stream's namespace.name, its name when it has no
// namespace.
func Qualified(s *protocol.Stream) string {
	if s.Namespace == "" {
		return s.Name
	}
	return s.Namespace + "." + s.Name
}

// Find returns the stream name selects (see Index.Find), or an error.
func Find(c *protocol.Catalog, where, name string) (*protocol.Stream, error) {
	return NewIndex(c, where).Find(name)
}

// Index finds the streams of a catalog by the names that select them, for
// callers that look up many: a scan of the catalog for each of thousands
// of selected streams (a database source's tables) costs their number
// squared. Measured on 50,000 streams: selecting them all by name took
// 36 s.
type Index struct {
	where       string
	c           *protocol.Catalog
	byName      map[string][]*protocol.Stream // in catalog order
	byQualified map[string][]*protocol.Stream // namespace.name of those with a namespace
}

// NewIndex indexes c; where is the Where of its errors (a connector's
// name).
func NewIndex(c *protocol.Catalog, where string) *Index {
	x := &Index{where: where, c: c, byName: make(map[string][]*protocol.Stream, len(c.Streams)), byQualified: map[string][]*protocol.Stream{}}
	for i := range c.Streams {
		s := &c.Streams[i]
		x.byName[s.Name] = append(x.byName[s.Name], s)
		if s.Namespace != "" {
			x.byQualified[Qualified(s)] = append(x.byQualified[Qualified(s)], s)
		}
	}
	return x
}

// Find returns the stream name selects: the one stream called name (of
// several, the one without a namespace), else the one whose namespace.name
// it is. A name that streams of several namespaces share selects none of
// them: the error names each as namespace.name, the way to select it. A
// name that selects nothing is a *protocol.StreamNotFoundError.
func (x *Index) Find(name string) (*protocol.Stream, error) {
	found := x.byName[name]
	if len(found) > 1 {
		if i := slices.IndexFunc(found, func(s *protocol.Stream) bool { return s.Namespace == "" }); i >= 0 &&
			slices.IndexFunc(found[i+1:], func(s *protocol.Stream) bool { return s.Namespace == "" }) < 0 {
			return found[i], nil
		}
	}
	if len(found) == 0 {
		found = x.byQualified[name]
	}
	switch len(found) {
	case 0:
		return nil, &protocol.StreamNotFoundError{Where: x.where, Stream: name, Available: StreamNames(x.c)}
	case 1:
		return found[0], nil
	}
	each := make([]string, len(found))
	for i, s := range found {
		each[i] = strconv.Quote(Qualified(s))
	}
	return nil, fmt.Errorf("%s: %d streams are called %q, in different namespaces: name the one to read as namespace.name (%s)",
		x.where, len(found), name, strings.Join(each, ", "))
}

// Check returns the error of the first of names that selects no stream,
// nil if each selects one.
func (x *Index) Check(names []string) error {
	for _, n := range names {
		if _, err := x.Find(n); err != nil {
			return err
		}
	}
	return nil
}

// Supports reports whether the stream supports the sync mode.
func Supports(s *protocol.Stream, mode protocol.SyncMode) bool {
	return slices.Contains(s.SupportedSyncModes, mode)
}

// OpenSchema reports whether a stream's JSON schema is open: it declares
// no top-level property (no "properties", or an empty object) and does
// not say "additionalProperties": false, so that its records may hold any
// field. A schema that does not parse as an object is not open (the cache
// refuses it); an absent one is.
func OpenSchema(schema json.RawMessage) bool {
	if len(schema) == 0 {
		return true
	}
	var s struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		AdditionalProperties json.RawMessage            `json:"additionalProperties"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return false
	}
	return len(s.Properties) == 0 && string(s.AdditionalProperties) != "false"
}
