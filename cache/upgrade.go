package cache

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/cacheerr"
)

// statePrefix is the key of the states of a cache whose table prefix is
// prefix (normalised): what goes before a normalised stream name in its
// table names, so that it can be read back from a table's name (see
// tablePrefixOf). "pfx" and "pfx_" are one prefix, "pfx_".
func statePrefix(prefix string) string {
	if prefix == "" || strings.HasSuffix(prefix, "_") {
		return prefix
	}
	return prefix + "_"
}

// tablePrefixOf is the state prefix of the cache that named a stream's
// table table (see tableName), on a backend whose identifiers have at most
// max bytes: the text before the normalised stream name, or, in a name
// fitName shortened, the one that gives that name again. ok is false when
// no prefix gives it: a table recorded with another stream's name, or a
// prefix so long that fitName cut it.
func tablePrefixOf(table, stream string, max int) (prefix string, ok bool) {
	n, err := NormalizeName(stream)
	if err != nil {
		return "", false
	}
	fits := func(p string) bool { return validPrefix(p) && fitName(p+n, max) == table }
	if p, found := strings.CutSuffix(table, n); found && fits(p) {
		return p, true
	}
	for k := range len(table) {
		if p := table[:k]; fits(p) {
			return p, true
		}
	}
	return "", false
}

// validPrefix reports whether p is a state prefix some cache has: "", or
// a normalised name ending in "_".
func validPrefix(p string) bool {
	if p == "" {
		return true
	}
	n, err := NormalizeName(p)
	return err == nil && n == p && strings.HasSuffix(p, "_")
}

// formatUpgradeLock names the lock that upgrades of a cache's format, and
// creations of a new cache, take, so that of several processes (on
// PostgreSQL) or Caches (on one DuckDB file) that open a cache of an
// earlier format (or none) at once, one upgrades (creates) it and the
// others find it done.
const formatUpgradeLock = "upgrade the cache's format"

// upgradeFormat upgrades a cache of an earlier format to this one, in one
// DDL transaction: a process killed in it leaves the cache as it was, and
// the next open upgrades again. Format 1 (marked so, or not marked at
// all) becomes format 2, whose states are kept per table prefix: no
// prefix loses the states it used when they were shared, as each state is
// copied to every prefix under which its source has a table in
// _airbyte_streams, and the states of a source that has none go to this
// Cache's prefix (see convertInPlace, convertStates). Format 2 becomes
// format 3, whose _airbyte_streams records each table's namespace: the
// column is added, NULL (unknown) in the rows there, and the next load of
// each table records its stream's.
// The upgrade holds a lock of its own meanwhile, and checks the internal
// tables again once it holds it: another process may have upgraded the
// cache since this one looked; it creates the internal tables of a cache
// that has none.
func (c *Cache) upgradeFormat(ctx context.Context) error {
	unlock, err := c.waitLock(ctx, formatUpgradeLock)
	if err != nil {
		return err
	}
	defer unlock()
	exist, format, err := c.checkInternalTables(ctx)
	switch {
	case err != nil || format == cacheFormat:
		return err
	case !exist:
		return c.createFresh(ctx)
	}
	return c.inDDL(ctx, func() error {
		var prefixes map[string][]string
		if format < 2 {
			if prefixes, err = c.sourcePrefixes(ctx); err != nil {
				return err
			}
		}
		// upgrade is the transaction; states says how it converts the
		// states of format 1.
		upgrade := func(states func(context.Context, backend.Tx, map[string][]string) error) error {
			return c.inDDLTx(ctx, func(tx backend.Tx) error {
				if format < 2 {
					if err := states(ctx, tx, prefixes); err != nil {
						return err
					}
				}
				if err := tx.Exec(ctx, `ALTER TABLE `+c.qual(streamsTable)+` ADD COLUMN namespace VARCHAR`); err != nil {
					return err
				}
				return c.markFormat(ctx, tx)
			})
		}
		err := upgrade(c.convertInPlace)
		if errors.Is(err, errNoInPlace) {
			err = upgrade(c.convertStates)
		}
		if err != nil && !errors.Is(err, cacheerr.ErrInUse) {
			what, tables := "each table's namespace recorded", c.qual(streamsTable)
			if format < 2 {
				what, tables = "states kept per table prefix, and each table's namespace recorded", c.qual(stateTable)+" and "+tables
			}
			return fmt.Errorf("cache: upgrading the cache from format %d to format %d (%s), which this version does when it first opens a cache an earlier version wrote: %w "+
				"(the upgrade changes %s, so that first open needs the right to alter the cache's tables, on PostgreSQL as their owner; once upgraded, a role that may only read opens it)",
				max(format, 1), cacheFormat, what, err, tables)
		}
		return err
	})
}

