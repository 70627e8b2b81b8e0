package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

func newLocal(t *testing.T, connector string, tweaks ...tweak) executor.Executor {
	t.Helper()
	bin := testenv.BuildBinary(t, "./internal/testconnectors/"+connector)
	return build[executor.Executor](t, "source-"+connector, executor.Method{Kind: executor.KindLocal, Path: bin},
		executor.Runtime{LogDir: t.TempDir()}, tweaks...)
}

func TestLocalSpecCheckDiscover(t *testing.T) {
	l := newLocal(t, "echo")
	tmp := privateTemp(t)
	ctx := context.Background()
	for _, tc := range []struct {
		verb executor.Verb
		want protocol.Type
	}{
		{executor.VerbSpec, protocol.TypeSpec},
		{executor.VerbCheck, protocol.TypeConnectionStatus},
		{executor.VerbDiscover, protocol.TypeCatalog},
	} {
		msgs, err := collect(l.Run(ctx, executor.Invocation{Verb: tc.verb, Config: json.RawMessage(`{}`)}))
		if err != nil {
			t.Fatalf("%s: %v", tc.verb, err)
		}
		if len(msgs) != 1 || msgs[0].Type != tc.want {
			t.Fatalf("%s: want one %s message, got %+v", tc.verb, tc.want, msgs)
		}
	}
	if left := leftovers(t, tmp); len(left) > 0 {
		t.Fatalf("temp files left behind: %v", left)
	}
}

func TestLocalNotFound(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"goairbyte-no-such-connector", "/no/such/dir/source-x"} {
		_, err := executor.New("source-x", executor.Method{Kind: executor.KindLocal, Path: p}, executor.Runtime{})
		var nie *executor.NotInstalledError
		if !errors.As(err, &nie) || !strings.Contains(err.Error(), p) {
			t.Fatalf("%s: want a *NotInstalledError naming it, got %v", p, err)
		}
	}
}

// A file that is there but not executable (a connector binary copied
// without its mode, a script) is not "missing": the error says so and what
// to do about it, not to install it.
func TestLocalNotExecutable(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "source-x")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := executor.New("source-x", executor.Method{Kind: executor.KindLocal, Path: p}, executor.Runtime{})
	var nie *executor.NotInstalledError
	if !errors.As(err, &nie) || !errors.Is(err, executor.ErrNotInstalled) || strings.Contains(err.Error(), "install it") ||
		!strings.Contains(err.Error(), "chmod +x "+p) {
		t.Fatalf("want a *NotInstalledError saying %s is not executable and to chmod +x it, got %v", p, err)
	}
}

// A LOG message and a plain line of 1 MiB reach the program's logger cut to
// their first 8 KiB and what was left out; the run's log file keeps both
// whole.
func TestLocalLongLinesReachTheLoggerCut(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	rec := &logRecorder{}
	l := newLocal(t, "garbage", withLogger(slog.New(rec)))
	var report executor.RunReport
	_, err := collect(l.Run(context.Background(), executor.Invocation{
		Verb: executor.VerbRead, Config: json.RawMessage(fmt.Sprintf(`{"count":1,"size":%d}`, size)), Catalog: itemsCatalog,
		Report: &report,
	}))
	if err != nil {
		t.Fatal(err)
	}
	checkLoggedCut(t, rec, "long log ", "long line ")
	file, err := os.ReadFile(report.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, whole := range []string{"long log " + strings.Repeat("y", size-9) + "\n", "long line " + strings.Repeat("z", size-10) + "\n"} {
		if !bytes.Contains(file, []byte(whole)) {
			t.Errorf("the log file lacks the whole %q… line", whole[:10])
		}
	}
}

// checkLoggedCut checks that a logged line starting with each prefix is
// there, cut short with the count of the bytes left out.
func checkLoggedCut(t *testing.T, rec *logRecorder, prefixes ...string) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, p := range prefixes {
		found := false
		for _, l := range rec.lines {
			i := strings.Index(l, p)
			if i < 0 {
				continue
			}
			found = true
			if len(l) > 9<<10 || !strings.Contains(l, " more bytes)") {
				t.Errorf("logged %q…: %d bytes, want it cut to 8 KiB with what was left out said", p, len(l))
			}
		}
		if !found {
			t.Errorf("nothing logged starts with %q", p)
		}
	}
}

