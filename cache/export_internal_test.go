package cache

import (
	"context"
	"time"
)

// ExportPageSize is exportPageSize, for the tests of package cache_test.
const ExportPageSize = exportPageSize

// SetClock makes f the clock of the raw ids' time part until the returned
// function restores the real one, for the tests of package cache_test. A
// test that calls it must not run in parallel.
func SetClock(f func() time.Time) (restore func()) {
	now = f
	return func() { now = time.Now }
}

// ExportPages returns the pages an export of d would read: one without a
// query of their bounds when Cache.datasets found its table no larger
// than a page.
func ExportPages(ctx context.Context, d *Dataset) (int, error) {
	x, err := d.startExport(ctx, nil, exportPageSize)
	if err != nil {
		return 0, err
	}
	defer x.stop()
	return x.pages(), nil
}

// OnePage reports whether Cache.datasets found d's table to hold no more
// than a page of raw ids: its export then reads no bounds.
func OnePage(d *Dataset) bool { return d.lastKnown && d.ids <= exportPageSize }
