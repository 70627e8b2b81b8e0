// Command quickstart is goairbyte in one run: it reads the faker source
// (users, products and purchases) into the default DuckDB cache and prints
// what it loaded.
//
//	go run ./examples/quickstart            # 10,000 users
//	go run ./examples/quickstart -count 500
//
// Connectors run as separate processes that speak the Airbyte protocol, so
// the faker has to be an executable somewhere. A fresh clone has no Docker
// image of it and no registry to fetch one from, but it does have the faker's
// Go source and the Go toolchain that runs this example: so the example
// builds ./cmd/source-faker into a temporary directory (a second or two,
// cached by Go after the first time; see internal/exampleutil) and runs it with
// connector.WithLocalExecutable. Any other connector works the same way, with
// WithDockerImage or WithPipURL instead.
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
	"github.com/x/goairbyte/internal/exampleutil"
)

func main() {
	count := flag.Int("count", 10_000, "number of users (and purchases) the faker generates")
	faker := flag.String("faker", "", "path of a source-faker executable to use instead of building ./cmd/source-faker")
	flag.Parse()
	// A library is silent unless asked: show the live progress line and
	// the summary of every read and write on stderr.
	goairbyte.DefaultEnvironment().SetProgress()
	if err := mainErr(*faker, *count); err != nil {
		log.Fatal(err)
	}
}

// mainErr builds the faker when no executable is given, so that its
// clean-up runs before main exits.
func mainErr(faker string, count int) error {
	ctx := context.Background()
	if faker == "" {
		bin, cleanup, err := exampleutil.Build(ctx, "source-faker")
		if err != nil {
			return err
		}
		defer cleanup()
		faker = bin
	}
	return run(ctx, os.Stdout, faker, count)
}

// run reads count users (and purchases, and the 100 products) from the
// faker executable into the default cache and prints a summary to w.
func run(ctx context.Context, w io.Writer, faker string, count int) error {
	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithLocalExecutable(faker),
		connector.WithConfig(map[string]any{"count": count, "seed": 42}),
	)
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
