package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// One Source read by many goroutines at once, as a server embedding the
// library does: reads into caches of their own each get their whole
// result; reads into one shared cache (DuckDB and PostgreSQL) run one at a
// time per source, the others refused with an *InUseError, and what the
// cache holds afterwards is one whole read, not a mix.
func TestConcurrentReadsOfOneSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const users = 400
	src := fakerSource(t, map[string]any{"count": users, "seed": 3, "records_per_slice": 100, "always_updated": false})
	if err := src.SelectStreams(ctx, "users", "products"); err != nil {
		t.Fatal(err)
	}
	pg := openPostgres(t)
	duck := openDuckDB(t)
	caches := []*cache.Cache{duck, duck, duck, pg, pg, pg}
	for range 4 {
		caches = append(caches, openDuckDB(t))
	}

	results := make([]*source.ReadResult, len(caches))
	errs := make([]error, len(caches))
	var wg sync.WaitGroup
	for i, c := range caches {
		wg.Go(func() { results[i], errs[i] = src.Read(ctx, source.UseCache(c), source.ForceFullRefresh()) })
	}
	wg.Wait()

	done := map[*cache.Cache]int{}
	for i, c := range caches {
		var inUse *cacheerr.InUseError
		if errors.As(errs[i], &inUse) {
			continue
		}
		if errs[i] != nil {
			t.Fatalf("read %d: %v", i, errs[i])
		}
		done[c]++
		res := results[i]
		if res.Cache() != c {
			t.Errorf("read %d: result names another cache", i)
		}
		if got := res.StreamRecords(); got["users"] != users || got["products"] != 100 || res.RecordsProcessed() != users+100 {
			t.Errorf("read %d: records %v (total %d), want %d users and 100 products", i, got, res.RecordsProcessed(), users)
		}
	}
	t.Logf("reads done into the shared DuckDB cache: %d of 3, into PostgreSQL: %d of 3", done[duck], done[pg])
	for i, c := range caches {
		if done[c] == 0 {
			t.Fatalf("no read into cache %d succeeded", i)
		}
		for stream, want := range map[string]int64{"users": users, "products": 100} {
			ds, err := c.Dataset(ctx, stream)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := ds.Count(ctx); err != nil || n != want {
				t.Errorf("cache %d: %s has %d rows (%v), want %d", i, stream, n, err, want)
			}
		}
	}
}

