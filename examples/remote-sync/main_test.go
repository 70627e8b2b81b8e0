package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/internal/testenv"
)

func TestRemoteSync(t *testing.T) {
	shareddata.Need(t, "remote-specs") // the test servers check every exchange against it
	faker := testenv.BuildBinary(t, "./cmd/source-faker")
	var out bytes.Buffer
	if err := run(context.Background(), &out, faker, t.TempDir()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	for _, re := range []string{
		`(?m)^Airbyte job 1 succeeded: \d+ rows$`,
		`(?m)^  users: 300 rows in "main"."faker_users"$`,
		`(?m)^  purchases: \d+ rows in "main"."faker_purchases"$`,
		`(?m)^Fivetran connection \S+ synced after 2 triggers \(one quota reschedule\)$`,
		`(?m)^  crm.users: \d+ columns$`,
		`(?m)^watch: airbyte connection \S+ succeeded\nwatch: fivetran connection \S+ succeeded$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("output does not match %s:\n%s", re, got)
		}
	}
	if strings.Count(got, "watch:") != 2 {
		t.Errorf("want exactly two watch events:\n%s", got)
	}
}
