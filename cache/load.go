package cache

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/x/goairbyte/protocol"
)

// DefaultBatchSize is how many records (across all streams) a load writes
// per transaction, unless the backend is a [BatchSizer]. Larger
// transactions did not load faster into PostgreSQL.
const DefaultBatchSize = 100_000

// LoadRequest is one sync of a source into a cache.
type LoadRequest struct {
	// SourceName keys the state and stream metadata, e.g. "source-faker".
	SourceName string
	// Catalog is the configured catalog the source reads.
	Catalog *protocol.ConfiguredCatalog
	// Strategy applies to every stream; empty means auto.
	Strategy Strategy
	// FullRefresh says no state was passed to the source: replace is
	// allowed for incremental streams.
	FullRefresh bool
	// Messages is the connector's output. Messages other than RECORD and
	// STATE go to OnMessage; an error ends the load (see Load).
	Messages iter.Seq2[*protocol.Message, error]
	// BatchSize overrides the backend's batch size (DefaultBatchSize
	// unless the backend is a BatchSizer).
	BatchSize int
	// OnMessage, when set, receives every message that is not a RECORD or
	// STATE (LOG, TRACE, CONTROL, unparsed lines…), for logging and progress.
	OnMessage func(*protocol.Message)
}

// LoadResult counts what a load wrote.
type LoadResult struct {
	// Records is the number of records loaded per stream.
	Records map[string]int64
	// Total is the number of records loaded.
	Total int64
	// States is the number of STATE messages committed.
	States int64
	// UnknownStreamRecords counts records of streams that are not in the
	// catalog; they are not loaded.
	UnknownStreamRecords int64
}

// chunk is what the writer inserts in one go: the records buffered since
// the last chunk, one batch per stream, and the states that arrived with
// them. A write transaction holds one or more chunks and commits after the
// one marked commit, with every state its chunks carried.
type chunk struct {
	batches map[*streamPlan]Batch
	order   []*streamPlan
	states  map[StateKey]*protocol.State
	n       int
	commit  bool
}

func newChunk() *chunk {
	return &chunk{batches: map[*streamPlan]Batch{}, states: map[StateKey]*protocol.State{}}
}

func (c *chunk) close() {
	for _, b := range c.batches {
		b.Close()
	}
}

