package catalogs

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/x/goairbyte/protocol"
)

func TestFindStreamNamesSupports(t *testing.T) {
	c := &protocol.Catalog{Streams: []protocol.Stream{
		{Name: "users", SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental}},
		{Name: "products", SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}},
	}}
	if got := StreamNames(c); !slices.Equal(got, []string{"users", "products"}) {
		t.Fatalf("StreamNames = %v", got)
	}
	st, err := Find(c, "source-x", "products")
	if err != nil || st != &c.Streams[1] {
		t.Fatalf("Find(products) = %v, %v", st, err)
	}
	if !Supports(&c.Streams[0], protocol.SyncIncremental) || Supports(st, protocol.SyncIncremental) || !Supports(st, protocol.SyncFullRefresh) {
		t.Fatal("Supports answers wrong")
	}
	_, err = Find(c, "source-x", "orders")
	var nf *protocol.StreamNotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, protocol.ErrStreamNotFound) || nf.Where != "source-x" || nf.Stream != "orders" ||
		!slices.Equal(nf.Available, []string{"users", "products"}) {
		t.Fatalf("Find(orders) = %v", err)
	}
}

// A name that streams of several namespaces share selects none of them:
// each is selected by namespace.name, as StreamNames lists it, but for the
// one without a namespace, which its name selects.
func TestFindByNamespace(t *testing.T) {
	c := &protocol.Catalog{Streams: []protocol.Stream{
		{Name: "tags", Namespace: "east"}, {Name: "tags", Namespace: "west"}, {Name: "users", Namespace: "east"},
		{Name: "a.b"}, {Name: "b", Namespace: "a"}, {Name: "logs", Namespace: "x"}, {Name: "logs"},
	}}
	want := []string{"east.tags", "west.tags", "users", "a.b", "b", "x.logs", "logs"}
	if got := StreamNames(c); !slices.Equal(got, want) {
		t.Fatalf("StreamNames = %q, want %q", got, want)
	}
	for i, name := range want {
		if st, err := Find(c, "source-x", name); err != nil || st != &c.Streams[i] {
			t.Errorf("Find(%q) = %v, %v; want stream %d", name, st, err, i)
		}
	}
	for name, i := range map[string]int{"east.users": 2, "a.b": 3} { // a name first, then namespace.name
		if st, err := Find(c, "source-x", name); err != nil || st != &c.Streams[i] {
			t.Errorf("Find(%q) = %v, %v; want stream %d", name, st, err, i)
		}
	}
	_, err := Find(c, "source-x", "tags")
	if err == nil || errors.Is(err, protocol.ErrStreamNotFound) || !strings.Contains(err.Error(), `2 streams are called "tags"`) ||
		!strings.Contains(err.Error(), `"east.tags", "west.tags"`) {
		t.Errorf("Find(tags) = %v, want an error naming east.tags and west.tags", err)
	}
	if _, err := Find(c, "source-x", "north.tags"); !errors.Is(err, protocol.ErrStreamNotFound) {
		t.Errorf("Find(north.tags) = %v, want ErrStreamNotFound", err)
	}
}

func TestOpenSchema(t *testing.T) {
	for schema, want := range map[string]bool{
		``: true,
		`{"type":"object","additionalProperties":true,"properties":{}}`: true,
		`{"type":"object"}`:                                              true,
		`{"type":"object","properties":null}`:                            true,
		`{"type":"object","properties":{},"additionalProperties":false}`: false,
		`{"type":"object","properties":{"id":{"type":"integer"}}}`:       false,
		`{"type":"object","properties":[]}`:                              false,
		`not json`:                                                       false,
	} {
		if got := OpenSchema(json.RawMessage(schema)); got != want {
			t.Errorf("OpenSchema(%s) = %v, want %v", schema, got, want)
		}
	}
}