func TestLocalGarbageAndMasking(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-s3cret"
	rec := &logRecorder{}
	mask := func(s string) string { return strings.ReplaceAll(s, secret, "****") }
	l := newLocal(t, "garbage", withLogger(slog.New(rec)), withMask(mask))
	var report executor.RunReport
	msgs, err := collect(l.Run(context.Background(), executor.Invocation{
		Verb: executor.VerbRead, Config: json.RawMessage(`{"count":6,"password":"` + secret + `"}`), Catalog: itemsCatalog,
		Report: &report,
	}))
	if err != nil {
		t.Fatal(err)
	}
	// 6 records plus two with "type" last and an unknown field.
	if n := count(msgs, protocol.TypeRecord); n != 8 {
		t.Errorf("records: got %d, want 8", n)
	}
	unparsed := 0
	for _, m := range msgs {
		if m.Unparsed != nil {
			unparsed++
		}
	}
	// The banner, two broken lines, two unknown types.
	if unparsed != 5 {
		t.Errorf("unparsed lines: got %d, want 5", unparsed)
	}
	if count(msgs, protocol.TypeState) != 1 || count(msgs, protocol.TypeLog) != 1 {
		t.Errorf("want one STATE and one LOG, got %+v", msgs)
	}
	logText := rec.text()
	for _, want := range []string{"using password ****", "Starting source-garbage", "connecting with password=****"} {
		if !strings.Contains(logText, want) {
			t.Errorf("slog output lacks %q:\n%s", want, logText)
		}
	}
	file, err := os.ReadFile(report.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stderr: connecting with password=****", "INFO: using password ****"} {
		if !strings.Contains(string(file), want) {
			t.Errorf("log file lacks %q:\n%s", want, file)
		}
	}
	if strings.Contains(logText, secret) || strings.Contains(string(file), secret) {
		t.Errorf("the secret leaked into the logs")
	}
}

func TestLocalStderrExit(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "stderrexit")
	msgs, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	ce := asConnectorError(t, err)
	if ce.ExitCode != 1 || ce.Command != executor.VerbRead || ce.Connector != "source-stderrexit" {
		t.Errorf("unexpected error fields: %+v", ce)
	}
	if len(ce.StderrTail) != 3 || !strings.Contains(ce.StderrTail[2], "connection refused") {
		t.Errorf("stderr tail: %q", ce.StderrTail)
	}
	if !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), ce.LogFile) || ce.LogFile == "" {
		t.Errorf("error text should carry the last stderr line and the log file: %v", err)
	}
	if count(msgs, protocol.TypeRecord) != 3 {
		t.Errorf("the records before the failure must still be yielded, got %d messages", len(msgs))
	}
}

func TestLocalCheckFailedExitZero(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "checkfailed")
	msgs, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbCheck}))
	if err != nil {
		t.Fatalf("a FAILED check with exit 0 is the source's business, not an executor error: %v", err)
	}
	if len(msgs) != 1 || msgs[0].ConnectionStatus == nil || msgs[0].ConnectionStatus.Status != "FAILED" {
		t.Fatalf("want the FAILED status, got %+v", msgs)
	}
}

func TestLocalTraceErrorExitZero(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "traceerror")
	_, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	ce := asConnectorError(t, err)
	if ce.ExitCode != 0 || ce.FailureType != protocol.FailureConfig || ce.Message != "the start date is in the future" || ce.InternalMessage != "ValueError: start_date" {
		t.Fatalf("unexpected error fields: %+v", ce)
	}
}

