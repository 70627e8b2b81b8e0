package cache

import (
	"context"
	"fmt"
	"strings"

	"github.com/x/goairbyte/cache/internal/backend"
)

// exportPageSize is how many rows one query of [Dataset.RecordLines] or
// [Dataset.Records] reads. A read pages through the table by ranges of
// raw ids because DuckDB's driver holds a whole query result in memory:
// memory stays bounded by a few pages whatever the table's size and
// however slow the consumer.
const exportPageSize = 50_000

// exportPageValues bounds the values of one page, so that a wide table's
// pages hold no more than a narrow one's: a page of 50,000 rows of 1,500
// columns took 1.2 GB in DuckDB's result and as much again in its lines.
// 2,500,000 is 50,000 rows of 50 columns (faker's users have 15).
const exportPageValues = 2_500_000

// exportReaders is how many pages of a read are read at once.
const exportReaders = 2

// pageReader reads one page of a paged read into a page of type P: the
// rows whose raw id is after lo ("": no bound, and the rows without one)
// and up to hi, in raw id order. Each reader of a pager has its own.
type pageReader[P any] interface {
	// newPage makes an empty page; pages are reused once consumed.
	newPage() P
	// readPage reads the rows into p, replacing what it held.
	readPage(ctx context.Context, p P, lo, hi string) error
}

// pager is one paged read in progress (RecordLines, Records). Its readers
// (goroutines) read pages i, i+n, i+2n… each on its own connection, while
// the consumer takes the page before: the database's work and the
// decoding overlap the consumer's. A reader hands a page over unbuffered,
// so at most one page per reader and the one being consumed exist.
type pager[P any] struct {
	d      *Dataset
	ctx    context.Context // cancelled when the consumer stops
	cancel context.CancelFunc
	// table identifies the table the read began on (Cache.tableID).
	table string
	// bounds[0] is "": page i holds the rows whose raw id is in
	// (bounds[i], bounds[i+1]]; the last bound is the greatest raw id
	// when the read began.
	bounds []string
	outs   []chan pageResult[P]
	// free takes pages back once consumed: their buffers, grown to a
	// page's size once, are reused rather than grown again.
	free chan P
	// release ends the raise of the backend's memory limit for the
	// table's width (see Cache.raiseForColumns), once the readers are done.
	release func()
}

// pageResult is one page a reader read, or why it could not.
type pageResult[P any] struct {
	p   P
	err error
}

// startPager finds the pages of the dataset, of at most pageSize rows and
// values values (a wide table's pages hold fewer rows), and starts the
// readers, each with a pageReader that newReader makes for the table's
// columns.
func startPager[P any](ctx context.Context, d *Dataset, pageSize, values int, newReader func(cols []columnInfo) pageReader[P]) (*pager[P], error) {
	// Cache.datasets read the table's greatest raw id, and that it has no
	// more than a page of them, after it took the table's identifier: one
	// page up to that raw id then holds the rows, and a table swapped in
	// since is found out with it. Otherwise the bounds are read here. A
	// count above exportPageSize may have stopped short of the table's.
	cols, err := d.c.columns(ctx, d.table)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, d.c.streamNotFound(ctx, d.stream)
	}
	pageSize = min(pageSize, max(1, values/len(cols)))
	if !d.lastKnown {
		// A dataset of Cache.Dataset: the statement of Cache.datasets
		// tells a table of one page (0.9 ms on DuckDB) where the
		// bounds' query takes 1.9 ms, however small the table.
		fresh, err := d.c.datasets(ctx, []string{d.stream})
		if err != nil {
			return nil, err
		}
		n := *d
		n.last, n.lastKnown, n.ids, n.tableAt = fresh[0].last, true, fresh[0].ids, fresh[0].tableAt
		d = &n
	}
	known := d.lastKnown && d.tableAt != "" && d.ids <= int64(pageSize)
	table := d.tableAt
	if !known {
		// Before the bounds: bounds found in a table swapped in since
		// are then found out with the first page.
		if table, err = d.c.tableID(ctx, d.table); err != nil {
			return nil, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
		}
	}
	var more []string
	switch {
	case !known:
		if ix, ok := d.c.b.(backend.RawIDIndexer); ok {
			// The pages read their ranges through the index once it
			// covers the rows loads appended (PostgreSQL: a load leaves
			// that to a read of more than one page, which may never
			// come). Failing it (the session may not own the table)
			// makes the pages slower, not wrong.
			_ = ix.RawIDsToRead(ctx, []string{d.table})
		}
		if more, err = d.pageBounds(ctx, pageSize); err != nil {
			return nil, err
		}
	case d.last != "":
		more = []string{d.last}
	}
	if len(more) == 0 {
		// No raw id: one page holds whatever rows have none (a table
		// written by hand), or none.
		more = []string{""}
	}
	release, err := d.c.raiseForColumns(ctx, len(cols))
	if err != nil {
		return nil, err
	}
	x := &pager[P]{d: d, table: table, bounds: append([]string{""}, more...), release: release}
	x.ctx, x.cancel = context.WithCancel(ctx)
	x.outs = make([]chan pageResult[P], min(exportReaders, x.pages()))
	x.free = make(chan P, len(x.outs))
	for r := range x.outs {
		x.outs[r] = make(chan pageResult[P])
		go x.read(r, newReader(cols))
	}
	return x, nil
}

