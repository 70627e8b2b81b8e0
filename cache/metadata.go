package cache

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/protocol"
)

// metaRows is how many rows one statement of the cache's bookkeeping
// (_airbyte_streams, _airbyte_state) carries at most: a load writes those
// of all its streams in a few multi-row statements, not a few per stream.
// Each statement took about 0.9 ms on DuckDB whatever its rows, so a load
// of 1,000 streams spent over 5 s on them one stream at a time. At six
// parameters a row at most, a statement stays far below PostgreSQL's
// 65,535.
const metaRows = 1_000

// rowsOf is n rows of a VALUES list, each row being row.
func rowsOf(row string, n int) string {
	return strings.TrimSuffix(strings.Repeat("("+row+"), ", n), ", ")
}

// placeholders is n placeholders separated by commas.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// insertStreams records the tables of plans in _airbyte_streams as source's,
// with their streams' namespaces, unless they are recorded already (by any
// source): a claim (updated_at NULL), or the row recordStreams then
// completes.
func (c *Cache) insertStreams(ctx context.Context, tx backend.Tx, source string, plans []*streamPlan) error {
	for part := range slices.Chunk(plans, metaRows) {
		args := make([]any, 0, 1+3*len(part))
		args = append(args, source)
		for _, p := range part {
			args = append(args, p.table.Name, p.table.Stream, p.namespace)
		}
		q := `INSERT INTO ` + c.qual(streamsTable) + ` (table_name, stream_name, source_name, namespace) SELECT v.t, v.s, CAST(? AS VARCHAR), v.ns FROM (VALUES ` +
			rowsOf(`CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR)`, len(part)) + `) AS v(t, s, ns) WHERE NOT EXISTS (SELECT 1 FROM ` + c.qual(streamsTable) + ` x WHERE x.table_name = v.t)`
		if err := tx.Exec(ctx, c.rebind(q), args...); err != nil {
			return err
		}
	}
	return nil
}

// recordStreams notes the tables of plans in _airbyte_streams as source's
// with their streams' namespaces (a replace that takes a table over from
// another namespace leaves it to finalize, which records it at the swap)
// and the bookkeeping a killed load needs: the staging table of a
// replace, the watermark of a merge (kept when the plan has none).
func (c *Cache) recordStreams(ctx context.Context, tx backend.Tx, source string, plans []*streamPlan) error {
	if err := c.insertStreams(ctx, tx, source, plans); err != nil {
		return err
	}
	for part := range slices.Chunk(plans, metaRows) {
		args := make([]any, 0, 1+5*len(part))
		args = append(args, source)
		for _, p := range part {
			var staging, dedupe, ns any // NULL: dedupe_from, namespace are kept
			if p.strategy == StrategyReplace {
				staging = p.target
			}
			if p.strategy == StrategyMerge {
				dedupe = p.dedupeFrom
			}
			if p.takeover == nil {
				ns = p.namespace
			}
			args = append(args, p.table.Name, p.table.Stream, dedupe, staging, ns)
		}
		q := `UPDATE ` + c.qual(streamsTable) + ` SET stream_name = v.s, source_name = CAST(? AS VARCHAR), dedupe_from = COALESCE(v.d, dedupe_from), staging_table = v.st, namespace = COALESCE(v.ns, namespace), updated_at = CURRENT_TIMESTAMP FROM (VALUES ` +
			rowsOf(`CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR)`, len(part)) + `) AS v(t, s, d, st, ns) WHERE table_name = v.t`
		if err := tx.Exec(ctx, c.rebind(q), args...); err != nil {
			return err
		}
	}
	return nil
}

// clearWatermarks sets dedupe_from NULL for tables.
func (c *Cache) clearWatermarks(ctx context.Context, tx backend.Tx, tables []string) error {
	for part := range slices.Chunk(tables, metaRows) {
		args := make([]any, len(part))
		for i, t := range part {
			args[i] = t
		}
		if err := tx.Exec(ctx, c.rebind(`UPDATE `+c.qual(streamsTable)+` SET dedupe_from = NULL WHERE table_name IN (`+placeholders(len(part))+`)`), args...); err != nil {
			return err
		}
	}
	return nil
}

// putStates stores states as putState stores each: the whole-source
// states first, one at a time, then the STREAM states of each source and
// destination, which replace theirs and the whole-source state that
// covers them in one DELETE (per metaRows), all inserted in one INSERT
// (per metaRows). A whole-source state and a STREAM state it covers do
// not come together: a load keeps the later of the two (dropReplaced), and
// commitStates refuses the mix.
func (c *Cache) putStates(ctx context.Context, tx backend.Tx, states map[StateKey]*protocol.State) error {
	type place struct{ source, destination string }
	byPlace := map[place][]StateKey{}
	for k, st := range states {
		if k.Stream == "" {
			if err := c.putState(ctx, tx, k, st); err != nil {
				return err
			}
			continue
		}
		pl := place{k.Source, k.Destination}
		byPlace[pl] = append(byPlace[pl], k)
	}
	for pl, ks := range byPlace {
		for part := range slices.Chunk(ks, metaRows) {
			names := make([]string, len(part))
			for i, k := range part {
				names[i] = k.Stream
			}
			cond, args := replacedByStreams(names)
			if err := tx.Exec(ctx, c.rebind(`DELETE FROM `+c.qual(stateTable)+` WHERE table_prefix = ? AND source_name = ? AND destination_name = ? AND `+cond),
				append([]any{c.statePrefix, pl.source, pl.destination}, args...)...); err != nil {
				return err
			}
		}
	}
	var keys []StateKey
	for _, ks := range byPlace {
		keys = append(keys, ks...)
	}
	for part := range slices.Chunk(keys, metaRows) {
		args := make([]any, 0, 6*len(part))
		for _, k := range part {
			st := states[k]
			raw, err := json.Marshal(st)
			if err != nil {
				return err
			}
			args = append(args, c.statePrefix, k.Source, k.Destination, k.Stream, string(st.EffectiveType()), string(raw))
		}
		if err := tx.Exec(ctx, c.rebind(`INSERT INTO `+c.qual(stateTable)+` (table_prefix, source_name, destination_name, stream_name, state_type, state_json, updated_at) VALUES `+
			rowsOf(`?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP`, len(part))), args...); err != nil {
			return err
		}
	}
	return nil
}
