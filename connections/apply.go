package connections

import (
	"context"
	"fmt"
	"maps"
	"slices"

	api "github.com/x/goairbyte/internal/airbyteapi"
)

// applyError is a change Apply could not make; the changes before it were
// made (and their secrets' fingerprints saved), the ones after it were not.
type applyError struct {
	// change is the change that failed.
	change *Change
	// err is why: the API's error, or for a connection whose source or
	// destination does not exist in the workspace, an error saying so.
	err error
}

// Error says which change failed.
func (e *applyError) Error() string {
	return fmt.Sprintf("connections: %s %s %q: %v", e.change.Action, e.change.Kind, e.change.Name, e.err)
}

// Unwrap returns the API's error.
func (e *applyError) Unwrap() error { return e.err }

// Apply makes the changes of a plan from Plan, in a safe order: deletions
// and the deleting half of replacements first (connections before what they
// use), then sources, destinations and connections are created or updated.
// It saves the secrets' fingerprints and the objects' ids to the state file
// as it goes, and forgets those of what it deletes, so that a failure
// midway leaves a state that matches what was applied; once every change is
// made, it records the ids of the declared objects it did not change and
// forgets those DeleteRemoved found gone. A plan without changes is worth
// applying for that: a state file written before ids were kept, or one of a
// file declaring objects made elsewhere, learns them. It first lists the
// workspace again and refuses a plan that no longer fits it (another apply
// ran meanwhile, or this plan's creations or deletions were made already,
// or a name the plan changes now has a second object), which would
// otherwise create every object a second time; a plan of updates only fits
// as long as its objects are there, and applying it again sends the same
// values again. A change that fails ends Apply with an error that names the
// change and wraps the API's (errors.Is matches airbyteapi.ErrNotFound,
// airbyteapi.ErrUnauthorized, ...); the changes before it were made, the
// ones after it were not.
//
// Applies that share a state file, in this process or others (two cron
// jobs, a service and a CI job), run one at a time: each waits for the
// lock of the state file (<state file>.lock, released by the system when
// its holder dies, even by kill -9) until ctx ends, saying so to the
// logger of WithLogger after a second, then reads the state file again,
// so that the fingerprints another apply saved meanwhile are kept.
func (r *Reconciler) Apply(ctx context.Context, p *Plan) error {
	unlock, err := p.st.lock(ctx, r.logger)
	if err != nil {
		return err
	}
	defer unlock()
	fresh, err := r.checkUnchanged(ctx, p)
	if err != nil {
		return err
	}
	// Deletions go from connections to what they use, creations the
	// other way.
	deletions := slices.Clone(p.Changes)
	slices.SortStableFunc(deletions, func(a, b *Change) int { return usersFirst[a.Kind] - usersFirst[b.Kind] })
	puts := slices.Clone(p.Changes)
	slices.SortStableFunc(puts, func(a, b *Change) int { return usersFirst[b.Kind] - usersFirst[a.Kind] })

	for _, c := range deletions {
		if c.Action != Delete && c.Action != Replace {
			continue
		}
		if err := r.delete(ctx, c); err != nil {
			return p.fail(c, err)
		}
		p.st.forget(c.Kind, c.Name)
		delete(p.ids[c.Kind], c.Name)
		if c.Action == Delete {
			if err := p.st.save(); err != nil {
				return err
			}
		}
	}
	for _, c := range puts {
		if c.Action == Delete {
			continue
		}
		if err := r.put(ctx, p, c); err != nil {
			return p.fail(c, err)
		}
		if c.send != nil {
			for k, v := range c.send.secrets {
				p.st.Fingerprints[k] = p.st.fingerprint(v)
			}
		}
		p.st.IDs[objectKey(c.Kind, c.Name)] = p.ids[c.Kind][c.Name]
		if err := p.st.save(); err != nil {
			return err
		}
	}
	return p.record(fresh)
}

// usersFirst orders the kinds from what uses to what is used: a
// connection uses a source and a destination.
var usersFirst = map[Kind]int{KindConnection: 0, KindDestination: 1, KindSource: 2}

// record completes the state once every change is made: it forgets the
// objects the plan found gone (DeleteRemoved), and records the id of every
// declared object the plan did not change, as the workspace has it, so
// that the objects this Config declares are known to DeleteRemoved once it
// is applied, those it found made (by hand, by a state file of an older
// version that kept no ids) too.
func (p *Plan) record(fresh map[Kind]map[string][]string) error {
	before := maps.Clone(p.st.IDs)
	for _, g := range p.gone {
		if p.st.IDs[objectKey(g.kind, g.name)] == g.id {
			p.st.forget(g.kind, g.name)
		}
	}
	changed := map[string]bool{}
	for _, c := range p.Changes {
		changed[objectKey(c.Kind, c.Name)] = true
	}
	for kind, names := range p.declared {
		for _, n := range names {
			if have := fresh[kind][n]; len(have) == 1 && !changed[objectKey(kind, n)] {
				p.st.IDs[objectKey(kind, n)] = have[0]
			}
		}
	}
	if maps.Equal(before, p.st.IDs) {
		return nil
	}
	return p.st.save()
}

