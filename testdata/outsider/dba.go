package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

// dbaJourney is a service's cache in a PostgreSQL database that a DBA
// shares between teams and locks down, from the README's "Into
// PostgreSQL" and go doc cache/postgres: through PgBouncer in session
// mode (two incremental reads of the faker), refused in transaction mode
// with the way out; as a role without CREATE on the database, in the
// schema the DBA made for it (left off its search_path); a replace of a
// table in the DBA's publication refused, naming it, and one in the
// service's own publication keeping the new table in it; a
// statement_timeout the DBA set stopping a read, saying how to lift it,
// and the read after resuming with no user twice.
func dbaJourney(ctx context.Context, admin, session, transaction string) error {
	faker := func(count int) (*goairbyte.Source, error) {
		return goairbyte.GetSource(ctx, "source-faker", connector.WithLogger(logger),
			connector.WithConfig(map[string]any{"count": count, "seed": 42, "always_updated": false}))
	}
	withSchema := func(dsn, schema string) string {
		u, err := url.Parse(dsn)
		if err != nil {
			panic(err)
		}
		q := u.Query()
		q.Set("schema", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	usersIn := func(c *cache.Cache, table string) string {
		var rows, ids int64
		if err := c.DB().QueryRowContext(ctx, `SELECT count(*), count(DISTINCT id) FROM `+table).Scan(&rows, &ids); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%d/%d", rows, ids)
	}

	// PgBouncer, session mode: as straight.
	pooled, err := cache.Open(ctx, withSchema(session, "pooled"))
	if err != nil {
		return err
	}
	defer pooled.Close()
	var reads []map[string]int64
	for _, count := range []int{100, 300} {
		src, err := faker(count)
		if err != nil {
			return err
		}
		res, err := src.Read(ctx, source.UseCache(pooled))
		if err != nil {
			return err
		}
		reads = append(reads, res.StreamRecords())
	}
	fmt.Printf("session pooling: %v then %v, users %s\n", reads[0], reads[1], usersIn(pooled, `pooled.users`))
	// PgBouncer, transaction mode: refused at open, saying what to do.
	_, err = cache.Open(ctx, withSchema(transaction, "pooled"))
	msg := seen(err).Error()
	fmt.Printf("transaction pooling refused: %v, says pool_mode=session: %v\n", err != nil, strings.Contains(msg, "pool_mode=session"))

	// The DBA's side: a role that may not create schemas, its schema made
	// for it and not on its search_path.
	a, err := cache.Open(ctx, admin)
	if err != nil {
		return err
	}
	defer a.Close()
	var db string
	if err := a.DB().QueryRowContext(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		return err
	}
	role := db + "_svc"
	for _, q := range []string{`CREATE ROLE ` + role + ` LOGIN`, `CREATE SCHEMA svc AUTHORIZATION ` + role, `ALTER ROLE ` + role + ` SET search_path = public`} {
		if _, err := a.ExecSQL(ctx, q); err != nil {
			return err
		}
	}
	defer func() {
		a.ExecSQL(context.WithoutCancel(ctx), `DROP OWNED BY `+role)
		a.ExecSQL(context.WithoutCancel(ctx), `DROP ROLE `+role)
	}()
	u, err := url.Parse(withSchema(admin, "svc"))
	if err != nil {
		return err
	}
	u.User = url.User(role)
	svc, err := cache.Open(ctx, u.String())
	if err != nil {
		return err
	}
	defer svc.Close()
	src, err := faker(200)
	if err != nil {
		return err
	}
	if _, err := src.Read(ctx, source.UseCache(svc)); err != nil {
		return err
	}
	// A publication of the DBA's names the service's table: a replace
	// would take the table out of it.
	if _, err := a.ExecSQL(ctx, `CREATE PUBLICATION dba_out FOR TABLE svc.users`); err != nil {
		return err
	}
	_, err = src.Read(ctx, source.UseCache(svc), source.Streams("users"), source.ForceFullRefresh(), source.Strategy(cache.StrategyReplace))
	refused := errors.Is(seen(err), goairbyte.ErrStrategy) && strings.Contains(err.Error(), "publication dba_out")
	// The service's own publication, over its own table: kept.
	if _, err := pooled.ExecSQL(ctx, `CREATE PUBLICATION pooled_out FOR TABLE pooled.users`); err != nil {
		return err
	}
	src300, err := faker(300)
	if err != nil {
		return err
	}
	if _, err := src300.Read(ctx, source.UseCache(pooled), source.Streams("users"), source.ForceFullRefresh(), source.Strategy(cache.StrategyReplace)); err != nil {
		return err
	}
	var kept int
	if err := a.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_publication_tables WHERE pubname = 'pooled_out' AND schemaname = 'pooled' AND tablename = 'users'`).Scan(&kept); err != nil {
		return err
	}
	fmt.Printf("replace in the DBA's publication refused: %v; in our own, the new table kept in it: %v\n", refused, kept == 1)

	// The DBA's statement_timeout stops the next read of 5,000 more users.
	if _, err := a.ExecSQL(ctx, `ALTER ROLE `+role+` SET statement_timeout = '1ms'`); err != nil {
		return err
	}
	more, err := faker(5200)
	if err != nil {
		return err
	}
	timedOut, err := cache.Open(ctx, u.String())
	if err == nil {
		_, err = more.Read(ctx, source.UseCache(timedOut))
		timedOut.Close()
	}
	says := err != nil && strings.Contains(seen(err).Error(), "ALTER ROLE") && strings.Contains(err.Error(), "statement_timeout")
	if _, err := a.ExecSQL(ctx, `ALTER ROLE `+role+` RESET statement_timeout`); err != nil {
		return err
	}
	after, err := cache.Open(ctx, u.String())
	if err != nil {
		return err
	}
	defer after.Close()
	if _, err := more.Read(ctx, source.UseCache(after)); err != nil {
		return err
	}
	fmt.Printf("statement_timeout names the ALTER ROLE: %v; then users %s\n", says, usersIn(after, `svc.users`))
	return nil
}