// Load reads req.Messages into the cache c. Records go to per-stream
// batches; a batch is written, together with every STATE that arrived
// after its records, in one transaction, so a committed state never
// covers a record that is not durable. Replace streams load into a staging
// table, and their states are committed only with the final swap. At the
// end each stream is finalised: merge streams are deduplicated, replace
// streams swapped in atomically.
//
// If Messages yields an error, what arrived before it is still written and
// its states committed, replace streams are left as they were, and the
// error is returned with the partial result. A load killed at any moment
// leaves the cache consistent: the next load resumes from the last
// committed state.
func Load(ctx context.Context, c Cache, req LoadRequest) (*LoadResult, error) {
	s := c.base()
	if req.SourceName == "" || req.Catalog == nil || req.Messages == nil {
		return nil, errors.New("cache: Load needs a source name, a configured catalog and messages")
	}
	plans, err := s.planStreams(&req)
	if err != nil {
		return nil, err
	}
	ids := newIDGen()
	syncStart := string(ids.next())
	if err := s.prepare(ctx, req.SourceName, plans, syncStart); err != nil {
		return nil, err
	}
	byName := map[string]*streamPlan{}
	anyReplace := false
	for _, p := range plans {
		byName[p.table.Stream] = p
		anyReplace = anyReplace || p.strategy == StrategyReplace
	}
	txSize := req.BatchSize
	if bs, ok := s.b.(BatchSizer); ok && txSize <= 0 {
		txSize = bs.BatchSize()
	}
	if txSize <= 0 {
		txSize = DefaultBatchSize
	}
	chunkSize := txSize
	if cs, ok := s.b.(ChunkSizer); ok && cs.ChunkSize() > 0 {
		chunkSize = min(chunkSize, cs.ChunkSize())
	}
	res := &LoadResult{Records: map[string]int64{}}
	deferred := map[StateKey]*protocol.State{}

	// The writer goroutine inserts chunks in order while the next fills;
	// one more may wait between them, so that a chunk that fills slowly
	// (a pause of the source, a garbage collection) does not leave the
	// writer idle. Measured on faker users + purchases into DuckDB: the
	// writer waited 270 ms over 2M records with no chunk waiting, 10 ms
	// with one.
	chunks := make(chan *chunk, 1)
	var wg sync.WaitGroup
	var writeErr error
	w := &writer{s: s, states: map[StateKey]*protocol.State{}}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// One OS thread for all of a load's inserts: DuckDB works in the
		// calling thread, and its allocations spread over a malloc arena
		// per thread that ran a statement, each keeping its freed memory.
		// Measured on faker users + purchases, 2M records: peak RSS
		// 264–314 MB unlocked, about 210 MB locked.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for c := range chunks {
			if writeErr == nil {
				if writeErr = w.write(wctx, c); writeErr != nil {
					cancel()
				}
			}
			c.close()
		}
		w.abandon(ctx)
	}()
	// failed reports (without a race) whether the writer has failed; the
	// error itself is read after wg.Wait.
	failed := func() bool { return wctx.Err() != nil }

	// The first chunk is small, so the writer starts while the source
	// warms up instead of after a whole chunk.
	chunkLimit := max(1, chunkSize/16)
	cur := newChunk()
	inTx := 0     // records of the transaction being filled
	open := false // a chunk of that transaction was sent
	send := func(commit bool) {
		if cur.n == 0 && len(cur.states) == 0 && !(commit && open) {
			return
		}
		for _, p := range cur.order {
			p.noteKeys(cur.batches[p])
		}
		cur.commit = commit
		select {
		case chunks <- cur:
			open = !commit
		case <-wctx.Done():
			cur.close()
		}
		cur = newChunk()
		chunkLimit = chunkSize
	}

	var srcErr error
	for m, err := range req.Messages {
		if err != nil {
			srcErr = err
			break
		}
		if failed() {
			break
		}
		switch {
		case m.Type == protocol.TypeRecord && m.Record != nil:
			p := byName[m.Record.Stream]
			if p == nil {
				res.UnknownStreamRecords++
				continue
			}
			b := cur.batches[p]
			if b == nil {
				b, err = s.b.NewBatch(&p.table)
				if err != nil {
					srcErr = err
					break
				}
				cur.batches[p] = b
				cur.order = append(cur.order, p)
			}
			if err := b.Add(ids.next(), m.Record); err != nil {
				srcErr = fmt.Errorf("cache: buffering a record of stream %q: %w", p.table.Stream, err)
				break
			}
			p.records++
			cur.n++
			if inTx++; inTx >= txSize {
				send(true)
				inTx = 0
			} else if cur.n >= chunkLimit {
				send(false)
			}
		case m.Type == protocol.TypeState && m.State != nil:
			key := StateKey{Source: req.SourceName}
			defer_ := anyReplace
			if m.State.EffectiveType() == protocol.StateStream && m.State.Stream != nil {
				key.Stream = m.State.Stream.StreamDescriptor.Name
				p := byName[key.Stream]
				defer_ = p != nil && p.strategy == StrategyReplace
			}
			if defer_ {
				deferred[key] = m.State
			} else {
				cur.states[key] = m.State
			}
		default:
			if req.OnMessage != nil {
				req.OnMessage(m)
			}
		}
		if srcErr != nil {
			break
		}
	}
	if ctx.Err() == nil {
		send(true)
	} else {
		cur.close()
	}
	close(chunks)
	wg.Wait()
	for _, p := range plans {
		if p.records > 0 {
			res.Records[p.table.Stream] = p.records
		}
		res.Total += p.records
	}
	res.States = w.committed
	if writeErr != nil {
		return res, fmt.Errorf("cache: writing records: %w", writeErr)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	finErr := s.finalize(ctx, req.SourceName, plans, deferred, srcErr == nil)
	if srcErr != nil {
		return res, srcErr
	}
	if finErr != nil {
		return res, fmt.Errorf("cache: finalising streams: %w", finErr)
	}
	res.States += int64(len(deferred))
	return res, nil
}

// writer inserts chunks into one open write transaction at a time and
// commits it after a chunk marked commit, together with the latest state
// per key that its chunks carried.
type writer struct {
	s         *SQL
	tx        Tx
	states    map[StateKey]*protocol.State
	committed int64 // states committed
}

