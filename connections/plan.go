package connections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/x/goairbyte/airbyteapi"
	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/jsonwalk"
	"github.com/x/goairbyte/internal/secretref"
	"github.com/x/goairbyte/internal/specsecret"
	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/secrets"
)

// Kind is the kind of an object.
type Kind string

// Kinds of objects, in the order they are created.
const (
	KindSource      Kind = "source"
	KindDestination Kind = "destination"
	KindConnection  Kind = "connection"
)

// Action is what Apply does to one object.
type Action string

// Actions.
const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace" // delete, then create
	Delete  Action = "delete"
)

// Reconciler compares a declared Config with a workspace and makes the
// workspace match it.
type Reconciler struct {
	client            *api.Client
	workspace         string
	decl              *Config
	statePath         string
	deleteUnmentioned bool
	deleteRemoved     bool
	secretOpts        []secrets.Option
	logger            *slog.Logger
}

// Option configures a Reconciler.
type Option func(*Reconciler) error

// WithStateFile keeps the fingerprints of applied secrets in path (created
// on the first Apply), and the ids of the objects applied, which
// DeleteRemoved needs. Without it, every declared secret is "not
// comparable" and is sent on every Apply, and DeleteRemoved deletes
// nothing. Applies that share the file run one at a time, locking path +
// ".lock" (an empty file left beside it).
func WithStateFile(path string) Option {
	return func(r *Reconciler) error {
		if path == "" {
			return errors.New("connections: WithStateFile needs a path")
		}
		r.statePath = path
		return nil
	}
}

// WithLogger sends what Apply has to say to logger: that it waits for the
// lock of the state file, which another apply holds. By default nothing is
// logged.
func WithLogger(logger *slog.Logger) Option {
	return func(r *Reconciler) error { r.logger = logger; return nil }
}

// DeleteUnmentioned makes the plan delete the workspace's sources,
// destinations and connections that the Config does not declare: all of
// them, those other teams or the UI made too, several of one name too (each
// listed with its id); DeleteRemoved deletes only what the Config applied.
// Several of a name the Config declares are an error all the same: which
// one to keep is for a person to say.
func DeleteUnmentioned() Option {
	return func(r *Reconciler) error { r.deleteUnmentioned = true; return nil }
}

// DeleteRemoved makes the plan delete what the Config no longer declares
// and this state file (WithStateFile) records as applied: the object of
// that kind and name whose id the state holds, if the workspace still has
// it under that name; New fails without WithStateFile. The name says what
// it deletes: what was removed from the Config, where DeleteUnmentioned
// deletes whatever it does not mention. Objects the state does not record
// are left alone, those another team or the UI made, and one deleted or
// made again behind the Config's back (its id is gone: there is nothing to
// delete, and Apply forgets it).
func DeleteRemoved() Option {
	return func(r *Reconciler) error { r.deleteRemoved = true; return nil }
}

// WithSecretOptions passes options to the secret lookups of
// "secret_reference::NAME" values (a .env file, a manager, no prompt).
func WithSecretOptions(opts ...secrets.Option) Option {
	return func(r *Reconciler) error { r.secretOpts = append(r.secretOpts, opts...); return nil }
}

// New returns a reconciler of decl against the workspace (decl.WorkspaceID
// when workspaceID is ""). It makes no request.
func New(client *airbyteapi.Client, workspaceID string, decl *Config, opts ...Option) (*Reconciler, error) {
	if workspaceID == "" {
		workspaceID = decl.WorkspaceID
	}
	if workspaceID == "" {
		return nil, errors.New("connections: no workspace: pass one or set workspace_id in the file")
	}
	if err := decl.validate(); err != nil {
		return nil, err
	}
	r := &Reconciler{client: (*api.Client)(client), workspace: workspaceID, decl: decl}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	if r.deleteRemoved && r.statePath == "" {
		return nil, errors.New("connections: DeleteRemoved needs WithStateFile: the state file records what this Config applied, which is all it deletes")
	}
	return r, nil
}

// Plan is what Apply would do. Its Changes list deletions, creations, then
// updates and replacements; Apply makes the deletions and the deleting half
// of every replacement first, then creates and updates sources,
// destinations and connections in that order.
type Plan struct {
	// Changes are the deletions of undeclared objects, then the
	// creations, then the updates and replacements; empty when nothing
	// differs.
	Changes []*Change
	st      *state
	// ids of the remote objects by kind and name.
	ids map[Kind]map[string]string
	// gone are the objects the state records that the Config no longer
	// declares and the workspace no longer has under that id and name,
	// for Apply to forget (DeleteRemoved).
	gone []recorded
	// declared are the names the Config declares, by kind.
	declared map[Kind][]string
}