// SetConfig, SelectStreams and the key overrides race with reads of the
// same Source: each read uses one config and one selection throughout,
// and loads exactly what it reports.
func TestSettersRaceWithRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := fakerSource(t, map[string]any{"count": 100, "seed": 3, "records_per_slice": 50})
	if err := src.SelectStreams(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var setters sync.WaitGroup
	setters.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := src.SetConfig(map[string]any{"count": 100 * (1 + i%2), "seed": 3, "records_per_slice": 50}); err != nil {
				t.Error(err)
				return
			}
			names := []string{"users"}
			if i%3 == 0 {
				names = append(names, "products")
			}
			if err := src.SelectStreams(ctx, names...); err != nil {
				t.Error(err)
				return
			}
			src.SetPrimaryKey("users", []string{"id"})
			src.SetCursorField("users", "updated_at")
			_ = src.Config()
		}
	})
	var readers sync.WaitGroup
	for i := range 4 {
		readers.Go(func() {
			for j := range 3 {
				c := openDuckDB(t)
				res, err := src.Read(ctx, source.UseCache(c))
				if err != nil {
					t.Errorf("read %d.%d: %v", i, j, err)
					return
				}
				got := res.StreamRecords()
				if n := got["users"]; n != 100 && n != 200 {
					t.Errorf("read %d.%d: %d users", i, j, n)
				}
				for _, stream := range res.ProcessedStreams() {
					ds, err := res.Stream(ctx, stream)
					if err != nil {
						t.Error(err)
						return
					}
					if n, err := ds.Count(ctx); err != nil || n != got[stream] {
						t.Errorf("read %d.%d: %s holds %d rows (%v), the result says %d", i, j, stream, n, err, got[stream])
					}
				}
				if len(got) != len(res.ProcessedStreams()) {
					t.Errorf("read %d.%d: records of %v, processed %v", i, j, got, res.ProcessedStreams())
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	setters.Wait()
}

// Two different sources read into one cache at once (DuckDB and
// PostgreSQL), as two jobs of a server sharing a cache do: the cache is
// safe for concurrent use and only loads of one source exclude each other,
// so neither read is refused; each loads its own streams whole and commits
// its own state, and the next reads, again at once, are incremental from
// that state.
func TestConcurrentReadsOfTwoSourcesIntoOneCache(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name string
		open func(t *testing.T) *cache.Cache
	}{
		{"duckdb", func(t *testing.T) *cache.Cache { return openDuckDB(t) }},
		{"postgres", func(t *testing.T) *cache.Cache { return openPostgres(t) }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			testReadsOfTwoSourcesIntoOneCache(t, backend.open(t))
		})
	}
}

func testReadsOfTwoSourcesIntoOneCache(t *testing.T, c *cache.Cache) {
	ctx := context.Background()
	users := fakerSource(t, map[string]any{"count": 300, "seed": 7, "records_per_slice": 50, "always_updated": false},
		connector.WithStreams("users"))
	products, err := source.New(ctx, "source-faker-products",
		connector.WithLocalExecutable(testenv.BuildBinary(t, "./cmd/source-faker")),
		connector.WithConfig(map[string]any{"count": 40, "seed": 3}), connector.WithStreams("products"))
	if err != nil {
		t.Fatal(err)
	}
	readBoth := func(round int) (u, p *source.ReadResult) {
		var wg sync.WaitGroup
		var uErr, pErr error
		wg.Go(func() { u, uErr = users.Read(ctx, source.UseCache(c)) })
		wg.Go(func() { p, pErr = products.Read(ctx, source.UseCache(c)) })
		wg.Wait()
		if uErr != nil || pErr != nil {
			t.Fatalf("round %d: users read: %v; products read: %v", round, uErr, pErr)
		}
		return u, p
	}

	u, p := readBoth(1)
	if got := u.StreamRecords(); got["users"] != 300 || len(got) != 1 {
		t.Errorf("round 1: users read loaded %v, want 300 users", got)
	}
	if got := p.StreamRecords(); got["products"] != 40 || len(got) != 1 {
		t.Errorf("round 1: products read loaded %v, want 40 products", got)
	}
	for _, name := range []string{"source-faker", "source-faker-products"} {
		if st, err := c.SourceState(ctx, name, nil); err != nil || st == nil {
			t.Fatalf("round 1: no state of %s: %s, %v", name, st, err)
		}
	}

	if err := users.SetConfig(map[string]any{"count": 500, "seed": 7, "records_per_slice": 50, "always_updated": false}); err != nil {
		t.Fatal(err)
	}
	u, p = readBoth(2)
	if got := u.StreamRecords()["users"]; got != 200 {
		t.Errorf("round 2: users read loaded %d, want only the 200 new ones", got)
	}
	if n := count(t, ctx, u, "users"); n != 500 {
		t.Errorf("round 2: users in the cache: %d, want 500", n)
	}
	if n := count(t, ctx, p, "products"); n != 40 {
		t.Errorf("round 2: products in the cache: %d, want 40", n)
	}
	streams, err := c.Streams(ctx)
	if err != nil || !slices.Equal(streams, []string{"products", "users"}) {
		t.Errorf("cache streams %q, %v; want [products users]", streams, err)
	}
}

// fanoutSource is a Go connector that reads each stream of its catalog on
// its own goroutine, as one that fetches streams in parallel does: each
// emits its records, with the stream's state after every 100, and ends
// its stream, all through the one emit, taking turns under a mutex as the
// kit asks (emit is called from one goroutine at a time).
type fanoutSource struct{ streams, records int }

func (fanoutSource) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object"}`)}, nil
}
func (fanoutSource) Check(context.Context, json.RawMessage) error { return nil }
func (s fanoutSource) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	cat := &protocol.Catalog{}
	for i := range s.streams {
		cat.Streams = append(cat.Streams, protocol.Stream{Name: fmt.Sprintf("s%d", i),
			JSONSchema:          json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`),
			SupportedSyncModes:  []protocol.SyncMode{protocol.SyncFullRefresh, protocol.SyncIncremental},
			SourceDefinedCursor: new(true), DefaultCursorField: []string{"id"}})
	}
	return cat, nil
}
func (s fanoutSource) Read(ctx context.Context, _ json.RawMessage, cat *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	var mu sync.Mutex
	serial := func(m *protocol.Message) error {
		mu.Lock()
		defer mu.Unlock()
		return emit(m)
	}
	errs := make([]error, len(cat.Streams))
	var wg sync.WaitGroup
	for si, cs := range cat.Streams {
		wg.Go(func() {
			d := protocol.StreamDescriptor{Name: cs.Stream.Name}
			for i := 1; i <= s.records && errs[si] == nil; i++ {
				errs[si] = serial(&protocol.Message{Type: protocol.TypeRecord, Record: &protocol.Record{Stream: d.Name,
					Data: fmt.Appendf(nil, `{"id":%d}`, i)}})
				if errs[si] == nil && i%100 == 0 {
					errs[si] = serial(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
						Stream: &protocol.StreamState{StreamDescriptor: d, StreamState: fmt.Appendf(nil, `{"id":%d}`, i)}}})
				}
			}
			if errs[si] == nil {
				errs[si] = serial(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{Type: protocol.TraceStreamStatus, EmittedAt: 1,
					StreamStatus: &protocol.StreamStatusTrace{StreamDescriptor: d, Status: protocol.StatusComplete}}})
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// A Go connector whose streams are read on goroutines of their own, run in
// process and read into DuckDB: every stream loads all its records and
// commits its last state. Under -race this runs the in-process runner's
// batching (the connector's goroutines on one side, the loader on the
// other) and the stream ends kitcore tracks.
func TestReadInProcessFromGoroutines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const streams, records = 6, 1000
	src, err := source.New(ctx, "source-fanout", connector.WithGoConnector(fanoutSource{streams, records}),
		connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	src.SelectAllStreams()
	c := openDuckDB(t)
	res, err := src.Read(ctx, source.UseCache(c))
	if err != nil {
		t.Fatal(err)
	}
	for i := range streams {
		name := fmt.Sprintf("s%d", i)
		if n := count(t, ctx, res, name); n != records {
			t.Errorf("%s: %d rows, want %d", name, n, records)
		}
		st, err := c.State(ctx, cache.StateKey{Source: "source-fanout", Stream: name})
		if err != nil || st == nil || st.Stream == nil || string(st.Stream.StreamState) != fmt.Sprintf(`{"id":%d}`, records) {
			t.Errorf("%s: state %+v, %v; want its last", name, st, err)
		}
	}
}

// A Read passes its connector the state the cache holds once the read
// holds the source's lock: a state read before could be overtaken by a
// read of the source that ended meanwhile, whose records the connector
// would then send again. Here the other read runs, to its end, between the
// start of this one and its load (in this Read's own log handler, on its
// "read started"): the state it committed is the one this read passes,
// and under append the users are in the table once, not twice.
func TestReadTakesTheStateUnderTheLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openDuckDB(t)
	config := map[string]any{"count": 50, "seed": 7, "always_updated": false}
	other := fakerSource(t, config)
	var otherErr error
	var once sync.Once
	hook := &onMessage{msg: "read started", fn: func() {
		once.Do(func() {
			_, otherErr = other.Read(ctx, source.UseCache(c), source.Streams("users"), source.Strategy(cache.StrategyAppend))
		})
	}}
	src := fakerSource(t, config, connector.WithLogger(slog.New(hook)))
	if _, err := src.Read(ctx, source.UseCache(c), source.Streams("users"), source.Strategy(cache.StrategyAppend)); err != nil {
		t.Fatal(err)
	}
	if otherErr != nil {
		t.Fatalf("the read run in between: %v", otherErr)
	}
	ran := false
	once.Do(func() { ran = true })
	if ran {
		t.Fatal("the test is void: the read in between never ran")
	}
	ds, err := c.Dataset(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ds.Count(ctx); err != nil || n != 50 {
		t.Fatalf("users: %d rows (%v), want 50: the second read loaded the first one's records again", n, err)
	}
}

// onMessage is a slog handler that calls fn for each record whose message
// is msg, before the record is dropped.
type onMessage struct {
	msg string
	fn  func()
}

func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h *onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}
func (h *onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *onMessage) WithGroup(string) slog.Handler      { return h }
