package executor_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/protocol"
)

// A container the kernel kills for lack of memory ends with exit status
// 137 and nothing on stderr: the error said "exit status 137" only. It now
// says the connector ran out of memory. The limit is set on the running
// container (Method has no memory knob; the engine's or the machine's
// limits are what users meet), before the input that needs the memory.
func TestDockerOutOfMemory(t *testing.T) {
	t.Parallel()
	d, cli := newDocker(t, "echo")
	in, feed := io.Pipe()
	go func() {
		defer feed.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for ctx.Err() == nil {
			res, err := cli.ContainerList(ctx, client.ContainerListOptions{
				Filters: make(client.Filters).Add("label", "io.goairbyte.connector="+d.Name()),
			})
			if err != nil {
				feed.CloseWithError(err)
				return
			}
			if len(res.Items) == 1 {
				limit := int64(24 << 20)
				if _, err := cli.ContainerUpdate(ctx, res.Items[0].ID, client.ContainerUpdateOptions{
					Resources: &container.Resources{Memory: limit, MemorySwap: limit},
				}); err != nil {
					feed.CloseWithError(err)
					return
				}
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		// One 64 MiB record: the connector holds it whole.
		line := `{"type":"RECORD","record":{"stream":"items","emitted_at":1,"data":{"pad":"` + strings.Repeat("x", 64<<20) + `"}}}` + "\n"
		io.WriteString(feed, line)
	}()
	_, err := collect(d.Run(context.Background(), executor.Invocation{Verb: executor.VerbWrite, Catalog: itemsCatalog, Stdin: in}))
	in.Close()
	ce := asConnectorError(t, err)
	if ce.ExitCode != 137 {
		t.Fatalf("want exit status 137, got %v", err)
	}
	if !strings.Contains(err.Error(), "out of memory") {
		t.Errorf("the error does not say the connector ran out of memory: %v", err)
	}
}

// A container killed by a signal from outside (docker kill, docker stop
// after its timeout, the machine's out-of-memory killer) exits with status
// 128+n; the error said "exit status 137" and nothing more. It now names
// the signal.
func TestDockerKilledFromOutside(t *testing.T) {
	t.Parallel()
	d, cli := newDocker(t, "hang")
	var last error
	for m, err := range d.Run(context.Background(), executor.Invocation{Verb: executor.VerbRead, Catalog: itemsCatalog}) {
		if err != nil {
			last = err
			break
		}
		if m.Type != protocol.TypeRecord {
			continue
		}
		res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{
			Filters: make(client.Filters).Add("label", "io.goairbyte.connector="+d.Name()),
		})
		if err != nil || len(res.Items) != 1 {
			t.Fatalf("the running container: %v, %v", res.Items, err)
		}
		if _, err := cli.ContainerKill(context.Background(), res.Items[0].ID, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
			t.Fatal(err)
		}
	}
	ce := asConnectorError(t, last)
	if ce.ExitCode != 137 || !strings.Contains(last.Error(), "signal SIGKILL") || strings.Contains(last.Error(), "ran out of memory") {
		t.Fatalf("want exit status 137 said to be SIGKILL, not an out-of-memory kill, got %v", last)
	}
}
