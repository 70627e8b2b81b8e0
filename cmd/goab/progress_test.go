package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/x/goairbyte/internal/ptytest"
)

// goab read with its stderr on a terminal: the live progress line is drawn
// there, the library's and the connector's info logs are written there too,
// and no row of the terminal shows both.
func TestReadOnTerminalKeepsLogsOffTheLiveLine(t *testing.T) {
	term := ptytest.Open(t, 250)

	cmd := exec.Command(goabBin, "read", "source-faker", "--local-executable", faker(t),
		"--config", `{"count": 200000}`, "--cache", filepath.Join(t.TempDir(), "r.duckdb"))
	cmd.Dir = t.TempDir()
	env := []string{"AIRBYTE_OFFLINE_MODE=1", "GOAIRBYTE_LOG_DIR=" + t.TempDir(), "GOAB_LOG_LEVEL=info"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_LIVE_PROGRESS=") {
			env = append(env, kv)
		}
	}
	env = append(env, "TERM=xterm") // one that redraws, wherever the tests run
	cmd.Env = env
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, term.TTY
	runErr := cmd.Run()
	term.TTY.Close()
	text := term.Wait(t, func(string) bool { return false }) // all of it: until the terminal closes
	if runErr != nil {
		t.Fatalf("goab read: %v\n%s\n%q", runErr, stdout.String(), text)
	}

	if !strings.Contains(text, "\r\x1b[KReading source-faker:") {
		t.Fatalf("no live line on the terminal:\n%q", text)
	}
	var logs, summaries int
	for _, row := range ptytest.Rows(text) {
		if i := strings.Index(row, "time="); i >= 0 {
			logs++
			if i > 0 {
				t.Errorf("a log record runs on from other output: %q", row)
			}
		}
		if strings.HasPrefix(row, "Read 400,100 records from source-faker in ") {
			summaries++
		}
	}
	// The faker logs its settings at INFO while the read runs; the progress
	// package's own pty test covers log records arriving mid-line.
	if logs < 1 || summaries != 1 {
		t.Fatalf("%d log rows and %d summary lines on the terminal, want info logs and one summary:\n%q", logs, summaries, text)
	}
}

// onTerminal runs goab with stdout and stderr on one terminal, as a user
// runs it, and returns the terminal's rows.
func onTerminal(t *testing.T, args ...string) []string {
	t.Helper()
	term := ptytest.Open(t, 250)
	cmd := exec.Command(goabBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "AIRBYTE_OFFLINE_MODE=1", "GOAIRBYTE_LOG_DIR="+t.TempDir(), "NO_LIVE_PROGRESS=", "TERM=xterm")
	cmd.Stdout, cmd.Stderr = term.TTY, term.TTY
	runErr := cmd.Run()
	term.TTY.Close()
	text := term.Wait(t, func(string) bool { return false })
	if runErr != nil {
		t.Fatalf("goab %s: %v\n%q", args[0], runErr, text)
	}
	return ptytest.Rows(text)
}

// oneSummary fails unless rows hold the table (a row holding header)
// and exactly one row that is a summary.
func oneSummary(t *testing.T, rows []string, header string, summary func(row string) bool) {
	t.Helper()
	var summaries int
	table := false
	for _, row := range rows {
		if summary(row) {
			summaries++
		}
		table = table || strings.Contains(row, header)
	}
	if summaries != 1 || !table {
		t.Fatalf("%d summary lines on the terminal, want the table and one summary:\n%s", summaries, strings.Join(rows, "\n"))
	}
}

// goab read at the terminal: the table of what each stream loaded
// (stdout) and one summary line (stderr), not a second summary on stdout
// that nearly repeats it.
func TestReadOnTerminalShowsOneSummary(t *testing.T) {
	rows := onTerminal(t, "read", "source-faker", "--local-executable", faker(t),
		"--config", `{"count": 20}`, "--cache", filepath.Join(t.TempDir(), "r.duckdb"))
	oneSummary(t, rows, "RECORDS LOADED", func(row string) bool { return strings.HasPrefix(row, "Read 60 records from source-faker in ") })
}

// goab sync, like read, shows its totals once at the terminal: the
// progress summary on stderr; stdout has the per-stream table.
func TestSyncOnTerminalShowsOneSummary(t *testing.T) {
	rows := onTerminal(t, "sync", "source-faker", "--local-executable", faker(t), "--config", `{"count": 20}`,
		"--destination", "destination-local-json", "--destination-local-executable", localJSON(t),
		"--destination-config", `{"destination_path": "`+t.TempDir()+`"}`, "--cache", filepath.Join(t.TempDir(), "s.duckdb"))
	oneSummary(t, rows, "RECORDS SENT", func(row string) bool { return strings.HasPrefix(row, "Wrote ") || strings.HasPrefix(row, "Synced ") })
}