func TestLocalEmittedAtSeconds(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "seconds")
	msgs, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Record != nil && m.Record.EmittedAt < 1e12 {
			t.Fatalf("emitted_at not in milliseconds: %d", m.Record.EmittedAt)
		}
	}
	if count(msgs, protocol.TypeRecord) != 3 {
		t.Fatalf("want 3 records, got %+v", msgs)
	}
}

func TestLocalFilesAndArgs(t *testing.T) {
	l := newLocal(t, "jsononly")
	tmp := privateTemp(t)
	ctx := context.Background()
	config := `{"password":"x","count":1}`
	state := `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"cursor":7}}}]`
	for _, withState := range []bool{false, true} {
		inv := executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(config), Catalog: itemsCatalog}
		if withState {
			inv.State = json.RawMessage(state)
		}
		msgs, err := collect(l.Run(ctx, inv))
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || msgs[0].Record == nil || !streamEnd(msgs[1]) {
			t.Fatalf("want the echo record, then the stream's end, got %+v", msgs)
		}
		var got struct {
			Args                   []string
			Config, Catalog, State json.RawMessage
		}
		if err := json.Unmarshal(msgs[0].Record.Data, &got); err != nil {
			t.Fatal(err)
		}
		if string(got.Config) != config || string(got.Catalog) != string(itemsCatalog) {
			t.Errorf("files do not hold what was given: %s", msgs[0].Record.Data)
		}
		if withState != (string(got.State) == state) || (len(got.Args) == 7) != withState {
			t.Errorf("state: got args %v state %s", got.Args, got.State)
		}
	}
	for _, verb := range []executor.Verb{executor.VerbCheck, executor.VerbDiscover, executor.VerbSpec} {
		if _, err := collect(l.Run(ctx, executor.Invocation{Verb: verb, Config: json.RawMessage(config)})); err != nil {
			t.Errorf("%s: %v", verb, err)
		}
	}
	if left := leftovers(t, tmp); len(left) > 0 {
		t.Fatalf("temp files left behind: %v", left)
	}
}

// A TMPDIR that does not exist fails the run with an error that names it,
// not Go's bare "stat /that/dir: no such file or directory".
func TestLocalWithoutTempDir(t *testing.T) {
	l := newLocal(t, "jsononly")
	tmp := filepath.Join(t.TempDir(), "no such dir")
	t.Setenv("TMPDIR", tmp)
	_, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"count":1}`), Catalog: itemsCatalog}))
	if err == nil || !strings.Contains(err.Error(), "TMPDIR") || !strings.Contains(err.Error(), tmp) {
		t.Fatalf("want an error naming TMPDIR and %s, got %v", tmp, err)
	}
}

func TestLocalStdinAndStdoutTogether(t *testing.T) {
	t.Parallel()
	// 40 MB in while 40 MB come out: without concurrent copying both pipes
	// fill up and everything blocks.
	l := newLocal(t, "echo")
	var in bytes.Buffer
	const n = 100_000
	pad := strings.Repeat("y", 400)
	for i := range n {
		fmt.Fprintf(&in, `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"i":%d,"pad":"%s"}}}}`+"\n", i, pad)
	}
	msgs, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbWrite, Catalog: itemsCatalog, Stdin: &in}))
	if err != nil {
		t.Fatal(err)
	}
	if count(msgs, protocol.TypeState) != n {
		t.Fatalf("want %d states echoed, got %d", n, count(msgs, protocol.TypeState))
	}
}

func TestLocalLargeRead(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "echo")
	msgs, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{"count":200000,"size":200}`), Catalog: itemsCatalog}))
	if err != nil {
		t.Fatal(err)
	}
	if count(msgs, protocol.TypeRecord) != 200000 || count(msgs, protocol.TypeState) != 21 {
		t.Fatalf("got %d records, %d states", count(msgs, protocol.TypeRecord), count(msgs, protocol.TypeState))
	}
}

