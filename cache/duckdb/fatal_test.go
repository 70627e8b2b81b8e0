package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/testenv"
)

// A checkpoint that cannot write the file on a full disk is a fatal error
// to DuckDB, which then invalidates the database: every later statement
// failed ("database has been invalidated") until the program closed the
// cache and opened it again, and so did the default cache, which a
// process keeps open. The statement that hit the error reports it; the
// next, once space is freed, runs on the file opened again, with what was
// committed before, through the same *sql.DB and the export's direct
// reads alike.
func TestFatalErrorReopensTheFile(t *testing.T) {
	ctx := context.Background()
	b, dir := onSmallDisk(t)
	db := b.DB()
	for _, q := range []string{"CREATE TABLE kept AS SELECT range AS id FROM range(1000)", "CHECKPOINT"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	count := func(what string) {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM kept").Scan(&n); err != nil || n != 1000 {
			t.Fatalf("%s: %d rows, %v; want the 1000 committed before the fatal error", what, n, err)
		}
		n = 0
		err := b.ReadRows(ctx, "SELECT id FROM kept", nil, []backend.Type{backend.TypeInteger}, func(backend.Row) error { n++; return nil })
		if err != nil || n != 1000 {
			t.Fatalf("%s, read directly: %d rows, %v; want 1000", what, n, err)
		}
	}
	count("before")
	filler := testenv.LeaveFree(t, dir, 2<<20)
	// Committed to the write-ahead log; the checkpoint then cannot write
	// it into the file.
	if _, err := db.ExecContext(ctx, "CREATE TABLE logged AS SELECT range AS id, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS s FROM range(20000)"); err != nil {
		t.Fatal(err)
	}
	_, err := db.ExecContext(ctx, "CHECKPOINT")
	if fatal, stale := isFatal(err); !fatal || stale || !strings.Contains(err.Error(), "No space left on device") {
		t.Fatalf("a checkpoint on a full disk: %v, want DuckDB's fatal error saying the disk is full", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	count("the next query")
	var logged int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM logged").Scan(&logged); err != nil || logged != 20000 {
		t.Fatalf("the table committed before the fatal error: %d rows, %v; want 20000", logged, err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE after AS SELECT range AS id FROM range(10)"); err != nil {
		t.Fatalf("a write after the file was opened again: %v", err)
	}
	count("after a write")
}

// A commit whose transaction reached the write-ahead log, and whose
// checkpoint then failed on a full disk, is durable, DuckDB says: it was
// reported as failed all the same (a load counted its batch as lost while
// its records and states were there). It succeeds, and the next statement
// runs on the file opened again, which holds it.
func TestDurableCommitBeforeFatalCheckpoint(t *testing.T) {
	ctx := context.Background()
	b, dir := onSmallDisk(t)
	db := b.DB()
	// Every commit checkpoints, as one past DuckDB's 16 MB of log does
	// (set again on the file opened again).
	everyCommit := func() {
		t.Helper()
		if _, err := db.ExecContext(ctx, "SET checkpoint_threshold = '1KB'"); err != nil {
			t.Fatal(err)
		}
	}
	everyCommit()
	rows := func(table string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		return n
	}
	const create = " AS SELECT range AS id, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS s FROM range(20000)"
	filler := testenv.LeaveFree(t, dir, 2<<20)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE in_tx"+create); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("a commit made durable before its checkpoint failed: %v", err)
	}
	os.Remove(filler)
	if n := rows("in_tx"); n != 20000 {
		t.Fatalf("the transaction committed before the checkpoint failed: %d rows, want 20000", n)
	}
	// A statement outside a transaction commits alike.
	everyCommit()
	filler = testenv.LeaveFree(t, dir, 2<<20)
	if _, err := db.ExecContext(ctx, "CREATE TABLE alone"+create); err != nil {
		t.Fatalf("a statement made durable before its checkpoint failed: %v", err)
	}
	os.Remove(filler)
	if n := rows("alone"); n != 20000 {
		t.Fatalf("the statement committed before the checkpoint failed: %d rows, want 20000", n)
	}
}

// onSmallDisk opens a database on a small disk of its own, closed when t
// ends, and returns it with the disk's directory.
func onSmallDisk(t *testing.T) (*database, string) {
	dir := testenv.SmallDisk(t, "8m")
	b, err := newConnector(filepath.Join(dir, "c.duckdb")).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.(*database), dir
}