// recorded is an object the state file records by kind, name and id.
type recorded struct {
	kind     Kind
	name, id string
}

// Change is one object Apply creates, updates, replaces or deletes.
type Change struct {
	// Action is Create, Update, Replace or Delete.
	Action Action
	// Kind is KindSource, KindDestination or KindConnection.
	Kind Kind
	// Name is the object's name in the workspace and in the Config.
	Name string
	// Reason says why an object is replaced, or why one the Config does
	// not declare is deleted: removed from the Config (DeleteRemoved), or
	// taken with a source or destination; for one of several undeclared
	// objects of its name, it says which one by its id.
	Reason string
	// Diff is what differs (all of it for a creation).
	Diff *Diff

	id    string      // remote id, for update, replace and delete
	defID string      // definition, for sources and destinations
	send  *payload    // a source's or destination's config; nil for a connection
	conn  *Connection // declared connection
}

// payload is what a Change of a source or destination sends. It holds
// secrets in clear and is behind a pointer, so that a Change printed with
// fmt ("%+v", as a program logs a value) shows its address, not them.
type payload struct {
	config  map[string]any // what to send, secrets in clear or masked
	secrets map[string]any // state key → applied secret value
}

// Empty reports whether there is nothing to do.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// String prints the plan: deletions of undeclared objects first, then
// additions, then changes and replacements, each object with its nested
// diff (additions, deletions, changes at every level, sorted by key).
// Secrets never appear: they show as "(secret)", "(secret: changed)" or
// "(secret: not comparable)". Names, keys and values, which the server
// may hold as anyone wrote them, show control characters as Go escapes
// ("\x1b", "\n"), so that none drives the terminal or forges a line.
func (p *Plan) String() string {
	var b strings.Builder
	for _, c := range p.Changes {
		sign := map[Action]string{Create: "+", Delete: "-", Update: "~", Replace: "~"}[c.Action]
		fmt.Fprintf(&b, "%s %s: %s", sign, c.Kind, termsafe.String(c.Name))
		switch {
		case c.Action == Replace:
			fmt.Fprintf(&b, " (replace: %s)", termsafe.String(c.Reason))
		case c.Reason != "":
			fmt.Fprintf(&b, " (%s)", termsafe.String(c.Reason))
		}
		b.WriteByte('\n')
		if !c.Diff.empty() {
			c.Diff.write(&b, 1)
		}
	}
	return b.String()
}

// remote is the workspace as listed: every object, by name. Airbyte allows
// several objects of one name; the Plan refuses that only for the names
// the Config declares (see declaredDuplicates).
type remote struct {
	sources      map[string][]api.Source
	destinations map[string][]api.Destination
	connections  map[string][]api.Connection
	nameOf       map[string]string // source or destination id → name
}

func (r *Reconciler) listRemote(ctx context.Context) (*remote, error) {
	// A workspace id of no workspace (a typo, another instance's) lists
	// nothing, and the plan would create everything.
	if _, err := r.client.Workspace(ctx, r.workspace); errors.Is(err, airbyteapi.ErrNotFound) {
		return nil, fmt.Errorf("connections: no workspace %s on this Airbyte instance (check the workspace id and the API URL): %w", r.workspace, err)
	} else if err != nil {
		return nil, err
	}
	rm := &remote{sources: map[string][]api.Source{}, destinations: map[string][]api.Destination{},
		connections: map[string][]api.Connection{}, nameOf: map[string]string{}}
	for s, err := range r.client.Sources(ctx, r.workspace) {
		if err != nil {
			return nil, err
		}
		rm.sources[s.Name], rm.nameOf[s.ID] = append(rm.sources[s.Name], s), s.Name
	}
	for d, err := range r.client.Destinations(ctx, r.workspace) {
		if err != nil {
			return nil, err
		}
		rm.destinations[d.Name], rm.nameOf[d.ID] = append(rm.destinations[d.Name], d), d.Name
	}
	for c, err := range r.client.Connections(ctx, r.workspace) {
		if err != nil {
			return nil, err
		}
		rm.connections[c.Name] = append(rm.connections[c.Name], c)
	}
	return rm, nil
}

// ids returns the ids of the remote objects by kind and name.
func (rm *remote) ids() map[Kind]map[string][]string {
	ids := map[Kind]map[string][]string{KindSource: {}, KindDestination: {}, KindConnection: {}}
	for n, ss := range rm.sources {
		for _, s := range ss {
			ids[KindSource][n] = append(ids[KindSource][n], s.ID)
		}
	}
	for n, ds := range rm.destinations {
		for _, d := range ds {
			ids[KindDestination][n] = append(ids[KindDestination][n], d.ID)
		}
	}
	for n, cs := range rm.connections {
		for _, c := range cs {
			ids[KindConnection][n] = append(ids[KindConnection][n], c.ID)
		}
	}
	return ids
}

