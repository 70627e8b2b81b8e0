package goairbyte_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/source"
)

// TestMain gives the examples below a scratch directory for the default
// cache, so that nothing is written into the repository. (goairbyte's own
// connectors, which they use, run in process.)
func TestMain(m *testing.M) {
	killChildMain() // returns unless this process is a child of TestManifestKill
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	defer testenv.Teardown()
	work, err := os.MkdirTemp("", "goairbyte-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	// The default cache is ./.cache/default_cache/default_cache.duckdb
	// under the working directory; the other tests of this package need
	// the working directory to stay the repository's, so the default moves.
	// A child of TestDefaultCacheInTheWorkingDirectory or of
	// TestDefaultEnvironmentReadsAirbyteDirs keeps the default.
	if os.Getenv(defaultCacheWorkEnv) == "" && os.Getenv(airbyteDirsChildEnv) == "" {
		goairbyte.DefaultEnvironment().SetCacheDir(work)
	}
	return m.Run()
}

func ExampleGetSource() {
	ctx := context.Background()
	// No way of running it given: goairbyte's own faker runs in process.
	// connector.WithDockerImage, WithLocalExecutable or WithPipURL choose one.
	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(map[string]any{"count": 100, "seed": 42}))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := src.Check(ctx); err != nil {
		fmt.Println(err) // a *connector.CheckFailedError when the config is wrong
		return
	}
	streams, err := src.AvailableStreams(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(streams)
	// Output: [products users purchases]
}

func ExampleSource_Records() {
	ctx := context.Background()
	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(map[string]any{"count": 100, "seed": 42}))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Records streams one stream, with no cache. The loop may stop at any
	// time; the connector stops with it.
	for rec, err := range src.Records(ctx, "users", source.Limit(3)) {
		if err != nil {
			fmt.Println(err)
			return
		}
		id, _ := rec.Get("id")
		name, _ := rec.Get("name")
		fmt.Println(id, name)
	}
	// Output:
	// 1 Cynthia Williams
	// 2 Matthew Wood
	// 3 Deborah Cook
}

func ExampleSource_Read() {
	ctx := context.Background()
	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(map[string]any{"count": 100, "seed": 42}))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Read loads every stream into the default cache,
	// ./.cache/default_cache/default_cache.duckdb; source.UseCache picks
	// another (goairbyte.NewLocalCache, cache.Open).
	res, err := src.Read(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, stream := range res.ProcessedStreams() {
		fmt.Println(stream, res.StreamRecords()[stream])
	}
	users, err := res.Stream(ctx, "users")
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := users.Where("id <= ?", 10).Count(ctx)
	fmt.Println("users with id <= 10:", n, err)
	// Output:
	// products 100
	// users 100
	// purchases 100
	// users with id <= 10: 10 <nil>
}

func ExampleDestination_Write() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "goairbyte-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	c, err := goairbyte.NewLocalCache(ctx, "write_example", dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithConfig(map[string]any{"count": 50, "seed": 42}),
		connector.WithStreams("users"))
	if err != nil {
		fmt.Println(err)
		return
	}
	dst, err := goairbyte.GetDestination(ctx, "destination-local-json",
		connector.WithConfig(map[string]any{"destination_path": filepath.Join(dir, "out")}))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Write takes a Source (read into a cache first: the default cache
	// unless destination.UseCache says otherwise) or, as here, the result
	// of a read already in a cache. It sends the rows the destination has
	// not confirmed yet; the destination's state is kept in the same cache.
	read, err := src.Read(ctx, source.UseCache(c))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := dst.Write(ctx, read)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent:", res.RecordsSent, "confirmed:", res.TotalConfirmed())

	// All confirmed: a second Write sends nothing.
	res, err = dst.Write(ctx, read)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent again:", res.TotalSent())
	// Output:
	// sent: map[users:50] confirmed: 50
	// sent again: 0
}

func ExampleGetSecret() {
	ctx := context.Background()
	os.Setenv("EXAMPLE_API_TOKEN", "example-token-1234")
	defer os.Unsetenv("EXAMPLE_API_TOKEN")

	token, err := goairbyte.GetSecret(ctx, "EXAMPLE_API_TOKEN")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(token, len(token.Reveal()))
	fmt.Println(secrets.Mask("Authorization: Bearer example-token-1234"))

	_, err = goairbyte.GetSecret(ctx, "EXAMPLE_MISSING_TOKEN", secrets.WithPrompt(false))
	var notFound *goairbyte.SecretNotFoundError
	fmt.Println(errors.As(err, &notFound), notFound.Name)
	// Output:
	// **** 18
	// Authorization: Bearer ****
	// true EXAMPLE_MISSING_TOKEN
}
