package goairbyte_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/registry"
)

// The built-in connectors resolve without any registry, network or cache,
// whatever the process-wide loader was configured with.
func TestConnectorMetadataBuiltins(t *testing.T) {
	ctx := context.Background()
	for name, image := range map[string]string{
		"source-faker":           "goairbyte/source-faker:0.1.0",
		"destination-local-json": "goairbyte/destination-local-json:0.1.0",
	} {
		c, err := goairbyte.ConnectorMetadata(ctx, name)
		if err != nil || !c.BuiltIn || c.DockerRepository+":"+c.DockerImageTag != image {
			t.Fatalf("%s: %+v %v", name, c, err)
		}
	}
	if _, err := goairbyte.AvailableConnectors(ctx, "rust"); err == nil {
		t.Fatal("unknown install type accepted")
	}
}

func TestAvailableConnectorsFromLocalRegistry(t *testing.T) {
	fixture, _ := filepath.Abs("registry/testdata/oss_registry.json")
	// The default Environment is the process's: give it this registry for
	// the test and put the real one back after.
	env := goairbyte.DefaultEnvironment()
	prev := env.Registry()
	env.SetRegistry(registry.NewLoader(registry.WithLocalRegistry(fixture), registry.WithCacheDir("")))
	t.Cleanup(func() { env.SetRegistry(prev) })
	ctx := context.Background()

	names, err := goairbyte.AvailableConnectors(ctx, goairbyte.InstallPython)
	if err != nil || !slices.Equal(names, []string{"destination-duckdb", "source-facebook-pages", "source-github"}) {
		t.Fatalf("python: %v %v", names, err)
	}
	names, err = goairbyte.AvailableConnectors(ctx, goairbyte.InstallAny)
	if err != nil || !slices.Contains(names, "source-faker") || !slices.Contains(names, "source-postgres") ||
		!slices.IsSorted(names) {
		t.Fatalf("any: %v %v", names, err)
	}
	// source-cockroachdb is Java too, but tombstoned.
	names, err = goairbyte.AvailableConnectors(ctx, goairbyte.InstallJava)
	if err != nil || !slices.Equal(names, []string{"destination-postgres", "source-postgres"}) {
		t.Fatalf("java: %v %v", names, err)
	}
	// Only manifest-only connectors: source-facebook-pages is low-code
	// but published as a Python package.
	names, err = goairbyte.AvailableConnectors(ctx, goairbyte.InstallYAML)
	if err != nil || !slices.Equal(names, []string{"source-pokeapi"}) {
		t.Fatalf("yaml: %v %v", names, err)
	}
	names, err = goairbyte.AvailableConnectors(ctx, goairbyte.InstallDocker)
	// Every connector with an image, goairbyte's own among them (not the
	// in-process destination-noop, which has none); not the tombstoned.
	if err != nil || !slices.Equal(names, []string{"destination-duckdb", "destination-local-json", "destination-postgres",
		"source-declarative-manifest", "source-facebook-pages", "source-faker", "source-file", "source-github",
		"source-pokeapi", "source-postgres"}) {
		t.Fatalf("docker: %v %v", names, err)
	}
	c, err := goairbyte.ConnectorMetadata(ctx, "source-pokeapi")
	if err != nil || c.Language != "manifest-only" {
		t.Fatalf("pokeapi: %+v %v", c, err)
	}
	_, err = goairbyte.ConnectorMetadata(ctx, "source-gihtub")
	var nf *registry.NotFoundError
	if !errors.As(err, &nf) || nf.Suggestions[0] != "source-github" {
		t.Fatalf("typo: %v", err)
	}
}
