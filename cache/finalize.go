package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/protocol"
)

// finalize deduplicates merge streams, swaps in the replace streams marked
// swap (the staging tables of the others are dropped) and commits states,
// all in one transaction — unless the deletes would hold more memory than a
// transaction may (backend.TxMemory): then groups of them are committed
// first, as the load commits early. That is safe: a merge table's rows are
// committed already, a delete only removes what a later read of the same
// keys would remove again, and a table's dedupe_from is cleared with its
// delete, so an interrupted finalize leaves nothing half done.
func (c *Cache) finalize(ctx context.Context, source string, plans []*streamPlan, states map[StateKey]*protocol.State) error {
	// The duplicate checks only read: they run before the transaction, so
	// that no connection is held while another is awaited.
	dups, err := c.duplicates(ctx, plans)
	if err != nil {
		return err
	}
	if err := c.checkViewsOver(ctx, plans, nil); err != nil {
		return err
	}
	return c.inDDL(ctx, func() error { return c.finalizeTx(ctx, plans, states, dups) })
}

// finalizeTx is finalize's transaction (or, committing early, its
// transactions), given which merge streams hold duplicates. inDDL runs it
// again only after a lock that a backend's DDL transaction could not take
// in time; such a backend (PostgreSQL) does not commit early, so that the
// run again redoes a transaction wholly rolled back, never a swap that
// was committed.
func (c *Cache) finalizeTx(ctx context.Context, plans []*streamPlan, states map[StateKey]*protocol.State, dups map[*streamPlan]bool) error {
	tx, err := c.beginDDL(ctx)
	if err != nil {
		return err
	}
	defer func() { tx.Rollback(ctx) }() // the transaction open at the end
	mem, _ := c.b.(backend.TxMemory)
	var held int64 // what the deletes of this transaction hold
	// The merge tables whose watermarks this transaction clears, together
	// and before it commits: each with its delete.
	var cleared []string
	for _, p := range plans {
		t := &p.table
		switch p.strategy {
		case StrategyMerge:
			if dups[p] {
				if mem != nil {
					cost := mem.TxTableMemory(t)
					if held > 0 && held+cost > mem.TxMemoryBudget() {
						if err := c.clearWatermarks(ctx, tx, cleared); err != nil {
							return err
						}
						next, err := c.commitEarly(ctx, tx, mem)
						if err != nil {
							return err
						}
						tx, held, cleared = next, 0, cleared[:0]
					}
					held += cost
				}
				if err := tx.Exec(ctx, c.dedupeSQL(t, p.older), p.dedupeFrom); err != nil {
					return fmt.Errorf("deduplicating stream %q: %w", t.Stream, err)
				}
			}
			cleared = append(cleared, t.Name)
		case StrategyReplace:
			if p.swap {
				// Counted before the swap can commit and after it has:
				// an export of the table meanwhile learns of it (tableID).
				defer c.swapping(t.Name)()
				if sk, ok := c.b.(backend.SwapKeeper); ok {
					if err := sk.KeepGrants(ctx, tx, t.Name, p.target); err != nil {
						return fmt.Errorf("swapping in stream %q: %w", t.Stream, err)
					}
				}
				if err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+c.qual(t.Name)); err != nil {
					return err
				}
				if err := tx.Exec(ctx, `ALTER TABLE `+c.qual(p.target)+` RENAME TO `+backend.Quote(t.Name)); err != nil {
					return fmt.Errorf("swapping in stream %q: %w", t.Stream, err)
				}
				if ix, ok := c.b.(backend.RawIDIndexer); ok {
					if err := ix.SwapRawIDIndex(ctx, tx, p.target, t.Name); err != nil {
						return fmt.Errorf("swapping in stream %q: %w", t.Stream, err)
					}
				}
			} else if err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+c.qual(p.target)); err != nil {
				return err
			}
			// Swapped in, the table is the stream's, of its namespace
			// (a table taken over from another namespace becomes so
			// only now: see checkNamespaces).
			done, args := `UPDATE `+c.qual(streamsTable)+` SET staging_table = NULL, namespace = ? WHERE table_name = ?`, []any{p.namespace, t.Name}
			switch {
			case !p.swap && p.unmade:
				// No table was made: recorded, it would belong to this
				// source, and refuse other sources, for nothing.
				done, args = `DELETE FROM `+c.qual(streamsTable)+` WHERE table_name = ?`, args[1:]
			case !p.swap:
				done, args = `UPDATE `+c.qual(streamsTable)+` SET staging_table = NULL WHERE table_name = ?`, args[1:]
			}
			if err := tx.Exec(ctx, c.rebind(done), args...); err != nil {
				return err
			}
		}
	}
	if err := c.clearWatermarks(ctx, tx, cleared); err != nil {
		return err
	}
	if err := c.putStates(ctx, tx, states); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// commitEarly commits tx, has the backend release what the committed
