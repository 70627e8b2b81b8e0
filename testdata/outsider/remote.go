package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/cloud"
	"github.com/x/goairbyte/connections"
	"github.com/x/goairbyte/fivetran"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/watch"
)

// vault is the platform team's own secret manager.
type vault map[string]string

func (vault) Name() string { return "team vault" }

func (v vault) Get(_ context.Context, name string) (secrets.SecretString, bool, error) {
	s, ok := v[name]
	return secrets.NewSecretString(s), ok, nil
}

// workspaceFile is the team's connections file, kept in git; LAKE is
// replaced by a path in the journey's directory.
const workspaceFile = `
sources:
  crm:
    type: source-faker
    config: {count: 30, seed: 4}
destinations:
  lake:
    type: destination-duckdb
    config: {destination_path: LAKE}
  dwh:
    type: destination-postgres
    config:
      host: dwh.internal
      port: 5432
      database: analytics
      schema: raw
      username: loader
      password: secret_reference::DWH_PASSWORD
connections:
  crm-to-lake:
    source: crm
    destination: lake
    prefix: crm_
    streams:
      users: {sync_mode: full_refresh_overwrite}
  crm-to-dwh:
    source: crm
    destination: dwh
    schedule: "0 0 * * * ?"
    streams:
      users: {sync_mode: incremental_deduped_history, cursor_field: [updated_at], primary_key: [[id]]}
`

