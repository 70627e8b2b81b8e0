package faker

import (
	"errors"
	"testing"

	"github.com/x/goairbyte/kit"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig([]byte(`{"count": 5.0}`))
	if err != nil {
		t.Fatal(err)
	}
	want := config{count: 5, seed: -1, recordsPerSlice: 1000, alwaysUpdated: true, parallelism: 4}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
	_, err = parseConfig([]byte(`{"count": 0}`))
	var ice *kit.InvalidConfigError
	if !errors.As(err, &ice) || len(ice.Problems) != 1 || ice.Problems[0].Field != "count" {
		t.Fatalf("want a *kit.InvalidConfigError naming count, got %v", err)
	}
	for _, raw := range []string{`{"parallelism": 2000}`, `{"count": 1e300}`} {
		if _, err := parseConfig([]byte(raw)); !errors.As(err, &ice) {
			t.Errorf("%s: want a *kit.InvalidConfigError, got %v", raw, err)
		}
	}
}