// A terminal in a locale that is not UTF-8 (LC_ALL=C, no locale at all,
// Latin-1) or a dumb one shows '·', '…' and '→' as mojibake: there goab's
// live progress line, its summary and benchmark's report are ASCII; in a
// UTF-8 locale they keep those characters. A terminal of 100 columns, so
// that the live line is cut to fit.
func TestTerminalOutputFollowsTheLocale(t *testing.T) {
	fk := faker(t)
	for _, tc := range []struct {
		name    string
		env     []string
		unicode bool
	}{
		{"LC_ALL=C", []string{"LC_ALL=C", "LANG=C.UTF-8"}, false},
		{"no locale", []string{"LC_ALL=", "LC_CTYPE=", "LANG="}, false},
		{"Latin-1", []string{"LC_ALL=", "LC_CTYPE=", "LANG=en_US.ISO-8859-1"}, false},
		{"LC_CTYPE=POSIX", []string{"LC_ALL=", "LC_CTYPE=POSIX", "LANG=C.UTF-8"}, false},
		{"TERM=dumb", []string{"LC_ALL=C.UTF-8", "TERM=dumb"}, false},
		{"C.UTF-8", []string{"LC_ALL=", "LC_CTYPE=", "LANG=C.UTF-8", "TERM=xterm"}, true},
		{"LC_ALL=en_US.UTF-8", []string{"LC_ALL=en_US.UTF-8", "LANG=C"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			term := ptytest.Open(t, 100)
			cmd := exec.Command(goabBin, "benchmark", "--local-executable", fk, "--count", "150000")
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "AIRBYTE_OFFLINE_MODE=1", "GOAIRBYTE_LOG_DIR="+t.TempDir(), "NO_LIVE_PROGRESS=", "TERM=xterm")
			cmd.Env = append(cmd.Env, tc.env...)
			cmd.Stdout, cmd.Stderr = term.TTY, term.TTY
			runErr := cmd.Run()
			term.TTY.Close()
			text := term.Wait(t, func(string) bool { return false })
			if runErr != nil {
				t.Fatalf("goab benchmark: %v\n%q", runErr, text)
			}
			dumb := slices.Contains(tc.env, "TERM=dumb") // no live line there: plain lines every 5 s
			if !strings.Contains(text, "Wrote 300,100 records") || !dumb && !strings.Contains(text, "Writing destination-noop:") {
				t.Fatalf("the test is void: no live line or no summary on the terminal:\n%q", text)
			}
			if dumb && strings.Contains(text, "\x1b") {
				t.Fatalf("escape sequences sent to a dumb terminal:\n%q", text)
			}
			if !tc.unicode {
				if i := strings.IndexFunc(text, func(r rune) bool { return r > 0x7e }); i >= 0 {
					t.Fatalf("%q beyond ASCII on the terminal:\n%q", text[i:min(len(text), i+40)], text)
				}
				wants := []string{"source-faker -> the no-op destination"}
				if !dumb {
					wants = append(wants, "...", " | ") // the live line's
				}
				for _, want := range wants {
					if !strings.Contains(text, want) {
						t.Errorf("%q missing from the terminal:\n%q", want, text)
					}
				}
				return
			}
			for _, want := range []string{"…", " · ", "source-faker → the no-op destination"} {
				if !strings.Contains(text, want) {
					t.Errorf("%q missing from the terminal:\n%q", want, text)
				}
			}
		})
	}
}

// In a locale that is not UTF-8, goab's error paragraph and its warnings are
// ASCII too: the library's own "…" (where it cuts a connector's long
// message) reads "...". The connector's words pass as they came. In a UTF-8
// locale the "…" stays.
func TestErrorsFollowTheLocale(t *testing.T) {
	long := strings.Repeat("x", 10<<10)
	script := filepath.Join(t.TempDir(), "long-error")
	trace := `{"type":"TRACE","trace":{"type":"ERROR","emitted_at":1,"error":{"message":"the API said: ` + long + `","failure_type":"system_error"}}}`
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho '"+trace+"'\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		locale  string
		unicode bool
	}{{"LC_ALL=C", false}, {"LC_ALL=C.UTF-8", true}} {
		t.Run(tc.locale, func(t *testing.T) {
			r := goab(t, []string{tc.locale, "GOAB_LOG_LEVEL=warn"}, "records", "long-error", "--local-executable", script, "--config", "{}", "--stream", "items")
			r.want(t, 1)
			if !strings.Contains(r.stderr, "the API said: xxx") {
				t.Fatalf("the test is void: no connector message in the error:\n%.500s", r.stderr)
			}
			if !tc.unicode {
				if i := strings.IndexFunc(r.stderr, func(r rune) bool { return r > 0x7e }); i >= 0 {
					t.Fatalf("%q beyond ASCII in the error:\n%.300s", r.stderr[i:min(len(r.stderr), i+40)], r.stderr[max(0, i-100):])
				}
				if !strings.Contains(r.stderr, "x... (") {
					t.Errorf("no ASCII cut mark in the error:\n%.300s", r.stderr[len(r.stderr)-300:])
				}
				return
			}
			if !strings.Contains(r.stderr, "x… (") {
				t.Errorf("no cut mark in the error:\n%.300s", r.stderr[len(r.stderr)-300:])
			}
		})
	}
}

