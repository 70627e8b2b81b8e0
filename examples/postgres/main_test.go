package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestPostgres runs the example three times against a fresh database, as
// its doc comment does: a first sync, one that finds nothing new, and one
// with a larger count that adds only the new users and purchases.
func TestPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	t.Chdir(t.TempDir())
	ctx := context.Background()

	sync := func(count int) []string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, &out, dsn, "goairbyte_example", count); err != nil {
			t.Fatalf("postgres example, count %d: %v\n%s", count, err, out.String())
		}
		return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	}
	head := func(lines []string) string { return strings.Join(lines[:4], "\n") }

	first := sync(120)
	if want := `read 340 new records into PostgreSQL (schema goairbyte_example)
  products  +100    100 rows in "goairbyte_example"."products"
  users     +120    120 rows in "goairbyte_example"."users"
  purchases +120    120 rows in "goairbyte_example"."purchases"`; head(first) != want {
		t.Errorf("first sync:\n%s\nwant:\n%s", head(first), want)
	}
	if len(first) != 8 || first[4] != "most purchased cars (not returned):" {
		t.Fatalf("first sync printed %d lines, want 8 ending with the top 3 cars:\n%s", len(first), strings.Join(first, "\n"))
	}
	car := regexp.MustCompile(`^  \S.* \S+: [1-9]\d*$`)
	for _, l := range first[5:] {
		if !car.MatchString(l) {
			t.Errorf("car line %q", l)
		}
	}

	again := sync(120)
	if want := `read 0 new records into PostgreSQL (schema goairbyte_example)
  products  +0      100 rows in "goairbyte_example"."products"
  users     +0      120 rows in "goairbyte_example"."users"
  purchases +0      120 rows in "goairbyte_example"."purchases"`; head(again) != want {
		t.Errorf("second sync, same count:\n%s\nwant:\n%s", head(again), want)
	}
	if strings.Join(again[4:], "\n") != strings.Join(first[4:], "\n") {
		t.Errorf("the top cars changed although nothing was read:\n%s\nthen\n%s", strings.Join(first[4:], "\n"), strings.Join(again[4:], "\n"))
	}

	more := sync(300)
	if want := `read 360 new records into PostgreSQL (schema goairbyte_example)
  products  +0      100 rows in "goairbyte_example"."products"
  users     +180    300 rows in "goairbyte_example"."users"
  purchases +180    300 rows in "goairbyte_example"."purchases"`; head(more) != want {
		t.Errorf("third sync, count 300:\n%s\nwant:\n%s", head(more), want)
	}
}
