package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestManifestExample runs the example and checks every line it prints:
// a full first read, an incremental second read of the five updated
// tickets, merged by primary key.
func TestManifestExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("example: %v\n%s", err, out.String())
	}
	want := "first read: 250 tickets\n" +
		"second read: 5 tickets (incremental, from the saved state)\n" +
		"tickets: 250 rows in the cache\n"
	for i := 1; i <= 5; i++ {
		want += "  updated: ticket " + string(rune('0'+i)) + ", ticket #" + string(rune('0'+i)) + " (reopened)\n"
	}
	if got := out.String(); got != want {
		t.Fatalf("the example printed:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(out.String(), helpdeskKey) {
		t.Fatal("the API key was printed")
	}
}
