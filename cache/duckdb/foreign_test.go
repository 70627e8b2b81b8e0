package duckdb_test

import (
	"context"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachetest"
	"github.com/x/goairbyte/protocol"
)

// A table someone else made, with types the cache would not choose,
// loads: a value that fits the cache's type but not the column's (an
// integer beyond INTEGER, an overflowing DECIMAL(10,2), a malformed UUID,
// a JSON value a VARCHAR[] does not take) is NULL with a note, as any
// value that does not fit its column; it failed the whole load.
func TestForeignColumnTypesValuesThatDoNotFit(t *testing.T) {
	t.Parallel()
	c := open(t)
	ctx := context.Background()
	if _, err := c.ExecSQL(ctx, `CREATE TABLE items (_airbyte_raw_id VARCHAR NOT NULL, _airbyte_extracted_at TIMESTAMPTZ, _airbyte_meta JSON, id INTEGER, price DECIMAL(10,2), tags VARCHAR[], ref UUID, n BIGINT)`); err != nil {
		t.Fatal(err)
	}
	props := `{"id":{"type":"integer"},"price":{"type":"number"},"tags":{"type":"array"},"ref":{"type":"string"},"n":{"type":"integer"}}`
	cat := cachetest.Catalog(cachetest.Stream("items", props, protocol.SyncIncremental, nil, "id"))
	rec := cachetest.Rec("items", `{"id":"x","ref":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","n":"y"}`)
	rec.Record.Meta = &protocol.RecordMeta{Changes: []protocol.RecordMetaChange{{Field: "tags", Change: protocol.ChangeTruncated, Reason: protocol.ReasonSourceFieldSizeLimitation}}}
	for range 2 { // the second load finds the table as it is
		cachetest.MustLoad(t, c, cat, cache.StrategyAppend,
			cachetest.Rec("items", `{"id":3000000000,"price":1.005,"n":3000000000}`),
			cachetest.Rec("items", `{"id":1,"price":"12.345","tags":["a","b"]}`),
			cachetest.Rec("items", `{"id":2,"price":"1e20","tags":{"k":1}}`),
			cachetest.Rec("items", `{"id":3,"ref":"not-a-uuid","tags":"x"}`),
			rec)
	}
	note := func(f string) string {
		return `{"field":"` + f + `","change":"NULLED","reason":"DESTINATION_TYPECAST_ERROR"}`
	}
	want := []string{
		`NULL|1.01|NULL|NULL|3000000000|{"changes":[` + note("id") + `]}`,
		`1|12.35|[a, b]|NULL|NULL|{"changes":[]}`,
		`2|NULL|NULL|NULL|NULL|{"changes":[` + note("price") + `,` + note("tags") + `]}`,
		`3|NULL|NULL|NULL|NULL|{"changes":[` + note("tags") + `,` + note("ref") + `]}`,
		`NULL|NULL|NULL|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|NULL|{"changes":[{"field":"tags","change":"TRUNCATED","reason":"SOURCE_FIELD_SIZE_LIMITATION"},` + note("id") + `,` + note("n") + `]}`,
	}
	cachetest.Equal(t, "rows", cachetest.Strings(t, c, `SELECT CAST(id AS VARCHAR), CAST(price AS VARCHAR), CAST(tags AS VARCHAR), CAST(ref AS VARCHAR), CAST(n AS VARCHAR), CAST(_airbyte_meta AS VARCHAR) FROM items ORDER BY _airbyte_raw_id`), append(want, want...))
}
