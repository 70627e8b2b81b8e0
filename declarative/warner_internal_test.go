package declarative

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A cursor logs the CDK's warning for each partition its limit drops; a
// parent of 100,000 partitions would put 90,000 lines on goab's terminal.
// One warner logs its first maxWarnings, then says once that it leaves the
// rest out; a second warner (another cursor) has its own.
func TestWarnerIsBounded(t *testing.T) {
	var out bytes.Buffer
	rc := &readContext{mask: &masker{}, log: slog.New(slog.NewTextHandler(&out, nil))}
	warn := rc.warner()
	for i := range 500 {
		warn(fmt.Sprintf("dropping partition %d", i))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != maxWarnings+1 {
		t.Fatalf("%d lines for 500 warnings, want %d:\n%s", len(lines), maxWarnings+1, out.String())
	}
	if !strings.Contains(lines[maxWarnings-1], fmt.Sprintf("dropping partition %d", maxWarnings-1)) ||
		!strings.Contains(lines[maxWarnings], "further warnings") {
		t.Fatalf("want the first %d warnings and a line that leaves the rest out:\n%s", maxWarnings, out.String())
	}
	out.Reset()
	rc.warner()("another cursor's")
	if !strings.Contains(out.String(), "another cursor's") {
		t.Fatalf("a second warner logs nothing: %q", out.String())
	}
}
