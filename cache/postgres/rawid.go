package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/x/goairbyte/cache/internal/backend"
)

// Stream tables have a BRIN index on _airbyte_raw_id, so that a page of
// an export (raw_id > lo AND raw_id <= hi) reads the blocks of its range
// and not the whole table: rows arrive in raw id order and COPY appends
// them, so each range of blocks holds a narrow range of ids. A BRIN index
// keeps the least and greatest id of each range of blocks: 88 kB for 1M
// faker users (244 MB), where a btree takes 47 MB and is maintained row by
// row. Its cost is summarising the blocks loads appended (RawIDsToRead),
// which reads them once: 0.4-1.1 s for those 1M users. The first paged
// read after loads pays it, not the loads: summarised after each load,
// it cost the load of 1M users and 1M purchases 1.1-1.5 s of 11-14 s
// (BenchmarkLoadFakerPostgres: 227-239 k records/s against 248-283 k in
// three pairs on a quiet machine), for an export that may never come.
//
// Rows a merge writes after its deletes were vacuumed may go into the
// freed space of older blocks: their ranges then span old and new ids and
// are read by the pages of both, so a table merged often reads more than
// its pages' blocks (never the wrong rows: each row is checked).

// brinPagesPerRange is the blocks of 8 kB one entry of the index covers.
// A page of 50,000 faker users fills some 1,600 blocks, and the ranges at
// its two ends are read whole: at 32, a page read 2 % more rows than it
// kept (1,200 of 51,200), at PostgreSQL's default of 128 some 15 %, for an
// index four times as small (1M users: 88 kB against 40 kB).
const brinPagesPerRange = 32

// rawIDStatistics is the statistics target of _airbyte_raw_id: the
// planner reads a range of ids through the BRIN index only when it knows
// the ids are in the order of the blocks, from the column's statistics.
// ANALYZE of the column samples 300 rows per unit of the target: at 10,
// 1M fresh users took 26 ms to analyze, against 350-440 ms at the default
// of 100, and the plan is the same.
const rawIDStatistics = 10

// rawIDIndex is the name of the index on the raw id of table: the table's
// name and "-raw-id", which no table of the cache is called (its names
// have no "-"), its end replaced by a hash of the table's name when it
// would exceed the 63 bytes of an identifier.
func rawIDIndex(table string) string {
	const suffix = "-raw-id"
	if len(table)+len(suffix) <= 63 {
		return table + suffix
	}
	h := fnv.New32a()
	h.Write([]byte(table))
	sum := strconv.FormatUint(uint64(h.Sum32()), 16)
	return table[:63-len(suffix)-len(sum)-1] + "-" + sum + suffix
}

// IndexRawIDs makes the backend a backend.RawIDIndexer: it gives table
// the BRIN index on the raw id if it has none and the session's role owns
// the table, and lowers the column's statistics target (rawIDStatistics).
// A table made by an earlier version gets it at its first load by this
// one, which reads the table once to build it (1M users: 0.8 s), with
// the DDL lock held; readers of the table read on meanwhile.
func (b *database) IndexRawIDs(ctx context.Context, tx backend.Tx, table string) error {
	t := tx.(*txn)
	var missing bool
	err := t.tx.QueryRow(ctx, `SELECT to_regclass($1) IS NULL AND pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = to_regclass($2)`,
		b.Qualify(rawIDIndex(table)), b.Qualify(table)).Scan(&missing)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !missing) {
		return nil
	}
	if err != nil {
		return err
	}
	raw := backend.Quote(backend.ColumnRawID)
	if err := t.Exec(ctx, `CREATE INDEX IF NOT EXISTS `+backend.Quote(rawIDIndex(table))+` ON `+b.Qualify(table)+` USING brin (`+raw+`) WITH (pages_per_range = `+strconv.Itoa(brinPagesPerRange)+`)`); err != nil {
		return err
	}
	return t.Exec(ctx, `ALTER TABLE `+b.Qualify(table)+` ALTER COLUMN `+raw+` SET STATISTICS `+strconv.Itoa(rawIDStatistics))
}

// SwapRawIDIndex makes the backend a backend.RawIDIndexer.
func (b *database) SwapRawIDIndex(ctx context.Context, tx backend.Tx, staging, table string) error {
	return tx.Exec(ctx, `ALTER INDEX IF EXISTS `+b.Qualify(rawIDIndex(staging))+` RENAME TO `+backend.Quote(rawIDIndex(table)))
}

// rawIDAnalyzeBlocks is the size of a table, in blocks of 8 kB, from
// which RawIDsToRead analyzes its raw id: a smaller table is read whole
// about as fast as through any index, and an export of many small
// streams would pay an ANALYZE for each table for nothing.
const rawIDAnalyzeBlocks = 128

// RawIDsToRead makes the backend a backend.RawIDIndexer, in one statement
// for all the tables: it summarises the blocks loads appended to each
// since its last summary (a BRIN index leaves new blocks unsummarised,
// and a scan of it reads them all), and then analyzes the raw id of those
// of rawIDAnalyzeBlocks or more that have no statistics of it (a new
// table, or one a replace swapped in): without them the planner reads
// every page of an export with a scan of the whole table. Statistics of
// fewer rows than the table has are enough: ids beyond them are estimated
// few, which the index serves best.
func (b *database) RawIDsToRead(ctx context.Context, tables []string) error {
	quals, indexes := make([]string, len(tables)), make([]string, len(tables))
	for i, t := range tables {
		quals[i], indexes[i] = b.Qualify(t), b.Qualify(rawIDIndex(t))
	}
	rows, err := b.db.QueryContext(ctx, `SELECT t.name, brin_summarize_new_values(to_regclass(t.idx)), `+
		`pg_relation_size(to_regclass(t.qual)) >= $4 * current_setting('block_size')::bigint AND NOT EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = $5 AND s.tablename = t.name AND s.attname = $6) `+
		`FROM unnest($1::text[], $2::text[], $3::text[]) AS t(name, qual, idx)`,
		tables, quals, indexes, rawIDAnalyzeBlocks, b.schema, backend.ColumnRawID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var analyze []string
	for rows.Next() {
		var name string
		var summarised sql.NullInt64 // NULL: no index
		var unknown bool
		if err := rows.Scan(&name, &summarised, &unknown); err != nil {
			return err
		}
		if unknown {
			analyze = append(analyze, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range analyze {
		if _, err := b.db.ExecContext(ctx, `ANALYZE `+b.Qualify(t)+` (`+backend.Quote(backend.ColumnRawID)+`)`); err != nil {
			return fmt.Errorf("analyzing %s: %w", t, err)
		}
	}
	return nil
}
