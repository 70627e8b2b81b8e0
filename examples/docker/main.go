// Command docker runs the faker source as a Docker container — the way
// most Airbyte connectors ship — and reads it into a DuckDB cache.
//
//	make images                 # once: builds goairbyte/source-faker:0.1.0 (and the destination's image)
//	go run ./examples/docker
//	go run ./examples/docker -count 100 -image airbyte/source-faker:6.2.21
//
// connector.WithDockerImage(image) runs every connector command (spec, check,
// discover, read) in a fresh container that is removed when it ends; the
// config and catalog are copied in as files and the records come out on
// the container's stdout. goairbyte's own faker image is built locally by
// `make images` (FROM scratch around the static binary, no registry needed).
// The example turns off installing on first use, so that a missing image
// is reported at once (as an *executor.NotInstalledError) instead of being
// pulled from Docker Hub; any Airbyte source image works the same way.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/source"
)

func main() {
	image := flag.String("image", "goairbyte/source-faker:0.1.0", "Docker image of the faker source")
	count := flag.Int("count", 1000, "number of users (and purchases) the faker generates")
	flag.Parse()
	// A library is silent unless asked: show the live progress line and
	// the summary of every read and write on stderr.
	goairbyte.DefaultEnvironment().SetProgress()
	if err := mainErr(*image, *count); err != nil {
		log.Fatal(err)
	}
}

func mainErr(image string, count int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "goairbyte-docker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	err = run(ctx, os.Stdout, image, dir, count)
	var missing *goairbyte.NotInstalledError
	switch {
	case errors.As(err, &missing):
		return fmt.Errorf("%w\n(goairbyte's own images are built with: make images)", err)
	case errors.Is(err, goairbyte.ErrDockerUnavailable):
		return fmt.Errorf("%w\n(this example needs a running Docker engine)", err)
	}
	return err
}

// run checks the faker image, streams a few users straight out of a
// container, then reads every stream into a DuckDB cache under dir.
func run(ctx context.Context, w io.Writer, image, dir string, count int) error {
	src, err := goairbyte.GetSource(ctx, "source-faker",
		connector.WithDockerImage(image),
		connector.WithInstallIfMissing(false),
		connector.WithConfig(map[string]any{"count": count, "seed": 42}))
	if err != nil {
		return err
	}
	if err := src.Check(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "connection check passed: %s\n", src)

	// Records streams one stream with no cache; breaking out of the loop
	// (here: Limit) stops and removes the container at once.
	for rec, err := range src.Records(ctx, "users", source.Limit(3)) {
		if err != nil {
			return err
		}
		id, _ := rec.Get("id")
		email, _ := rec.Get("email")
		fmt.Fprintf(w, "user %v: %v\n", id, email)
	}

	c, err := goairbyte.NewLocalCache(ctx, "docker_example", dir)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := src.Read(ctx, source.UseCache(c))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "read %d records from the container:", res.RecordsProcessed())
	for _, name := range res.ProcessedStreams() {
		fmt.Fprintf(w, " %s %d", name, res.StreamRecords()[name])
	}
	fmt.Fprintln(w)
	return nil
}
