package main

import (
	"bytes"
	"context"
	"testing"
)

// TestDestination runs the example with 120 users: the second sync must
// send only users 121-240 and their purchases, and the files must hold each
// record once.
func TestDestination(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), &out, t.TempDir(), 120); err != nil {
		t.Fatalf("destination example: %v\n%s", err, out.String())
	}
	want := `sync 1 (count 120): sent 340 records, the destination confirmed 340
  products  sent 100    100 lines in _airbyte_raw_products.jsonl
  users     sent 120    120 lines in _airbyte_raw_users.jsonl
  purchases sent 120    120 lines in _airbyte_raw_purchases.jsonl
sync 2 (count 240): sent 240 records, the destination confirmed 240
  products  sent 0      100 lines in _airbyte_raw_products.jsonl
  users     sent 120    240 lines in _airbyte_raw_users.jsonl
  purchases sent 120    240 lines in _airbyte_raw_purchases.jsonl
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