// transaction still holds, and begins the next one.
func (c *Cache) commitEarly(ctx context.Context, tx backend.Tx, mem backend.TxMemory) (backend.Tx, error) {
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	if err := mem.ReleaseTxMemory(ctx); err != nil {
		return nil, err
	}
	return c.beginDDL(ctx)
}

// needsDupCheck reports whether a merge stream may hold a key twice in its
// dedupe scope, so that the delete (a sort of the table) runs only when
// needed; most syncs have no duplicates. Into an empty table, keys that
// arrived strictly increasing cannot repeat: not even the check (a hash
// aggregate over the table) is needed.
func needsDupCheck(p *streamPlan) bool {
	return p.strategy == StrategyMerge && !(p.wasEmpty && !p.keysUnordered)
}

// dupChecksMax is how many tables one statement of duplicates checks at
// most. DuckDB holds about half a megabyte for each check until the
// statement ends, whatever the table (200 checks of tables of four rows
// ran out of the default 128 MB), and 8 to 16 checks a statement cost
// least per table (about half of one statement per table).
const dupChecksMax = 16

// duplicates reports which merge streams of plans hold a key twice in
// their dedupe scope. The checks of all the streams that need one run as
// one statement per dupChecksMax tables, a UNION ALL that gives the
// streams that hold duplicates, rather than one statement each: each cost
// about 2 ms on DuckDB, even for a table of a few rows. All of them read after the
// load's last write and before finalize's transaction, as they did one by
// one. What they hold at once, a hash of the keys each checks, is at most
// what a load of the same records into one stream holds for its check:
// the rows in the scopes are this load's, and the older rows of the same
// keys. When the statement fails, the streams are checked one by one, so
// that the error names the stream whose check fails, as it did.
func (c *Cache) duplicates(ctx context.Context, plans []*streamPlan) (map[*streamPlan]bool, error) {
	dups := map[*streamPlan]bool{}
	var check []*streamPlan
	for _, p := range plans {
		if p.strategy == StrategyMerge {
			dups[p] = false
		}
		if needsDupCheck(p) {
			check = append(check, p)
		}
	}
	for part := range slices.Chunk(check, dupChecksMax) {
		_, err := c.unionRows(ctx, len(part), func(i int, q *strings.Builder, args *[]any) error {
			// The watermark is bound by number: the i-th argument.
			q.WriteString(` FROM (` + c.dupCheckSQL(&part[i].table, part[i].older, i+1) + `) x` + strconv.Itoa(i))
			*args = append(*args, part[i].dedupeFrom)
			return nil
		}, nil, func(i int) { dups[part[i]] = true })
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			for _, p := range part {
				d, err := c.hasDuplicates(ctx, p)
				if err != nil {
					return nil, err
				}
				dups[p] = d
			}
		}
	}
	return dups, nil
}

// hasDuplicates reports whether one merge stream holds a key twice in its
// dedupe scope, as duplicates does for many.
func (c *Cache) hasDuplicates(ctx context.Context, p *streamPlan) (bool, error) {
	var one int
	err := c.b.DB().QueryRowContext(ctx, c.dupCheckSQL(&p.table, p.older, 1), p.dedupeFrom).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for duplicates in stream %q: %w", p.table.Stream, err)
	}
	return true, nil
}

// The aliases of a merge table in the statements that deduplicate it: of
// its rows (o) and, in the subquery that finds the keys a load wrote, of
// those rows (n), each a derived table of the table's columns and keys.
// They are quoted names no column can have (NormalizeName makes only a-z,
// 0-9 and _): DuckDB binds o."id" inside a subquery over
// a table with a column o to that column's member id, not to the outer
// alias, so that a stream with a field named o (or n) was not deduplicated
// across loads (a JSON o) or failed to be (any other).
const (
	rowsAlias   = `"o-"`
	loadedAlias = `"n-"`
)