// hangPids reads the pids the hang connector reports.
func hangPids(t *testing.T, m *protocol.Message) []int {
	t.Helper()
	var a, b int
	if m.Log == nil {
		t.Fatalf("want the LOG with the pids first, got %+v", m)
	}
	if _, err := fmt.Sscanf(m.Log.Message, "pids %d %d", &a, &b); err != nil {
		t.Fatalf("LOG %q: %v", m.Log.Message, err)
	}
	return []int{a, b}
}

func TestLocalHangCancelAndBreak(t *testing.T) {
	for _, how := range []string{"cancel", "break"} {
		t.Run(how, func(t *testing.T) {
			l := newLocal(t, "hang", withGrace(500*time.Millisecond))
			tmp := privateTemp(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var pids []int
			var last error
			records := 0
			for m, err := range l.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}) {
				if err != nil {
					last = err
					break
				}
				if pids == nil {
					pids = hangPids(t, m)
					for _, p := range pids {
						if !alive(p) {
							t.Fatalf("pid %d should be running", p)
						}
					}
					continue
				}
				records++
				if how == "break" {
					break
				}
				cancel()
			}
			if how == "cancel" && !errors.Is(last, context.Canceled) {
				t.Fatalf("want context.Canceled at the end, got %v", last)
			}
			if records != 1 {
				t.Fatalf("want the one record, got %d", records)
			}
			// SIGKILL of the process group is delivered asynchronously: the
			// child may take a moment to go.
			for _, p := range pids {
				waitDead(t, p)
			}
			if left := leftovers(t, tmp); len(left) > 0 {
				t.Errorf("temp files left behind: %v", left)
			}
		})
	}
}

func TestLocalCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "echo")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := collect(l.Run(ctx, executor.Invocation{Verb: executor.VerbSpec}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestLocalMissingCatalog(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "echo")
	_, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead}))
	if err == nil || !strings.Contains(err.Error(), "catalog") {
		t.Fatalf("want an error about the missing catalog, got %v", err)
	}
}

// TestLingeringConnector: a connector that closed its output and keeps
// running (ignoring SIGTERM) is stopped after the linger grace with a
// warning, and what it sent counts; a cancelled context stops it at once.
func TestLingeringConnector(t *testing.T) {
	t.Parallel()
	logs := &logRecorder{}
	l := newLocal(t, "lingering", withLinger(200*time.Millisecond), withGrace(200*time.Millisecond), withLogger(slog.New(logs)))
	msgs, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	if err != nil || count(msgs, protocol.TypeRecord) != 1 || count(msgs, protocol.TypeState) != 1 {
		t.Fatalf("read: %d records, %d states, %v", count(msgs, protocol.TypeRecord), count(msgs, protocol.TypeState), err)
	}
	if !strings.Contains(logs.text(), "closed its output but kept running") {
		t.Fatalf("no warning: %q", logs.text())
	}

	// With a long linger grace, cancelling is what ends the wait.
	l = newLocal(t, "lingering", withLinger(time.Hour), withGrace(200*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	_, err = collect(l.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while lingering: %v", err)
	}
}

// TestLogFileCapped: a connector that writes 20 MB on stderr leaves a log
// of about 4 MB that keeps the first and the last lines and says what it
// dropped.
func TestLogFileCapped(t *testing.T) {
	t.Parallel()
	bin := testenv.BuildBinary(t, "./internal/testconnectors/reticent")
	dir := t.TempDir()
	l := build[executor.Executor](t, "source-noisy", executor.Method{Kind: executor.KindLocal, Path: bin}, executor.Runtime{LogDir: dir})
	var report executor.RunReport
	if _, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbCheck,
		Config: json.RawMessage(`{"mode":"check-noisy"}`), Report: &report})); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(report.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if len(b) > 4<<20+4096 || !strings.Contains(text, "noise line 000000 ") || !strings.Contains(text, "noise line 199999 ") ||
		!strings.Contains(text, "of this run's log dropped here") {
		t.Fatalf("log of %d bytes; first line %v, last line %v, drop note %v", len(b),
			strings.Contains(text, "noise line 000000 "), strings.Contains(text, "noise line 199999 "), strings.Contains(text, "dropped here"))
	}
}

