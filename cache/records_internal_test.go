package cache

import (
	"context"
	"iter"
)

// RecordsInPages is Records of d in pages of at most size rows, as on
// DuckDB (and as RecordLines reads on every backend), for the tests of
// package cache_test; pages is how many pages (queries) the read makes.
func RecordsInPages(ctx context.Context, d *Dataset, size int) (pages int, records iter.Seq2[map[string]any, error], err error) {
	x, err := d.startRecords(ctx, size)
	if err != nil {
		return 0, nil, err
	}
	pages = x.pages()
	x.stop()
	return pages, d.pagedRecords(ctx, size), nil
}
