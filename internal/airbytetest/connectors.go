package airbytetest

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"

	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/shareddata"
)

// definition is a connector type the server offers, with its real spec.
type definition struct {
	ID         string
	Name       string
	Repository string // docker repository, "airbyte/source-faker"
	Tag        string
	Kind       string // "source" or "destination"
	Spec       json.RawMessage
	// Streams is the catalog a source offers: names, sync modes, cursor,
	// primary key.
	Streams []streamInfo
}

type streamInfo struct {
	Name          string
	SyncModes     []string // full_refresh, incremental
	DefaultCursor []string
	PrimaryKey    [][]string
}

//go:embed testdata/*.json
var testdata embed.FS

// loadDefinitions registers the connectors: source-faker with its spec from
// shared/faker/spec.json (syncs run it for real), source-harvest with the
// spec and catalog the Python CDK recorded (secrets at the top and inside
// oneOf branches; it has no catalog and cannot sync here, having no
// network), source-onesignal likewise (secrets inside the items of an
// array), and the DuckDB and PostgreSQL destinations with their specs.
func (s *Server) loadDefinitions() error {
	faker, err := readShared("faker/spec.json")
	if err != nil {
		return err
	}
	var fakerSpec struct {
		ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
	}
	if err := json.Unmarshal(faker, &fakerSpec); err != nil {
		return fmt.Errorf("faker spec: %w", err)
	}
	fakerStreams, err := fakerCatalog()
	if err != nil {
		return err
	}
	harvest, err := corpusSpec("source-harvest")
	if err != nil {
		return err
	}
	onesignal, err := corpusSpec("source-onesignal")
	if err != nil {
		return err
	}
	duck, err := testdata.ReadFile("testdata/destination-duckdb.json")
	if err != nil {
		return err
	}
	pg, err := testdata.ReadFile("testdata/destination-postgres.json")
	if err != nil {
		return err
	}
	s.defs = []*definition{
		{ID: "dfd88b22-b603-4c3d-aad7-3701784586b1", Name: "Sample Data (Faker)", Repository: "airbyte/source-faker", Tag: "6.2.20", Kind: "source", Spec: fakerSpec.ConnectionSpecification, Streams: fakerStreams},
		{ID: "fe2b4084-3386-4d3b-9ad6-308f61a6f1e6", Name: "Harvest", Repository: "airbyte/source-harvest", Tag: "1.1.0", Kind: "source", Spec: harvest},
		{ID: "bb6afd81-87d5-47e3-97c4-e2c2901b1cf8", Name: "OneSignal", Repository: "airbyte/source-onesignal", Tag: "1.2.10", Kind: "source", Spec: onesignal},
		{ID: "94bd199c-2ff0-4aa2-b98e-17f0acb72610", Name: "DuckDB", Repository: "airbyte/destination-duckdb", Tag: "0.4.0", Kind: "destination", Spec: duck},
		{ID: "25c5221d-dce2-4163-ade9-739ef790f503", Name: "Postgres", Repository: "airbyte/destination-postgres", Tag: "2.4.0", Kind: "destination", Spec: pg},
	}
	return nil
}

// corpusSpec is the connectionSpecification the Python CDK recorded for a
// connector of the manifest corpus.
func corpusSpec(name string) (json.RawMessage, error) {
	b, err := readShared("manifests/corpus/" + name + "/expected/spec.json")
	if err != nil {
		return nil, err
	}
	var msg struct {
		Spec struct {
			ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		return nil, fmt.Errorf("%s spec: %w", name, err)
	}
	return msg.Spec.ConnectionSpecification, nil
}

func readShared(rel string) ([]byte, error) {
	p, err := shareddata.Path(rel)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// fakerCatalog is the faker's catalog: its three streams (whose schemas
// shared/faker/schemas holds), each with the source-defined cursor
// updated_at and primary key id.
func fakerCatalog() ([]streamInfo, error) {
	var out []streamInfo
	for _, name := range []string{"products", "purchases", "users"} {
		if _, err := fakersync.Properties(name); err != nil {
			return nil, err // the stream's schema must be there
		}
		out = append(out, streamInfo{Name: name, SyncModes: []string{"full_refresh", "incremental"},
			DefaultCursor: []string{"updated_at"}, PrimaryKey: [][]string{{"id"}}})
	}
	return out, nil
}

func (s *Server) definition(id string) *definition {
	for _, d := range s.defs {
		if d.ID == id {
			return d
		}
	}
	return nil
}