// TestOldLogsPruned: log files older than a week are removed when a
// connector first logs into their directory; newer ones stay.
func TestOldLogsPruned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old, recent := filepath.Join(dir, "source-x-old.log"), filepath.Join(dir, "source-x-recent.log")
	for _, f := range []string{old, recent} {
		if err := os.WriteFile(f, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	weekAgo := time.Now().Add(-8 * 24 * time.Hour)
	os.Chtimes(old, weekAgo, weekAgo)
	bin := testenv.BuildBinary(t, "./internal/testconnectors/reticent")
	l := build[executor.Executor](t, "source-x", executor.Method{Kind: executor.KindLocal, Path: bin}, executor.Runtime{LogDir: dir})
	collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old log is still there: %v", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Fatalf("the recent log is gone: %v", err)
	}
}

// TestLogHeaderInUTC: the line that opens each run in a log file gives
// its time in UTC, as RFC 3339, like every other time goairbyte writes,
// whatever the local zone. A child process with TZ five hours forty-five
// ahead of UTC, as the local zone is read once.
func TestLogHeaderInUTC(t *testing.T) {
	if os.Getenv("GOAIRBYTE_LOGHEADER_CHILD") == "1" {
		logHeaderInUTC(t)
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLogHeaderInUTC$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GOAIRBYTE_LOGHEADER_CHILD=1", "TZ=Asia/Kathmandu")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func logHeaderInUTC(t *testing.T) {
	if _, off := time.Now().Zone(); off == 0 {
		t.Fatal("the test is void: the local zone is UTC")
	}
	bin := testenv.BuildBinary(t, "./internal/testconnectors/reticent")
	l := build[executor.Executor](t, "source-x", executor.Method{Kind: executor.KindLocal, Path: bin}, executor.Runtime{LogDir: t.TempDir()})
	before := time.Now().Truncate(time.Second)
	var report executor.RunReport
	if _, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec, Report: &report})); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(report.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(b), "\n")
	t.Log(header)
	var stamp string
	if _, err := fmt.Sscanf(header, "==== %s source-x spec", &stamp); err != nil {
		t.Fatalf("header %q: %v", header, err)
	}
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil || !strings.HasSuffix(stamp, "Z") || at.Before(before) || at.After(time.Now()) {
		t.Fatalf("header %q: want the run's time in UTC as RFC 3339 (2006-01-02T15:04:05Z), got %s (%v)", header, stamp, err)
	}
}

