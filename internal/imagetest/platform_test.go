package imagetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
)

// platformScript is the shell script the Airbyte platform runs a connector
// with, `sh -c` in the connector's container, written after
// airbyte-platform's airbyte-workload-launcher/.../ContainerCommandFactory.kt
// (connectorCommandWrapper): the command comes from AIRBYTE_ENTRYPOINT
// through eval, stdout and stderr go to files (named pipes there), a loop
// with sleep watches for a termination file, and the exit code is written
// to a file and returned. stdin, when given, is a file too.
func platformScript(args, stdin string) string {
	redirect := ""
	if stdin != "" {
		redirect = " < " + stdin
	}
	return fmt.Sprintf(`if [ -z "$AIRBYTE_ENTRYPOINT" ]; then
  echo "Entrypoint was not set! AIRBYTE_ENTRYPOINT must be set in the container."
  exit 127
fi
(eval "$AIRBYTE_ENTRYPOINT %s" 2> stderr > stdout%s) &
CHILD_PID=$!
(while true; do if [ -f TERMINATED ]; then kill $CHILD_PID; exit 0; fi; sleep 1; done) &
wait $CHILD_PID
EXIT_CODE=$?
echo $EXIT_CODE > exitCode.txt
touch TERMINATED
exit $EXIT_CODE`, args, redirect)
}

// runAsPlatform runs one command of image the way the Airbyte platform
// does (platformScript, as a user that is not root, in a mounted working
// directory holding the config.json and catalog.json of inputs) and
// returns the connector's stdout. It fails the test unless the container
// and the connector both exit 0.
func runAsPlatform(ctx context.Context, t *testing.T, cli *client.Client, image, inputs, args, stdin string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if stdin != "" {
		if err := os.WriteFile(filepath.Join(dir, "stdin"), []byte(stdin), 0o644); err != nil {
			t.Fatal(err)
		}
		stdin = "stdin"
	}
	for _, f := range []string{"config.json", "catalog.json"} {
		if b, err := os.ReadFile(filepath.Join(inputs, f)); err == nil {
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	res := testenv.RunContainer(ctx, t, cli, testenv.ContainerRun{
		Image:      image,
		Entrypoint: []string{"sh", "-c", platformScript(args, stdin)},
		Binds:      []string{dir + ":/source"},
		WorkingDir: "/source",
		User:       "1000:1000", // the platform's rootless security context
	})
	stderr, _ := os.ReadFile(filepath.Join(dir, "stderr"))
	code, _ := os.ReadFile(filepath.Join(dir, "exitCode.txt"))
	if res.ExitCode != 0 || strings.TrimSpace(string(code)) != "0" {
		t.Fatalf("%s %s as the platform runs it: container exit %d, connector exit %q\ncontainer output: %s%s\nconnector stderr: %s",
			image, args, res.ExitCode, strings.TrimSpace(string(code)), res.Stdout, res.Stderr, stderr)
	}
	out, err := os.ReadFile(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImagesRunAsThePlatformRunsThem runs each of our connector images as
// the Airbyte platform starts a connector: entrypoint replaced by sh -c,
// the connector found in AIRBYTE_ENTRYPOINT. A FROM scratch image with only
// the binary fails there at once (no /bin/sh), as does one without
// AIRBYTE_ENTRYPOINT (exit 127). The images also carry the
// io.airbyte.name and io.airbyte.version labels of Airbyte's connector
// images, the version their tag's, and AIRBYTE_ENTRYPOINT is their
// entrypoint, as Airbyte's acceptance tests require.
func TestImagesRunAsThePlatformRunsThem(t *testing.T) {
	cli := testenv.Docker(t)
	faker := testenv.FakerImage(t, cli)
	dest := testenv.LocalJSONImage(t, cli)
	manifest := testenv.DeclarativeManifestImage(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	inputs := t.TempDir()
	writeJSON(t, filepath.Join(inputs, "config.json"), map[string]any{"count": 10, "seed": 1, "destination_path": "/source/out"})
	writeJSON(t, filepath.Join(inputs, "catalog.json"), map[string]any{"streams": []any{map[string]any{
		"stream":    map[string]any{"name": "users", "json_schema": map[string]any{}, "supported_sync_modes": []string{"full_refresh"}},
		"sync_mode": "full_refresh", "destination_sync_mode": "overwrite",
	}}})

	for _, image := range []string{faker, dest, manifest} {
		only(t, messages(t, runAsPlatform(ctx, t, cli, image, inputs, "spec", "")), protocol.TypeSpec)
		inspect, err := cli.ImageInspect(ctx, image)
		if err != nil {
			t.Fatal(err)
		}
		name, version, _ := strings.Cut(image, ":")
		if l := inspect.Config.Labels; l["io.airbyte.name"] != name || l["io.airbyte.version"] != version {
			t.Errorf("%s: labels %v, want io.airbyte.name=%s and io.airbyte.version=%s", image, l, name, version)
		}
		// Airbyte's connector acceptance tests hold AIRBYTE_ENTRYPOINT to the
		// entrypoint, joined by spaces (airbyte, connector_acceptance_test
		// tests/test_core.py, test_image_environment_variables).
		entry := strings.Join(inspect.Config.Entrypoint, " ")
		if !slices.Contains(inspect.Config.Env, "AIRBYTE_ENTRYPOINT="+entry) {
			t.Errorf("%s: environment %v, want AIRBYTE_ENTRYPOINT=%s, its entrypoint", image, inspect.Config.Env, entry)
		}
	}
	// The engine spools an AsyncRetriever's downloads in /tmp, which a
	// FROM scratch image has not: the manifest image makes it, for anyone.
	res := testenv.RunContainer(ctx, t, cli, testenv.ContainerRun{Image: manifest, User: "1000:1000",
		Entrypoint: []string{"sh", "-c", "echo spooled > /tmp/spool && cat /tmp/spool"}})
	if res.ExitCode != 0 || strings.TrimSpace(string(res.Stdout)) != "spooled" {
		t.Errorf("%s: a file in /tmp as uid 1000: exit %d, %s%s", manifest, res.ExitCode, res.Stdout, res.Stderr)
	}
	out := runAsPlatform(ctx, t, cli, faker, inputs, "read --config config.json --catalog catalog.json", "")
	records := 0
	for _, m := range messages(t, out) {
		if m.Type == protocol.TypeRecord {
			records++
		}
	}
	if records != 10 {
		t.Errorf("the faker's read as the platform runs it: %d records, want 10", records)
	}
	only(t, messages(t, runAsPlatform(ctx, t, cli, dest, inputs, "write --config config.json --catalog catalog.json", string(out))), protocol.TypeState)
}