func (p *Plan) fail(c *Change, err error) error {
	_ = p.st.save()
	return &applyError{change: c, err: err}
}

func (r *Reconciler) delete(ctx context.Context, c *Change) error {
	switch c.Kind {
	case KindSource:
		return r.client.DeleteSource(ctx, c.id)
	case KindDestination:
		return r.client.DeleteDestination(ctx, c.id)
	}
	return r.client.DeleteConnection(ctx, c.id)
}

// put creates or updates the object of c.
func (r *Reconciler) put(ctx context.Context, p *Plan, c *Change) error {
	create := c.Action == Create || c.Action == Replace
	switch c.Kind {
	case KindSource:
		if create {
			s, err := r.client.CreateSource(ctx, api.ActorCreate{Name: c.Name, DefinitionID: c.defID, WorkspaceID: r.workspace, Configuration: c.send.config})
			if err != nil {
				return err
			}
			p.ids[KindSource][c.Name] = s.ID
			return nil
		}
		// A PUT: Airbyte merges a PATCH's configuration into the stored
		// one, which would keep the fields the file no longer has.
		_, err := r.client.PutSource(ctx, c.id, api.ActorPut{Name: c.Name, Configuration: c.send.config})
		return err
	case KindDestination:
		if create {
			d, err := r.client.CreateDestination(ctx, api.ActorCreate{Name: c.Name, DefinitionID: c.defID, WorkspaceID: r.workspace, Configuration: c.send.config})
			if err != nil {
				return err
			}
			p.ids[KindDestination][c.Name] = d.ID
			return nil
		}
		_, err := r.client.PutDestination(ctx, c.id, api.ActorPut{Name: c.Name, Configuration: c.send.config})
		return err
	}
	decl := c.conn
	sched := &api.Schedule{ScheduleType: api.ScheduleManual}
	if s := decl.Schedule; s != "" && s != "manual" {
		sched = &api.Schedule{ScheduleType: api.ScheduleCron, CronExpression: s}
	}
	nsDef, nsFormat := "destination", ""
	switch decl.Namespace {
	case "", "destination":
	case "source":
		nsDef = "source"
	default:
		nsDef, nsFormat = "custom_format", decl.Namespace
	}
	status := orDefault(decl.Status, api.StatusActive)
	var streams *api.StreamConfigurations
	if len(decl.Streams) > 0 {
		streams = &api.StreamConfigurations{}
		for _, n := range sortedKeys(decl.Streams) {
			s := decl.Streams[n]
			sc := api.StreamConfiguration{Name: n, SyncMode: s.SyncMode, CursorField: s.CursorField, PrimaryKey: s.PrimaryKey}
			for _, f := range s.SelectedFields {
				sc.SelectedFields = append(sc.SelectedFields, api.SelectedField{FieldPath: f})
			}
			streams.Streams = append(streams.Streams, sc)
		}
	}
	if create {
		srcID, dstID := p.ids[KindSource][decl.Source], p.ids[KindDestination][decl.Destination]
		if srcID == "" || dstID == "" {
			return fmt.Errorf("its source %q or destination %q does not exist in the workspace", decl.Source, decl.Destination)
		}
		x, err := r.client.CreateConnection(ctx, api.ConnectionCreate{Name: c.Name, SourceID: srcID, DestinationID: dstID,
			Configurations: streams, Schedule: sched, NamespaceDefinition: nsDef, NamespaceFormat: nsFormat, Prefix: decl.Prefix, Status: status})
		if err != nil {
			return err
		}
		p.ids[KindConnection][c.Name] = x.ID
		return nil
	}
	_, err := r.client.PatchConnection(ctx, c.id, api.ConnectionPatch{Configurations: streams, Schedule: sched,
		NamespaceDefinition: &nsDef, NamespaceFormat: &nsFormat, Prefix: &decl.Prefix, Status: &status})
	return err
}

// checkUnchanged lists the workspace and fails unless every object the plan
// creates is still absent and every one it changes still has the id the
// plan saw.
func (r *Reconciler) checkUnchanged(ctx context.Context, p *Plan) (map[Kind]map[string][]string, error) {
	rm, err := r.listRemote(ctx)
	if err != nil {
		return nil, err
	}
	ids := rm.ids()
	for _, c := range p.Changes {
		have := ids[c.Kind][c.Name]
		var what string
		switch {
		case c.Action == Create && len(have) > 0:
			what = "now exists"
		case c.Action != Create && len(have) == 0:
			what = "no longer exists"
		case c.Action != Create && !slices.Contains(have, c.id):
			what = "was deleted and made again"
		case c.Action != Delete && len(have) > 1:
			// A declared name: another object of it was made.
			what = "now has another of its name"
		default:
			continue
		}
		return nil, fmt.Errorf("connections: the workspace changed since the plan (%s %q %s: another apply ran meanwhile, or this plan was applied already); nothing was changed: plan again", c.Kind, c.Name, what)
	}
	return ids, nil
}
