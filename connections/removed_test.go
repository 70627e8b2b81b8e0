package connections

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/airbytetest"
)

// withoutFaker is declared with the source faker and the connection that
// uses it removed.
func withoutFaker(t *testing.T) string {
	t.Helper()
	s := declared[:strings.Index(declared, "connections:")]
	out := strings.Replace(s, "  faker:\n    type: source-faker\n    config: {count: 100, seed: 5}\n", "", 1)
	if out == s {
		t.Fatal("the test is void: faker is not declared as it expects")
	}
	return out
}

// stateIDs returns the ids the state file records, by kind/name.
func (e *env) stateIDs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(e.state)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		IDs          map[string]string `json:"ids"`
		Fingerprints map[string]string `json:"fingerprints"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	for k := range st.Fingerprints {
		kind, rest, _ := strings.Cut(k, "/")
		name, _, _ := strings.Cut(rest, "/")
		if _, ok := st.IDs[kind+"/"+name]; !ok {
			t.Errorf("the state keeps the fingerprint %s of an object it does not record", k)
		}
	}
	return st.IDs
}

// DeleteRemoved deletes what the file applied and no longer declares, the
// connection before the source it uses, and the connection made in the UI
// that Airbyte deletes with that source is listed; what the file never
// made is left alone, and the state forgets what was deleted.
func TestDeleteRemoved(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	e.srv.AddSource("made-in-the-ui", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	ids := e.idsOf(t)
	if _, err := e.client.CreateConnection(context.Background(), api.ConnectionCreate{Name: "ui-copy", SourceID: ids["faker"], DestinationID: ids["warehouse"]}); err != nil {
		t.Fatal(err)
	}
	// Without the option, what was removed is left and not listed.
	if p := e.plan(t, e.reconciler(t, withoutFaker(t))); !p.Empty() {
		t.Fatalf("without DeleteRemoved the plan is:\n%s", p)
	}
	r = e.reconciler(t, withoutFaker(t), DeleteRemoved())
	p := e.plan(t, r)
	golden(t, "removed", p.String())
	e.apply(t, r, p)
	after := e.idsOf(t)
	for _, n := range []string{"faker", "faker-to-warehouse", "ui-copy"} {
		if _, ok := after[n]; ok {
			t.Errorf("%s is still in the workspace", n)
		}
	}
	for _, n := range []string{"made-in-the-ui", "harvest", "warehouse"} {
		if after[n] != ids[n] {
			t.Errorf("%s: id %q, want %q left alone", n, after[n], ids[n])
		}
	}
	got := slices.Sorted(maps.Keys(e.stateIDs(t)))
	if want := []string{"destination/warehouse", "source/harvest"}; !slices.Equal(got, want) {
		t.Fatalf("the state records %v, want %v", got, want)
	}
}

// Without a state file DeleteRemoved would delete nothing, silently: New
// refuses it.
func TestDeleteRemovedNeedsAStateFile(t *testing.T) {
	cfg, err := parse([]byte(declared))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(nil, "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6", cfg, DeleteRemoved()); err == nil || !strings.Contains(err.Error(), "WithStateFile") {
		t.Fatalf("New with DeleteRemoved and no state file: %v", err)
	}
}

// Of two objects of a removed name, only the one the file applied goes, the
// plan saying which by its id; the other, made since by someone else, stays.
func TestDeleteRemovedOneOfTwo(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	mine := e.idsOf(t)["faker"]
	other := e.srv.AddSource("faker", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	r = e.reconciler(t, withoutFaker(t), DeleteRemoved())
	p := e.plan(t, r)
	want := "- connection: faker-to-warehouse (" + removedReason + ")\n- source: faker (" + removedReason + "; one of 2 sources of this name: id " + mine + ")\n"
	if p.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", p, want)
	}
	e.apply(t, r, p)
	if got := e.idsOf(t)["faker"]; got != other {
		t.Fatalf("faker %q left, want the other one, %s", got, other)
	}
}

// With DeleteUnmentioned too, what the file applied says it was removed.
func TestDeleteUnmentionedSaysWhatWasRemoved(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	e.srv.AddSource("made-in-the-ui", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	p := e.plan(t, e.reconciler(t, withoutFaker(t), DeleteUnmentioned(), DeleteRemoved()))
	want := "- connection: faker-to-warehouse (" + removedReason + ")\n- source: faker (" + removedReason + ")\n- source: made-in-the-ui\n"
	if p.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", p, want)
	}
}

// An object renamed in the file is one declaration removed and another
// added: the plan deletes the old one and creates the new, as it says.
func TestDeleteRemovedRenameInTheFile(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	renamed := strings.Replace(declared, "  harvest:\n", "  harvest-eu:\n", 1)
	r = e.reconciler(t, renamed, DeleteRemoved())
	p := e.plan(t, r)
	golden(t, "rename", p.String())
	e.apply(t, r, p)
	if n, m := e.count(t, "harvest"), e.count(t, "harvest-eu"); n != 0 || m != 1 {
		t.Fatalf("%d sources harvest and %d harvest-eu after apply, want 0 and 1", n, m)
	}
}

// An object deleted and made again behind the file's back, or renamed in
// Airbyte and in the file alike, is not the one the file applied under
// that name: nothing is deleted, and Apply forgets the ids that are gone
// and records the renamed object under its new name (whose secrets, kept
// by name, are sent again).
func TestDeleteRemovedLeavesWhatChangedBehindItsBack(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	ids := e.idsOf(t)
	// faker and its connection deleted in the UI, faker made again.
	if err := e.client.DeleteSource(ctx, ids["faker"]); err != nil {
		t.Fatal(err)
	}
	again := e.srv.AddSource("faker", "dfd88b22-b603-4c3d-aad7-3701784586b1", map[string]any{"count": 1})
	// harvest renamed in Airbyte, then in the file.
	name := "harvest-eu"
	if _, err := e.client.PatchSource(ctx, ids["harvest"], api.ActorPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	file := strings.Replace(withoutFaker(t), "  harvest:\n", "  harvest-eu:\n", 1)
	r = e.reconciler(t, file, DeleteRemoved())
	p := e.plan(t, r)
	if deletes(p) {
		t.Fatalf("the plan deletes what changed behind the file's back:\n%s", p)
	}
	e.apply(t, r, p)
	if got := e.idsOf(t); got["faker"] != again || got["harvest-eu"] != ids["harvest"] {
		t.Fatalf("workspace %v", got)
	}
	want := map[string]string{"destination/warehouse": ids["warehouse"], "source/harvest-eu": ids["harvest"]}
	if got := e.stateIDs(t); !maps.Equal(got, want) {
		t.Fatalf("the state records %v, want %v", got, want)
	}
}

// An apply that fails midway leaves a state that matches what it did: the
// connection it deleted is forgotten, the source it could not delete is
// still recorded, and the next plan deletes only that.
func TestDeleteRemovedFailingMidway(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	r = e.reconciler(t, withoutFaker(t), DeleteRemoved())
	p := e.plan(t, r)
	e.srv.Inject(airbytetest.Fault{Method: "DELETE", Path: "/sources", Status: 400})
	if err := r.Apply(context.Background(), p); err == nil || !strings.Contains(err.Error(), `delete source "faker"`) {
		t.Fatalf("Apply with the source's deletion failing: %v", err)
	}
	st := e.stateIDs(t)
	if _, ok := st["connection/faker-to-warehouse"]; ok {
		t.Error("the state still records the deleted connection")
	}
	if _, ok := st["source/faker"]; !ok {
		t.Error("the state forgot the source it did not delete")
	}
	p = e.plan(t, r)
	if p.String() != "- source: faker ("+removedReason+")\n" {
		t.Fatalf("the plan after the failure:\n%s", p)
	}
	e.apply(t, r, p)
}

// A state file without ids (an older version's) records nothing to
// delete; an apply with nothing to change records what the file declares,
// objects it found made too: a second file that takes over an existing
// object records it in its own state file.
func TestDeleteRemovedOlderStateAndSecondFile(t *testing.T) {
	e := setup(t)
	r := e.reconciler(t, declared)
	e.apply(t, r, e.plan(t, r))
	e.editState(t, func(st map[string]any) {
		delete(st, "ids")
		delete(st, "version")
	})
	if p := e.plan(t, e.reconciler(t, withoutFaker(t), DeleteRemoved())); deletes(p) {
		t.Fatalf("a state without ids deletes:\n%s", p)
	}
	r = e.reconciler(t, declared)
	p := e.plan(t, r)
	if strings.Contains(p.String(), "faker") {
		t.Fatalf("the test is void: faker changes:\n%s", p)
	}
	e.apply(t, r, p)
	if p := e.plan(t, e.reconciler(t, withoutFaker(t), DeleteRemoved())); p.String() != "- connection: faker-to-warehouse ("+removedReason+")\n- source: faker ("+removedReason+")\n" {
		t.Fatalf("after an apply, the plan is:\n%s", p)
	}

	second := &env{srv: e.srv, client: e.client, state: e.state + ".second"}
	only := "sources:\n  faker:\n    type: source-faker\n    config: {count: 100, seed: 5}\n"
	r = second.reconciler(t, only)
	p = second.plan(t, r)
	if !p.Empty() {
		t.Fatalf("the second file's plan:\n%s", p)
	}
	if err := r.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got, want := second.stateIDs(t), map[string]string{"source/faker": e.idsOf(t)["faker"]}; !maps.Equal(got, want) {
		t.Fatalf("the second state records %v, want %v", got, want)
	}
}

// deletes reports whether p deletes anything.
func deletes(p *Plan) bool {
	return slices.ContainsFunc(p.Changes, func(c *Change) bool { return c.Action == Delete || c.Action == Replace })
}

// A name may hold a "/": deleting source "harvest" forgets its secrets'
// fingerprints, not those of "harvest/eu", which the state keeps under
// the same prefix. Forgotten, they would make every later plan doubt
// harvest/eu's secrets and apply send them again.
func TestDeleteRemovedKeepsTheSecretsOfALongerName(t *testing.T) {
	e := setup(t)
	eu := `
  harvest/eu:
    type: source-harvest
    config:
      account_id: secret_reference::HARVEST_ACCOUNT
      replication_start_date: "2024-01-01T00:00:00Z"
      credentials: {auth_type: Token, api_token: secret_reference::HARVEST_TOKEN}
`
	both := strings.Replace(declared, "\ndestinations:", eu+"destinations:", 1)
	if both == declared {
		t.Fatal("the test is void: no destinations section in declared")
	}
	r := e.reconciler(t, both)
	e.apply(t, r, e.plan(t, r))
	// harvest removed from the file (it is a top-level source no
	// connection uses), harvest/eu kept.
	start := strings.Index(both, "  harvest:\n")
	end := strings.Index(both, "  harvest/eu:\n")
	if start < 0 || end < start {
		t.Fatal("the test is void: harvest is not declared as it expects")
	}
	r = e.reconciler(t, both[:start]+both[end:], DeleteRemoved())
	p := e.plan(t, r)
	if !strings.Contains(p.String(), "harvest") || len(p.Changes) != 1 {
		t.Fatalf("the plan should delete harvest alone:\n%s", p)
	}
	e.apply(t, r, p) // fails when the next plan doubts harvest/eu's secrets
}
