// Command destination syncs the faker source into a destination connector,
// goairbyte's local-JSON destination, twice: the second sync sends only the
// records the destination has not confirmed yet.
//
//	go run ./examples/destination               # 1,000 users, then 2,000
//	go run ./examples/destination -count 50
//
// Destination.Write reads the source into a cache first (incrementally, as
// Source.Read does) and then sends the destination every row it has not
// confirmed. The destination confirms by echoing STATE messages; those are
// stored in the cache too, apart from the source's state, and are the only
// thing that moves the destination's watermark forward. So the second sync
// — with the faker's count doubled, and always_updated false so that it
// emits only records newer than its state — reads just the new users and
// purchases and sends just those.
//
// The destination writes <destination_path>/_airbyte_raw_<stream>.jsonl.
// Both connectors are goairbyte's own and run in process; run as Docker
// images they would take connector.WithDockerImage plus
// connector.WithLocalMount(dir), which mounts dir at /local in the
// container.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
)

func main() {
	count := flag.Int("count", 1000, "number of users the first sync sends; the second has twice as many")
	flag.Parse()
	// A library is silent unless asked: show the live progress line and
	// the summary of every read and write on stderr.
	goairbyte.DefaultEnvironment().SetProgress()
	if err := mainErr(*count); err != nil {
		log.Fatal(err)
	}
}

func mainErr(count int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "goairbyte-destination-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return run(ctx, os.Stdout, dir, count)
}

// run syncs the faker into the local-JSON destination twice, with the cache
// and the output files under dir, and prints what each sync sent.
func run(ctx context.Context, w io.Writer, dir string, count int) error {
	c, err := goairbyte.NewLocalCache(ctx, "destination_example", dir)
	if err != nil {
		return err
	}
	defer c.Close()
	out := filepath.Join(dir, "out")

	// goairbyte's own connectors run in process; any other takes a way of
	// running it (connector.WithDockerImage, WithPipURL, ...).
	dst, err := goairbyte.GetDestination(ctx, "destination-local-json",
		connector.WithConfig(map[string]any{"destination_path": out}))
	if err != nil {
		return err
	}
	if err := dst.Check(ctx); err != nil {
		return err
	}
	for i, n := range []int{count, 2 * count} {
		src, err := goairbyte.GetSource(ctx, "source-faker",
			connector.WithConfig(map[string]any{"count": n, "seed": 42, "always_updated": false}))
		if err != nil {
			return err
		}
		res, err := dst.Write(ctx, src, destination.UseCache(c))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "sync %d (count %d): sent %d records, the destination confirmed %d\n",
			i+1, n, res.TotalSent(), res.TotalConfirmed())
		for _, stream := range []string{"products", "users", "purchases"} {
			lines, err := countLines(filepath.Join(out, "_airbyte_raw_"+stream+".jsonl"))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  %-9s sent %-6d %d lines in _airbyte_raw_%s.jsonl\n", stream, res.RecordsSent[stream], lines, stream)
		}
	}
	return nil
}

// countLines counts the lines of a file.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}