// declaredDuplicates fails when the workspace has several objects of a
// name the Config declares: the plan could not tell which one the
// declaration means. Duplicates of other names are the workspace's
// business: they are left alone, or all deleted with DeleteUnmentioned,
// which deletes every object the Config does not declare.
func (r *Reconciler) declaredDuplicates(ids map[Kind]map[string][]string) error {
	var dups []string
	for _, k := range []struct {
		kind  Kind
		names []string
	}{{KindSource, sortedKeys(r.decl.Sources)}, {KindDestination, sortedKeys(r.decl.Destinations)}, {KindConnection, sortedKeys(r.decl.Connections)}} {
		for _, n := range k.names {
			if have := ids[k.kind][n]; len(have) > 1 {
				dups = append(dups, fmt.Sprintf("%s %q (ids %s)", k.kind, n, strings.Join(have, ", ")))
			}
		}
	}
	if len(dups) == 0 {
		return nil
	}
	return fmt.Errorf("connections: workspace %s has several objects of a name the Config declares, which cannot be matched by name: %s; rename or delete all but one of each first",
		r.workspace, strings.Join(dups, "; "))
}

// only returns the one object of name in m, false when there is none (or,
// for a name the Config does not declare, several: see declaredDuplicates).
func only[T any](m map[string][]T, name string) (T, bool) {
	if len(m[name]) != 1 {
		var zero T
		return zero, false
	}
	return m[name][0], true
}

// undeclared lists, sorted by name, the objects of m whose names decl does
// not have, with the reason to give when one is deleted: which one of
// several objects of its name it is, if it is.
func undeclared[T, D any](m map[string][]T, decl map[string]D, kind Kind, id func(T) string) []undeclaredObject[T] {
	var out []undeclaredObject[T]
	for _, n := range sortedKeys(m) {
		if _, ok := decl[n]; ok {
			continue
		}
		// By id, so that the same state always prints the same plan.
		for _, x := range slices.SortedFunc(slices.Values(m[n]), func(a, b T) int { return strings.Compare(id(a), id(b)) }) {
			o := undeclaredObject[T]{name: n, id: id(x), obj: x}
			if len(m[n]) > 1 {
				o.which = fmt.Sprintf("one of %d %ss of this name: id %s", len(m[n]), kind, o.id)
			}
			out = append(out, o)
		}
	}
	return out
}

// undeclaredObject is a remote object whose name the Config does not
// declare.
type undeclaredObject[T any] struct {
	name, id, which string
	obj             T
}

// Plan compares the declared config with the workspace. A declared
// source's or destination's config that its connector's spec refuses fails
// it with a *kit.InvalidConfigError (see the package doc).
func (r *Reconciler) Plan(ctx context.Context) (*Plan, error) {
	st, err := loadState(r.statePath)
	if err != nil {
		return nil, err
	}
	rm, err := r.listRemote(ctx)
	if err != nil {
		return nil, err
	}
	all := rm.ids()
	if err := r.declaredDuplicates(all); err != nil {
		return nil, err
	}
	pl := &planner{r: r, rm: rm, st: st, replaced: map[Kind]map[string]bool{KindSource: {}, KindDestination: {}},
		cat:   &catalog{r: r, defs: map[Kind][]api.Definition{}, specs: map[string]json.RawMessage{}},
		known: map[string]string{}, deleted: map[string]bool{}}
	if r.deleteUnmentioned || r.deleteRemoved {
		pl.deleteUndeclared(!r.deleteUnmentioned)
	}
	if err := pl.planActors(ctx); err != nil {
		return nil, err
	}
	pl.deleteConnectionsOfGone()
	pl.planConnections()
	// Connections go before what they use, in the plan as in Apply.
	slices.SortStableFunc(pl.dels, func(a, b *Change) int { return usersFirst[a.Kind] - usersFirst[b.Kind] })
	p := &Plan{st: st, ids: uniqueIDs(all), Changes: slices.Concat(pl.dels, pl.adds, pl.changes), declared: map[Kind][]string{
		KindSource: sortedKeys(r.decl.Sources), KindDestination: sortedKeys(r.decl.Destinations), KindConnection: sortedKeys(r.decl.Connections)}}
	if r.deleteRemoved {
		p.gone = pl.goneFromState(all)
	}
	for _, c := range p.Changes {
		c.Diff.sort()
	}
	return p, nil
}

// uniqueIDs returns the ids by name Apply resolves a connection's source
// and destination with: those of the names that have one object.
func uniqueIDs(all map[Kind]map[string][]string) map[Kind]map[string]string {
	ids := map[Kind]map[string]string{KindSource: {}, KindDestination: {}, KindConnection: {}}
	for kind, byName := range all {
		for n, have := range byName {
			if len(have) == 1 {
				ids[kind][n] = have[0]
			}
		}
	}
	return ids
}