func (w *writer) write(ctx context.Context, c *chunk) error {
	if w.tx == nil {
		tx, err := w.s.b.Begin(ctx)
		if err != nil {
			return err
		}
		w.tx = tx
	}
	for _, p := range c.order {
		if err := w.tx.Insert(ctx, p.target, c.batches[p]); err != nil {
			return fmt.Errorf("stream %q: %w", p.table.Stream, err)
		}
	}
	for k, st := range c.states {
		w.states[k] = st
	}
	if !c.commit {
		return nil
	}
	for k, st := range w.states {
		if err := w.s.putState(ctx, w.tx, k, st); err != nil {
			return err
		}
	}
	err := w.tx.Commit(ctx)
	w.tx = nil
	if err == nil {
		w.committed += int64(len(w.states))
	}
	clear(w.states)
	return err
}

// abandon rolls back a transaction left open by a failure or a cancelled
// load; its records and states were never committed.
func (w *writer) abandon(ctx context.Context) {
	if w.tx != nil {
		_ = w.tx.Rollback(context.WithoutCancel(ctx))
		w.tx = nil
	}
}

// prepare creates or evolves every table before the first record: new
// tables, new columns (schema evolution), staging tables for replace, and
// the merge watermark. Existing columns keep their type; the columns of
// each plan's table then carry the types the database really has.
func (s *SQL) prepare(ctx context.Context, source string, plans []*streamPlan, syncStart string) error {
	// Staging tables left by a killed load of this source are dropped.
	var leftovers []string
	rows, err := s.Query(ctx, `SELECT staging_table FROM `+s.qual(streamsTable)+` WHERE source_name = ? AND staging_table IS NOT NULL`, source)
	if err != nil {
		return err
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		leftovers = append(leftovers, t)
	}
	rows.Close()
	existing := map[string][]columnInfo{}
	for _, p := range plans {
		cols, err := s.columns(ctx, p.table.Name)
		if err != nil {
			return err
		}
		existing[p.table.Name] = cols
	}
	for _, p := range plans {
		if p.strategy == StrategyMerge {
			if err := s.prepareMerge(ctx, p, len(existing[p.table.Name]) > 0, syncStart); err != nil {
				return err
			}
		}
	}

	tx, err := beginDDL(ctx, s.b)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, t := range leftovers {
		if err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+s.qual(t)); err != nil {
			return err
		}
	}
	if err := tx.Exec(ctx, s.rebind(`UPDATE `+s.qual(streamsTable)+` SET staging_table = NULL WHERE source_name = ?`), source); err != nil {
		return err
	}
	for i, p := range plans {
		t := &p.table
		if p.strategy == StrategyReplace {
			p.target = fmt.Sprintf("%s%s_%d", stagingPrefix, strings.ToLower(syncStart), i)
			if err := tx.Exec(ctx, s.createTable(p.target, t)); err != nil {
				return err
			}
		} else {
			if err := tx.Exec(ctx, s.createTable(t.Name, t)); err != nil {
				return err
			}
			have := map[string]bool{}
			for _, c := range existing[t.Name] {
				have[c.name] = true
			}
			for _, c := range t.Columns {
				if !have[c.Name] && len(existing[t.Name]) > 0 {
					if err := tx.Exec(ctx, `ALTER TABLE `+s.qual(t.Name)+` ADD COLUMN IF NOT EXISTS `+Quote(c.Name)+` `+s.b.SQLType(c.Type)); err != nil {
						return err
					}
				}
			}
		}
		var staging, dedupe any // NULL: dedupe_from is kept
		if p.strategy == StrategyReplace {
			staging = p.target
		}
		if p.strategy == StrategyMerge {
			dedupe = p.dedupeFrom
		}
		if err := tx.Exec(ctx, s.rebind(`INSERT INTO `+s.qual(streamsTable)+` (table_name, stream_name, source_name) SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM `+s.qual(streamsTable)+` WHERE table_name = ?)`),
			t.Name, t.Stream, source, t.Name); err != nil {
			return err
		}
		if err := tx.Exec(ctx, s.rebind(`UPDATE `+s.qual(streamsTable)+` SET stream_name = ?, source_name = ?, dedupe_from = COALESCE(?, dedupe_from), staging_table = ?, updated_at = CURRENT_TIMESTAMP WHERE table_name = ?`),
			t.Stream, source, dedupe, staging, t.Name); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	// The database's own column types win over the schema's.
	for _, p := range plans {
		if p.strategy == StrategyReplace {
			continue
		}
		cols, err := s.columns(ctx, p.table.Name)
		if err != nil {
			return err
		}
		for _, ci := range cols {
			for i := range p.table.Columns {
				if p.table.Columns[i].Name == ci.name {
					p.table.Columns[i].Type = s.b.ParseSQLType(ci.dataType)
				}
			}
		}
	}
	return nil
}

