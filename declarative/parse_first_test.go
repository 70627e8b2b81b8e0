package declarative

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCursorParseLetsNonValueErrorsThrough follows parse_timestamp
// (ConcurrentCursor's state converter) and parse_date (the synchronous
// DatetimeBasedCursor): each tries DatetimeParser.parse with its formats in
// turn and catches ValueError alone. parse reads a value with int() for
// "%s" and "%ms" and float() for "%s_as_float" (True is 1), strptime of
// str() for the others; a TypeError (int() of null or an object), an
// OverflowError or an OSError (a timestamp out of range) ends the loop and
// is the error.
func TestCursorParseLetsNonValueErrorsThrough(t *testing.T) {
	obj, _ := decodeJSON([]byte(`{"a": 1}`))
	for _, c := range []struct {
		formats []string
		v       value
		want    string // the time parsed, RFC 3339, or the error
	}{
		{[]string{"%s", "%Y-%m-%d"}, "2024-01-02", "2024-01-02T00:00:00Z"},
		{[]string{"%s", "%Y-%m-%d"}, true, "1970-01-01T00:00:01Z"},
		{[]string{"%ms"}, true, "1970-01-01T00:00:00.001Z"},
		{[]string{"%s_as_float"}, true, "1970-01-01T00:00:01Z"},
		{[]string{"%s"}, 1.7e9 + 0.9, "2023-11-14T22:13:20Z"},
		{[]string{"%s", "%Y-%m-%d"}, obj, "int() argument must be a string, a bytes-like object or a real number, not 'dict'"},
		{[]string{"%ms", "%Y-%m-%d"}, nil, "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"},
		{[]string{"%s_as_float", "%Y-%m-%d"}, []value{}, "float() argument must be a string or a real number, not 'list'"},
		{[]string{"%s", "%ms"}, int64(1e18), "[Errno 75] Value too large for defined data type"},
		{[]string{"%ms", "%s"}, int64(1e15), "date value out of range"},
		{[]string{"%s", "%ms"}, int64(1e12), "2001-09-09T01:46:40Z"}, // %s: ValueError (year 33658), then %ms
		{[]string{"%s", "%Y-%m-%d"}, "x", "No format in ['%s', '%Y-%m-%d'] matching x"},
	} {
		run := &cursorRun{c: &datetimeCursor{datetimeFormat: "%Y-%m-%d"}, formats: c.formats}
		got := ""
		if tm, err := run.parse(c.v); err != nil {
			got = err.Error()
		} else {
			got = tm.UTC().Format(time.RFC3339Nano)
		}
		if got != c.want {
			t.Errorf("%v, %#v: %s, want %s", c.formats, c.v, got, c.want)
		}
	}
	// parse_date tries datetime_format after cursor_datetime_formats, in
	// the same loop: a TypeError ends it before.
	l := &legacyCursor{c: &datetimeCursor{datetimeFormat: "%Y-%m-%d"}, formats: []string{"%s"}}
	if _, err := l.parse(obj); err == nil || err.Error() != "int() argument must be a string, a bytes-like object or a real number, not 'dict'" {
		t.Errorf("parse_date of an object with %%s: %v", err)
	}
	if tm, err := l.parse("2024-01-02"); err != nil || !tm.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("parse_date of 2024-01-02 with %%s, then %%Y-%%m-%%d: %v, %v", tm, err)
	}
}

// TestConcurrentObserveCursorValueErrors follows ConcurrentCursor.observe,
// which passes over a record whose cursor value parse_timestamp refuses
// with a ValueError and lets any other error through: a record whose
// cursor value is an object (int() raises TypeError) fails the stream. A
// null or missing value never reaches int(): CursorField.extract_value
// raises ValueError for it, so the record is passed over too (the engine
// failed the stream with int()'s TypeError). Each pass-over is the CDK's
// warning, logged once per cursor.
func TestConcurrentObserveCursorValueErrors(t *testing.T) {
	for _, c := range []struct{ value, err string }{
		{`"soon"`, ""},
		{`null`, ""},
		{`{"at": 1704067300}`, "int() argument must be a string, a bytes-like object or a real number, not 'dict'"},
	} {
		api := func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/events" {
				fmt.Fprintf(w, `{"data": [{"id": 1, "updated": 1704067300}, {"id": 2, "updated": %s}, {"id": 3, "updated": %[1]s}, {"id": 4}]}`, c.value)
				return
			}
			fmt.Fprint(w, `{"data": []}`)
		}
		var logs bytes.Buffer
		run := runFeature(t, epochManifest("%s"), `{"start": "1704067200"}`, "", api,
			WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
		switch {
		case c.err == "" && run.err != nil:
			t.Errorf("cursor value %s: %v", c.value, run.err)
		case c.err != "" && (run.err == nil || !strings.Contains(run.err.Error(), c.err)):
			t.Errorf("cursor value %s: error %v, want one saying %s", c.value, run.err, c.err)
		}
		if c.err != "" {
			continue
		}
		if got := run.states("events"); len(got) == 0 || got[len(got)-1] != `{"updated":"1704067300"}` {
			t.Errorf("cursor value %s: states %v, want the one value read last", c.value, got)
		}
		if got := run.recordIDs("events"); len(got) != 4 {
			t.Errorf("cursor value %s: records %v, want all four", c.value, got)
		}
		const warning = "Could not find cursor field `updated` in record for stream events. The incremental sync will assume it needs to be synced"
		if n := strings.Count(logs.String(), warning); n != 1 {
			t.Errorf("cursor value %s: the CDK's warning logged %d times, want once:\n%s", c.value, n, logs.String())
		}
	}
}
