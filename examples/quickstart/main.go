// Command quickstart is goairbyte in one run: it reads the faker source
// (users, products and purchases) into the default DuckDB cache and prints
// what it loaded.
//
//	go run ./examples/quickstart            # 10,000 users
//	go run ./examples/quickstart -count 500
//
// Nothing needs installing: goairbyte's own connectors (the faker, the
// local-JSON and no-op destinations) run in process when no other way of
// running them is given, as PyAirbyte installs its faker by itself. Any
// other connector takes one option more: connector.WithDockerImage,
// WithPipURL or WithLocalExecutable.
//
// The cache is ./.cache/default_cache/default_cache.duckdb. Run it twice and
// the second read is incremental: the faker gets back the state the first one
// committed. With the faker's default always_updated, it then sends every
// record again with a fresh updated_at, and the cache merges them by primary
// key, so the tables still hold one row per user.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
)

func main() {
	count := flag.Int("count", 10_000, "number of users (and purchases) the faker generates")
	flag.Parse()
	// A library is silent unless asked: show the live progress line and
	// the summary of every read and write on stderr.
	goairbyte.DefaultEnvironment().SetProgress()
	if err := run(context.Background(), os.Stdout, *count); err != nil {
		log.Fatal(err)
	}
}

// run reads count users (and purchases, and the 100 products) from the
// faker into the default cache and prints a summary to w.
func run(ctx context.Context, w io.Writer, count int) error {
	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(map[string]any{"count": count, "seed": 42}))
	if err != nil {
		return err
	}
	if err := src.Check(ctx); err != nil {
		return err
	}
	res, err := src.Read(ctx) // every stream, into the default DuckDB cache
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "Read %d records from %s\n", res.RecordsProcessed(), res.SourceName())
	datasets, err := res.Streams(ctx)
	if err != nil {
		return err
	}
	for _, name := range res.ProcessedStreams() {
		n, err := datasets[name].Count(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "stream %s: %d rows in the cache (%d read now)\n", name, n, res.StreamRecords()[name])
	}

	users, err := res.Stream(ctx, "users")
	if err != nil {
		return err
	}
	rows, err := res.Cache().Query(ctx, "SELECT id, name, email, age FROM "+users.QualifiedTableName()+" ORDER BY id LIMIT 5")
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(w, "first users:")
	for rows.Next() {
		var id, age *int64
		var name, email *string
		if err := rows.Scan(&id, &name, &email, &age); err != nil {
			return err
		}
		fmt.Fprintf(w, "  user %d: %s <%s>, age %d\n", deref(id), deref(name), deref(email), deref(age))
	}
	return rows.Err()
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