// inDDLTx runs fn in a DDL transaction, and commits it.
func (c *Cache) inDDLTx(ctx context.Context, fn func(backend.Tx) error) error {
	tx, err := c.beginDDL(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// errNoInPlace says that the database cannot change the state table's
// primary key (DuckDB), so convertInPlace changed nothing.
var errNoInPlace = errors.New("the state table's primary key cannot be altered")

// convertInPlace converts the states of format 1, in upgradeFormat's
// transaction, where the database
// can change a table's primary key (PostgreSQL): the state table is
// altered, not created anew, so that it keeps what the database keeps of
// a table beyond its rows, the grants of the roles that read the cache
// first (created anew, it was hidden from them, and their next open said
// the cache had lost its states). Given the table prefixes of each
// source, it copies each state of format 1 (table_prefix NULL) to each
// prefix, as convertStates does, and then deletes it. It returns
// errNoInPlace when the database refuses to drop the primary key.
func (c *Cache) convertInPlace(ctx context.Context, tx backend.Tx, prefixes map[string][]string) error {
	if err := tx.Exec(ctx, `ALTER TABLE `+c.qual(stateTable)+` DROP CONSTRAINT `+backend.Quote(stateTable+"_pkey")); err != nil {
		if errors.Is(err, cacheerr.ErrInUse) {
			return err
		}
		return fmt.Errorf("%w: %w", errNoInPlace, err)
	}
	if err := tx.Exec(ctx, `ALTER TABLE `+c.qual(stateTable)+` ADD COLUMN table_prefix VARCHAR`); err != nil {
		return err
	}
	if err := c.copyStates(ctx, tx, prefixes, c.qual(stateTable), `s.table_prefix IS NULL`); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM ` + c.qual(stateTable) + ` WHERE table_prefix IS NULL`,
		`ALTER TABLE ` + c.qual(stateTable) + ` ALTER COLUMN table_prefix SET NOT NULL`,
		`ALTER TABLE ` + c.qual(stateTable) + ` ADD PRIMARY KEY (table_prefix, source_name, destination_name, stream_name)`,
	} {
		if err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// The columns of format 1's state table, in SQL: as they are, and of the
// alias s.
var (
	format1Columns  = strings.Join(stateColumnsFormat1, ", ")
	format1SColumns = "s." + strings.Join(stateColumnsFormat1, ", s.")
)

// copyStates inserts into the state table, from the states of format 1 in
// from (alias s, those that hold the condition where), a copy of each for
// each table prefix of its source; and the states of a source that has
// none, under this Cache's prefix.
func (c *Cache) copyStates(ctx context.Context, tx backend.Tx, prefixes map[string][]string, from, where string) error {
	type pair struct{ source, prefix string }
	var pairs []pair
	for _, src := range slices.Sorted(maps.Keys(prefixes)) {
		for _, p := range prefixes[src] {
			pairs = append(pairs, pair{src, p})
		}
	}
	for part := range slices.Chunk(pairs, metaRows) {
		args := make([]any, 0, 2*len(part))
		for _, p := range part {
			args = append(args, p.source, p.prefix)
		}
		q := `INSERT INTO ` + c.qual(stateTable) + ` (table_prefix, ` + format1Columns + `) SELECT v.p, ` + format1SColumns + ` FROM ` + from + ` s JOIN (VALUES ` +
			rowsOf(`CAST(? AS VARCHAR), CAST(? AS VARCHAR)`, len(part)) + `) AS v(src, p) ON v.src = s.source_name WHERE ` + where
		if err := tx.Exec(ctx, c.rebind(q), args...); err != nil {
			return err
		}
	}
	// The sources that have no table: every source with a prefix has all
	// its states copied by now.
	return tx.Exec(ctx, c.rebind(`INSERT INTO `+c.qual(stateTable)+` (table_prefix, `+format1Columns+`) SELECT CAST(? AS VARCHAR), `+format1SColumns+` FROM `+from+` s `+
		`WHERE `+where+` AND NOT EXISTS (SELECT 1 FROM `+c.qual(stateTable)+` n WHERE n.source_name = s.source_name AND n.table_prefix IS NOT NULL)`), c.statePrefix)
}

// markFormat marks the cache with this version's format, creating the
// table of the mark if the cache has none.
func (c *Cache) markFormat(ctx context.Context, tx backend.Tx) error {
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS ` + c.qual(formatTable) + ` (format INTEGER NOT NULL)`,
		`DELETE FROM ` + c.qual(formatTable),
		`INSERT INTO ` + c.qual(formatTable) + ` (format) VALUES (` + strconv.Itoa(cacheFormat) + `)`,
	} {
		if err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// upgradeTable holds the states of format 1 while upgradeFormat converts
// them: a staging table's name, which no stream's table can have.
const upgradeTable = stagingPrefix + "state_format1"

// convertStates converts the states of format 1, in upgradeFormat's
// transaction, where the database
// cannot change a table's primary key (DuckDB, which has no grants to
// keep either): the states of format 1 are moved to a staging table and
// the state table is created anew, given the table prefixes of each
// source.
func (c *Cache) convertStates(ctx context.Context, tx backend.Tx, prefixes map[string][]string) error {
	for _, q := range []string{
		`CREATE TABLE ` + c.qual(upgradeTable) + ` AS SELECT ` + format1Columns + ` FROM ` + c.qual(stateTable),
		`DROP TABLE ` + c.qual(stateTable),
		c.createStateTable(`CREATE TABLE `, c.b.SQLType(backend.TypeTimestampTZ)),
	} {
		if err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	if err := c.copyStates(ctx, tx, prefixes, c.qual(upgradeTable), `TRUE`); err != nil {
		return err
	}
	return tx.Exec(ctx, `DROP TABLE `+c.qual(upgradeTable))
}

// createStateTable is the statement (create: "CREATE TABLE " or "CREATE
// TABLE IF NOT EXISTS ") that creates the state table, whose updated_at
// has type tz.
func (c *Cache) createStateTable(create, tz string) string {
	return create + c.qual(stateTable) + ` (table_prefix VARCHAR NOT NULL, source_name VARCHAR NOT NULL, destination_name VARCHAR NOT NULL, stream_name VARCHAR NOT NULL, state_type VARCHAR NOT NULL, state_json VARCHAR NOT NULL, updated_at ` + tz + `, PRIMARY KEY (table_prefix, source_name, destination_name, stream_name))`
}

// sourcePrefixes maps each source that has a table in _airbyte_streams to
// the state prefixes of its tables, sorted (see tablePrefixOf): of a table
// whose name no prefix gives, this Cache's prefix if it gives it.
func (c *Cache) sourcePrefixes(ctx context.Context) (map[string][]string, error) {
	rows, err := c.Query(ctx, `SELECT table_name, stream_name, source_name FROM `+c.qual(streamsTable))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seen := map[string]map[string]bool{}
	for rows.Next() {
		var table, stream, source string
		if err := rows.Scan(&table, &stream, &source); err != nil {
			return nil, err
		}
		p, ok := tablePrefixOf(table, stream, c.b.MaxIdentifierLength())
		if !ok {
			// A prefix so long that fitName cut it is told by no
			// table name, but this Cache's own gives the name.
			if !c.namesTable(stream, table) {
				continue
			}
			p = c.statePrefix
		}
		if seen[source] == nil {
			seen[source] = map[string]bool{}
		}
		seen[source][p] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(seen))
	for src, ps := range seen {
		out[src] = slices.Sorted(maps.Keys(ps))
	}
	return out, nil
}

// waitLock takes the lock named key (see lock), waiting while another
// holds it, until ctx ends.
func (c *Cache) waitLock(ctx context.Context, key string) (unlock func(), err error) {
	pause := ddlRetryFirst
	for {
		_, unlock, err := c.lock(ctx, key, &cacheerr.InUseError{}, nil, false)
		if !errors.Is(err, cacheerr.ErrInUse) {
			return unlock, err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("cache: waiting for the lock to %s, which another process or Cache holds: %w", key, context.Cause(ctx))
		case <-t.C:
		}
		pause = min(2*pause, ddlRetryMax)
	}
}
