package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The rows pandas' C tokenizer makes of what encoding/csv reads otherwise.
func TestPandasCSV(t *testing.T) {
	for _, tc := range []struct{ name, csv, want string }{
		{"a line of spaces is blank", "a,b\n1,2\n   \n\t\n3,4\n", `[{"a":"1","b":"2"},{"a":"3","b":"4"}]`},
		{"spaces before a value stay", "a,b\n  x,y\n", `[{"a":"  x","b":"y"}]`},
		{"a lone CR ends the line", "a,b\r1,2\r3,4", `[{"a":"1","b":"2"},{"a":"3","b":"4"}]`},
		{"CRLF inside quotes is kept", "a,b\r\n\"x\r\ny\",2\r\n", `[{"a":"x\r\ny","b":"2"}]`},
		{"a quote closed early", "a,b\n\"ab\"c,d\n", `[{"a":"abc","b":"d"}]`},
		{"a quote inside a value", "a,b\nab\"c,d\n", `[{"a":"ab\"c","b":"d"}]`},
		{"a trailing comma at the end", "a,b\n1,", `[{"a":"1","b":null}]`},
		{"quoted empty and NA words", "a,b,c\n\"\",\"NA\",\"  \"\n", `[{"a":null,"b":null,"c":"  "}]`},
		{"a short row", "a,b,c\n1\n", `[{"a":"1","b":null,"c":null}]`},
		{"a BOM before the header", "\ufeffa\n1\n", `[{"a":"1"}]`},
	} {
		var got []json.RawMessage
		err := csvRecords(context.Background(), strings.NewReader(tc.csv), func(d *dict) error {
			b, err := encodeRecord(d)
			got = append(got, b)
			return err
		})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		b, _ := json.Marshal(got)
		if got := string(b); got != tc.want && !(got == "null" && tc.want == "[]") {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	for _, bad := range []string{"a\n\"open\n", "a\n1,2\n", "a\n\xff\n"} {
		if err := csvRecords(context.Background(), strings.NewReader(bad), func(*dict) error { return nil }); err == nil {
			t.Errorf("%q read without error", bad)
		} else if !strings.Contains(err.Error(), "CSV") && !strings.Contains(err.Error(), "C error") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestCSVRecordsSeesContext checks that csvRecords returns the context's
// error within contextEvery rows of its cancellation, though yield
// (here taking every row, as a record filter dropping them all would)
// never looks at it.
func TestCSVRecordsSeesContext(t *testing.T) {
	const rows, cancelAt = 100000, 1000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := csvRecords(ctx, strings.NewReader(contactsCSV(rows)), func(*dict) error {
		n++
		if n == cancelAt {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if after := n - cancelAt; after > contextEvery {
		t.Errorf("%d rows of %d read after the context was cancelled", after, rows)
	}
}
