package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/humanize"
)

// prepare creates or evolves every table before the first record: new
// tables, new columns (schema evolution), staging tables for replace, and
// the merge watermark. Existing columns keep their type; the columns of
// each plan's table then carry the types the database really has. It
// returns the load's first raw id, syncStart, from ids once they are
// raised above the tables' (see raiseIDFloor).
func (c *Cache) prepare(ctx context.Context, source string, plans []*streamPlan, share bool, ids *idGen) (syncStart string, err error) {
	owners, err := c.tableOwners(ctx)
	if err != nil {
		return "", err
	}
	if err := checkNamespaces(owners, source, plans, share); err != nil {
		return "", err
	}
	if err := c.unknownNamespaces(ctx, owners, source, plans); err != nil {
		return "", err
	}
	if !share {
		if err := c.claimTables(ctx, source, plans, owners); err != nil {
			return "", err
		}
	}
	recorded, staged, leftovers, err := c.sourceTables(ctx, source)
	if err != nil {
		return "", err
	}
	names := slices.Clone(recorded)
	for _, p := range plans {
		names = append(names, p.table.Name)
	}
	existing, err := c.columnsOf(ctx, names)
	if err != nil {
		return "", err
	}
	gone := goneTables(recorded, plans, existing)
	if err := c.checkWidths(plans, existing); err != nil {
		return "", err
	}
	if err := c.checkMergeTypes(plans, existing); err != nil {
		return "", err
	}
	if err := c.checkViewsOver(ctx, plans, existing); err != nil {
		return "", err
	}
	watermarks, err := c.watermarks(ctx)
	if err != nil {
		return "", err
	}
	facts, err := c.readTables(ctx, plans, existing, watermarks)
	if err != nil {
		return "", err
	}
	if err := checkMergeKeys(plans, existing, facts); err != nil {
		return "", err
	}
	raiseIDFloor(ids, facts)
	syncStart = string(ids.next())
	for _, p := range plans {
		if p.strategy == StrategyMerge {
			prepareMerge(p, facts[p], watermarks[p.table.Name], syncStart)
		}
	}

	if err := c.inDDL(ctx, func() error {
		return c.createTables(ctx, source, plans, staged, leftovers, gone, existing, syncStart)
	}); err != nil {
		return "", err
	}
	return syncStart, c.adoptColumnTypes(ctx, plans)
}