// dedupeScope is the FROM … WHERE of the rows a merge deduplicates: rows
// with a non-NULL key (rows whose key is NULL are kept as they are) and,
// when scoped, only keys loaded since the watermark (its one bind
// parameter, the n-th of the statement). It also returns the keys, columns
// of alias rowsAlias. Each key is computed in a derived table, as a column
// named key-1, key-2, … (names no column can have), and the rows a load
// wrote are matched by those columns: DuckDB joined the expressions of a
// key held as JSON (see keyExpr) on both sides row by row, so that 5,000
// rows of an open stream loaded again took 8 s to match, a time that grows
// with the square of the rows.
func (c *Cache) dedupeScope(t *backend.Table, scoped bool, n int) (from string, keys []string) {
	var exprs, match, notNull []string
	for i, k := range t.PrimaryKey {
		key := backend.Quote("key-" + strconv.Itoa(i+1))
		exprs = append(exprs, c.keyExpr(t, rowsAlias, k)+" AS "+key)
		keys = append(keys, rowsAlias+"."+key)
		notNull = append(notNull, rowsAlias+"."+key+" IS NOT NULL")
		match = append(match, loadedAlias+"."+key+" = "+rowsAlias+"."+key)
	}
	keyed := `(SELECT ` + rowsAlias + `.*, ` + strings.Join(exprs, ", ") + ` FROM ` + c.qual(t.Name) + ` ` + rowsAlias
	// The watermark is always bound so that both forms take one argument.
	where := ` WHERE CAST(` + c.b.Placeholder(n) + ` AS VARCHAR) IS NOT NULL`
	if scoped {
		where = ` WHERE EXISTS (SELECT 1 FROM ` + keyed + ` WHERE ` + rowsAlias + `.` + backend.Quote(backend.ColumnRawID) + ` >= ` + c.b.Placeholder(n) + `) ` +
			loadedAlias + ` WHERE ` + strings.Join(match, " AND ") + `)`
	}
	return ` FROM ` + keyed + `) ` + rowsAlias + where + ` AND ` + strings.Join(notNull, " AND "), keys
}

// dupCheckSQL selects a row if the rows in the dedupe scope hold a key
// twice, none otherwise; the watermark is the n-th bind parameter. It
// counts the keys held twice rather than stopping at the first (LIMIT 1):
// under a LIMIT, PostgreSQL planned the scope's semi join as a nested
// loop that expected to find a duplicate at once, and a merge of 100,000
// records of 500 fields into a table of 200,000 ran for more than 4
// minutes in its check, where counting (a hash join) takes 5 s. DuckDB
// aggregates every key either way.
func (c *Cache) dupCheckSQL(t *backend.Table, scoped bool, n int) string {
	from, keys := c.dedupeScope(t, scoped, n)
	return `SELECT 1 FROM (SELECT count(*) AS "n-" FROM (SELECT 1 AS "one-"` + from + ` GROUP BY ` + strings.Join(keys, ", ") +
		` HAVING count(*) > 1) "dups-") "count-" WHERE "count-"."n-" > 0`
}

// dedupeSQL deletes every row of a merge table but the newest per primary
// key (by cursor, then by arrival) within the dedupe scope.
func (c *Cache) dedupeSQL(t *backend.Table, scoped bool) string {
	from, keys := c.dedupeScope(t, scoped, 1)
	order := ""
	if len(t.Cursor) > 0 {
		col := columnOf(t, t.Cursor[0])
		switch {
		case len(t.Cursor) > 1 || col.Type == backend.TypeJSON:
			// A cursor held as JSON (nested, undeclared, or of several
			// types) alike on every backend: a number by its value, above
			// any other value, which orders by its text's bytes. DuckDB
			// orders JSON by its text (9 after 10), PostgreSQL its own way.
			numbers, text := c.b.JSONOrder(rowsAlias+"."+backend.Quote(col.Name), t.Cursor[1:])
			for _, n := range numbers {
				order += n + " DESC NULLS LAST, "
			}
			order += c.byBytes(text) + " DESC NULLS LAST, "
		case col.Type == backend.TypeString:
			// A text cursor by its bytes, on every backend.
			order = c.byBytes(c.keyExpr(t, rowsAlias, t.Cursor)) + " DESC NULLS LAST, "
		default:
			order = c.keyExpr(t, rowsAlias, t.Cursor) + " DESC NULLS LAST, "
		}
	}
	raw := backend.Quote(backend.ColumnRawID)
	return `DELETE FROM ` + c.qual(t.Name) + ` WHERE ` + raw + ` IN (SELECT rid FROM (SELECT ` + rowsAlias + `.` + raw + ` AS rid, row_number() OVER (PARTITION BY ` +
		strings.Join(keys, ", ") + ` ORDER BY ` + order + rowsAlias + `.` + raw + ` DESC) AS rn` + from + `) x WHERE rn > 1)`
}