// The default log directory, goairbyte/logs in the temp directory, is
// the machine's, and the first user to run a connector owns it (0700):
// another user's runs kept no log at all. Where it cannot be used, the
// log goes to a directory of the user's own beside it. As root nothing is
// another user's: a file where the directory should be fails alike. Not
// parallel: it sets TMPDIR and GOAIRBYTE_LOG_DIR.
func TestLogDirOfAnotherUser(t *testing.T) {
	bin := testenv.BuildBinary(t, "./internal/testconnectors/stderrexit")
	tmp := privateTemp(t)
	t.Setenv("GOAIRBYTE_LOG_DIR", "")
	if err := os.WriteFile(filepath.Join(tmp, "goairbyte"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l := build[executor.Executor](t, "source-stderrexit", executor.Method{Kind: executor.KindLocal, Path: bin}, executor.Runtime{})
	_, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	ce := asConnectorError(t, err)
	if ce.LogFile == "" || !strings.HasPrefix(ce.LogFile, tmp+string(filepath.Separator)) {
		t.Fatalf("log file %q, want one under %s", ce.LogFile, tmp)
	}
	if b, err := os.ReadFile(ce.LogFile); err != nil || !strings.Contains(string(b), "connection refused") {
		t.Fatalf("the log file holds %q (%v), want the connector's stderr", b, err)
	}
}

// A connector that exits while a process it started outside its process
// group (setsid) still holds its stdout must not keep the run waiting for
// that process: once the connector is gone and its output is quiet, the
// output has ended. What it started outside its group is killed when the
// run ends, found by the environment it inherited; a process that cleared
// its environment is beyond reach.
func TestLocalOutputHeldAfterExit(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "daemon")
	// The watchdog only stops a hang; the read ends in seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	child, bare, records := 0, 0, 0
	var last error
	for m, err := range l.Run(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}) {
		if err != nil {
			last = err
			break
		}
		switch {
		case m.Log != nil:
			if _, err := fmt.Sscanf(m.Log.Message, "child %d bare %d", &child, &bare); err != nil {
				t.Fatalf("LOG %q: %v", m.Log.Message, err)
			}
			t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL); syscall.Kill(bare, syscall.SIGKILL) })
		case m.Type == protocol.TypeRecord:
			records++
		}
	}
	if last != nil {
		t.Fatalf("the read should end when the connector exits, got %v", last)
	}
	if bare == 0 || !alive(bare) {
		t.Fatalf("the test is void: the child %d that holds the output is not running", bare)
	}
	if records != 1 {
		t.Fatalf("want the one record, got %d", records)
	}
	// Killed before the run ended; the watchdog only stops a hang.
	for alive(child) {
		if ctx.Err() != nil {
			t.Fatalf("the child %d that left the connector's process group outlived the run", child)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A connector whose records all fail to parse (a Python connector that
// writes NaN, which JSON has not) gets a warning for each of its first
// maxMalformedWarnings such lines and then one saying the rest are only in
// its log file, not a warning a line; the messages still all come through.
func TestLocalMalformedLinesWarnBounded(t *testing.T) {
	t.Parallel()
	script := filepath.Join(t.TempDir(), "nan")
	body := "#!/bin/sh\ni=0\nwhile [ $i -lt 200 ]; do\n" +
		`  echo '{"type":"RECORD","record":{"stream":"items","data":{"id":'$i',"score":NaN},"emitted_at":1}}'` + "\n" +
		"  i=$((i+1))\ndone\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := &logRecorder{}
	l := build[executor.Executor](t, "source-nan", executor.Method{Kind: executor.KindLocal, Path: script},
		executor.Runtime{LogDir: t.TempDir()}, withLogger(slog.New(rec)))
	var report executor.RunReport
	msgs, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Config: json.RawMessage(`{}`),
		Catalog: itemsCatalog, Report: &report}))
	if err != nil {
		t.Fatal(err)
	}
	var malformed int
	for _, m := range msgs {
		if m.Malformed != nil {
			malformed++
		}
	}
	if malformed != 200 {
		t.Fatalf("%d malformed messages came through, want 200", malformed)
	}
	text := rec.text()
	if n := strings.Count(text, "does not parse; it is left out"); n != 10 || strings.Count(text, "further lines") != 1 {
		t.Errorf("%d warnings of lines that do not parse, want 10 and one for the rest:\n%s", n, text)
	}
}

// A connector written in Go that crashes (a panic in a goroutine, a fatal
// error of the runtime) ends its stderr with a goroutine's stack: the
// error quoted its last frame ("\t/src/main.go:27 +0x2a5") as the reason.
// It quotes the panic's message now (outsider16).
func TestLocalGoCrash(t *testing.T) {
	t.Parallel()
	l := newLocal(t, "gocrash")
	_, err := collect(l.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}))
	ce := asConnectorError(t, err)
	if ce.ExitCode != 2 || !slices.ContainsFunc(ce.StderrTail, func(l string) bool { return strings.HasPrefix(l, "goroutine ") }) {
		t.Fatalf("want a Go crash (exit status 2, a stack on stderr), got %+v", ce)
	}
	const want = "panic: assignment to entry in nil map"
	if ce.Reason() != want || !strings.Contains(err.Error(), ": "+want+";") {
		t.Errorf("want the reason %q, got %q in %v", want, ce.Reason(), err)
	}
}
