package cachetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/protocol"
)

// Namespaces checks that a cache never mixes two namespaces' streams of
// one name in one table, across loads as within one: a load of west.tags
// into the table an earlier load recorded for east.tags is refused before
// it writes, naming both and the ways out; a replace takes the table over,
// recording it for west and dropping east's state, after which east is
// refused; a stream with no namespace is told from one with a namespace
// and from a table whose namespace is unknown; ShareTables shares tables
// between sources, not namespaces; and a cache of format 2, which did not
// record namespaces, is upgraded to format 3 (once, however many open it
// at once), its tables' namespaces unknown until their next load. fresh
// returns a new target.
func Namespaces(t *testing.T, fresh func(t testing.TB) string, open PrefixOpener) {
	opener := func(t *testing.T, target string) *cache.Cache {
		t.Helper()
		c, err := open(context.Background(), target, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *cache.Cache)
	}{
		{"a stream of another namespace is refused", testOtherNamespaceRefused},
		{"a replace takes the table over from another namespace", testReplaceTakesOver},
		{"a replace not swapped in leaves the table to its namespace", testTakeOverNotSwapped},
		{"no namespace is a namespace of its own", testNoNamespace},
		{"shared tables are shared between sources, not namespaces", testShareTablesAndNamespaces},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, opener(t, fresh(t)))
		})
	}
	t.Run("a cache of format 2 is upgraded", func(t *testing.T) {
		t.Parallel()
		testUpgradeFormat2(t, fresh, open)
	})
	t.Run("concurrent opens of a cache of format 2 upgrade it once", func(t *testing.T) {
		t.Parallel()
		target := fresh(t)
		makeFormat2(t, open, target)
		openAtOnce(t, open, target, 4)
		checkFormat2Upgraded(t, opener(t, target))
	})
}

// tagsProps are the properties of the stream tags in every namespace.
const tagsProps = `{"id":{"type":"integer"},"tag":{"type":["null","string"]}}`

// tagsCatalog is the catalog of the stream tags of namespace ns ("" for
// none), keyed and incremental by id, as a database source's table is.
func tagsCatalog(ns string) *protocol.ConfiguredCatalog {
	cat := Catalog(Stream("tags", tagsProps, protocol.SyncIncremental, [][]string{{"id"}}, "id"))
	cat.Streams[0].Stream.Namespace = ns
	return cat
}

// tagsRead is what a source sends of tags in namespace ns: a record per
// id, then its state, the greatest id, naming the stream as the protocol
// does (name and namespace).
func tagsRead(ns string, ids ...int) []*protocol.Message {
	var msgs []*protocol.Message
	for _, id := range ids {
		m := Rec("tags", fmt.Sprintf(`{"id":%d,"tag":%q}`, id, ns))
		m.Record.Namespace = ns
		msgs = append(msgs, m)
	}
	st := StreamState("tags", fmt.Sprintf(`{"id":%d}`, ids[len(ids)-1]))
	st.State.Stream.StreamDescriptor.Namespace = ns
	return append(msgs, st)
}

// loadTags loads msgs of tags in namespace ns as source src with strategy
// st (replace reads in full).
func loadTags(c *cache.Cache, src, ns string, st cache.Strategy, share bool, msgs ...*protocol.Message) (*cache.LoadResult, error) {
	return c.Load(context.Background(), cache.LoadRequest{SourceName: src, Catalog: tagsCatalog(ns), Strategy: st,
		FullRefresh: st == cache.StrategyReplace, ShareTables: share, Messages: Messages(msgs...)})
}

// tagsState is the state SourceState gives for src's tags, its stream
// states each as namespace:state ("" for none).
func tagsState(t testing.TB, c *cache.Cache, src string) string {
	t.Helper()
	raw, err := c.SourceState(context.Background(), src, []string{"tags"})
	if err != nil {
		t.Fatal(err)
	}
	if raw == nil {
		return ""
	}
	var msgs []protocol.State
	if err := json.Unmarshal(raw, &msgs); err != nil {
		t.Fatalf("state %s: %v", raw, err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Stream.StreamDescriptor.Namespace+":"+string(m.Stream.StreamState))
	}
	return strings.Join(out, " ")
}

