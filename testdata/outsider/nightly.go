package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
)

// nightlyJourney is a PyAirbyte nightly script ported: Airbyte's own
// manifest of source-buzzsprout, from GOAIRBYTE_MANIFEST_DIR, read into the
// default cache under AIRBYTE_CACHE_ROOT, its temporary files in
// AIRBYTE_TEMP_DIR, and its API played on 127.0.0.1. Both its streams
// declare no property: their records come back whole, from Dataset.Records
// and from SQL on _airbyte_data. Then the temp directory is one not made:
// the error says so, and does not send the program to move the cache.
func nightlyJourney(ctx context.Context) error {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/episodes.json"):
			json.NewEncoder(w).Encode([]map[string]any{
				{"id": 1, "title": "one", "published_at": "2024-03-01T10:00:00.000+00:00", "tags": []string{"a"}},
				{"id": 2, "title": "two", "published_at": "2024-04-01T10:00:00.000+00:00", "extra": map[string]any{"x": 1}},
			})
		case strings.HasSuffix(r.URL.Path, "/podcasts.json"):
			json.NewEncoder(w).Encode([]map[string]any{{"id": 77, "title": "pod"}})
		default:
			http.Error(w, `{"error":"not here"}`, http.StatusNotFound)
		}
	}))
	defer api.Close()
	env := goairbyte.DefaultEnvironment()
	env.SetHTTPClient(&http.Client{Transport: toServer{strings.TrimPrefix(api.URL, "http://")}})
	env.SetLogger(logger)
	cfg := connector.WithConfig(map[string]any{"api_key": secret, "podcast_id": "123", "start_date": "2024-01-01T00:00:00Z"})
	src, err := goairbyte.GetSource(ctx, "source-buzzsprout", cfg)
	if err != nil {
		return err
	}
	var counts []string
	for range 2 { // nightly: the second run merges on id
		res, err := src.Read(ctx)
		if err != nil {
			return seen(err)
		}
		counts = append(counts, fmt.Sprint(res.StreamRecords()))
	}
	c, err := goairbyte.DefaultCache(ctx)
	if err != nil {
		return err
	}
	var file string
	if err := c.DB().QueryRowContext(ctx, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()").Scan(&file); err != nil {
		return err
	}
	want(file == filepath.Join(os.Getenv("AIRBYTE_CACHE_ROOT"), "default_cache", "default_cache.duckdb"), "the default cache is %s, not under AIRBYTE_CACHE_ROOT", file)
	episodes, err := c.Dataset(ctx, "episodes")
	if err != nil {
		return err
	}
	var titles []string
	for rec, err := range episodes.Records(ctx) {
		if err != nil {
			return err
		}
		titles = append(titles, fmt.Sprintf("%v:%v tags %v extra %v", rec["id"], rec["title"], rec["tags"], rec["extra"]))
	}
	var x string
	if err := c.DB().QueryRowContext(ctx, "SELECT _airbyte_data->'extra'->>'x' FROM "+episodes.QualifiedTableName()+" WHERE id = 2").Scan(&x); err != nil {
		return err
	}
	left, err := os.ReadDir(os.Getenv("AIRBYTE_TEMP_DIR"))
	want(err == nil && len(left) == 0, "left in AIRBYTE_TEMP_DIR: %v %v", left, err)

	missing := filepath.Join(os.Getenv("AIRBYTE_TEMP_DIR"), "not-made")
	os.Setenv("AIRBYTE_TEMP_DIR", missing)
	other := goairbyte.NewEnvironment()
	other.SetCacheDir(filepath.Join(filepath.Dir(file), "other"))
	other.SetHTTPClient(&http.Client{Transport: toServer{strings.TrimPrefix(api.URL, "http://")}})
	src, err = goairbyte.GetSource(ctx, "source-buzzsprout", cfg, connector.WithEnvironment(other))
	if err != nil {
		return err
	}
	_, err = src.Read(ctx)
	seen(err)
	want(err != nil && strings.Contains(err.Error(), missing) && !strings.Contains(err.Error(), "SetCacheDir") && errors.Is(err, os.ErrNotExist),
		"a read with AIRBYTE_TEMP_DIR not made: %v, want an error naming it, not SetCacheDir", err)
	fmt.Printf("source-buzzsprout: %s, episodes %s, SQL extra.x %s\n", strings.Join(counts, " then "), strings.Join(titles, ", "), x)
	return nil
}
