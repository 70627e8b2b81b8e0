package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/internal/testenv"
)

func TestConnectionsAsCode(t *testing.T) {
	shareddata.Need(t, "remote-specs") // the test servers check every exchange against it
	faker := testenv.BuildBinary(t, "./cmd/source-faker")
	t.Setenv("MOTHERDUCK_API_KEY", "md-key-from-the-test")
	var out bytes.Buffer
	if err := run(context.Background(), &out, faker, t.TempDir()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"== plan and apply connections.yaml\n+ source: faker\n",
		"    + motherduck_api_key: (secret)\n",
		"Applied 3 change(s).\n== plan again\nNo changes.\n",
		"== after editing count and schedule\n~ source: faker\n  ~ config:\n    ~ count: 200 -> 500\n~ connection: faker-to-warehouse\n  ~ schedule: \"0 0 * * * ?\" -> manual\nApplied 2 change(s).\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "md-key-from-the-test") {
		t.Fatal("the secret was printed")
	}
}
