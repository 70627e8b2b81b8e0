package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/cacheerr"
	"github.com/x/goairbyte/internal/owner"
)

// Lock makes the backend a backend.Locker: a session advisory lock, on a
// connection of its own that the load keeps for as long as it runs. The
// server releases it when that session ends, so a load killed with -9
// never leaves its source locked. The connection is not the pool's: a
// load also needs pool connections for its writes, and four concurrent
// loads holding the default pool's four connections for their locks would
// wait for each other forever.
//
// The server ends a killed load's session only once it notices that the
// client is gone, a moment after the process died: a holder that is a
// dead process of this host (its session names it, see holderName) is
// waited for, up to deadHolderWait, and one that let go while Lock looked
// for it tried again, so that the load started right after a kill runs. A
// live holder, or one the role may not see twice, refuses the lock at
// once. Once it has the lock, Lock waits for the write transactions that
// the fence of its last holder let in before that holder lost it (see
// fence): they end, committed or not, before the new holder reads
// anything.
func (b *database) Lock(ctx context.Context, key string) (unlock func(), err error) {
	unlock, _, err = b.LockWatched(ctx, key, nil)
	return unlock, err
}

// LockWatched makes the backend a backend.LossWatcher: Lock, and while the
// lock is held its session is asked every lockCheckEvery whether it still
// runs. A session that ended (pg_terminate_backend, idle_session_timeout,
// a cut connection, a restart of the server) has lost the lock, which
// another load may then take: lost is called with the reason, so that the
// load stops rather than write beside the other. The fence makes that
// exact (see fence).
func (b *database) LockWatched(ctx context.Context, key string, lost func(error)) (unlock func(), fence func(context.Context, backend.Tx) (lost, err error), err error) {
	cfg := b.pool.Config().ConnConfig.Copy()
	host, _ := os.Hostname()
	// The holder names itself, for the error of the load it refuses.
	cfg.RuntimeParams["application_name"] = holderName(key, os.Getpid(), host)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: connecting for the lock of %s: %w", key, err)
	}
	id := lockID(b.schema, key)
	giveUp, unseen := time.Now().Add(deadHolderWait), 0
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&ok); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, nil, fmt.Errorf("postgres: taking the lock of %s: %w", key, err)
		}
		if ok {
			break
		}
		// Who holds it, if the role may see it.
		var name, since string
		found := conn.QueryRow(ctx, `SELECT a.application_name, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid::bigint = ($1::bigint >> 32) & 4294967295 AND l.objid::bigint = $1::bigint & 4294967295`, id).Scan(&name, &since) == nil
		if !found {
			unseen++
		}
		if (found && !deadHolder(name, host)) || unseen > 2 || time.Now().After(giveUp) {
			conn.Close(context.WithoutCancel(ctx))
			holder := "another session"
			if found {
				if len(name) >= maxApplicationName {
					name += "…" // cut by the server
				}
				holder = name + " since " + since
			}
			return nil, nil, fmt.Errorf("%w: held by %s", cacheerr.ErrInUse, holder)
		}
		t := time.NewTimer(deadHolderPause)
		select {
		case <-ctx.Done():
			t.Stop()
			conn.Close(context.WithoutCancel(ctx))
			return nil, nil, fmt.Errorf("postgres: taking the lock of %s: %w", key, context.Cause(ctx))
		case <-t.C:
		}
	}
	// The session marks itself with a key of its own (see fence), and
	// waits for the transactions that an earlier holder's fence let in:
	// the fence's key taken exclusively, and released with the statement.
	for ok := false; !ok; {
		token := rand.Int64()
		if err := conn.QueryRow(ctx, `WITH barrier AS MATERIALIZED (SELECT pg_advisory_xact_lock($2, $3)) SELECT pg_try_advisory_lock($1) FROM barrier`,
			token, int32(id>>32), int32(id)).Scan(&ok); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, nil, fmt.Errorf("postgres: waiting for the writes of the last holder of the lock of %s: %w", key, err)
		}
		if ok {
			fence = b.fence(key, id, token)
		}
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	if lost != nil {
		go func() {
			defer close(stopped)
			t := time.NewTicker(lockCheckEvery)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				pctx, cancel := context.WithTimeout(context.Background(), lockCheckTimeout)
				_, err := conn.Exec(pctx, "SELECT 1")
				cancel()
				if err != nil {
					lost(fmt.Errorf("postgres: the session holding the lock of %s ended: %w", key, err))
					return
				}
			}
		}()
	} else {
		close(stopped)
	}
	return func() {
		close(stop)
		<-stopped
		// Unlocked first: the server ends a closed session, and releases
		// its locks, only after the client has gone on (a next load of the
		// source found it held). Closing releases it anyway if that fails.
		ctx := context.Background()
		_, _ = conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", id)
		conn.Close(ctx)
	}, fence, nil
}

