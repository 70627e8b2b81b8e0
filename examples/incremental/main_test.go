package main

import (
	"bytes"
	"context"
	"testing"
)

// TestIncremental runs the example with 120 users: the second read must add
// only users 121-240 and their purchases, and no products (the faker has
// 100 and all came in the first read).
func TestIncremental(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), &out, t.TempDir(), 120); err != nil {
		t.Fatalf("incremental: %v\n%s", err, out.String())
	}
	want := `read 1 (count 120): 340 new records
  products  +100    100 rows in the cache
  users     +120    120 rows in the cache
  purchases +120    120 rows in the cache
read 2 (count 240): 240 new records
  products  +0      100 rows in the cache
  users     +120    240 rows in the cache
  purchases +120    240 rows in the cache
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