// createTables is prepare's DDL, in one transaction: it drops the staging
// tables a killed load left (leftovers, recorded with the tables staged), forgets the gone tables, creates the staging
// tables of the replace streams and creates or evolves the tables of the
// others; and it drops the source state of another namespace's stream
// kept for a table this load writes (see checkNamespaces and
// unknownNamespaces), so that it is never passed to this stream's
// connector.
func (c *Cache) createTables(ctx context.Context, source string, plans []*streamPlan, staged, leftovers, gone []string, existing map[string][]columnInfo, syncStart string) error {
	tx, err := c.beginDDL(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, t := range leftovers {
		if err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+c.qual(t)); err != nil {
			return err
		}
	}
	for _, t := range staged {
		if err := tx.Exec(ctx, c.rebind(`UPDATE `+c.qual(streamsTable)+` SET staging_table = NULL WHERE table_name = ? AND source_name = ?`), t, source); err != nil {
			return err
		}
	}
	for _, t := range gone {
		if err := tx.Exec(ctx, c.rebind(`DELETE FROM `+c.qual(streamsTable)+` WHERE table_name = ? AND source_name = ?`), t, source); err != nil {
			return err
		}
	}
	dropState := c.rebind(`DELETE FROM ` + c.qual(stateTable) + ` WHERE table_prefix = ? AND source_name = ? AND destination_name = '' AND stream_name IN (?, ?)`)
	for i, p := range plans {
		switch o := p.takeover; {
		case o != nil:
			if err := tx.Exec(ctx, dropState, c.statePrefix, o.source, o.stream, p.table.Stream); err != nil {
				return err
			}
		case p.otherState:
			if err := tx.Exec(ctx, dropState, c.statePrefix, source, p.table.Stream, p.table.Stream); err != nil {
				return err
			}
		}
		if p.strategy == StrategyReplace {
			p.unmade = len(existing[p.table.Name]) == 0
			p.target = fmt.Sprintf("%s%s_%d", stagingPrefix, strings.ToLower(syncStart), i)
			if err := tx.Exec(ctx, c.createTable(p.target, &p.table)); err != nil {
				return err
			}
			if err := c.indexRawIDs(ctx, tx, p.target); err != nil {
				return err
			}
		} else if err := c.evolveTable(ctx, tx, &p.table, existing[p.table.Name]); err != nil {
			return err
		}
	}
	if err := c.recordStreams(ctx, tx, source, plans); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// raiseIDFloor makes every id ids gives above the raw ids already in the
// tables the load writes into (facts, read by readTables). Raw ids are
// arrival order (a destination exports the rows after its watermark; a
// merge keeps a key's last row), but their time part is this machine's
// clock: one that stepped back since the last load, or another machine's
// that is behind, would give the new rows ids below the old ones. Loads of
// a source run one at a time, so no id of theirs lands between this look
// and the load's own. It costs a scan of the raw-id column of each table
// (DuckDB reads one column; PostgreSQL the whole table, as its BRIN index
// on the raw id keeps no maximum: about 15 and 130 ms at 2 million rows).
func raiseIDFloor(ids *idGen, facts map[*streamPlan]tableFacts) {
	for _, f := range facts {
		if f.top.Valid {
			ids.above(f.top.String)
		}
	}
}

// tableFacts is what prepare reads of a table that a load writes into and
// that exists: its greatest raw id (for raiseIDFloor), and for a merge
// stream whether it has rows, and whether it has rows older than the
// watermark a killed load left (for prepareMerge).
type tableFacts struct {
	top   sql.NullString
	rows  bool
	older bool
}

// readTablesMax is how many tables one statement of readTables reads at
// most. DuckDB holds about a quarter of a megabyte for each table until
// the statement ends (a UNION ALL of 500 small tables ran out of the
// default 128 MB), and a statement of 8 to 64 tables cost the same per
// table in a cache of 1,000 (about a third of one statement per table).
const readTablesMax = 32

// readTables reads the tableFacts of the tables of plans that exist
// (existing), given the watermarks killed merge loads left: one row per
// table, in a UNION ALL of at most readTablesMax tables, rather than two
// or three statements per table. Each of those cost about 1 ms on DuckDB
// whatever it read, most of a later load of many small streams. They are
// reads before the load's first write, made while no other load of the
// source runs, so reading them together sees what reading them one by one
// saw.
func (c *Cache) readTables(ctx context.Context, plans []*streamPlan, existing map[string][]columnInfo, watermarks map[string]string) (map[*streamPlan]tableFacts, error) {
	var read []*streamPlan
	for _, p := range plans {
		if len(existing[p.table.Name]) > 0 {
			read = append(read, p)
		}
	}
	facts := make(map[*streamPlan]tableFacts, len(read))
	raw := backend.Quote(backend.ColumnRawID)
	for part := range slices.Chunk(read, readTablesMax) {
		var f tableFacts
		_, err := c.unionRows(ctx, len(part), func(i int, q *strings.Builder, args *[]any) error {
			t := c.qual(part[i].table.Name)
			q.WriteString(`, (SELECT max(` + raw + `) FROM ` + t + `), `)
			from := watermarks[part[i].table.Name]
			switch {
			case part[i].strategy != StrategyMerge:
				q.WriteString(`FALSE, FALSE`)
			case from == "":
				q.WriteString(`EXISTS (SELECT 1 FROM ` + t + `), FALSE`)
			default:
				q.WriteString(`EXISTS (SELECT 1 FROM ` + t + `), EXISTS (SELECT 1 FROM ` + t + ` WHERE ` + raw + ` < CAST(? AS VARCHAR))`)
				*args = append(*args, from)
			}
			return nil
		}, []any{&f.top, &f.rows, &f.older}, func(i int) { facts[part[i]] = f })
		if err != nil {
			return nil, err
		}
	}
	return facts, nil
}

// checkWidths refuses a load that would give a table more columns than
// the database allows (PostgreSQL: 1,600), before any DDL: the server's
// own error names no stream and comes once a connector is running. A
// table that exists keeps its columns and gains the new properties'.
func (c *Cache) checkWidths(plans []*streamPlan, existing map[string][]columnInfo) error {
	limit := c.b.MaxColumns()
	if limit <= 0 {
		return nil
	}
	for _, p := range plans {
		n := len(internalColumns) + len(p.table.Columns)
		if have := existing[p.table.Name]; p.strategy != StrategyReplace && len(have) > 0 {
			names := make(map[string]bool, len(have))
			for _, ci := range have {
				names[ci.name] = true
			}
			n = len(have)
			for _, col := range p.table.Columns {
				if !names[col.Name] {
					n++
				}
			}
		}
		if n > limit {
			return fmt.Errorf("cache: stream %q needs a table of %s columns (its properties and the cache's %d), more than the %s the database allows; "+
				"remove properties from the stream's JSON schema in the configured catalog (the cache stores only the properties declared there), "+
				"or load the stream into a DuckDB cache, which has no such limit", p.table.Stream, humanize.Int(int64(n)), len(internalColumns), humanize.Int(int64(limit)))
		}
	}
	return nil
}

// checkMergeTypes refuses a merge into an existing table whose primary key
// or cursor column cannot hold the type the stream's schema now gives the
// field (an integer column for a cursor turned date-time, say), before any
// DDL. A value that does not fit a column is NULL with a note: a NULL key
// is never deduplicated, and a NULL cursor orders below every other, so the
// merge would delete the record that arrived, keep the older row of its
// key, and commit the state past it. Replace rebuilds the table with the
// new types.
func (c *Cache) checkMergeTypes(plans []*streamPlan, existing map[string][]columnInfo) error {
	for _, p := range plans {
		have := existing[p.table.Name]
		if p.strategy != StrategyMerge || len(have) == 0 {
			continue
		}
		check := func(what string, path []string) error {
			col := columnOf(&p.table, path[0])
			if col == nil {
				return nil
			}
			for _, ci := range have {
				if ci.name != col.Name {
					continue
				}
				if held := c.b.ParseSQLType(ci.dataType); !holds(held, col.Type) {
					return &cacheerr.StrategyError{Stream: p.table.Stream, Strategy: string(StrategyMerge), Reason: fmt.Sprintf(
						"its %s field %q is %s in the stream's schema now, and its column %q holds %s, which the new values may not fit: "+
							"they would be NULL, and the merge would keep older rows in place of the records read; read the stream in full with replace "+
							"(source.ForceFullRefresh with source.Strategy(cache.StrategyReplace)) to give the column the new type",
						what, path[0], col.Type, col.Name, held)}
				}
			}
			return nil
		}
		for _, path := range p.table.PrimaryKey {
			if err := check("primary key", path); err != nil {
				return err
			}
		}
		if len(p.table.Cursor) > 0 {
			if err := check("cursor", p.table.Cursor); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkMergeKeys refuses a merge into a table holding rows when a field of
// the primary key has no column there yet (a key that gained a field, a
// key set on a field the table never had), before any DDL: the column
// would be added NULL in every row there, a row with a NULL key part is
// never deduplicated, so each key the load writes would be there twice,
// its older row beside the new one, while the read succeeds.
func checkMergeKeys(plans []*streamPlan, existing map[string][]columnInfo, facts map[*streamPlan]tableFacts) error {
	for _, p := range plans {
		if p.strategy != StrategyMerge || !facts[p].rows {
			continue
		}
		for _, path := range p.table.PrimaryKey {
			col := columnOf(&p.table, path[0])
			if col == nil || slices.ContainsFunc(existing[p.table.Name], func(ci columnInfo) bool { return ci.name == col.Name }) {
				continue
			}
			return &cacheerr.StrategyError{Stream: p.table.Stream, Strategy: string(StrategyMerge), Reason: fmt.Sprintf(
				"its primary key field %q has no column in the table, whose rows were loaded under another key: added, the column would be NULL in them, "+
					"and the merge, which never removes a row whose key is NULL, would keep every one of them beside the new row of its key; "+
					"read the stream in full with replace (source.ForceFullRefresh with source.Strategy(cache.StrategyReplace)) to rebuild the table under the new key, or append",
				path[0])}
		}
	}
	return nil
}

// checkViewsOver refuses a replace of a table that views read, on a
// backend that will not drop such a table (PostgreSQL), before anything
// is loaded, rather than fail at the swap once every record is in: the
// error names the views and says what to do. existing is nil at the swap
// (finalize), which asks of every table swapped in: a view made while the
// load ran stops it too.
func (c *Cache) checkViewsOver(ctx context.Context, plans []*streamPlan, existing map[string][]columnInfo) error {
	sk, ok := c.b.(backend.SwapKeeper)
	if !ok {
		return nil
	}
	var replaced []*streamPlan
	var tables []string
	for _, p := range plans {
		if p.strategy == StrategyReplace && ((existing != nil && len(existing[p.table.Name]) > 0) || (existing == nil && p.swap)) {
			replaced, tables = append(replaced, p), append(tables, p.table.Name)
		}
	}
	if len(tables) == 0 {
		return nil
	}
	views, err := sk.ViewsOver(ctx, tables)
	if err != nil {
		return err
	}
	for _, p := range replaced {
		var vs []backend.View
		var pubs []string
		for _, v := range views[p.table.Name] {
			if v.Publication {
				pubs = append(pubs, v.Name)
			} else {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 && len(pubs) == 0 {
			continue
		}
		if len(vs) == 0 {
			return &cacheerr.StrategyError{Stream: p.table.Stream, Strategy: string(StrategyReplace), Reason: fmt.Sprintf(
				"publication %s names its table %s, and a replace drops the table to swap a new one in, which would leave the publication without it; "+
					"the role may not add the new table (it does not own the publication, or the table is published with a column list or row filter): "+
					"have the publication's owner drop the table from it (ALTER PUBLICATION … DROP TABLE %s) and add it again after the read, or read with merge or append",
				strings.Join(pubs, ", "), c.qual(p.table.Name), c.qual(p.table.Name))}
		}
		names, drops := make([]string, len(vs)), make([]string, len(vs))
		for i, v := range vs {
			kind := "view"
			if v.Materialized {
				kind = "materialized view"
			}
			names[i], drops[i] = kind+" "+v.Name, "DROP "+strings.ToUpper(kind)+" "+v.Name
		}
		return &cacheerr.StrategyError{Stream: p.table.Stream, Strategy: string(StrategyReplace), Reason: fmt.Sprintf(
			"%s read its table %s, and a replace drops the table to swap a new one in, which PostgreSQL refuses while a view reads it; "+
				"drop them (%s) and create them again after the read, or read with merge or append",
			strings.Join(names, ", "), c.qual(p.table.Name), strings.Join(drops, "; "))}
	}
	return nil
}

// holds reports whether a column of type held takes every value of a field
// of type declared without a NULL: its own type; any type into JSON or text;
// a field of no one type (JSON: open, or a union), whose values may be;
// integers into a number; a date or date-time into a date or date-time
// column (a date column keeps a date-time's date); a time into a time.
func holds(held, declared backend.Type) bool {
	family := func(t backend.Type) int {
		switch t {
		case backend.TypeDate, backend.TypeTimestamp, backend.TypeTimestampTZ:
			return 1
		case backend.TypeTime, backend.TypeTimeTZ:
			return 2
		}
		return 0
	}
	switch {
	case held == declared, held == backend.TypeJSON, held == backend.TypeString:
		return true
	case declared == backend.TypeJSON:
		// No one type (an open stream's field, a union): its values
		// may well be what the column holds, as they were.
		return true
	case held == backend.TypeNumber:
		return declared == backend.TypeInteger
	}
	return family(held) != 0 && family(held) == family(declared)
}

// watermarks are the dedupe_from watermarks killed merge loads left, by
// table.
func (c *Cache) watermarks(ctx context.Context) (map[string]string, error) {
	rows, err := c.Query(ctx, `SELECT table_name, dedupe_from FROM `+c.qual(streamsTable)+` WHERE dedupe_from IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var table, from string
		if err := rows.Scan(&table, &from); err != nil {
			return nil, err
		}
		out[table] = from
	}
	return out, rows.Err()
}

// claimTables refuses a load into a table that another source loaded
// (owners, read by prepare), and records the tables that no source has
// yet as source's. Looking alone is not enough: two sources whose first
// loads of a stream run at once (two workers) would both find the table
// nobody's and both write into it. Claims are made under the DDL lock, one worker after the other, and
// never take a table another source has; so looking again after claiming
// refuses all but the first. A refused load gives back what it claimed.
//
// A claim is a row of _airbyte_streams whose updated_at is NULL: prepare
// records the table (and sets updated_at) in the transaction that creates
// it, later. A load killed or failed in between leaves its claim on a
// table that does not exist; the next load of its source clears it (see
// goneTables), and meanwhile another source takes it over rather than be
// refused for good for a table that holds no one's records.
func (c *Cache) claimTables(ctx context.Context, source string, plans []*streamPlan, owners map[string]tableOwner) error {
	if err := c.takeOverClaims(ctx, source, plans, owners); err != nil {
		return err
	}
	if err := ownerError(owners, source, plans); err != nil {
		return err
	}
	var fresh []*streamPlan
	for _, p := range plans {
		if _, ok := owners[p.table.Name]; !ok {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	claimAll := func() error {
		return c.inDDL(ctx, func() error {
			tx, err := c.beginDDL(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			if err := c.insertStreams(ctx, tx, source, fresh); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
	}
	// Without a DDL lock (DuckDB), another source's claim of a table can
	// run beside this one: the claim that commits second fails with the
	// database's duplicate key, and one may fail so before the other has
	// committed. Nothing of this claim was committed then. When another
	// source owns a table by now, that is the refusal; otherwise the claim
	// is made again once the other has had time to end: it then finds the
	// other's row, and the owners read below refuse this load.
	pause := ddlRetryFirst
	for try := 1; ; try++ {
		err := claimAll()
		if err == nil {
			break
		}
		if try == claimTries {
			return err
		}
		if owners, err = c.tableOwners(ctx); err != nil {
			return err
		}
		if refused := ownerError(owners, source, plans); refused != nil {
			return refused
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		pause *= 2
	}
	owners, err := c.tableOwners(ctx)
	if err != nil {
		return err
	}
	refused := ownerError(owners, source, plans)
	if refused != nil {
		// Only a claim can have recorded source for a table that had no
		// owner a moment ago (loads of a source run one at a time).
		unclaim := c.rebind(`DELETE FROM ` + c.qual(streamsTable) + ` WHERE table_name = ? AND source_name = ?`)
		if err := c.eachInDDL(ctx, fresh, func(tx backend.Tx, p *streamPlan) error {
			return tx.Exec(ctx, unclaim, p.table.Name, source)
		}); err != nil {
			return fmt.Errorf("%w (and giving back the tables claimed: %v)", refused, err)
		}
	}
	return refused
}

// claimTries is how many times claimTables tries its claim before it
// returns the database's error: a claim that lost to another source's
// uncommitted one finds the other's row at the next try.
const claimTries = 4

// takeOverClaims makes source the owner of the tables of plans that
// another source only claimed (or source itself, for another stream under
// another table prefix: see otherPrefixStream), when no load of that
// source runs: its claim was left by a load killed or failed before it
// created the table.
// That source's lock is held meanwhile (under the table prefix of its
// claim, mostly this cache's), so that no load of it starts while its
// claims change hands (one that tries is refused as in use, as by a
// running load); a source whose load runs keeps them (its load is about
// to create the table). owners is updated.
func (c *Cache) takeOverClaims(ctx context.Context, source string, plans []*streamPlan, owners map[string]tableOwner) error {
	type claimer struct{ source, prefix string }
	claimed := map[claimer][]*streamPlan{}
	for _, p := range plans {
		if o, ok := owners[p.table.Name]; ok && o.claim && (o.source != source || otherPrefixStream(o, p)) {
			prefix, known := tablePrefixOf(p.table.Name, o.stream, c.b.MaxIdentifierLength())
			if !known {
				prefix = c.statePrefix
			}
			k := claimer{o.source, prefix}
			claimed[k] = append(claimed[k], p)
		}
	}
	for k, ps := range claimed {
		other := k.source
		_, unlock, err := c.lockSource(ctx, k.prefix, other, nil)
		if errors.Is(err, cacheerr.ErrInUse) {
			continue
		}
		if err != nil {
			return err
		}
		take := c.rebind(`UPDATE ` + c.qual(streamsTable) + ` SET source_name = ?, stream_name = ?, namespace = ? WHERE table_name = ? AND source_name = ? AND updated_at IS NULL`)
		err = c.eachInDDL(ctx, ps, func(tx backend.Tx, p *streamPlan) error {
			return tx.Exec(ctx, take, source, p.table.Stream, p.namespace, p.table.Name, other)
		})
		unlock()
		if err != nil {
			return err
		}
		for _, p := range ps {
			owners[p.table.Name] = tableOwner{source: source, stream: p.table.Stream, claim: true, namespace: sql.NullString{String: p.namespace, Valid: true}}
		}
	}
	return nil
}

// eachInDDL runs fn for each plan in one DDL transaction.
func (c *Cache) eachInDDL(ctx context.Context, plans []*streamPlan, fn func(backend.Tx, *streamPlan) error) error {
	return c.inDDL(ctx, func() error {
		tx, err := c.beginDDL(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, p := range plans {
			if err := fn(tx, p); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
}

// tableOwner is the source that loaded a table, or only claimed it (see
// claimTables), and the stream it recorded for it: its name and namespace
// ("" for none; NULL, unknown, for a table recorded before the cache had
// format 3, until its next load).
type tableOwner struct {
	source, stream string
	namespace      sql.NullString
	claim          bool
}

// tableOwners maps each table recorded in the cache to its owner.
func (c *Cache) tableOwners(ctx context.Context) (map[string]tableOwner, error) {
	rows, err := c.Query(ctx, `SELECT table_name, source_name, stream_name, namespace, updated_at IS NULL FROM `+c.qual(streamsTable))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	owners := map[string]tableOwner{}
	for rows.Next() {
		var table string
		var o tableOwner
		if err := rows.Scan(&table, &o.source, &o.stream, &o.namespace, &o.claim); err != nil {
			return nil, err
		}
		owners[table] = o
	}
	return owners, rows.Err()
}

// ownerError is the *cacheerr.TableOwnerError of the first plan whose table another
// source owns, or the *cacheerr.CollisionError of one whose table holds
// another stream of source (see otherPrefixStream), nil if none.
func ownerError(owners map[string]tableOwner, source string, plans []*streamPlan) error {
	for _, p := range plans {
		o, ok := owners[p.table.Name]
		switch {
		case !ok:
		case o.source != source:
			return &cacheerr.TableOwnerError{Table: p.table.Name, Stream: p.table.Stream, Owner: o.source, Source: source}
		case otherPrefixStream(o, p):
			return &cacheerr.CollisionError{Kind: "table", First: o.stream, Second: p.table.Stream, Identifier: p.table.Name}
		}
	}
	return nil
}

// checkNamespaces refuses, before anything is written, a load of a stream
// into a table recorded (in owners) for a stream of the same name in
// another namespace — east.tags into the table of west.tags — with an
// error matching ErrNameCollision: the two streams' records would mix in
// the table, and one namespace's state would be passed to the other's
// connector, which may skip the other's older records. A replace takes
// such a table over instead (its plan's takeover is set): its swap
// records the table for its stream (see finalizeTx), and the other
// namespace's state is dropped before the load reads (see createTables).
// A table whose namespace is unknown (recorded before the cache had
// format 3), or only claimed, is any stream's. LoadRequest.ShareTables
// shares tables between sources, not namespaces: with it, the tables of
// every source are checked; without it, those of other sources are left
// to claimTables, which refuses them.
func checkNamespaces(owners map[string]tableOwner, source string, plans []*streamPlan, share bool) error {
	for _, p := range plans {
		o, ok := owners[p.table.Name]
		if !ok || o.claim || !o.namespace.Valid || o.namespace.String == p.namespace || (!share && o.source != source) || otherPrefixStream(o, p) {
			continue
		}
		if p.strategy == StrategyReplace {
			p.takeover = &o
			continue
		}
		return &cacheerr.CollisionError{Kind: "namespace", First: o.stream, Second: p.table.Stream, Identifier: p.table.Name,
			Namespaces: [2]string{o.namespace.String, p.namespace}}
	}
	return nil
}

// unknownNamespaces marks the plans (otherState) whose table's namespace
// is unknown (recorded before the cache had format 3), and adopted by
// this load, while the source's state for the stream, kept under this
// Cache's prefix, names another namespace in its stream descriptor: that
// state is another namespace's, and dropped rather than given to this
// stream's connector (which would skip the records below its cursor). A
// state that names no namespace is kept: connectors that leave the
// namespace out of their states are common, and cannot be told from a
// stream that has none.
// The states are read only when a plan's table has an unknown namespace.
func (c *Cache) unknownNamespaces(ctx context.Context, owners map[string]tableOwner, source string, plans []*streamPlan) error {
	var unknown []*streamPlan
	for _, p := range plans {
		if o, ok := owners[p.table.Name]; ok && !o.claim && !o.namespace.Valid {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	states, err := c.states(ctx, source, "", nil)
	if err != nil {
		return err
	}
	for _, p := range unknown {
		st := states[p.table.Stream]
		if st != nil && st.Stream != nil && st.Stream.StreamDescriptor.Namespace != "" && st.Stream.StreamDescriptor.Namespace != p.namespace {
			p.otherState = true
		}
	}
	return nil
}

// otherPrefixStream reports whether the table of p was recorded for a
// stream whose normalised name is not p's: a stream of another table
// prefix, which made the same table name ("pfx" and "a_users", "pfx_a"
// and "users": pfx_a_users). Under one prefix, one table name is one
// normalised stream name (Users and users share their table). Its source
// may be this one: two accounts of one source under two prefixes have a
// state each, and their loads, which do not wait for each other, would
// mix their records in one table.
func otherPrefixStream(o tableOwner, p *streamPlan) bool {
	recorded, err := NormalizeName(o.stream)
	if err != nil {
		return false
	}
	n, err := NormalizeName(p.table.Stream)
	return err == nil && n != recorded
}

// goneTables lists the tables recorded as source's (recorded) that do not
// exist and that this load does not write: claims and first replaces of
// killed loads, tables dropped by hand. Recorded, they would refuse other
// sources for a table that holds nothing.
func goneTables(recorded []string, plans []*streamPlan, existing map[string][]columnInfo) []string {
	planned := map[string]bool{}
	for _, p := range plans {
		planned[p.table.Name] = true
	}
	var gone []string
	for _, t := range recorded {
		if len(existing[t]) == 0 && !planned[t] {
			gone = append(gone, t)
		}
	}
	return gone
}

// sourceTables lists the tables recorded in _airbyte_streams as source's
// under this Cache's table prefix (those whose name it gives their
// stream); of those, the ones recorded with a staging table, and their
// staging tables: what a killed load of source under this prefix left
// behind, to be dropped. A load of the
// source under another prefix may be running (each prefix has its own
// lock), and its tables and staging tables are its own.
func (c *Cache) sourceTables(ctx context.Context, source string) (tables, staged, staging []string, err error) {
	rows, err := c.Query(ctx, `SELECT table_name, stream_name, staging_table FROM `+c.qual(streamsTable)+` WHERE source_name = ?`, source)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var table, stream string
		var st sql.NullString
		if err := rows.Scan(&table, &stream, &st); err != nil {
			return nil, nil, nil, err
		}
		if !c.namesTable(stream, table) {
			continue
		}
		tables = append(tables, table)
		if st.Valid {
			staged, staging = append(staged, table), append(staging, st.String)
		}
	}
	return tables, staged, staging, rows.Err()
}

// evolveTable creates a stream's table, or adds the columns that are new
// in the schema to the table as it exists; either way it has the table
// indexed on the raw id (indexRawIDs).
func (c *Cache) evolveTable(ctx context.Context, tx backend.Tx, t *backend.Table, existing []columnInfo) error {
	if err := tx.Exec(ctx, c.createTable(t.Name, t)); err != nil {
		return err
	}
	if err := c.indexRawIDs(ctx, tx, t.Name); err != nil {
		return err
	}
	if len(existing) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, ci := range existing {
		have[ci.name] = true
	}
	for _, col := range t.Columns {
		if !have[col.Name] {
			if err := tx.Exec(ctx, `ALTER TABLE `+c.qual(t.Name)+` ADD COLUMN IF NOT EXISTS `+backend.Quote(col.Name)+` `+c.b.SQLType(col.Type)); err != nil {
				return err
			}
		}
	}
	return nil
}

// adoptColumnTypes gives the columns of every plan that writes into an
// existing table the types the database has: they win over the schema's.
func (c *Cache) adoptColumnTypes(ctx context.Context, plans []*streamPlan) error {
	var names []string
	for _, p := range plans {
		if p.strategy != StrategyReplace {
			names = append(names, p.table.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	all, err := c.columnsOf(ctx, names)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.strategy == StrategyReplace {
			continue
		}
		for _, ci := range all[p.table.Name] {
			if col := columnNamed(&p.table, ci.name); col != nil {
				col.Type, col.SQLType = c.b.ParseSQLType(ci.dataType), ci.dataType
			}
		}
	}
	return nil
}

// columnNamed returns the user column called name, nil if none.
func columnNamed(t *backend.Table, name string) *backend.Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// prepareMerge sets a merge plan's watermark and whether its table had
// rows (f, read while the table was still small by readTables; the zero
// tableFacts for a table that did not exist). A killed load leaves its
// watermark (from) behind: the resumed load keeps it, so that the rows the
// killed one wrote are deduplicated too, and only rows older than it are
// older rows.
func prepareMerge(p *streamPlan, f tableFacts, from, syncStart string) {
	p.dedupeFrom, p.wasEmpty = syncStart, !f.rows
	p.older = f.rows
	if from != "" && f.rows {
		p.dedupeFrom = from
		p.older = f.older
	}
}

// createTable is the CREATE TABLE IF NOT EXISTS statement of a stream table.
func (c *Cache) createTable(name string, t *backend.Table) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + c.qual(name) + " (")
	b.WriteString(backend.Quote(backend.ColumnRawID) + " VARCHAR NOT NULL, ")
	b.WriteString(backend.Quote(backend.ColumnExtractedAt) + " " + c.b.SQLType(backend.TypeTimestampTZ) + ", ")
	b.WriteString(backend.Quote(backend.ColumnMeta) + " " + c.b.SQLType(backend.TypeJSON))
	for _, col := range t.Columns {
		b.WriteString(", " + backend.Quote(col.Name) + " " + c.b.SQLType(col.Type))
	}
	b.WriteString(")")
	return b.String()
}

// indexRawIDs gives table an index on the raw id, in tx, if the backend
// needs one to read a range of raw ids (backend.RawIDIndexer) and the
// table has none: a new table, or one an earlier version made.
func (c *Cache) indexRawIDs(ctx context.Context, tx backend.Tx, table string) error {
	if ix, ok := c.b.(backend.RawIDIndexer); ok {
		return ix.IndexRawIDs(ctx, tx, table)
	}
	return nil
}
