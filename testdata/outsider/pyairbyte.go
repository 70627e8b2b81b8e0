package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

// pyairbyteJourney is PyAirbyte's quickstart ported line by line, from the
// README's "Coming from PyAirbyte": the faker with install_if_missing=True,
// check, select_all_streams, read into the default cache, then an
// incremental re-read, a forced full refresh, documents from the cache,
// replace without one, and a secret from .env named as a config names it.
func pyairbyteJourney(ctx context.Context) error {
	// source = ab.get_source("source-faker", config={...}, install_if_missing=True)
	cfg := map[string]any{"count": 50, "seed": 42, "always_updated": false}
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithConfig(cfg),
		connector.WithInstallIfMissing(true), connector.WithLogger(logger))
	if err != nil {
		return err
	}
	if err := src.Check(ctx); err != nil {
		return err
	}
	// source.configured_catalog: every stream when none is selected.
	cat, err := src.ConfiguredCatalog(ctx, nil)
	if err != nil {
		return err
	}
	want(len(cat.Streams) == 3, "ConfiguredCatalog with nothing selected has %d streams, want 3", len(cat.Streams))
	src.SelectAllStreams()
	// result = source.read()
	res, err := src.Read(ctx)
	if err != nil {
		return err
	}
	first := res.StreamRecords()
	// source.set_config(...); source.read(): the new records only.
	cfg["count"] = 100
	if err := src.SetConfig(cfg); err != nil {
		return err
	}
	if res, err = src.Read(ctx); err != nil {
		return err
	}
	second := res.StreamRecords()
	// source.read(force_full_refresh=True): everything, merged by key.
	if res, err = src.Read(ctx, source.ForceFullRefresh()); err != nil {
		return err
	}
	users, err := res.Stream(ctx, "users")
	if err != nil {
		return err
	}
	rows, err := users.Count(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s: read 1 %v, read 2 %v, full refresh %d records, %d users in %s\n",
		src, first, second, res.RecordsProcessed(), rows, users.QualifiedTableName())
	// result["users"].to_documents(title_property="name"): from the cache.
	docs := 0
	for d, err := range res.Documents(ctx, "users", source.TitleProperty("name")) {
		if err != nil {
			return err
		}
		want(d.ID != "" && strings.HasPrefix(d.Content, "# ") && !d.LastModified.IsZero(), "a document from the cache: %+v", d)
		docs++
	}
	want(int64(docs) == rows, "%d documents from the cache of %d users", docs, rows)
	// source.read(write_strategy="replace") without force_full_refresh:
	// PyAirbyte warns and keeps only the new records; goairbyte refuses.
	_, err = src.Read(ctx, source.Strategy(cache.StrategyReplace))
	want(errors.Is(seen(err), goairbyte.ErrStrategy), "replace on an incremental read: %v", err)

	// ab.get_secret("secret_reference::FAKER_SEED"), from ./.env.
	if err := os.WriteFile(".env", []byte("FAKER_SEED="+secret+"\n"), 0o600); err != nil {
		return err
	}
	s, err := goairbyte.GetSecret(ctx, "secret_reference::FAKER_SEED")
	want(err == nil && s.Reveal() == secret, "GetSecret of a config's reference: %v", err)
	_, err = goairbyte.GetSecret(ctx, "NOT_IN_DOTENV")
	want(errors.Is(seen(err), goairbyte.ErrSecretNotFound), "a missing secret: %v", err)
	return nil
}