// checkTags checks the rows of the table tags (id|tag), its recorded
// namespace and the state src is given for it.
func checkTags(t *testing.T, c *cache.Cache, src string, rows []string, ns, state string) {
	t.Helper()
	Equal(t, "the rows of tags", Strings(t, c, `SELECT CAST(id AS VARCHAR) || '|' || tag FROM tags ORDER BY id`), rows)
	Equal(t, "the namespace recorded for tags", Strings(t, c, `SELECT COALESCE(namespace, 'NULL') FROM _airbyte_streams WHERE table_name = 'tags'`), []string{ns})
	if got := tagsState(t, c, src); got != state {
		t.Fatalf("the state of tags: %s, want %s", got, state)
	}
}

// refusedForNamespace fails the test unless err is the refusal of a load
// of tags in namespace loaded into the table of tags in namespace holder.
func refusedForNamespace(t *testing.T, err error, loaded, holder string) {
	t.Helper()
	if !errors.Is(err, cache.ErrNameCollision) {
		t.Fatalf("a load of %s.tags into the table of %s.tags: %v; want an error matching ErrNameCollision", loaded, holder, err)
	}
	for _, want := range []string{`stream "tags" of namespace ` + nsName(loaded), `stream "tags" of namespace ` + nsName(holder),
		"table prefix of its own", "replace strategy"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("the refusal does not say %q: %v", want, err)
		}
	}
}

// nsName is how an error names namespace ns.
func nsName(ns string) string {
	if ns == "" {
		return "(none)"
	}
	return `"` + ns + `"`
}

// testOtherNamespaceRefused: east.tags, then west.tags into the same
// table, whose records are older by id: under merge, append or auto, the
// load is refused before it writes, and the table, its namespace and
// east's state stay as they were. (Before, west was loaded into east's
// table, and handed east's state: a source that finds its state by name
// would have skipped west's older records.)
func testOtherNamespaceRefused(t *testing.T, c *cache.Cache) {
	if _, err := loadTags(c, "src", "east", cache.StrategyAuto, false, tagsRead("east", 10, 11)...); err != nil {
		t.Fatal(err)
	}
	for _, st := range []cache.Strategy{cache.StrategyAuto, cache.StrategyMerge, cache.StrategyAppend} {
		res, err := loadTags(c, "src", "west", st, false, tagsRead("west", 1, 2)...)
		refusedForNamespace(t, err, "west", "east")
		if res != nil && res.Total != 0 {
			t.Fatalf("%s: the refused load loaded %d records", st, res.Total)
		}
		checkTags(t, c, "src", []string{"10|east", "11|east"}, "east", `east:{"id":11}`)
	}
	// The same namespace loads on.
	if _, err := loadTags(c, "src", "east", cache.StrategyAuto, false, tagsRead("east", 12)...); err != nil {
		t.Fatal(err)
	}
	checkTags(t, c, "src", []string{"10|east", "11|east", "12|east"}, "east", `east:{"id":12}`)
}

// testReplaceTakesOver: west.tags read in full with replace takes east's
// table over: its records replace east's, the table is recorded for west,
// and the state is west's, east's dropped; then east is refused as west
// was, and a replace takes the table back.
func testReplaceTakesOver(t *testing.T, c *cache.Cache) {
	if _, err := loadTags(c, "src", "east", cache.StrategyAuto, false, tagsRead("east", 10, 11)...); err != nil {
		t.Fatal(err)
	}
	if _, err := loadTags(c, "src", "west", cache.StrategyReplace, false, tagsRead("west", 1, 2)...); err != nil {
		t.Fatal(err)
	}
	checkTags(t, c, "src", []string{"1|west", "2|west"}, "west", `west:{"id":2}`)
	_, err := loadTags(c, "src", "east", cache.StrategyAuto, false, tagsRead("east", 12)...)
	refusedForNamespace(t, err, "east", "west")
	checkTags(t, c, "src", []string{"1|west", "2|west"}, "west", `west:{"id":2}`)
	if _, err := loadTags(c, "src", "east", cache.StrategyReplace, false, tagsRead("east", 13)...); err != nil {
		t.Fatal(err)
	}
	checkTags(t, c, "src", []string{"13|east"}, "east", `east:{"id":13}`)
}