// planner is one Plan being made: what it compares, what it learned on
// the way, and the changes so far, in the three groups a Plan lists them
// in. Sources and destinations are planned before connections, which
// depend on which of them are replaced.
type planner struct {
	r        *Reconciler
	rm       *remote
	st       *state
	cat      *catalog
	known    map[string]string        // the secrets this Plan resolved: see resolveConfig
	replaced map[Kind]map[string]bool // sources and destinations replaced, by name
	deleted  map[string]bool          // ids of the objects the plan deletes
	dels     []*Change
	adds     []*Change
	changes  []*Change
}

// add files a change (nil: nothing to do) under creations or under
// updates and replacements.
func (pl *planner) add(c *Change) {
	switch {
	case c == nil:
	case c.Action == Create:
		pl.adds = append(pl.adds, c)
	default:
		pl.changes = append(pl.changes, c)
	}
}

// removedReason is the Reason of the deletion of an object the Config no
// longer declares and the state file records as applied.
const removedReason = "removed from the file that applied it"

// deleteUndeclared deletes the objects the Config does not declare,
// connections first, then what they use: every one (DeleteUnmentioned), or
// when onlyRemoved those the state records by that name and id
// (DeleteRemoved).
func (pl *planner) deleteUndeclared(onlyRemoved bool) {
	r, rm := pl.r, pl.rm
	del := func(kind Kind, name, id, which string) {
		reason := which
		if pl.st.IDs[objectKey(kind, name)] == id {
			reason = strings.Join(slices.DeleteFunc([]string{removedReason, which}, func(s string) bool { return s == "" }), "; ")
		} else if onlyRemoved {
			return
		}
		pl.dels = append(pl.dels, &Change{Action: Delete, Kind: kind, Name: name, Reason: reason, id: id})
		pl.deleted[id] = true
	}
	for _, o := range undeclared(rm.connections, r.decl.Connections, KindConnection, func(c api.Connection) string { return c.ID }) {
		del(KindConnection, o.name, o.id, o.which)
	}
	for _, o := range undeclared(rm.destinations, r.decl.Destinations, KindDestination, func(d api.Destination) string { return d.ID }) {
		del(KindDestination, o.name, o.id, o.which)
	}
	for _, o := range undeclared(rm.sources, r.decl.Sources, KindSource, func(s api.Source) string { return s.ID }) {
		del(KindSource, o.name, o.id, o.which)
	}
}

// goneFromState lists, sorted, the objects the state records whose names
// the Config no longer declares and which the workspace no longer has
// under that name and id: deleted or renamed behind the Config's back,
// they are not deleted, and Apply forgets them.
func (pl *planner) goneFromState(all map[Kind]map[string][]string) []recorded {
	decl := map[Kind]func(string) bool{
		KindSource:      func(n string) bool { _, ok := pl.r.decl.Sources[n]; return ok },
		KindDestination: func(n string) bool { _, ok := pl.r.decl.Destinations[n]; return ok },
		KindConnection:  func(n string) bool { _, ok := pl.r.decl.Connections[n]; return ok },
	}
	var out []recorded
	for _, key := range sortedKeys(pl.st.IDs) {
		kind, name, ok := strings.Cut(key, "/")
		declared, known := decl[Kind(kind)]
		if !ok || !known || declared(name) || slices.Contains(all[Kind(kind)][name], pl.st.IDs[key]) {
			continue
		}
		out = append(out, recorded{kind: Kind(kind), name: name, id: pl.st.IDs[key]})
	}
	return out
}

// planActors plans the declared sources, then the declared destinations,
// each by name, and notes which are replaced.
func (pl *planner) planActors(ctx context.Context) error {
	for _, kind := range []Kind{KindSource, KindDestination} {
		decls := pl.r.decl.Sources
		if kind == KindDestination {
			decls = pl.r.decl.Destinations
		}
		for _, n := range sortedKeys(decls) {
			var have *actorState
			if kind == KindSource {
				if s, ok := only(pl.rm.sources, n); ok {
					have = &actorState{id: s.ID, defID: s.DefinitionID, config: s.Configuration}
				}
			} else if d, ok := only(pl.rm.destinations, n); ok {
				have = &actorState{id: d.ID, defID: d.DefinitionID, config: d.Configuration}
			}
			c, err := pl.r.planActor(ctx, pl.cat, pl.known, pl.st, kind, n, decls[n], have)
			if err != nil {
				return err
			}
			if c != nil && c.Action == Replace {
				pl.replaced[kind][n] = true
			}
			pl.add(c)
		}
	}
	return nil
}