// prepareMerge sets a merge plan's watermark and finds out, while the
// table is still small, whether it has rows. A killed load leaves its
// watermark behind: the resumed load keeps it, so that the rows the killed
// one wrote are deduplicated too, and only then scans for older rows.
func (s *SQL) prepareMerge(ctx context.Context, p *streamPlan, exists bool, syncStart string) error {
	var from string
	err := s.b.DB().QueryRowContext(ctx, s.rebind(`SELECT COALESCE(dedupe_from, '') FROM `+s.qual(streamsTable)+` WHERE table_name = ?`), p.table.Name).Scan(&from)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	p.dedupeFrom, p.wasEmpty = syncStart, true
	if !exists {
		return nil
	}
	var n int
	if err := s.b.DB().QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+s.qual(p.table.Name)+` LIMIT 1) x`).Scan(&n); err != nil {
		return err
	}
	p.wasEmpty = n == 0
	p.older = n > 0
	if from != "" && n > 0 {
		p.dedupeFrom = from
		if err := s.b.DB().QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM (SELECT 1 FROM `+s.qual(p.table.Name)+` WHERE `+Quote(ColumnRawID)+` < ? LIMIT 1) x`), from).Scan(&n); err != nil {
			return err
		}
		p.older = n > 0
	}
	return nil
}

// createTable is the CREATE TABLE IF NOT EXISTS statement of a stream table.
func (s *SQL) createTable(name string, t *Table) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + s.qual(name) + " (")
	b.WriteString(Quote(ColumnRawID) + " VARCHAR NOT NULL, ")
	b.WriteString(Quote(ColumnExtractedAt) + " " + s.b.SQLType(TypeTimestampTZ) + ", ")
	b.WriteString(Quote(ColumnMeta) + " " + s.b.SQLType(TypeJSON))
	for _, c := range t.Columns {
		b.WriteString(", " + Quote(c.Name) + " " + s.b.SQLType(c.Type))
	}
	b.WriteString(")")
	return b.String()
}

// finalize deduplicates merge streams, swaps replace streams in (only when
// complete is true; else their staging tables are dropped) and commits the
// deferred states, all in one transaction.
func (s *SQL) finalize(ctx context.Context, source string, plans []*streamPlan, deferred map[StateKey]*protocol.State, complete bool) error {
	// The duplicate checks only read: they run before the transaction, so
	// that no connection is held while another is awaited.
	dups := map[*streamPlan]bool{}
	for _, p := range plans {
		if p.strategy == StrategyMerge {
			d, err := s.hasDuplicates(ctx, p)
			if err != nil {
				return err
			}
			dups[p] = d
		}
	}
	tx, err := beginDDL(ctx, s.b)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, p := range plans {
		t := &p.table
		switch p.strategy {
		case StrategyMerge:
			if dups[p] {
				if err := tx.Exec(ctx, s.dedupeSQL(t, p.older), p.dedupeFrom); err != nil {
					return fmt.Errorf("deduplicating stream %q: %w", t.Stream, err)
				}
			}
			if err := tx.Exec(ctx, s.rebind(`UPDATE `+s.qual(streamsTable)+` SET dedupe_from = NULL WHERE table_name = ?`), t.Name); err != nil {
				return err
			}
		case StrategyReplace:
			if complete {
				if err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+s.qual(t.Name)); err != nil {
					return err
				}
				if err := tx.Exec(ctx, `ALTER TABLE `+s.qual(p.target)+` RENAME TO `+Quote(t.Name)); err != nil {
					return fmt.Errorf("swapping in stream %q: %w", t.Stream, err)
				}
			} else if err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+s.qual(p.target)); err != nil {
				return err
			}
			if err := tx.Exec(ctx, s.rebind(`UPDATE `+s.qual(streamsTable)+` SET staging_table = NULL WHERE table_name = ?`), t.Name); err != nil {
				return err
			}
		}
	}
	if complete {
		for k, st := range deferred {
			if err := s.putState(ctx, tx, k, st); err != nil {
				return err
			}
		}
	}
	return tx.Commit(ctx)
}

// hasDuplicates reports whether a merge stream holds a key twice in its
// dedupe scope, so that the delete (a sort of the table) runs only when
// needed; most syncs have no duplicates. Into an empty table, keys that
// arrived strictly increasing cannot repeat: not even the check (a hash
// aggregate over the table) is needed.
func (s *SQL) hasDuplicates(ctx context.Context, p *streamPlan) (bool, error) {
	if p.wasEmpty && !p.keysUnordered {
		return false, nil
	}
	var one int
	err := s.b.DB().QueryRowContext(ctx, s.dupCheckSQL(&p.table, p.older), p.dedupeFrom).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for duplicates in stream %q: %w", p.table.Stream, err)
	}
	return true, nil
}

// dedupeScope is the FROM … WHERE of the rows a merge deduplicates: rows
// with a non-NULL key (rows whose key is NULL are kept as they are) and,
// when scoped, only keys loaded since the watermark (its one bind
// parameter). It also returns the key expressions on alias o.
func (s *SQL) dedupeScope(t *Table, scoped bool) (from string, keys []string) {
	var match, notNull []string
	for _, k := range t.PrimaryKey {
		keys = append(keys, s.keyExpr(t, "o", k))
		notNull = append(notNull, s.keyExpr(t, "o", k)+" IS NOT NULL")
		match = append(match, s.keyExpr(t, "n", k)+" = "+s.keyExpr(t, "o", k))
	}
	// The watermark is always bound so that both forms take one argument.
	where := ` WHERE CAST(` + s.b.Placeholder(1) + ` AS VARCHAR) IS NOT NULL`
	if scoped {
		where = ` WHERE EXISTS (SELECT 1 FROM ` + s.qual(t.Name) + ` n WHERE n.` + Quote(ColumnRawID) + ` >= ` + s.b.Placeholder(1) + ` AND ` + strings.Join(match, " AND ") + `)`
	}
	return ` FROM ` + s.qual(t.Name) + ` o` + where + ` AND ` + strings.Join(notNull, " AND "), keys
}

// dupCheckSQL selects a row if the rows in the dedupe scope hold a key
// twice, none otherwise.
func (s *SQL) dupCheckSQL(t *Table, scoped bool) string {
	from, keys := s.dedupeScope(t, scoped)
	return `SELECT 1` + from + ` GROUP BY ` + strings.Join(keys, ", ") + ` HAVING count(*) > 1 LIMIT 1`
}

// dedupeSQL deletes every row of a merge table but the newest per primary
// key (by cursor, then by arrival) within the dedupe scope.
func (s *SQL) dedupeSQL(t *Table, scoped bool) string {
	from, keys := s.dedupeScope(t, scoped)
	order := ""
	if len(t.Cursor) > 0 {
		order = s.keyExpr(t, "o", t.Cursor) + " DESC NULLS LAST, "
	}
	raw := Quote(ColumnRawID)
	return `DELETE FROM ` + s.qual(t.Name) + ` WHERE ` + raw + ` IN (SELECT rid FROM (SELECT o.` + raw + ` AS rid, row_number() OVER (PARTITION BY ` +
		strings.Join(keys, ", ") + ` ORDER BY ` + order + `o.` + raw + ` DESC) AS rn` + from + `) x WHERE rn > 1)`
}

// idGen makes _airbyte_raw_id values: ULIDs that increase strictly in
// the order records arrive, even within one millisecond or if the clock
// steps back, so they double as arrival order. It allocates nothing: at
// hundreds of thousands of records a second its cost is felt.
type idGen struct {
	ms      uint64
	entropy *ulid.MonotonicEntropy
	id      ulid.ULID
	text    [ulid.EncodedSize]byte
}

func newIDGen() *idGen {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return &idGen{entropy: ulid.Monotonic(rand.NewChaCha8(seed), 0)}
}

// next returns the next id as text, valid until the following call.
func (g *idGen) next() []byte {
	ms := max(ulid.Timestamp(time.Now()), g.ms)
	// An error means the entropy ran out within one millisecond: move on
	// to the next.
	for g.entropy.MonotonicRead(ms, g.id[6:]) != nil {
		ms++
	}
	g.ms = ms
	_ = g.id.SetTime(ms) // fails only after the year 10889
	_ = g.id.MarshalTextTo(g.text[:])
	return g.text[:]
}
