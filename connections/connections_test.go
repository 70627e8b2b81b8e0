package connections

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
	"github.com/x/goairbyte/internal/shareddata"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/kit"
)

func TestMain(m *testing.M) {
	shareddata.RequireForPackage("remote-specs")
	testenv.Main(m)
}

var update = flag.Bool("update", false, "rewrite the golden plans")

// The secret values of the declarations: none may ever be printed.
const (
	harvestAccount = "acct-7f3e1c"
	harvestToken   = "tok-a81be6f0"
	motherduckKey  = "md-key-55d1"
)

const declared = `
sources:
  faker:
    type: source-faker
    config: {count: 100, seed: 5}
  harvest:
    type: source-harvest
    config:
      account_id: secret_reference::HARVEST_ACCOUNT
      replication_start_date: "2024-01-01T00:00:00Z"
      credentials: {auth_type: Token, api_token: secret_reference::HARVEST_TOKEN}
destinations:
  warehouse:
    type: destination-duckdb
    config:
      destination_path: /tmp/goairbyte-connections-test.duckdb
      motherduck_api_key: secret_reference::MOTHERDUCK_KEY
connections:
  faker-to-warehouse:
    source: faker
    destination: warehouse
    schedule: "0 0 * * * ?"
    prefix: faker_
    streams:
      users: {sync_mode: incremental_deduped_history, cursor_field: [updated_at], primary_key: [[id]]}
      products: {sync_mode: full_refresh_overwrite}
`

type env struct {
	srv    *airbytetest.Server
	client *api.Client
	state  string
}

