// Command postgres syncs the faker source incrementally into a PostgreSQL
// cache, the cache to use when several programs or machines share the data.
//
//	export GOAIRBYTE_EXAMPLE_POSTGRES_DSN=postgres://user:password@localhost:5432/mydb
//	go run ./examples/postgres -count 1000    # reads 1,000 users, their purchases, 100 products
//	go run ./examples/postgres -count 1000    # reads nothing: the state says all was read
//	go run ./examples/postgres -count 3000    # reads only users 1,001-3,000 and their purchases
//
// The DSN comes from -dsn or GOAIRBYTE_EXAMPLE_POSTGRES_DSN (a URL or a
// key=value string, as pgx takes it); the tables go into the schema -schema
// (goairbyte_example by default), which is created if missing. Each stream
// is a table named after it, next to _airbyte_state, which holds the state
// every read resumes from: the sync is incremental across runs. The faker's
// streams have a primary key (id), so the default strategy merges them:
// reading a record again replaces its row instead of adding one.
//
// The faker runs with always_updated false, so that — like an append-only
// API — it emits only records newer than the state it is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/cache/postgres"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

// dsnEnv is where the DSN comes from when -dsn is not given.
const dsnEnv = "GOAIRBYTE_EXAMPLE_POSTGRES_DSN"

func main() {
	dsn := flag.String("dsn", os.Getenv(dsnEnv), "PostgreSQL connection string (default $"+dsnEnv+")")
	schema := flag.String("schema", "goairbyte_example", "schema of the cache's tables")
	count := flag.Int("count", 1000, "number of users (and purchases) the faker generates in all")
	flag.Parse()
	// A library is silent unless asked: show the live progress line and
	// the summary of every read and write on stderr.
	goairbyte.DefaultEnvironment().SetProgress()
	if *dsn == "" {
		fmt.Fprintf(os.Stderr, "postgres: no database to sync into: pass -dsn postgres://user:password@host:5432/db or set %s\n", dsnEnv)
		os.Exit(2)
	}
	if err := mainErr(*dsn, *schema, *count); err != nil {
		log.Fatal(err)
	}
}

func mainErr(dsn, schema string, count int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, os.Stdout, dsn, schema, count)
}

// run reads the faker into the PostgreSQL cache at dsn and prints what the
// read added and what the tables hold.
func run(ctx context.Context, w io.Writer, dsn, schema string, count int) error {
	c, err := cache.New(ctx, postgres.NewConnector(dsn, postgres.WithSchema(schema)))
	if err != nil {
		return err
	}
	defer c.Close()

	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(map[string]any{"count": count, "seed": 42, "always_updated": false}))
	if err != nil {
		return err
	}
	res, err := src.Read(ctx, source.UseCache(c))
	var incomplete *goairbyte.IncompleteStreamError
	if errors.As(err, &incomplete) {
		return fmt.Errorf("%w (what was read is kept; run again to resume)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "read %d new records into PostgreSQL (schema %s)\n", res.RecordsProcessed(), schema)
	for _, name := range res.ProcessedStreams() {
		ds, err := res.Stream(ctx, name)
		if err != nil {
			return err
		}
		rows, err := ds.Count(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-9s +%-6d %d rows in %s\n", name, res.StreamRecords()[name], rows, ds.QualifiedTableName())
	}

	// The cache is a plain database: query it with SQL ("?" placeholders
	// work on every backend), or with c.DB() directly.
	purchases, err := res.Stream(ctx, "purchases")
	if err != nil {
		return err
	}
	products, err := res.Stream(ctx, "products")
	if err != nil {
		return err
	}
	rows, err := c.Query(ctx, `SELECT p.make, p.model, count(*) AS n
		FROM `+purchases.QualifiedTableName()+` pu JOIN `+products.QualifiedTableName()+` p ON p.id = pu.product_id
		WHERE pu.returned_at IS NULL
		GROUP BY p.make, p.model ORDER BY n DESC, p.make, p.model LIMIT ?`, 3)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(w, "most purchased cars (not returned):")
	for rows.Next() {
		var make, model string
		var n int64
		if err := rows.Scan(&make, &model, &n); err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s %s: %d\n", make, model, n)
	}
	return rows.Err()
}