// pages is the number of pages.
func (x *pager[P]) pages() int { return len(x.bounds) - 1 }

// read is reader r: it reads its pages in order until they are done, one
// fails, or the consumer stops.
func (x *pager[P]) read(r int, pr pageReader[P]) {
	out := x.outs[r]
	defer close(out)
	for i := r; i < x.pages(); i += len(x.outs) {
		var p P
		select {
		case p = <-x.free:
		default:
			p = pr.newPage()
		}
		err := x.d.c.raisedRetry(x.ctx, func() error { return pr.readPage(x.ctx, p, x.bounds[i], x.bounds[i+1]) })
		if err == nil {
			err = x.sameTable()
		}
		select {
		case out <- pageResult[P]{p, err}:
		case <-x.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// sameTable checks, after a page was read, that the table the read began
// on is still the stream's: a page read from a table that a replace
// swapped in since would be the new load's rows, and the pages before it
// the old one's. The check follows the read, so it sees any swap that the
// read saw.
func (x *pager[P]) sameTable() error {
	id, err := x.d.c.tableID(x.ctx, x.d.table)
	if err != nil {
		return fmt.Errorf("cache: reading stream %q: %w", x.d.stream, err)
	}
	if id == "" || id != x.table {
		return fmt.Errorf("cache: stream %q was replaced while it was being read: a load swapped in a new table for it, and reading on would mix the rows of two loads; "+
			"the rows given so far are the old load's. Read it again: a destination's next Write sends the new load's rows", x.d.stream)
	}
	return nil
}

// each gives the pages to take in order, until take returns false; the
// first error (a reader's, or ctx's when the consumer stopped it) is given
// once, and ends it. take must check cancelled between the rows of a page.
func (x *pager[P]) each(take func(p P, err error) bool) {
	for i := range x.pages() {
		r, ok := <-x.outs[i%len(x.outs)]
		if !ok { // the reader stopped: ctx is done
			take(r.p, x.stopped())
			return
		}
		if r.err != nil {
			take(r.p, r.err)
			return
		}
		if !take(r.p, nil) {
			return
		}
		select {
		case x.free <- r.p:
		default: // the readers have enough; let this one go
		}
	}
}

// cancelled returns the error ending the read once ctx is done, nil
// before: a cancelled ctx ends the read at the next row, as
// database/sql's rows end, although the page in hand was read already.
func (x *pager[P]) cancelled() error {
	select {
	case <-x.ctx.Done():
		return x.stopped()
	default:
		return nil
	}
}

// stopped is the error of a read whose ctx is done.
func (x *pager[P]) stopped() error {
	return fmt.Errorf("cache: reading stream %q: %w", x.d.stream, context.Cause(x.ctx))
}

// stop ends the readers and waits for them: their queries end before the
// read returns.
func (x *pager[P]) stop() {
	x.cancel()
	for _, out := range x.outs {
		for range out {
		}
	}
	x.release()
}

// pageBounds returns the raw id of every size-th row of the dataset and
// of its last row, in order: the upper bounds of the pages; none for a
// dataset without raw ids. Only the ids are sorted; the rows are read page by page.
func (d *Dataset) pageBounds(ctx context.Context, size int) ([]string, error) {
	raw := backend.Quote(backend.ColumnRawID)
	// Ascending order puts NULLs last on both backends: the ids are
	// numbered 1 to n.
	q := "SELECT id FROM (SELECT " + raw + " AS id, row_number() OVER (ORDER BY " + raw + ") AS rn, count(" + raw + ") OVER () AS n FROM " +
		d.c.qual(d.table) + d.whereSQL() + fmt.Sprintf(") AS numbered WHERE id IS NOT NULL AND (rn %% %d = 0 OR rn = n) ORDER BY id", size)
	rows, err := d.c.DB().QueryContext(ctx, d.c.rebind(q), d.args...)
	if err != nil {
		return nil, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: reading stream %q: %w", d.stream, err)
	}
	return out, nil
}

// pageQuery is the query of sel (SELECT and its columns) over the
// dataset's rows whose raw id is after lo ("": no bound) and up to hi,
// rebound for the backend, and its arguments. It has no ORDER BY: the
// page's rows are the right ones whatever their order, and a table's rows
// usually come back in the raw id order they were loaded in. Sorting in
// the database cost a third of the export's CPU (DuckDB, 1M users);
// checking the order as the rows come costs nothing, and the rare page out
// of order is sorted in Go.
func (d *Dataset) pageQuery(sel, lo, hi string) (string, []any) {
	where := d.where[:len(d.where):len(d.where)]
	args := d.args[:len(d.args):len(d.args)]
	raw := backend.Quote(backend.ColumnRawID)
	if lo != "" {
		where = append(where, "("+raw+" > ? AND "+raw+" <= ?)")
		args = append(args, lo, hi)
	} else {
		// The first page also takes the rows without a raw id (a table
		// written by hand): no bound holds them, and they come first in
		// raw id order, as "".
		where = append(where, "("+raw+" IS NULL OR "+raw+" <= ?)")
		args = append(args, hi)
	}
	return d.c.rebind(sel + " FROM " + d.c.qual(d.table) + " WHERE " + strings.Join(where, " AND ")), args
}
