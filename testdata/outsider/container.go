package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/secrets"
)

// containerJourney is an SRE's sync service in a locked-down container (the
// test runs it with HOME and XDG_CACHE_HOME empty, TMPDIR on the
// "volume"): JSON logs through the masking handler, the default cache on
// the volume, a private API refusing its key, a connector name only the
// registry could know (which has no disk cache here, and must say which
// variable gives it one), and nothing of goairbyte's left in TMPDIR after
// the loads (the DuckDB spool of the default cache, which stays open).
func containerJourney(ctx context.Context, volume string) error {
	var jsonLogs bytes.Buffer
	env := goairbyte.DefaultEnvironment()
	env.SetLogger(slog.New(secrets.NewMaskingHandler(slog.NewJSONHandler(io.MultiWriter(&jsonLogs, &logs), nil))))
	env.SetCacheDir(filepath.Join(volume, "cache"))

	api := widgetsAPI()
	defer api.Close()
	src, err := goairbyte.GetSource(ctx, "source-widgets", connector.WithManifest([]byte(manifest)),
		connector.WithConfig(map[string]any{"base_url": api.URL, "api_key": "wrong-key"}))
	if err != nil {
		return err
	}
	checkErr := seen(src.Check(ctx))
	want(errors.Is(checkErr, goairbyte.ErrCheckFailed), "a refused key: %v, want ErrCheckFailed", checkErr)
	if err := src.SetConfig(map[string]any{"base_url": api.URL, "api_key": secret}); err != nil {
		return err
	}
	items, err := src.Read(ctx)
	if err != nil {
		return err
	}
	faker, err := goairbyte.GetSource(ctx, "source-faker", connector.WithConfig(map[string]any{"count": 20}))
	if err != nil {
		return err
	}
	users, err := faker.Read(ctx)
	if err != nil {
		return err
	}
	_, unknown := goairbyte.GetSource(ctx, "source-only-the-registry-knows")
	seen(unknown)
	want(unknown != nil, "a connector no one knows was found")

	var left []string
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "goairbyte-") || strings.HasPrefix(e.Name(), ".goairbyte-") {
			left = append(left, e.Name())
		}
	}
	lines, allJSON := 0, true
	for line := range strings.Lines(jsonLogs.String()) {
		lines++
		allJSON = allJSON && json.Valid([]byte(line))
	}
	_, ferr := os.Stat(filepath.Join(volume, "cache", "default_cache", "default_cache.duckdb"))
	fmt.Printf("container: items %v, users %v, cache on the volume %v, left in TMPDIR %v, %d log lines all JSON %v, registry names XDG_CACHE_HOME %v\n",
		items.StreamRecords(), users.StreamRecords()["users"], ferr == nil, left, lines, allJSON,
		strings.Contains(jsonLogs.String(), "XDG_CACHE_HOME"))
	return nil
}
