package source_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/source"
)

// The control source (source/internal/controlsource) sends a CONTROL
// CONNECTOR_CONFIG during read, has a secret api_key and can misbehave.

const apiKey = "sk-live-0123456789"

func controlSource(t *testing.T, mode string, count int, opts ...connector.Option) *source.Source {
	t.Helper()
	bin := testenv.BuildBinary(t, "./source/internal/controlsource")
	cfg := map[string]any{"api_key": apiKey, "mode": mode, "count": count}
	return newSource(t, "source-control", append([]connector.Option{connector.WithLocalExecutable(bin), connector.WithConfig(cfg)}, opts...)...)
}

func TestConfigChangeCallback(t *testing.T) {
	t.Parallel()
	t.Run("local", func(t *testing.T) {
		testConfigChangeCallback(t, func(opts ...connector.Option) *source.Source { return controlSource(t, "ok", 3, opts...) })
	})
	t.Run("docker", func(t *testing.T) {
		cli := testenv.Docker(t)
		const image = "goairbyte/srctest-controlsource:dev"
		testenv.BuildImage(t, cli, "./source/internal/controlsource", image)
		testConfigChangeCallback(t, func(opts ...connector.Option) *source.Source {
			cfg := map[string]any{"api_key": apiKey, "mode": "ok", "count": 3}
			return newSource(t, "srctest-control", append([]connector.Option{connector.WithDockerImage(image), connector.WithConfig(cfg)}, opts...)...)
		})
	})
}

func testConfigChangeCallback(t *testing.T, build func(...connector.Option) *source.Source) {
	var got []map[string]any
	src := build(connector.WithConfigChangeCallback(func(c map[string]any) { got = append(got, c) }))
	n := 0
	for rec, err := range src.Records(context.Background(), "items") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		// "extra" is not declared in the schema: pruned by default.
		if _, ok := rec.Get("extra"); ok {
			t.Fatalf("undeclared field kept: %v", rec.Map())
		}
		if name, ok := rec.Get("name"); !ok || !strings.HasPrefix(name.(string), "item ") {
			t.Fatalf("Get(name) on field Name: %v %v", name, ok)
		}
	}
	if n != 3 {
		t.Fatalf("%d records", n)
	}
	if len(got) != 1 || got[0]["api_key"] != apiKey+"-refreshed" {
		t.Fatalf("callback calls: %v", got)
	}
	if c := src.Config(); c["api_key"] != apiKey+"-refreshed" {
		t.Fatalf("config not updated: %v", c)
	}
}

// TestConfigChangeCannotNameSecrets: a connector that sends back a config
// naming a secret it was not given (secret_reference::NAME) is not given
// that secret on its next run: its config change is ignored. Not parallel:
// it sets an environment variable.
func TestConfigChangeCannotNameSecrets(t *testing.T) {
	const other = "sk-other-key-0042"
	t.Setenv("CONTROLSOURCE_OTHER_KEY", other)
	src := controlSource(t, "steal", 1)
	for range 2 {
		for rec, err := range src.Records(context.Background(), "items") {
			if err != nil {
				t.Fatal(err)
			}
			if name, _ := rec.Get("name"); name != apiKey {
				t.Fatalf("the connector was given %q as its api_key, want the one configured", name)
			}
		}
	}
	if c := src.Config(); c["api_key"] != apiKey {
		t.Fatalf("config after the change: %v", c)
	}
}

func TestRecordOptions(t *testing.T) {
	t.Parallel()
	src := controlSource(t, "ok", 1)
	for rec, err := range src.Records(context.Background(), "items", source.KeepUndeclaredFields(), source.NormaliseNames()) {
		if err != nil {
			t.Fatal(err)
		}
		m := rec.Map()
		if m["extra"] != true || m["name"] != "item 1" || m["Name"] != nil {
			t.Fatalf("Map with KeepUndeclaredFields and NormaliseNames: %v", m)
		}
		if !strings.Contains(string(rec.Raw()), `"Name"`) {
			t.Fatalf("Raw must be the connector's bytes: %s", rec.Raw())
		}
	}
}

func TestIncompleteStream(t *testing.T) {
	t.Parallel()
	src := controlSource(t, "incomplete", 2)
	n := 0
	var last error
	for _, err := range src.Records(context.Background(), "items") {
		if err != nil {
			last = err
			continue
		}
		n++
	}
	var ie *source.IncompleteStreamError
	if n != 2 || !errors.As(last, &ie) || ie.Stream != "items" || ie.Status != "STARTED" {
		t.Fatalf("want 2 records then *IncompleteStreamError, got %d records and %v", n, last)
	}
}

func TestSecretsMasked(t *testing.T) {
	// Not parallel: masking is process-wide, and a secret another test
	// registers could mask a word this test looks for.
	ctx := context.Background()
	// Check FAILED: the connector's message quotes the key.
	src := controlSource(t, "fail", 1)
	err := src.Check(ctx)
	var cf *connector.CheckFailedError
	if !errors.As(err, &cf) || strings.Contains(err.Error(), apiKey) || !strings.Contains(err.Error(), "****") {
		t.Fatalf("want a masked *CheckFailedError, got %v", err)
	}
	// A read that fails with the (old) key on stderr after the connector
	// replaced it through CONTROL: both keys stay secret.
	var last error
	for _, err := range src.Records(ctx, "items") {
		if err != nil {
			last = err
		}
	}
	var ce *executor.ConnectorError
	if !errors.As(last, &ce) {
		t.Fatalf("want *executor.ConnectorError, got %v", last)
	}
	text := last.Error() + strings.Join(ce.StderrTail, "\n")
	// Not "authentication failed": TestReferencesResolvedAtRunTimeNotStored
	// registers "fail" as a secret (a resolved reference), which masks it
	// here when that test ran first (-count=2, -shuffle).
	if strings.Contains(text, apiKey) || !strings.Contains(text, "authentication ") || !strings.Contains(text, " for key ****") {
		t.Fatalf("stderr not masked or lost: %q", text)
	}

	// ValidateConfig never echoes a secret field's value, not even one too
	// short for text masking (the pattern rule's message would quote it).
	bad := newSource(t, "source-control", connector.WithLocalExecutable(testenv.BuildBinary(t, "./source/internal/controlsource")),
		connector.WithConfig(map[string]any{"api_key": "xy1", "mode": "nope"}))
	err = bad.ValidateConfig(ctx)
	var ve *connector.ConfigValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("want 3 problems (api_key too short and not matching, mode not in enum), got %v", err)
	}
	if strings.Contains(err.Error(), "xy1") || !strings.Contains(err.Error(), "api_key:") || !strings.Contains(err.Error(), "mode:") {
		t.Fatalf("validation error echoes the secret or misses a field: %v", err)
	}
}
