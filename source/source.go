package source

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/protocol"
)

// Source is one Airbyte source connector with its config and stream
// selection. It embeds the *connector.Connector that runs it, so Spec,
// Check, Config, SetConfig, ValidateConfig, Install and the rest are its
// methods; this type adds what only sources do: the catalog, stream
// selection, Records and Read. Its methods are safe for concurrent use.
type Source struct {
	*connector.Connector
	// core is the Connector's machinery: running its commands.
	core core.Conn

	mu        sync.Mutex
	catalog   *protocol.Catalog
	selectAll bool
	selected  []string
	// Overrides of the catalog's primary keys and cursors, by stream.
	primaryKeys map[string][][]string
	cursors     map[string][]string
}

// SetPrimaryKey overrides the primary key of a stream for every read and
// write of this Source (PyAirbyte's set_primary_key): one path per key
// column, usually []string{"id"}. No key clears the override. A stream
// the catalog does not have makes the next read fail with a
// *protocol.StreamNotFoundError; a key whose first field the stream's
// JSON schema lacks makes a read into a cache and a write fail with an
// error matching cache.ErrStrategy (a write without a cache only when the
// schema lists properties: a destination judges a schemaless stream).
func (s *Source) SetPrimaryKey(stream string, key ...[]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.primaryKeys == nil {
		s.primaryKeys = map[string][][]string{}
	}
	if len(key) == 0 {
		delete(s.primaryKeys, stream)
		return
	}
	s.primaryKeys[stream] = key
}

// SetCursorField overrides the cursor of a stream for every read and write
// of this Source (PyAirbyte's set_cursor_key): a path into its records,
// usually one field name. No path clears the override. A stream the
// catalog does not have makes the next read fail with a
// *protocol.StreamNotFoundError; a cursor the stream's JSON schema lacks
// fails a read into a cache, and a write, as SetPrimaryKey says.
func (s *Source) SetCursorField(stream string, path ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cursors == nil {
		s.cursors = map[string][]string{}
	}
	if len(path) == 0 {
		delete(s.cursors, stream)
		return
	}
	s.cursors[stream] = path
}

// New builds a Source for the connector name (such as "source-faker"); see
// package connector for how the options decide the way it runs. It starts no
// process: the connector runs when a method needs it.
func New(ctx context.Context, name string, opts ...connector.Option) (*Source, error) {
	c, err := core.New[*connector.Connector](ctx, core.KindSource, name, opts...)
	if err != nil {
		return nil, err
	}
	s := &Source{Connector: c, core: core.ConnOf(c)}
	if names := s.core.Streams(); len(names) > 0 {
		s.setSelection(names)
	}
	return s, nil
}

// SetConfig replaces the config (a map[string]any, a struct, a
// json.RawMessage or JSON bytes). The discovered catalog is forgotten, since
// it may depend on the config; a stream selection is kept and checked again.
// As connector.Connector.SetConfig, it does not validate the config against
// the spec (PyAirbyte's set_config does): ValidateConfig does, and Read and
// Records do before they start.
func (s *Source) SetConfig(config any) error {
	if err := s.Connector.SetConfig(config); err != nil {
		return err
	}
	s.mu.Lock()
	s.catalog = nil
	s.mu.Unlock()
	return nil
}

// Discover runs the connector's discover command and returns the catalog of
// its streams, replacing the remembered one, which AvailableStreams,
// SelectStreams and Read reuse. The config is validated against the spec first.
func (s *Source) Discover(ctx context.Context) (*protocol.Catalog, error) {
	ctx = core.WithOperation(ctx)
	var catalog *protocol.Catalog
	var runErr error
	for msg, err := range s.core.RunValidated(ctx, executor.Invocation{Verb: executor.VerbDiscover}) {
		if err != nil {
			runErr = err
			break
		}
		if msg.Type == protocol.TypeCatalog && msg.Catalog != nil {
			catalog = msg.Catalog
		}
	}
	if runErr != nil {
		return nil, runErr
	}
	if catalog == nil {
		return nil, fmt.Errorf("%s: the connector's discover command ended without a CATALOG message", s.Name())
	}
	s.mu.Lock()
	s.catalog = catalog
	s.mu.Unlock()
	return catalog, nil
}

// DiscoveredCatalog returns the catalog, running discover only the first
// time (and after SetConfig).
func (s *Source) DiscoveredCatalog(ctx context.Context) (*protocol.Catalog, error) {
	s.mu.Lock()
	c := s.catalog
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	return s.Discover(ctx)
}

// AvailableStreams returns the names of the connector's streams.
func (s *Source) AvailableStreams(ctx context.Context) ([]string, error) {
	c, err := s.DiscoveredCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return catalogs.StreamNames(c), nil
}

// SelectStreams selects the streams to read; "*" selects all of them. When
// the config is set, the names are checked against the catalog now
// (running discover if needed) and an unknown one is a
// *protocol.StreamNotFoundError that leaves the selection unchanged. Before
// the config is set, the selection is remembered and checked once the
// catalog is known.
func (s *Source) SelectStreams(ctx context.Context, names ...string) error {
	if s.core.HasConfig() {
		c, err := s.DiscoveredCatalog(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(names, "*") {
			if err := catalogs.NewIndex(c, s.Name()).Check(names); err != nil {
				return err
			}
		}
	}
	s.setSelection(names)
	return nil
}

// SelectAllStreams selects every stream of the catalog.
func (s *Source) SelectAllStreams() { s.setSelection([]string{"*"}) }

func (s *Source) setSelection(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(names, "*") {
		s.selectAll, s.selected = true, nil
		return
	}
	s.selectAll = false
	s.selected = distinct(names)
}

// distinct returns names without repeats, in the order of their first
// occurrence: a stream named twice is read once. (slices.Compact drops
// only neighbours: "a", "b", "a" would configure a twice.)
func distinct(names []string) []string {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// SelectedStreams returns the names of the selected streams, in catalog
// order for "*". It discovers the catalog when it needs to, and returns a
// *protocol.StreamNotFoundError for a name remembered from before the
// config was set that the catalog does not have.
func (s *Source) SelectedStreams(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	all, names := s.selectAll, slices.Clone(s.selected)
	s.mu.Unlock()
	c, err := s.DiscoveredCatalog(ctx)
	if err != nil {
		return nil, err
	}
	if all {
		return catalogs.StreamNames(c), nil
	}
	if err := catalogs.NewIndex(c, s.Name()).Check(names); err != nil {
		return nil, err
	}
	return names, nil
}