// testTakeOverNotSwapped: a replace of west that ends without a word of
// tags keeps east's table and its namespace, and east's state is gone
// (dropped before the read, so that west's connector is not given it):
// east's next read reads from the start.
func testTakeOverNotSwapped(t *testing.T, c *cache.Cache) {
	if _, err := loadTags(c, "src", "east", cache.StrategyAuto, false, tagsRead("east", 10, 11)...); err != nil {
		t.Fatal(err)
	}
	res, err := loadTags(c, "src", "west", cache.StrategyReplace, false)
	if err != nil || len(res.Unfinished) != 1 {
		t.Fatalf("a replace that reads nothing: %+v, %v; want tags unfinished", res, err)
	}
	checkTags(t, c, "src", []string{"10|east", "11|east"}, "east", "")
	if _, err := loadTags(c, "src", "east", cache.StrategyAuto, false, tagsRead("east", 10, 11, 12)...); err != nil {
		t.Fatal(err)
	}
	checkTags(t, c, "src", []string{"10|east", "11|east", "12|east"}, "east", `east:{"id":12}`)
}

// testNoNamespace: a stream with no namespace is a namespace of its own,
// refused in a table recorded for east and the other way round.
func testNoNamespace(t *testing.T, c *cache.Cache) {
	if _, err := loadTags(c, "src", "", cache.StrategyAuto, false, tagsRead("", 1)...); err != nil {
		t.Fatal(err)
	}
	Equal(t, "the namespace recorded for tags", Strings(t, c, `SELECT '[' || namespace || ']' FROM _airbyte_streams WHERE table_name = 'tags'`), []string{"[]"})
	_, err := loadTags(c, "src", "east", cache.StrategyAuto, false, tagsRead("east", 2)...)
	refusedForNamespace(t, err, "east", "")
	if _, err := loadTags(c, "src", "east", cache.StrategyReplace, false, tagsRead("east", 2)...); err != nil {
		t.Fatal(err)
	}
	_, err = loadTags(c, "src", "", cache.StrategyAuto, false, tagsRead("", 3)...)
	refusedForNamespace(t, err, "", "east")
	checkTags(t, c, "src", []string{"2|east"}, "east", `east:{"id":2}`)
}

// testShareTablesAndNamespaces: ShareTables lets another source of the
// same namespace load into a table, and refuses one of another namespace
// as a load without it does (each source keeps its own state).
func testShareTablesAndNamespaces(t *testing.T, c *cache.Cache) {
	if _, err := loadTags(c, "src-a", "east", cache.StrategyAuto, false, tagsRead("east", 1)...); err != nil {
		t.Fatal(err)
	}
	if _, err := loadTags(c, "src-b", "east", cache.StrategyAuto, true, tagsRead("east", 2)...); err != nil {
		t.Fatal(err)
	}
	_, err := loadTags(c, "src-c", "west", cache.StrategyAuto, true, tagsRead("west", 3)...)
	refusedForNamespace(t, err, "west", "east")
	_, err = loadTags(c, "src-c", "west", cache.StrategyAuto, false, tagsRead("west", 3)...)
	if !errors.Is(err, cache.ErrTableOwned) {
		t.Fatalf("another source of another namespace, not sharing: %v; want ErrTableOwned", err)
	}
	checkTags(t, c, "src-a", []string{"1|east", "2|east"}, "east", `east:{"id":1}`)
	if got := tagsState(t, c, "src-b"); got != `east:{"id":2}` {
		t.Fatalf("src-b's state: %s", got)
	}
}

