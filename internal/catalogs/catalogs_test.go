package catalogs

import (
	"encoding/json"
	"errors"
	"slices"
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