// deleteConnectionsOfGone says what Airbyte does anyway: it deletes a
// source's or destination's connections with it, so those the Config does
// not declare go with a replaced one, or with one the plan deletes. Every
// one of them: several of one name, which the Config does not declare, go
// all the same.
func (pl *planner) deleteConnectionsOfGone() {
	for _, o := range undeclared(pl.rm.connections, pl.r.decl.Connections, KindConnection, func(c api.Connection) string { return c.ID }) {
		x := o.obj
		if pl.deleted[x.ID] {
			continue
		}
		// A replaced source or destination is declared, so its name
		// is that of one object: the one x uses, if x uses that name.
		src, dst := pl.rm.nameOf[x.SourceID], pl.rm.nameOf[x.DestinationID]
		var reason string
		switch {
		case pl.replaced[KindSource][src]:
			reason = "its source " + src + " is replaced, and Airbyte deletes a source's connections with it"
		case pl.deleted[x.SourceID]:
			reason = "its source " + src + " is deleted, and Airbyte deletes a source's connections with it"
		case pl.replaced[KindDestination][dst]:
			reason = "its destination " + dst + " is replaced, and Airbyte deletes a destination's connections with it"
		case pl.deleted[x.DestinationID]:
			reason = "its destination " + dst + " is deleted, and Airbyte deletes a destination's connections with it"
		default:
			continue
		}
		if o.which != "" {
			reason += "; " + o.which
		}
		pl.dels = append(pl.dels, &Change{Action: Delete, Kind: KindConnection, Name: o.name, Reason: reason, id: o.id})
		pl.deleted[x.ID] = true
	}
}

// planConnections plans the declared connections, by name.
func (pl *planner) planConnections() {
	for _, n := range sortedKeys(pl.r.decl.Connections) {
		var have *api.Connection
		if c, ok := only(pl.rm.connections, n); ok {
			have = &c
		}
		pl.add(pl.r.planConnection(n, pl.r.decl.Connections[n], have, pl.rm, pl.replaced))
	}
}

// actorState is a remote source or destination.
type actorState struct {
	id, defID string
	config    map[string]any
}

// planActor compares one declared source or destination with the remote
// one (nil when there is none). known holds the secrets the Plan resolved
// for the declarations before (see resolveConfig).
func (r *Reconciler) planActor(ctx context.Context, cat *catalog, known map[string]string, st *state, kind Kind, name string,
	decl Connector, have *actorState) (*Change, error) {
	def, err := cat.find(ctx, kind, decl.Type)
	if err != nil {
		return nil, fmt.Errorf("connections: %s %q: %w", kind, name, err)
	}
	spec, err := cat.spec(ctx, kind, def.ID)
	if err != nil {
		return nil, fmt.Errorf("connections: %s %q: reading the spec of %s, which says which fields are secret: %w", kind, name, decl.Type, err)
	}
	a := &actorPlan{kind: kind, name: name, have: have, st: st}
	if err := a.resolve(ctx, r, known, decl.Config, spec); err != nil {
		return nil, fmt.Errorf("connections: %s %q: %w", kind, name, err)
	}
	if err := validateDeclared(spec, a.cfg); err != nil {
		return nil, fmt.Errorf("connections: %s %q: the config does not match the spec of %s, and Airbyte would refuse it: %w", kind, name, decl.Type, err)
	}
	a.c = &Change{Kind: kind, Name: name, defID: def.ID, send: a.payload()}
	if have == nil || have.defID != def.ID {
		return a.creation(ctx, cat, decl.Type), nil
	}
	return a.update(), nil
}

// validateDeclared checks a declared config, its references resolved,
// against the connector's spec, as Airbyte does when the config is sent:
// a plan that passed in CI would otherwise fail at apply, after the changes
// before it were made. The error is a *kit.InvalidConfigError naming each
// field with the rule it breaks, never a value, masked all the same. A
// spec that is not a usable JSON schema is the connector's to fix: it
// checks nothing.
func validateDeclared(spec json.RawMessage, cfg map[string]any) error {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	err = kit.ValidateConfig(&protocol.ConnectorSpecification{ConnectionSpecification: spec}, raw)
	var ic *kit.InvalidConfigError
	if !errors.As(err, &ic) {
		return nil
	}
	masked := &kit.InvalidConfigError{Problems: make([]kit.ConfigProblem, len(ic.Problems))}
	for i, p := range ic.Problems {
		masked.Problems[i] = kit.ConfigProblem{Field: p.Field, Reason: secrets.Mask(p.Reason)}
	}
	return masked
}