// format2Streams is the DDL of _airbyte_streams in a cache of format 2.
const format2Streams = `CREATE TABLE _airbyte_streams (table_name VARCHAR NOT NULL PRIMARY KEY, stream_name VARCHAR NOT NULL, source_name VARCHAR NOT NULL, dedupe_from VARCHAR, staging_table VARCHAR, updated_at TIMESTAMPTZ)`

// format2Statements turn the internal tables of a cache of this version
// into those of a cache of format 2, which the versions from 8ef5db2 to
// 26aef8e wrote: _airbyte_streams created anew by their DDL, without the
// namespace column, with its rows, and the mark 2.
var format2Statements = []string{
	`CREATE TABLE _airbyte_streams_format3 AS SELECT table_name, stream_name, source_name, dedupe_from, staging_table, updated_at FROM _airbyte_streams`,
	`DROP TABLE _airbyte_streams`,
	format2Streams,
	`INSERT INTO _airbyte_streams SELECT * FROM _airbyte_streams_format3`,
	`DROP TABLE _airbyte_streams_format3`,
	`UPDATE _airbyte_cache_format SET format = 2`,
}

// makeFormat2 makes the cache at target as a version of format 2 left it
// after a load of east.tags (ids 10 and 11, and its state) by source src.
func makeFormat2(t *testing.T, open PrefixOpener, target string) {
	ctx := context.Background()
	c, err := open(ctx, target, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := loadTags(c, "src", "east", cache.StrategyAuto, false, tagsRead("east", 10, 11)...); err != nil {
		t.Fatal(err)
	}
	for _, q := range format2Statements {
		if _, err := c.ExecSQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// testUpgradeFormat2: a cache of format 2 opened is of format 3, its
// table's namespace unknown and its state kept; the next load records its
// namespace, whichever it is, and is given the state only when it is of
// that namespace (the state names east: west's connector would skip the
// records below east's cursor); the other namespace is refused then.
func testUpgradeFormat2(t *testing.T, fresh func(t testing.TB) string, open PrefixOpener) {
	ctx := context.Background()
	for _, tc := range []struct{ ns, given, other string }{{"east", `east:{"id":11}`, "west"}, {"west", "", "east"}} {
		target := fresh(t)
		makeFormat2(t, open, target)
		c, err := open(ctx, target, "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		checkFormat2Upgraded(t, c)
		// The state is read as source.Read reads it: once the load has
		// begun, when it asks for the first message.
		var given string
		msgs := func(yield func(*protocol.Message, error) bool) {
			given = tagsState(t, c, "src")
			for _, m := range tagsRead(tc.ns, 12) {
				if !yield(m, nil) {
					return
				}
			}
		}
		if _, err := c.Load(ctx, cache.LoadRequest{SourceName: "src", Catalog: tagsCatalog(tc.ns), Messages: msgs}); err != nil {
			t.Fatal(err)
		}
		if given != tc.given {
			t.Fatalf("the state given to the first load of %s.tags after the upgrade: %q, want %q", tc.ns, given, tc.given)
		}
		checkTags(t, c, "src", []string{"10|east", "11|east", "12|" + tc.ns}, tc.ns, tc.ns+`:{"id":12}`)
		_, err = loadTags(c, "src", tc.other, cache.StrategyAuto, false, tagsRead(tc.other, 13)...)
		refusedForNamespace(t, err, tc.other, tc.ns)
	}
}

// checkFormat2Upgraded checks the cache makeFormat2 made once upgraded:
// format 3, the table's namespace unknown, its rows and state kept.
func checkFormat2Upgraded(t *testing.T, c *cache.Cache) {
	t.Helper()
	Equal(t, "format", Strings(t, c, `SELECT CAST(format AS VARCHAR) FROM _airbyte_cache_format`), []string{"3"})
	checkTags(t, c, "src", []string{"10|east", "11|east"}, "NULL", `east:{"id":11}`)
}
