// Command connections-as-code keeps an Airbyte workspace in line with a
// YAML file, as Dagster's managed elements and Airbyte's Terraform provider
// do: it plans (prints how the workspace differs from connections.yaml),
// applies, plans again (nothing left to do), then changes the file and
// shows the smaller plan that follows.
//
//	go run ./examples/connections-as-code
//
// It needs no Airbyte: it starts goairbyte's in-repo Airbyte test server on
// 127.0.0.1 (internal/airbytetest), which checks every request against
// Airbyte's published API description, masks secrets as Airbyte does and
// runs real syncs with goairbyte's faker (built from ./cmd/source-faker).
// Point the same code at Airbyte Cloud with airbyteapi.CloudURL and
// client credentials, or use goab plan / goab apply.
//
// The file's motherduck_api_key is a secret_reference: it is looked up in
// the environment (the example sets a made-up MOTHERDUCK_API_KEY when there
// is none) and never printed; the state file keeps an HMAC of it, so that
// the second plan knows it has not changed.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/connections"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/exampleutil"
)

//go:embed connections.yaml
var declared string

func main() {
	exampleutil.MainWithFaker(func(ctx context.Context, faker, dir string) error { return run(ctx, os.Stdout, faker, dir) })
}

// run plans and applies connections.yaml against a fresh test server,
// keeping its files in dir, and prints the plans to w.
func run(ctx context.Context, w io.Writer, faker, dir string) error {
	if os.Getenv("MOTHERDUCK_API_KEY") == "" {
		os.Setenv("MOTHERDUCK_API_KEY", "md-made-up-key-for-the-example")
	}
	var v exampleutil.Violations
	srv, err := airbytetest.New(&v, faker)
	if err != nil {
		return err
	}
	defer srv.Close()
	client, err := airbyteapi.New(srv.URL, airbyteapi.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret))
	if err != nil {
		return err
	}
	file := filepath.Join(dir, "connections.yaml")
	text := strings.Replace(declared, "WAREHOUSE_PATH", filepath.Join(dir, "warehouse.duckdb"), 1)
	state := filepath.Join(dir, "connections.state.json")

	step := func(title, text string) error {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			return err
		}
		cfg, err := connections.Load(file)
		if err != nil {
			return err
		}
		r, err := connections.New(client, srv.WorkspaceID, cfg, connections.WithStateFile(state))
		if err != nil {
			return err
		}
		p, err := r.Plan(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "== %s\n", title)
		if p.Empty() {
			fmt.Fprintln(w, "No changes.")
			return nil
		}
		fmt.Fprint(w, p)
		if err := r.Apply(ctx, p); err != nil {
			return err
		}
		fmt.Fprintf(w, "Applied %d change(s).\n", len(p.Changes))
		return nil
	}
	if err := step("plan and apply connections.yaml", text); err != nil {
		return err
	}
	if err := step("plan again", text); err != nil {
		return err
	}
	changed := strings.NewReplacer("count: 200", "count: 500", `schedule: "0 0 * * * ?"`, "schedule: manual").Replace(text)
	if err := step("after editing count and schedule", changed); err != nil {
		return err
	}
	return v.Err()
}