// fence returns the fence of the lock of key (advisory key id) that the
// session marked by also holding the advisory key token took. Run first
// in a write transaction, it takes the fence's key, the pair of int4
// halves of id (another key than id itself: the server keeps the two
// forms apart), shared until the transaction ends, and then reports the
// lock lost unless the lock's session still runs: the transaction's try
// for token, shared, fails while that session holds it, and only that
// session ever takes it exclusively (two transactions of the holder that
// try at once do not hold each other off). While it runs, the session
// holds the lock: it lets go only in unlock, after the holder's last
// transaction.
//
// Why that is exact: a transaction T of the holder A and the lock's next
// holder B, which took the lock only once A's session had ended or let
// go, and then the fence's key exclusively (see LockWatched) before it
// read anything:
//   - T found A's session running: A held the lock then, so B took it
//     later, and asked for the fence's key after that; T held the key
//     shared since before it looked, so B waited for T to end. The server
//     releases a transaction's locks only once its commit is visible: B
//     reads what T wrote, as if T had committed before A lost the lock.
//   - T looked after B took the lock: A's session had ended (the server
//     grants the lock to one session at a time), and T fails before it
//     wrote anything.
//
// The fence is one statement, a round trip more per transaction: an
// empty transaction took 0.15–0.23 ms fenced and 0.055–0.09 ms not
// (BenchmarkFence, three runs of 2,000, on a 2-core machine shared with
// other work); 0.38–0.39 ms fenced when the check read pg_locks, which
// copies the server's whole lock table, instead of trying for token.
func (b *database) fence(key string, id, token int64) func(context.Context, backend.Tx) (lost, err error) {
	return func(ctx context.Context, tx backend.Tx) (lost, err error) {
		var ended bool
		if err := tx.(*txn).tx.QueryRow(ctx, `WITH fence AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($1, $2)) SELECT pg_try_advisory_xact_lock_shared($3) FROM fence`,
			int32(id>>32), int32(id), token).Scan(&ended); err != nil {
			return nil, fmt.Errorf("postgres: checking that the lock of %s is still held: %w", key, err)
		}
		if ended {
			return fmt.Errorf("postgres: the session holding the lock of %s ended, and the lock with it", key), nil
		}
		return nil, nil
	}
}

// How long Lock waits for the server to end the session of a dead holder,
// and how long it pauses between two tries. The server notices a dead
// client as soon as it reads from its socket, which the lock's idle
// session does at once: in TestLoadRightAfterAKill, a lock taken right
// after its holder was killed was found held about once in 30 kills.
const (
	deadHolderWait  = 5 * time.Second
	deadHolderPause = 10 * time.Millisecond
)

// lockCheckEvery is how often a held lock's session is asked whether it
// still runs (see LockWatched): a load that lost its lock is stopped
// within this long, and its fence fails any transaction it begins
// meanwhile. A variable only so that a test can see the fence alone.
var lockCheckEvery = 200 * time.Millisecond

// A session that does not answer within lockCheckTimeout is closed, which
// lets go of the lock, and the lock is lost.
const lockCheckTimeout = 30 * time.Second

// maxApplicationName is how many bytes of an application_name the server
// keeps (NAMEDATALEN - 1).
const maxApplicationName = 63

// holderName is the application_name of a lock's session: the process
// and host first, as the server keeps only its first maxApplicationName
// bytes.
func holderName(key string, pid int, host string) string {
	return fmt.Sprintf("goairbyte pid %d on %s: %s", pid, host, key)
}

// deadHolder reports whether a lock's holder, by its session's
// application_name, is a process of host that no longer runs.
func deadHolder(name, host string) bool {
	var pid int
	var on string
	if _, err := fmt.Sscanf(name, "goairbyte pid %d on %s", &pid, &on); err != nil || strings.TrimSuffix(on, ":") != host {
		return false
	}
	return !owner.Alive(pid)
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