// actorPlan is the comparison of one declared source or destination with
// the remote one: the declared config, resolved, which of its fields are
// secret, and the Change being made. Its judges decide how a secret field
// shows in the Change's diff.
type actorPlan struct {
	kind      Kind
	name      string
	have      *actorState // nil when there is no remote object
	st        *state
	cfg       map[string]any // the declared config, its references resolved
	remoteCfg map[string]any // have's config; nil when there is no remote object
	isSecret  pathSet
	c         *Change
}

// resolve resolves the secret references of the declared config and
// finds its secret fields: by the spec, and by what holds a reference.
func (a *actorPlan) resolve(ctx context.Context, r *Reconciler, known map[string]string, config map[string]any, spec json.RawMessage) error {
	refs := stringPaths(config, nil, isReference)
	cfg, err := r.resolveConfig(ctx, config, known)
	if err != nil {
		return err
	}
	cfg = specsecret.Clone(cfg)
	if cfg == nil {
		cfg = map[string]any{}
	}
	if a.have != nil {
		a.remoteCfg = a.have.config
	}
	a.cfg, a.isSecret = cfg, secretSet(spec, cfg, a.remoteCfg, refs)
	return nil
}

// payload is what the Change sends: the config, and its secrets by state
// key for the state Apply writes.
func (a *actorPlan) payload() *payload {
	send := &payload{config: specsecret.Clone(a.cfg), secrets: map[string]any{}}
	var leaves []string
	for _, p := range a.isSecret.paths {
		if v, ok := specsecret.Get(a.cfg, p); ok {
			send.secrets[secretKey(a.kind, a.name, p)] = v
			leaves = specsecret.Leaves(v, leaves)
		}
	}
	// A secret written in the file, not as a reference, was never
	// resolved, so nothing registered it: a server's error quoting the
	// request would show it.
	secrets.Register(leaves...)
	return send
}

// creation makes the Change a creation, or, when a remote object of
// another type has the name, its replacement.
func (a *actorPlan) creation(ctx context.Context, cat *catalog, typ string) *Change {
	c, d := a.c, &Diff{}
	if a.have != nil {
		c.Action, c.id = Replace, a.have.id
		c.Reason = "its type changed, and Airbyte cannot change a " + string(a.kind) + "'s type"
		d.change("type", cat.name(ctx, a.kind, a.have.defID), typ)
		d.group('~', "config", objectDiff(a.remoteCfg, a.cfg, nil, a.judgeNew))
	} else {
		c.Action = Create
		d.add("type", typ)
		d.group('+', "config", objectDiff(nil, a.cfg, nil, a.judgeNew))
	}
	c.Diff = d
	return c
}

// judgeNew shows the secrets of a new object: they are all sent, and
// shown as such.
func (a *actorPlan) judgeNew(p []string, ov, nv any) (bool, byte, string) {
	switch {
	case !a.isSecret.has(p) || (ov == nil && nv == nil):
		return a.isSecret.has(p), 0, ""
	case nv == nil:
		return true, '-', "(secret)"
	case ov == nil:
		return true, '+', "(secret)"
	}
	return true, '~', "(secret)"
}

// update makes the Change an update of the remote object, or nil when
// nothing differs.
func (a *actorPlan) update() *Change {
	a.c.Action, a.c.id = Update, a.have.id
	d := &Diff{}
	d.group('~', "config", objectDiff(a.remoteCfg, a.cfg, nil, a.judgeUpdate))
	if d.empty() {
		return nil
	}
	a.c.Diff = d
	return a.c
}

// judgeUpdate compares a secret with the remote one by the fingerprint
// the state kept of what was applied, and sends the mask for one that is
// unchanged.
func (a *actorPlan) judgeUpdate(p []string, ov, nv any) (bool, byte, string) {
	if !a.isSecret.has(p) {
		return false, 0, ""
	}
	switch {
	case nv == nil && ov == nil:
		return true, 0, ""
	case nv == nil:
		return true, '-', "(secret)"
	case ov == nil:
		return true, '+', "(secret)"
	}
	fp, known := a.st.Fingerprints[secretKey(a.kind, a.name, p)]
	// Fingerprints of another object of this name (deleted since,
	// or from a state written before ids were kept) say nothing.
	known = known && a.st.IDs[objectKey(a.kind, a.name)] == a.have.id
	switch {
	case !known:
		return true, '~', "(secret: not comparable)"
	case fp != a.st.fingerprint(nv):
		return true, '~', "(secret: changed)"
	}
	// Unchanged: send the mask so that the server keeps it. The server
	// keeps only a string field that way; an array holding secrets is
	// sent as declared, which stores the same values.
	if _, isString := nv.(string); isString {
		setPath(a.c.send.config, p, specsecret.Mask)
	}
	return true, 0, ""
}