// remoteJourney is a platform team's sync service replacing a Dagster job
// (dagster-airbyte's managed elements, dagster-fivetran's sync_and_poll),
// from docs/remote.md and the package docs: a connections file planned and
// applied with a secret from the team's vault, drift made through the API
// and put back, a config the connector's spec refuses caught by the plan,
// a declaration removed (left alone), a sync found by its connection's
// name and read back, a Fivetran resync through a quota reschedule, and a
// watcher that ends on a Fivetran id typo and, restarted from its cursor,
// tells of each finished sync once. ftManual is a Fivetran connection on
// the manual schedule whose next sync runs out of quota.
func remoteJourney(ctx context.Context, airbyteURL, workspace, fivetranURL, ftManual, dir string) error {
	id, err := secrets.GetSecret(ctx, "AIRBYTE_CLOUD_CLIENT_ID")
	if err != nil {
		return err
	}
	sec, err := secrets.GetSecret(ctx, "AIRBYTE_CLOUD_CLIENT_SECRET")
	if err != nil {
		return err
	}
	client, err := airbyteapi.New(airbyteURL, airbyteapi.WithClientCredentials(id.Reveal(), sec.Reveal()))
	if err != nil {
		return err
	}
	file := filepath.Join(dir, "workspace.yaml")
	reconciler := func(text string, opts ...connections.Option) (*connections.Reconciler, error) {
		if err := os.WriteFile(file, []byte(strings.Replace(text, "LAKE", filepath.Join(dir, "lake.duckdb"), 1)), 0o644); err != nil {
			return nil, err
		}
		cfg, err := connections.Load(file)
		if err != nil {
			return nil, err
		}
		opts = append(opts, connections.WithStateFile(filepath.Join(dir, "workspace.state.json")),
			connections.WithSecretOptions(secrets.WithManager(vault{"DWH_PASSWORD": secret}), secrets.WithPrompt(false)))
		return connections.New(client, workspace, cfg, opts...)
	}
	plan := func(r *connections.Reconciler) (*connections.Plan, error) {
		p, err := r.Plan(ctx)
		if err != nil {
			return nil, seen(err)
		}
		errs = append(errs, p.String()) // checked for the secret with the errors
		return p, nil
	}

	// Plan, apply, plan again: nothing.
	r, err := reconciler(workspaceFile)
	if err != nil {
		return err
	}
	p, err := plan(r)
	if err != nil {
		return err
	}
	first := len(p.Changes)
	want(strings.Contains(p.String(), "password: (secret)"), "the first plan does not show the password as a secret:\n%s", p)
	if err := r.Apply(ctx, p); err != nil {
		return seen(err)
	}
	if p, err = plan(r); err != nil {
		return err
	}
	want(p.Empty(), "the plan after apply:\n%s", p)

	// Find the connections by their names in the file.
	ws := cloud.NewWorkspace(client, workspace)
	byName := map[string]*cloud.Connection{}
	for c, err := range ws.Connections(ctx) {
		if err != nil {
			return err
		}
		byName[c.Name()] = c
	}
	lake := byName["crm-to-lake"]
	if lake == nil {
		return fmt.Errorf("no connection crm-to-lake among %v", byName)
	}

	// Drift: someone changes the prefix in Airbyte; the plan shows it, apply
	// puts it back.
	if err := patchConnection(ctx, airbyteURL, id.Reveal(), sec.Reveal(), lake.ID(), `{"prefix": "ui_"}`); err != nil {
		return err
	}
	if p, err = plan(r); err != nil {
		return err
	}
	drift := strings.TrimSpace(p.String())
	if err := r.Apply(ctx, p); err != nil {
		return seen(err)
	}
	if p, err = plan(r); err != nil {
		return err
	}
	want(p.Empty(), "the plan after the drift was applied:\n%s", p)

	// A port in words: the plan refuses it, naming the field, not a value.
	bad, err := reconciler(strings.Replace(workspaceFile, "port: 5432", "port: five", 1))
	if err != nil {
		return err
	}
	_, err = plan(bad)
	var ic *kit.InvalidConfigError
	want(errors.As(err, &ic) && len(ic.Problems) == 1 && ic.Problems[0].Field == "port", "a port in words: %v", err)

	// crm-to-dwh removed from the file: left alone, the plan empty.
	i := strings.Index(workspaceFile, "  crm-to-dwh:")
	fewer, err := reconciler(workspaceFile[:i])
	if err != nil {
		return err
	}
	if p, err = plan(fewer); err != nil {
		return err
	}
	want(p.Empty(), "removing a declaration plans:\n%s", p)

	// A sync found by name, waited for, read back.
	res, err := lake.RunSync(ctx)
	if err != nil {
		return seen(err)
	}
	job, err := res.Wait(ctx, cloud.PollInterval(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		return seen(err)
	}
	c, err := res.Cache(ctx)
	if err != nil {
		return seen(err)
	}
	users, err := c.Dataset(ctx, "users")
	if err != nil {
		c.Close()
		return seen(err)
	}
	rows, err := users.Count(ctx)
	c.Close()
	if err != nil {
		return err
	}

	// Fivetran: a resync of one table on the manual schedule, through a
	// quota reschedule.
	ft, err := fivetran.New(os.Getenv("FIVETRAN_API_KEY"), os.Getenv("FIVETRAN_API_SECRET"), fivetran.WithBaseURL(fivetranURL))
	if err != nil {
		return err
	}
	ftConn, err := ft.Connection(ctx, ftManual)
	if err != nil {
		return seen(err)
	}
	fast := fivetran.PollInterval(20*time.Millisecond, 200*time.Millisecond)
	fres, err := ft.ResyncAndPoll(ctx, ftManual, map[string][]string{ftConn.Schema: {"users"}}, fast)
	if err != nil {
		return seen(err)
	}

	// The watcher: a Fivetran id typo ends it before anything is told.
	w, err := watch.New(watch.Airbyte(client, lake.ID()), watch.Fivetran(ft, ftManual, "crm_typo"), watch.Interval(20*time.Millisecond))
	if err != nil {
		return err
	}
	var typo error
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	for ev, err := range w.Events(tctx, &watch.Cursor{}) {
		want(err != nil, "an event before the typo ended the watch: %+v", ev)
		typo = seen(err)
	}
	want(tctx.Err() == nil && errors.Is(typo, fivetran.ErrNotFound), "a Fivetran id typo: %v (the watch went on: %v)", typo, tctx.Err() != nil)
	cancel()

	// Restarted from its cursor, it tells each finished sync once.
	cursor := filepath.Join(dir, "watch.json")
	told := map[string]int{}
	tell := func(limit int, d time.Duration) error {
		w, err := watch.New(watch.Airbyte(client, lake.ID()), watch.Fivetran(ft, ftManual), watch.Interval(20*time.Millisecond), watch.SaveCursor(cursor))
		if err != nil {
			return err
		}
		cur, err := watch.LoadCursor(cursor)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		n := 0
		for ev, err := range w.Events(ctx, cur) {
			if err != nil {
				return seen(err)
			}
			logger.Info("sync finished", "service", ev.Service, "status", ev.Status) // downstream jobs read this
			told[fmt.Sprintf("%s %s %d %s", ev.Service, ev.Connection, ev.JobID, ev.CompletedAt)]++
			if n++; n == limit {
				break
			}
		}
		return nil
	}
	if err := tell(0, 200*time.Millisecond); err != nil { // learns where each connection is
		return err
	}
	if res, err = lake.RunSync(ctx); err != nil {
		return seen(err)
	}
	if _, err := res.Wait(ctx, cloud.PollInterval(20*time.Millisecond, 200*time.Millisecond)); err != nil {
		return seen(err)
	}
	if _, err := ft.SyncAndPoll(ctx, ftManual, fast); err != nil {
		return seen(err)
	}
	if err := tell(1, 10*time.Second); err != nil { // stopped after one
		return err
	}
	if err := tell(1, 10*time.Second); err != nil { // restarted: the other
		return err
	}
	if err := tell(0, 200*time.Millisecond); err != nil { // nothing more
		return err
	}
	twice := 0
	for _, n := range told {
		twice += n - 1
	}
	fmt.Printf("first plan %d changes; drift %q; job %s, %d users in %s; fivetran resync %d triggers; watch told %d syncs, %d twice\n",
		first, drift, job.Status, rows, users.QualifiedTableName(), fres.Triggers, len(told), twice)
	return nil
}

// patchConnection changes a connection through Airbyte's API directly, as
// someone in the UI would.
func patchConnection(ctx context.Context, base, clientID, clientSecret, id, body string) error {
	tok, err := http.Post(base+"/applications/token", "application/json",
		strings.NewReader(fmt.Sprintf(`{"client_id": %q, "client_secret": %q, "grant_type": "client_credentials"}`, clientID, clientSecret)))
	if err != nil {
		return err
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(tok.Body).Decode(&t)
	tok.Body.Close()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, base+"/connections/"+id, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PATCH connection: %s", resp.Status)
	}
	return nil
}