// manyStreamsConnector writes a shell connector with n streams, s_0001 to
// s_n, that reads one record from each, pausing a moment every n/5 streams
// so that the live line is drawn while thousands of streams are open.
func manyStreamsConnector(t *testing.T, n int) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "many-streams")
	body := `#!/bin/sh
n=` + strconv.Itoa(n) + `
case "$1" in
spec) echo '{"type":"SPEC","spec":{"connectionSpecification":{"type":"object","properties":{}}}}' ;;
check) echo '{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}' ;;
discover)
  printf '{"type":"CATALOG","catalog":{"streams":['
  i=1
  while [ $i -le $n ]; do
    [ $i -gt 1 ] && printf ','
    printf '{"name":"s_%04d","json_schema":{"type":"object","properties":{"id":{"type":"integer"}}},"supported_sync_modes":["full_refresh"]}' $i
    i=$((i+1))
  done
  printf ']}}\n' ;;
read)
  i=1
  while [ $i -le $n ]; do
    printf '{"type":"RECORD","record":{"stream":"s_%04d","data":{"id":%d},"emitted_at":1}}\n' $i $i
    [ $((i % (n / 5))) -eq 0 ] && sleep 0.4
    i=$((i+1))
  done ;;
esac
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// Thousands of streams at a real terminal 100 columns wide: the live line
// fits the width at each redraw and counts the streams it leaves out; the
// summary names a few and counts the rest instead of growing with the
// streams (it was a line of 30,076 columns); the warning about streams
// that said nothing comes once, not once a stream (it came 3,000 times); so
// what reaches the terminal stays small next to the table on stdout.
func TestManyStreamsOnTerminal(t *testing.T) {
	const streams, cols = 3000, 100
	term := ptytest.Open(t, cols)
	cmd := exec.Command(goabBin, "benchmark", "many-streams", "--local-executable", manyStreamsConnector(t, streams), "--config", "{}")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "AIRBYTE_OFFLINE_MODE=1", "GOAIRBYTE_LOG_DIR="+t.TempDir(), "NO_LIVE_PROGRESS=", "TERM=xterm", "LC_ALL=C.UTF-8")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, term.TTY
	runErr := cmd.Run()
	term.TTY.Close()
	text := term.Wait(t, func(string) bool { return false })
	if runErr != nil {
		t.Fatalf("goab benchmark: %v\n%.3000q", runErr, text)
	}
	if got := strings.Count(stdout.String(), "\ns_"); got != streams {
		t.Fatalf("the test is void: %d stream rows on stdout, want %d:\n%.2000s", got, streams, stdout.String())
	}
	plain := regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]").ReplaceAllString(text, "")
	lines := strings.FieldsFunc(plain, func(r rune) bool { return r == '\r' || r == '\n' })
	var live, summaries, warnings int
	for _, l := range lines {
		w := utf8.RuneCountInString(l)
		switch {
		case strings.HasPrefix(l, "Writing destination-noop:"):
			live++
			if w > cols {
				t.Errorf("a live line of %d columns on a terminal of %d: %.300q", w, cols, l)
			}
			if strings.Contains(l, "s_0") && !strings.Contains(l, " more") {
				t.Errorf("a live line that does not count the streams it leaves out: %.300q", l)
			}
		case strings.HasPrefix(l, "Wrote 3,000 records"):
			summaries++
			if w > 3*cols || !strings.Contains(l, "+2,99") {
				t.Errorf("a summary of %d columns that does not count the streams it leaves out: %.300q", w, l)
			}
		case strings.Contains(l, "level=WARN") && strings.Contains(l, "neither a status nor a state"):
			warnings++
		}
	}
	if live == 0 || summaries != 1 {
		t.Fatalf("the test is void: %d live lines and %d summaries on the terminal:\n%.3000q", live, summaries, text)
	}
	if warnings > 1 {
		t.Errorf("%d warnings of silent streams on the terminal, want one for all of them:\n%.1000s", warnings, plain)
	}
	if len(text) > 64<<10 {
		t.Errorf("%d bytes to the terminal for %d live lines", len(text), live)
	}
}