// catalog is what one Plan learns about connector types: each kind's
// definitions, listed once, and each definition's spec, read once.
type catalog struct {
	r     *Reconciler
	defs  map[Kind][]api.Definition
	specs map[string]json.RawMessage
}

func (c *catalog) definitions(ctx context.Context, kind Kind) ([]api.Definition, error) {
	if d, ok := c.defs[kind]; ok {
		return d, nil
	}
	seq := c.r.client.SourceDefinitions(ctx, c.r.workspace)
	if kind == KindDestination {
		seq = c.r.client.DestinationDefinitions(ctx, c.r.workspace)
	}
	var out []api.Definition
	for d, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	c.defs[kind] = out
	return out, nil
}

// find returns the definition of a connector name such as source-faker.
func (c *catalog) find(ctx context.Context, kind Kind, connector string) (*api.Definition, error) {
	defs, err := c.definitions(ctx, kind)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if d.DockerRepository == connector || strings.HasSuffix(d.DockerRepository, "/"+connector) {
			return &d, nil
		}
	}
	return nil, fmt.Errorf("workspace %s has no connector %q: %w", c.r.workspace, connector, api.ErrNotFound)
}

// name is the connector name of a definition id, for the diff.
func (c *catalog) name(ctx context.Context, kind Kind, defID string) string {
	defs, _ := c.definitions(ctx, kind)
	for _, d := range defs {
		if d.ID == defID {
			return d.DockerRepository[strings.LastIndex(d.DockerRepository, "/")+1:]
		}
	}
	return defID
}

func (c *catalog) spec(ctx context.Context, kind Kind, defID string) (json.RawMessage, error) {
	if s, ok := c.specs[defID]; ok {
		return s, nil
	}
	var s json.RawMessage
	var err error
	if kind == KindSource {
		s, err = c.r.client.SourceSpec(ctx, c.r.workspace, defID)
	} else {
		s, err = c.r.client.DestinationSpec(ctx, c.r.workspace, defID)
	}
	if err == nil {
		c.specs[defID] = s
	}
	return s, err
}

// pathSet is a set of secret paths.
type pathSet struct{ paths [][]string }

func (s pathSet) has(p []string) bool {
	return slices.ContainsFunc(s.paths, func(q []string) bool { return slices.Equal(p, q) })
}

// secretSet is every path that holds a secret: what the spec marks (in the
// declared or the remote config), what the server masked, and what the
// declaration takes from a secret reference.
func secretSet(spec json.RawMessage, decl, remote map[string]any, refs [][]string) pathSet {
	var s pathSet
	add := func(p []string) {
		if !s.has(p) {
			s.paths = append(s.paths, p)
		}
	}
	for _, p := range specsecret.Paths(spec, decl) {
		add(wholeArray(decl, p))
	}
	for _, p := range specsecret.Paths(spec, remote) {
		add(wholeArray(remote, p))
	}
	for _, p := range stringPaths(remote, nil, isMasked) {
		add(p)
	}
	for _, p := range refs {
		add(p)
	}
	return s
}

// wholeArray returns path p of config cut at the first array on the way:
// a secret inside the items of an array makes all of the array secret,
// since the diff compares and prints an array as one value.
func wholeArray(config map[string]any, p []string) []string {
	var cur any = config
	for i, k := range p {
		m, ok := cur.(map[string]any)
		if !ok {
			return p[:i]
		}
		cur = m[k]
	}
	return p
}

// stringPaths lists, in key order, the paths of the string values of v
// that match: the masked secrets an instance returns, or the
// "secret_reference::" values of a declaration. An array holding a match
// at any depth is listed whole: the diff compares and prints an array as
// one value, so one secret in it makes all of it secret.
func stringPaths(v any, path []string, match func(string) bool) [][]string {
	var out [][]string
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			out = append(out, stringPaths(x[k], append(slices.Clone(path), k), match)...)
		}
	case []any:
		if len(path) > 0 && jsonwalk.AnyString(x, match) {
			out = append(out, path)
		}
	case string:
		if match(x) {
			out = append(out, path)
		}
	}
	return out
}

func isMasked(s string) bool { return s == specsecret.Mask }

func isReference(s string) bool { return strings.HasPrefix(s, secrets.ReferencePrefix) }

// resolveConfig returns a copy of config with its secret references
// resolved: those of a secret known holds (one that a declaration before
// it in the Plan named) from known, the others through the secret
// managers, then added to known. So a secret that many declarations name
// (one warehouse password for twenty destinations) is asked for once per
// Plan, and again by the next Plan, which sees it rotated.
func (r *Reconciler) resolveConfig(ctx context.Context, config map[string]any, known map[string]string) (map[string]any, error) {
	resolved, err := secrets.ResolveReferences(ctx, putKnown(config, known), r.secretOpts...)
	if err != nil {
		return nil, err
	}
	cfg, _ := resolved.(map[string]any)
	secretref.Pairs(config, cfg, func(ref, value string) { known[secretref.Name(ref)] = value })
	return cfg, nil
}

