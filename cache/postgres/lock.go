package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/x/goairbyte/cache/backend"
)

// Lock makes the backend a backend.Locker: a session advisory lock, on a
// connection of its own that the load keeps for as long as it runs. The
// server releases it when that session ends, so a load killed with -9
// never leaves its source locked. The connection is not the pool's: a
// load also needs pool connections for its writes, and four concurrent
// loads holding the default pool's four connections for their locks would
// wait for each other forever.
func (b *database) Lock(ctx context.Context, key string) (unlock func(), err error) {
	cfg := b.pool.Config().ConnConfig.Copy()
	host, _ := os.Hostname()
	// The holder names itself, for the error of the load it refuses.
	cfg.RuntimeParams["application_name"] = fmt.Sprintf("goairbyte %s, pid %d on %s", key, os.Getpid(), host)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting for the lock of %s: %w", key, err)
	}
	id := lockID(b.schema, key)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&ok); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("postgres: taking the lock of %s: %w", key, err)
	}
	if !ok {
		holder := "another session"
		// Who holds it, if the role may see it: the holder's
		// application_name, set above.
		_ = conn.QueryRow(ctx, `SELECT a.application_name || ' since ' || to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid::bigint = ($1::bigint >> 32) & 4294967295 AND l.objid::bigint = $1::bigint & 4294967295`, id).Scan(&holder)
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%w: held by %s", backend.ErrInUse, holder)
	}
	return func() {
		// Unlocked first: the server ends a closed session, and releases
		// its locks, only after the client has gone on (a next load of the
		// source found it held). Closing releases it anyway if that fails.
		ctx := context.Background()
		_, _ = conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", id)
		conn.Close(ctx)
	}, nil
}

// lockID is the advisory lock's key: a hash of the schema and the name,
// as PostgreSQL's advisory locks take a bigint. Two names that collide (a
// chance of one in 2^64 a pair) only make one load refuse the other.
func lockID(schema, key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(schema))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int64(h.Sum64())
}