func setup(t testing.TB) *env {
	t.Helper()
	t.Setenv("HARVEST_ACCOUNT", harvestAccount)
	t.Setenv("HARVEST_TOKEN", harvestToken)
	t.Setenv("MOTHERDUCK_KEY", motherduckKey)
	srv := airbytetest.Start(t)
	c, err := api.New(srv.URL, api.WithClientCredentials(airbytetest.ClientID, airbytetest.ClientSecret),
		api.WithRetry(api.RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, client: c, state: filepath.Join(t.TempDir(), "state.json")}
}

func (e *env) reconciler(t testing.TB, yaml string, opts ...Option) *Reconciler {
	t.Helper()
	cfg, err := parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New((*airbyteapi.Client)(e.client), e.srv.WorkspaceID, cfg, append([]Option{WithStateFile(e.state)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) plan(t testing.TB, r *Reconciler) *Plan {
	t.Helper()
	p, err := r.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	text := p.String()
	for _, s := range []string{harvestAccount, harvestToken, motherduckKey} {
		if strings.Contains(text, s) {
			t.Fatalf("the plan prints a secret:\n%s", text)
		}
	}
	// Nor does a change printed with fmt, as a program logs a value.
	for _, c := range p.Changes {
		text := fmt.Sprintf("%+v %#v", *c, *c)
		for _, s := range []string{harvestAccount, harvestToken, motherduckKey} {
			if strings.Contains(text, s) {
				t.Fatalf("a change printed with %%+v shows a secret:\n%s", text)
			}
		}
	}
	return p
}

func (e *env) apply(t testing.TB, r *Reconciler, p *Plan) {
	t.Helper()
	if err := r.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if again := e.plan(t, r); !again.Empty() {
		t.Fatalf("the plan after Apply is not empty:\n%s", again)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("plan %s differs from %s:\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

func TestCreateThenNothingToDo(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	p := e.plan(t, r)
	golden(t, "create", p.String())
	e.apply(t, r, p)
	// The same state prints the same plan: plan twice more.
	if e.plan(t, r).String() != "" {
		t.Fatal("a second plan differs")
	}
	stored := storedByName(t, e, "harvest")
	if stored["account_id"] != harvestAccount {
		t.Fatalf("the source got %v", stored)
	}
}

// idsOf returns the ids of the workspace's sources, destinations and
// connections by name (one of them, for a name of several).
func (e *env) idsOf(t *testing.T) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for s, err := range e.client.Sources(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		ids[s.Name] = s.ID
	}
	for d, err := range e.client.Destinations(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		ids[d.Name] = d.ID
	}
	for c, err := range e.client.Connections(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		ids[c.Name] = c.ID
	}
	return ids
}

func storedByName(t *testing.T, e *env, name string) map[string]any {
	t.Helper()
	for s, err := range e.client.Sources(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Name == name {
			return e.srv.StoredConfig(s.ID)
		}
	}
	for d, err := range e.client.Destinations(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Name == name {
			return e.srv.StoredConfig(d.ID)
		}
	}
	t.Fatalf("no object %q", name)
	return nil
}

func TestChanges(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	changed := strings.NewReplacer(
		"count: 100", "count: 200",
		`schedule: "0 0 * * * ?"`, "schedule: manual",
		"products: {sync_mode: full_refresh_overwrite}", "purchases: {sync_mode: full_refresh_append}",
		"users: {sync_mode: incremental_deduped_history", "users: {sync_mode: incremental_append",
	).Replace(declared)
	t.Setenv("HARVEST_TOKEN", "tok-rotated")
	r = e.reconciler(t, changed)
	p := e.plan(t, r)
	golden(t, "change", p.String())
	if strings.Contains(p.String(), "tok-rotated") {
		t.Fatal("the new secret is printed")
	}
	e.apply(t, r, p)
	got := storedByName(t, e, "harvest")
	if got["account_id"] != harvestAccount || got["credentials"].(map[string]any)["api_token"] != "tok-rotated" {
		t.Fatalf("after rotating one secret the source holds %v", got)
	}
	// The unchanged secret went as the mask; the rotated one in clear.
	bodies := e.srv.Bodies("PUT /sources/{id}")
	last := string(bodies[len(bodies)-1])
	if !strings.Contains(last, `"account_id":"**********"`) || !strings.Contains(last, `"api_token":"tok-rotated"`) {
		t.Fatalf("the update sent %s", last)
	}
}

func TestSecretsWithoutStateAreNotComparable(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	cfg, _ := parse([]byte(declared))
	fresh, err := New((*airbyteapi.Client)(e.client), e.srv.WorkspaceID, cfg) // no state file
	if err != nil {
		t.Fatal(err)
	}
	p := e.plan(t, fresh)
	golden(t, "nostate", p.String())
}

// TestReferenceInsideAnArray: a secret reference inside an array makes the
// array a secret, since the diff prints an array as one value; it is
// fingerprinted, not printed, and sent in clear (the mask in place of an
// array would overwrite it).
func TestReferenceInsideAnArray(t *testing.T) {
	e := setup(t)
	const first, rotated = "arr-tok-6c1d9e", "arr-tok-rotated-0b7a"
	t.Setenv("ARRAY_TOKEN", first)
	declared := `
sources:
  faker:
    type: source-faker
    config:
      count: 100
      tokens: [public, {token: secret_reference::ARRAY_TOKEN}]
`
	r := e.reconciler(t, declared)
	p := e.plan(t, r)
	for _, s := range []string{first, rotated} {
		if strings.Contains(p.String(), s) {
			t.Fatalf("the plan prints the secret %s:\n%s", s, p)
		}
	}
	if !strings.Contains(p.String(), "+ tokens: (secret)") {
		t.Fatalf("the plan does not show the array as a secret:\n%s", p)
	}
	e.apply(t, r, p)
	tokens := func() string { return fmt.Sprint(storedByName(t, e, "faker")["tokens"]) }
	if got := tokens(); got != "[public map[token:"+first+"]]" {
		t.Fatalf("the source holds tokens %s", got)
	}
	t.Setenv("ARRAY_TOKEN", rotated)
	p = e.plan(t, r)
	if s := p.String(); strings.Contains(s, first) || strings.Contains(s, rotated) || !strings.Contains(s, "~ tokens: (secret: changed)") {
		t.Fatalf("after rotating the secret the plan is:\n%s", s)
	}
	e.apply(t, r, p)
	if got := tokens(); got != "[public map[token:"+rotated+"]]" {
		t.Fatalf("after rotating, the source holds tokens %s", got)
	}
	// Another field changes, the array does not: it is sent as it was.
	r = e.reconciler(t, strings.Replace(declared, "count: 100", "count: 200", 1))
	e.apply(t, r, e.plan(t, r))
	if got := tokens(); got != "[public map[token:"+rotated+"]]" {
		t.Fatalf("after an update of another field, the source holds tokens %s", got)
	}
}

// toPostgres makes the declared DuckDB warehouse a PostgreSQL one, with a
// config its spec takes: a change of type, which replaces it.
func toPostgres(decl string) string {
	return strings.Replace(decl, `    type: destination-duckdb
    config:
      destination_path: /tmp/goairbyte-connections-test.duckdb
      motherduck_api_key: secret_reference::MOTHERDUCK_KEY`, `    type: destination-postgres
    config:
      host: 127.0.0.1
      port: 5432
      database: analytics
      schema: raw
      username: airbyte
      password: secret_reference::MOTHERDUCK_KEY`, 1)
}

func TestTypeChangeReplacesAndDependents(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	r = e.reconciler(t, toPostgres(declared))
	p := e.plan(t, r)
	golden(t, "replace", p.String())
	e.apply(t, r, p)
	n := 0
	for c, err := range e.client.Connections(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if c.Name != "faker-to-warehouse" {
			t.Errorf("connection %q", c.Name)
		}
	}
	if n != 1 {
		t.Fatalf("%d connections after the replacement, want 1", n)
	}
}

func TestDeleteUnmentioned(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	e.srv.AddSource("made-in-the-ui", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	fewer := declared[:strings.Index(declared, "connections:")]
	fewer = strings.Replace(fewer, "  faker:\n    type: source-faker\n    config: {count: 100, seed: 5}\n", "", 1)
	// Without the flag, what is not declared stays and is not listed.
	if p := e.plan(t, e.reconciler(t, fewer)); !p.Empty() {
		t.Fatalf("without DeleteUnmentioned the plan is:\n%s", p)
	}
	r = e.reconciler(t, fewer, DeleteUnmentioned())
	p := e.plan(t, r)
	golden(t, "delete", p.String())
	e.apply(t, r, p)
}

// A workspace id of no workspace is an error naming it, where the plan
// listed nothing there and so created everything.
func TestUnknownWorkspaceIsAnError(t *testing.T) {
	e := setup(t)
	cfg, err := parse([]byte(declared))
	if err != nil {
		t.Fatal(err)
	}
	const id = "00000000-0000-4000-8000-000000000000"
	r, err := New((*airbyteapi.Client)(e.client), id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Plan(context.Background())
	if !errors.Is(err, airbyteapi.ErrNotFound) || !strings.Contains(err.Error(), "no workspace "+id) {
		t.Fatalf("Plan in no workspace: %v\n%v", err, p)
	}
}

// Two objects of a name the Config declares are an error naming both: the
// plan cannot tell which one the declaration means.
func TestDuplicateNamesAreAnError(t *testing.T) {
	e := setup(t)
	id1 := e.srv.AddSource("faker", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	id2 := e.srv.AddSource("faker", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 2})
	for _, opts := range [][]Option{nil, {DeleteUnmentioned()}} {
		_, err := e.reconciler(t, declared, opts...).Plan(context.Background())
		if err == nil || !strings.Contains(err.Error(), `source "faker"`) || !strings.Contains(err.Error(), id1) || !strings.Contains(err.Error(), id2) {
			t.Fatalf("err = %v", err)
		}
	}
}

// sameName makes two sources and two connections of the names the Config
// does not declare, the connections between the declared faker and
// warehouse.
func (e *env) sameName(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	e.srv.AddSource("made-in-the-ui", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	e.srv.AddSource("made-in-the-ui", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 2})
	ids := e.idsOf(t)
	for range 2 {
		// As the UI makes them: CreateConnection would find the first
		// again after an ambiguous failure, but no request fails here.
		if _, err := e.client.CreateConnection(ctx, api.ConnectionCreate{Name: "ui-copy", SourceID: ids["faker"], DestinationID: ids["warehouse"]}); err != nil {
			t.Fatal(err)
		}
	}
}

// count returns how many sources and connections of the workspace are
// called name.
func (e *env) count(t *testing.T, name string) int {
	t.Helper()
	n := 0
	for s, err := range e.client.Sources(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Name == name {
			n++
		}
	}
	for c, err := range e.client.Connections(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Name == name {
			n++
		}
	}
	return n
}

// Duplicates of names the Config does not declare block nothing: they are
// left alone, as any object the Config does not declare.
func TestUndeclaredDuplicatesAreLeftAlone(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	e.sameName(t)
	if p := e.plan(t, r); !p.Empty() {
		t.Fatalf("the plan touches undeclared duplicates:\n%s", p)
	}
	// A change of a declared object plans and applies.
	r = e.reconciler(t, strings.Replace(declared, "seed: 5", "seed: 6", 1))
	p := e.plan(t, r)
	if len(p.Changes) != 1 || p.Changes[0].Name != "faker" {
		t.Fatalf("plan:\n%s", p)
	}
	e.apply(t, r, p)
	if n, m := e.count(t, "made-in-the-ui"), e.count(t, "ui-copy"); n != 2 || m != 2 {
		t.Fatalf("%d sources made-in-the-ui and %d connections ui-copy after apply, want 2 of each", n, m)
	}
}

// With DeleteUnmentioned, every object of an undeclared name goes, each
// listed with its id; so does every connection of a replaced destination.
func TestUndeclaredDuplicatesAreDeletedEach(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	e.sameName(t)
	r = e.reconciler(t, declared, DeleteUnmentioned())
	p := e.plan(t, r)
	var ids []string
	for _, c := range p.Changes {
		if c.Action != Delete || !strings.Contains(c.Reason, "one of 2 ") || !strings.Contains(c.Reason, c.id) {
			t.Fatalf("change %s %s %q (%s), want deletions naming which one:\n%s", c.Action, c.Kind, c.Name, c.Reason, p)
		}
		ids = append(ids, c.id)
	}
	if len(ids) != 4 || ids[0] == ids[1] || ids[2] == ids[3] {
		t.Fatalf("deletions of %v, want both connections then both sources:\n%s", ids, p)
	}
	t.Logf("\n%s", p)
	e.apply(t, r, p)
	if n := e.count(t, "made-in-the-ui") + e.count(t, "ui-copy"); n != 0 {
		t.Fatalf("%d undeclared objects left", n)
	}
}

// The connections a replacement takes are all listed, several of one name
// too, each with its id.
func TestReplacementListsEveryConnectionItTakes(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	e.sameName(t)
	r = e.reconciler(t, toPostgres(declared))
	p := e.plan(t, r)
	n := 0
	for _, c := range p.Changes {
		if c.Action == Delete && c.Name == "ui-copy" && strings.Contains(c.Reason, "its destination warehouse is replaced") && strings.Contains(c.Reason, c.id) {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("the plan lists %d of the 2 connections ui-copy the replacement deletes:\n%s", n, p)
	}
	t.Logf("\n%s", p)
	e.apply(t, r, p)
	if n := e.count(t, "made-in-the-ui"); n != 2 {
		t.Fatalf("%d sources made-in-the-ui after apply, want both left alone", n)
	}
}

// Apply refuses a plan when an object of a name it declares was made again
// meanwhile: the next plan could not match it.
func TestApplyRefusesADeclaredNameMadeTwice(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	r = e.reconciler(t, strings.Replace(declared, "seed: 5", "seed: 6", 1))
	p := e.plan(t, r)
	e.srv.AddSource("faker", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	before := e.srv.Calls("PUT /sources/{id}")
	err := r.Apply(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), `source "faker" now has another of its name`) || !strings.Contains(err.Error(), "plan again") {
		t.Fatalf("Apply: %v", err)
	}
	if e.srv.Calls("PUT /sources/{id}") != before {
		t.Fatal("the source was changed all the same")
	}
}

func TestInvalidDeclarations(t *testing.T) {
	for name, y := range map[string]string{
		"unknown key":       "sorces: {}",
		"undeclared source": "connections: {c: {source: nope, destination: nope}}",
		"bad type":          "sources: {a: {type: faker}}",
		"bad sync mode":     "sources: {a: {type: source-faker}}\ndestinations: {b: {type: destination-duckdb}}\nconnections: {c: {source: a, destination: b, streams: {users: {sync_mode: fast}}}}",
		"bad schedule":      "sources: {a: {type: source-faker}}\ndestinations: {b: {type: destination-duckdb}}\nconnections: {c: {source: a, destination: b, schedule: hourly}}",
		"empty file":        "",
		"only comments":     "# sources: {a: {type: source-faker}}\n",
		"two documents":     "sources: {a: {type: source-faker}}\n---\nsources: {b: {type: source-faker}}\n",
		"bad second doc":    "sources: {a: {type: source-faker}}\n---\n[unclosed\n",
	} {
		if _, err := parse([]byte(y)); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "EOF") {
			t.Errorf("%s: %v, which does not say what is wrong", name, err)
		}
	}
	if _, err := New(nil, "", &Config{}); err == nil {
		t.Error("no workspace: no error")
	}
}

// TestSecretsInArrayItems uses source-onesignal's real spec, which marks
// app_id and app_api_key airbyte_secret inside the items of its
// applications array: the array is a secret of the plan (printed as such,
// fingerprinted, compared), as the server masks its items.
func TestSecretsInArrayItems(t *testing.T) {
	e := setup(t)
	const key, rotated = "os-key-3f9a2c", "os-key-rotated-77d1"
	t.Setenv("ONESIGNAL_KEY", key)
	declared := `
sources:
  onesignal:
    type: source-onesignal
    config:
      user_auth_key: secret_reference::ONESIGNAL_KEY
      start_date: "2024-01-01T00:00:00Z"
      outcome_names: os__click.count
      applications: [{app_name: shop, app_id: os-app-5e21b0, app_api_key: ` + key + `}]
`
	r := e.reconciler(t, declared)
	p := e.plan(t, r)
	if s := p.String(); strings.Contains(s, key) || strings.Contains(s, "os-app-5e21b0") || !strings.Contains(s, "+ applications: (secret)") {
		t.Fatalf("the plan does not show the applications as a secret:\n%s", s)
	}
	e.apply(t, r, p)
	apps := func() string { return fmt.Sprint(storedByName(t, e, "onesignal")["applications"]) }
	if got := apps(); got != "[map[app_api_key:"+key+" app_id:os-app-5e21b0 app_name:shop]]" {
		t.Fatalf("the source holds applications %s", got)
	}
	r = e.reconciler(t, strings.Replace(declared, "app_api_key: "+key, "app_api_key: "+rotated, 1))
	p = e.plan(t, r)
	if s := p.String(); strings.Contains(s, rotated) || !strings.Contains(s, "~ applications: (secret: changed)") {
		t.Fatalf("after rotating the key the plan is:\n%s", s)
	}
	e.apply(t, r, p)
	if got := apps(); got != "[map[app_api_key:"+rotated+" app_id:os-app-5e21b0 app_name:shop]]" {
		t.Fatalf("after rotating, the source holds applications %s", got)
	}
}

// TestPlanEscapesWhatTheServerSays: names, keys and values come from the
// server (objects made in the UI, configs a connector filled in); none may
// drive the terminal or forge a line of the plan.
func TestPlanEscapesWhatTheServerSays(t *testing.T) {
	e := setup(t)
	const faker = "dfd88b22-b603-4c3d-aad7-3701784586b1"
	e.srv.AddSource("ui\n- source: production\x1b[31m", faker, map[string]any{"count": 1})
	e.srv.AddSource("faker", faker, map[string]any{"count": 1, "note\x1b]0;pwned\a": "v\x1b[2J\u202e"})
	r := e.reconciler(t, "sources: {faker: {type: source-faker, config: {count: 1}}}", DeleteUnmentioned())
	text := e.plan(t, r).String()
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.HasPrefix(line, "- source: production") {
			t.Errorf("a name forged the line %q", line)
		}
		if i := strings.IndexFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u202e' }); i >= 0 {
			t.Errorf("the plan holds the control character %q in %q", line[i:i+1], line)
		}
	}
	if !strings.Contains(text, `\x1b[31m`) || !strings.Contains(text, `note\x1b]0;pwned\a`) {
		t.Errorf("the escaped characters are not shown:\n%s", text)
	}
}

// TestReplacementShowsTheConnectionsItTakes: a connection made in the UI on
// a declared destination is deleted by Airbyte with that destination when
// a type change replaces it; the plan must list that deletion, even
// without DeleteUnmentioned.
func TestReplacementShowsTheConnectionsItTakes(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	ids := e.idsOf(t)
	if _, err := e.client.CreateConnection(context.Background(), api.ConnectionCreate{Name: "made-in-the-ui", SourceID: ids["faker"], DestinationID: ids["warehouse"]}); err != nil {
		t.Fatal(err)
	}
	r = e.reconciler(t, toPostgres(declared))
	p := e.plan(t, r)
	if !strings.Contains(p.String(), "- connection: made-in-the-ui (its destination warehouse is replaced") {
		t.Fatalf("the plan does not show that the replacement deletes made-in-the-ui:\n%s", p)
	}
	e.apply(t, r, p)
}

// TestApplyRefusesAStalePlan: two runs plan on the same workspace, then
// both apply; the second must not create everything a second time (which
// would leave names no later plan can match).
func TestApplyRefusesAStalePlan(t *testing.T) {
	e := setup(t)
	r1, r2 := e.reconciler(t, declared), e.reconciler(t, declared)
	p1, p2 := e.plan(t, r1), e.plan(t, r2)
	e.apply(t, r1, p1)
	before := e.srv.Requests()
	err := r2.Apply(context.Background(), p2)
	if err == nil || !strings.Contains(err.Error(), "plan again") {
		t.Fatalf("applying a stale plan: err = %v", err)
	}
	if n := e.srv.Calls("POST /sources") + e.srv.Calls("POST /destinations") + e.srv.Calls("POST /connections"); n != 4 {
		t.Errorf("%d creations, want the first apply's 4 (%d requests by the second)", n, e.srv.Requests()-before)
	}
	if again := e.plan(t, r1); !again.Empty() {
		t.Fatalf("after the stale apply the plan is:\n%s", again)
	}
	// The same plan applied twice is stale too.
	if err := r1.Apply(context.Background(), p1); err == nil {
		t.Fatal("a plan applied twice: no error")
	}
}

// TestSecretsOfAnObjectMadeAgain: the state's fingerprints are of the
// secrets applied to one object; when that object is deleted and another
// of its name made (in the UI, by another run), they say nothing about the
// new one's secrets, which the plan must not call unchanged.
func TestSecretsOfAnObjectMadeAgain(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	var id string
	for s, err := range e.client.Sources(context.Background(), e.srv.WorkspaceID) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Name == "harvest" {
			id = s.ID
		}
	}
	cfg := storedByName(t, e, "harvest")
	if err := e.client.DeleteSource(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	cfg["account_id"] = "someone-elses"
	e.srv.AddSource("harvest", "fe2b4084-3386-4d3b-9ad6-308f61a6f1e6", cfg)
	p := e.plan(t, r)
	if !strings.Contains(p.String(), "account_id: (secret: not comparable)") {
		t.Fatalf("the plan does not doubt the secrets of the new harvest:\n%s", p)
	}
	e.apply(t, r, p)
	if got := storedByName(t, e, "harvest")["account_id"]; got != harvestAccount {
		t.Fatalf("after apply the new harvest has account_id %v", got)
	}
}

// TestUnreadableStateSaysWhatToDo: a state file cut short, or not one,
// stops the plan with an error that says it can be removed.
func TestUnreadableStateSaysWhatToDo(t *testing.T) {
	e := setup(t)
	for _, content := range []string{`{"key": "c2VjcmV0", "fingerpr`, `{"fingerprints": {}}`, "\xff\xfe"} {
		if err := os.WriteFile(e.state, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := e.reconciler(t, declared).Plan(context.Background())
		if err == nil || !strings.Contains(err.Error(), "remove it") {
			t.Errorf("state %q: err = %v", content, err)
		}
	}
}

// A secret written in the file itself, not as a reference, is a secret
// too: a server's error that quotes the request must not show it.
func TestLiteralSecretMaskedInServerErrors(t *testing.T) {
	e := setup(t)
	const literal = "tok-literal-93c1e7"
	r := e.reconciler(t, `
sources:
  harvest:
    type: source-harvest
    config:
      account_id: acct-literal-51d2
      replication_start_date: "2024-01-01T00:00:00Z"
      credentials: {auth_type: Token, api_token: `+literal+`}
`)
	p := e.plan(t, r)
	e.srv.Inject(airbytetest.Fault{Method: "POST", Path: "/sources", Status: 400, Echo: true})
	err := r.Apply(context.Background(), p)
	if err == nil {
		t.Fatal("the injected 400 was not reported")
	}
	if !strings.Contains(err.Error(), "the request was") {
		t.Fatalf("the test is void: the server's message is not in the error: %v", err)
	}
	for _, s := range []string{literal, "acct-literal-51d2"} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("the error shows the secret %q: %v", s, err)
		}
	}
}

// editState rewrites the state file as edit changes it.
func (e *env) editState(t *testing.T, edit func(st map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(e.state)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	edit(st)
	b, _ = json.Marshal(st)
	if err := os.WriteFile(e.state, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A state file written by a later version may hold what this one does not
// know; reading it and saving it back would lose that. It is refused, and
// this version's files say which version they are.
func TestStateFromANewerVersion(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	e.editState(t, func(st map[string]any) {
		if st["version"] != float64(1) {
			t.Fatalf("the state file does not say its version: %v", st)
		}
		st["version"], st["grants"] = 2, map[string]any{"x": 1}
	})
	_, err := e.reconciler(t, declared).Plan(context.Background())
	if err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("a state file of version 2 was read: %v", err)
	}
}

// A declared config its connector's spec refuses (a port in words, a
// required field left out) was planned and applied: the test server took
// it, but Airbyte validates a config against the spec when it is sent, so
// apply failed midway, after the changes before it, where the plan that CI
// ran had passed. The plan refuses it, naming the fields and not the
// values, the secret's least of all.
func TestPlanRefusesAConfigTheSpecRefuses(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, `
destinations:
  warehouse:
    type: destination-duckdb
    config:
      destination_path: 7
      motherduck_api_key: secret_reference::MOTHERDUCK_KEY
`)
	_, err := r.Plan(context.Background())
	var ic *kit.InvalidConfigError
	if !errors.As(err, &ic) || !strings.Contains(err.Error(), `destination "warehouse"`) || !strings.Contains(err.Error(), "destination_path") {
		t.Fatalf("a destination_path of 7: %v, want an *kit.InvalidConfigError naming the destination and the field", err)
	}
	if strings.Contains(err.Error(), motherduckKey) {
		t.Fatalf("the error shows the secret: %v", err)
	}
	if n := e.srv.Calls("POST /destinations"); n != 0 {
		t.Fatalf("%d destinations created", n)
	}
	// The secret itself breaking a rule is named by its field only.
	r = e.reconciler(t, `
sources:
  faker:
    type: source-faker
    config: {count: secret_reference::MOTHERDUCK_KEY}
`)
	_, err = r.Plan(context.Background())
	if !errors.As(err, &ic) || !strings.Contains(err.Error(), "count") || strings.Contains(err.Error(), motherduckKey) {
		t.Fatalf("a count from a secret: %v, want an *kit.InvalidConfigError naming count, not its value", err)
	}
	t.Log(err)
}

// A secret's value inside another field's literal (a path that names the
// key, say) is masked in the plan as everywhere else: the plan printed the
// literal as declared.
func TestSecretInsideALiteralMasked(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, strings.Replace(declared, "/tmp/goairbyte-connections-test.duckdb", "/tmp/"+motherduckKey+"-copy.duckdb", 1))
	p := e.plan(t, r) // fails on a secret in the plan's text or a change
	if !strings.Contains(p.String(), "/tmp/****-copy.duckdb") {
		t.Fatalf("the path is not in the plan, masked:\n%s", p)
	}
}

// TestRemovedFieldLeavesTheWorkspace: a config field removed from the
// file is removed from the object in Airbyte. Airbyte's PATCH merges the
// configuration it is sent into the stored one, so a field left out of it
// stays: the update must replace the configuration.
func TestRemovedFieldLeavesTheWorkspace(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	r = e.reconciler(t, strings.Replace(declared, "{count: 100, seed: 5}", "{count: 100}", 1))
	p := e.plan(t, r)
	if !strings.Contains(p.String(), "seed") {
		t.Fatalf("the plan does not remove the seed:\n%s", p)
	}
	e.apply(t, r, p)
	if got := storedByName(t, e, "faker"); got["seed"] != nil {
		t.Fatalf("after the seed was removed from the file the source holds %v", got)
	}
}