// putKnown returns a copy of v in which each reference to a secret known
// holds is its value, registered for masking again (a value that looks
// like a reference itself is left to be asked for: it would be taken for
// one).
func putKnown(v any, known map[string]string) any {
	switch x := v.(type) {
	case string:
		if val, ok := known[secretref.Name(x)]; ok && isReference(x) && !isReference(val) {
			secrets.Register(val)
			return val
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = putKnown(e, known)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = putKnown(e, known)
		}
		return s
	}
	return v
}

func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// connView is a connection as the diff shows it: names instead of ids,
// one value per managed field.
func connView(c Connection) map[string]any {
	m := map[string]any{
		"source": c.Source, "destination": c.Destination, "schedule": orDefault(c.Schedule, "manual"),
		"prefix": c.Prefix, "namespace": orDefault(c.Namespace, "destination"), "status": orDefault(c.Status, "active"),
	}
	if len(c.Streams) > 0 {
		sts := map[string]any{}
		for n, s := range c.Streams {
			sts[n] = streamView(s)
		}
		m["streams"] = sts
	}
	return m
}

func streamView(s Stream) map[string]any {
	m := map[string]any{}
	if s.SyncMode != "" {
		m["sync_mode"] = s.SyncMode
	}
	if s.CursorField != nil {
		m["cursor_field"] = s.CursorField
	}
	if s.PrimaryKey != nil {
		m["primary_key"] = s.PrimaryKey
	}
	if s.SelectedFields != nil {
		m["selected_fields"] = s.SelectedFields
	}
	return m
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// remoteConnView is a remote connection in connView's shape, limited to
// what the declaration manages.
func remoteConnView(c api.Connection, decl Connection, rm *remote) map[string]any {
	sched := c.Schedule.ScheduleType
	switch c.Schedule.ScheduleType {
	case api.ScheduleCron:
		sched = c.Schedule.CronExpression
	case "basic":
		sched = "basic " + c.Schedule.BasicTiming
	}
	ns := orDefault(c.NamespaceDefinition, "destination")
	if ns == "custom_format" {
		ns = c.NamespaceFormat
	}
	m := map[string]any{
		"source": rm.nameOf[c.SourceID], "destination": rm.nameOf[c.DestinationID], "schedule": sched,
		"prefix": c.Prefix, "namespace": ns, "status": c.Status,
	}
	if len(decl.Streams) > 0 {
		sts := map[string]any{}
		for _, s := range c.Configurations.Streams {
			view := map[string]any{}
			want, declared := decl.Streams[s.Name]
			if !declared {
				// A stream to remove shows what it was.
				want = Stream{SyncMode: s.SyncMode}
			}
			if want.SyncMode != "" {
				view["sync_mode"] = s.SyncMode
			}
			if want.CursorField != nil {
				view["cursor_field"] = s.CursorField
			}
			if want.PrimaryKey != nil {
				view["primary_key"] = s.PrimaryKey
			}
			if want.SelectedFields != nil {
				var f [][]string
				for _, sf := range s.SelectedFields {
					f = append(f, sf.FieldPath)
				}
				view["selected_fields"] = f
			}
			sts[s.Name] = view
		}
		m["streams"] = sts
	}
	return m
}

var noSecrets secretJudge = func([]string, any, any) (bool, byte, string) { return false, 0, "" }

// planConnection compares one declared connection with the remote one.
func (r *Reconciler) planConnection(name string, decl Connection, have *api.Connection, rm *remote, replaced map[Kind]map[string]bool) *Change {
	c := &Change{Kind: KindConnection, Name: name, conn: &decl}
	want := connView(decl)
	if have == nil {
		c.Action, c.Diff = Create, objectDiff(nil, want, nil, noSecrets)
		return c
	}
	c.id = have.ID
	got := remoteConnView(*have, decl, rm)
	d := objectDiff(got, want, nil, noSecrets)
	switch {
	case replaced[KindSource][decl.Source]:
		c.Action, c.Reason = Replace, "its source "+decl.Source+" is replaced"
	case replaced[KindDestination][decl.Destination]:
		c.Action, c.Reason = Replace, "its destination "+decl.Destination+" is replaced"
	case got["source"] != want["source"] || got["destination"] != want["destination"]:
		c.Action, c.Reason = Replace, "Airbyte cannot move a connection to another source or destination"
	case d.empty():
		return nil
	default:
		c.Action = Update
	}
	c.Diff = d
	return c
}
