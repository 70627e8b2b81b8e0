package main

// The commands that talk to remote services: connections as code (plan,
// apply), remote syncs on Airbyte (airbyte sync, airbyte jobs) and Fivetran
// (fivetran sync, fivetran resync), and the sensor (watch).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/airbyteapi"
	"github.com/x/goairbyte/cloud"
	"github.com/x/goairbyte/connections"
	"github.com/x/goairbyte/fivetran"
	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/httpretry"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/watch"
)

// airbyteFlags are the credentials of an Airbyte instance, with the
// environment variables PyAirbyte reads as defaults. Every value but
// configURL and attempts may be a secret_reference::NAME. configURL is nil
// for a command that never calls the Configuration API.
type airbyteFlags struct {
	url, configURL, clientID, clientSecret, bearer, workspace *string
	attempts                                                  *int
}

// addAirbyteFlags declares the flags of an Airbyte instance;
// --config-api-url only when the command calls the Configuration API.
func addAirbyteFlags(fs *flag.FlagSet, configAPI bool) *airbyteFlags {
	f := &airbyteFlags{
		url:          fs.String("api-url", "", "the Airbyte API root (default $AIRBYTE_CLOUD_API_URL, else Airbyte Cloud's); http://host:8000/api/public/v1 for self-managed"),
		clientID:     fs.String("client-id", "", "the application's client id (default $AIRBYTE_CLOUD_CLIENT_ID)"),
		clientSecret: fs.String("client-secret", "", "the application's client secret (default $AIRBYTE_CLOUD_CLIENT_SECRET)"),
		bearer:       fs.String("bearer-token", "", "a bearer token instead of client credentials (default $AIRBYTE_CLOUD_BEARER_TOKEN)"),
		workspace:    fs.String("workspace", "", "the workspace id (default $AIRBYTE_CLOUD_WORKSPACE_ID)"),
		attempts:     fs.Int("attempts", 6, "attempts of each API call, the first included, before giving up on 429, 5xx and network errors"),
	}
	if configAPI {
		f.configURL = fs.String("config-api-url", "", "the Configuration API root, when it cannot be derived from --api-url (one not ending in /api/public/v1, as behind a proxy); http://host:8000/api/v1 for self-managed")
	}
	return f
}

// credential returns a flag's value, else the environment variable's, with
// a secret reference resolved.
func credential(ctx context.Context, flagValue, env string) (string, error) {
	v := flagValue
	if v == "" {
		v = os.Getenv(env)
	}
	if name, ok := strings.CutPrefix(v, "secret_reference::"); ok {
		s, err := secrets.GetSecret(ctx, name)
		if err != nil {
			return "", err
		}
		return s.Reveal(), nil
	}
	if v != "" && env != "AIRBYTE_CLOUD_API_URL" && env != "AIRBYTE_CLOUD_WORKSPACE_ID" {
		secrets.Register(v)
	}
	return v, nil
}

// client builds the API client the flags describe.
func (f *airbyteFlags) client(ctx context.Context, e *env, cmd string) (*airbyteapi.Client, error) {
	vals := map[string]string{}
	for env, p := range map[string]*string{"AIRBYTE_CLOUD_API_URL": f.url, "AIRBYTE_CLOUD_CLIENT_ID": f.clientID,
		"AIRBYTE_CLOUD_CLIENT_SECRET": f.clientSecret, "AIRBYTE_CLOUD_BEARER_TOKEN": f.bearer} {
		v, err := credential(ctx, *p, env)
		if err != nil {
			return nil, err
		}
		vals[env] = v
	}
	url := vals["AIRBYTE_CLOUD_API_URL"]
	if url == "" {
		url = airbyteapi.CloudURL
	}
	if u, err := neturl.Parse(url); err == nil && u.Host != "" && strings.Trim(u.Path, "/") == "" {
		// The address of Airbyte's web app, not of its API: every call
		// would fail as unauthorized or not found, saying nothing of it.
		e.conns.Logger().Warn("the Airbyte API URL has no path; a self-managed Airbyte's API root is "+strings.TrimSuffix(url, "/")+"/api/public/v1 (pass it with --api-url or AIRBYTE_CLOUD_API_URL)", "url", url)
	}
	var opts []airbyteapi.Option
	switch id, secret, bearer := vals["AIRBYTE_CLOUD_CLIENT_ID"], vals["AIRBYTE_CLOUD_CLIENT_SECRET"], vals["AIRBYTE_CLOUD_BEARER_TOKEN"]; {
	case bearer != "":
		opts = append(opts, airbyteapi.WithBearerToken(bearer))
	case id != "" || secret != "":
		if id == "" || secret == "" {
			return nil, usagef(cmd, "client credentials need both --client-id and --client-secret (or AIRBYTE_CLOUD_CLIENT_ID and AIRBYTE_CLOUD_CLIENT_SECRET)")
		}
		opts = append(opts, airbyteapi.WithClientCredentials(id, secret))
	}
	if *f.attempts < 1 {
		return nil, usagef(cmd, "--attempts must be at least 1")
	}
	retry := httpretry.Default
	retry.MaxAttempts = *f.attempts
	opts = append(opts, airbyteapi.WithRetry(airbyteapi.RetryPolicy(retry)))
	if f.configURL != nil && *f.configURL != "" {
		opts = append(opts, airbyteapi.WithConfigAPIURL(*f.configURL))
	}
	c, err := airbyteapi.New(url, opts...)
	if err != nil {
		return nil, usagef(cmd, "%v", err)
	}
	return c, nil
}

func (f *airbyteFlags) workspaceID(ctx context.Context) (string, error) {
	return credential(ctx, *f.workspace, "AIRBYTE_CLOUD_WORKSPACE_ID")
}

// errChanges makes plan exit with exitChanges when there are changes, like
// terraform plan -detailed-exitcode.
var errChanges = errors.New("changes pending")

// exitChanges is plan's exit status when the workspace differs from the
// file.
const exitChanges = 2

var planCommand = &command{
	name:     "plan",
	synopsis: "plan -f connections.yaml [--state FILE] [--delete-removed] [--delete-unmentioned] [credentials]",
	summary:  "Show how an Airbyte workspace differs from a connections file (exit 2 when it does).",
	example: "goab plan -f connections.yaml --workspace 5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6\n" +
		"# credentials from AIRBYTE_CLOUD_CLIENT_ID and AIRBYTE_CLOUD_CLIENT_SECRET (a secret_reference::NAME works too)",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		return planOrApply(ctx, c, e, args, false)
	},
}

var applyCommand = &command{
	name:     "apply",
	synopsis: "apply -f connections.yaml [--state FILE] [--delete-removed] [--delete-unmentioned] [credentials]",
	summary:  "Make an Airbyte workspace match a connections file, printing what it changes.",
	example:  "goab apply -f connections.yaml --api-url http://localhost:8000/api/public/v1 --state .goab-state.json",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		return planOrApply(ctx, c, e, args, true)
	},
}

// planOrApply prints the plan and, for apply, applies it; a plan with
// changes ends plan with errChanges.
func planOrApply(ctx context.Context, c *command, e *env, args []string, apply bool) error {
	r, _, err := reconcilerFromFlags(ctx, c, e, args)
	if err != nil {
		return err
	}
	p, err := r.Plan(ctx)
	if err != nil {
		return err
	}
	if p.Empty() {
		// Apply records the ids of what the file declares, which
		// --delete-removed needs once a declaration is removed.
		if apply {
			if err := r.Apply(ctx, p); err != nil {
				return err
			}
		}
		// Objects the file does not declare are left alone and not in
		// the plan, one removed from it too without --delete-removed.
		fmt.Fprintln(e.text, "No changes: what the file declares matches the workspace (objects it does not declare are left alone).")
		return nil
	}
	fmt.Fprint(e.text, p)
	if !apply {
		return errChanges
	}
	if err := r.Apply(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(e.text, "Applied %d change(s).\n", len(p.Changes))
	return nil
}

func reconcilerFromFlags(ctx context.Context, c *command, e *env, args []string) (*connections.Reconciler, string, error) {
	fs := newFlagSet(c)
	file := fs.String("f", "", "the connections YAML file")
	state := fs.String("state", "", "the state file that keeps the fingerprints of applied secrets (default: the file's path with .yaml or .yml replaced by .state.json)")
	removed := fs.Bool("delete-removed", false, "also delete the sources, destinations and connections the state file records as applied by this file and the file no longer declares")
	del := fs.Bool("delete-unmentioned", false, "also delete the workspace's sources, destinations and connections the file does not declare, those others made too")
	af := addAirbyteFlags(fs, true)
	pos, err := parse(c, e, fs, args)
	if err != nil {
		return nil, "", err
	}
	if len(pos) > 0 {
		return nil, "", usagef(c.name, "unexpected arguments %q", pos)
	}
	if *file == "" {
		return nil, "", usagef(c.name, "-f connections.yaml is required")
	}
	cfg, err := connections.Load(*file)
	if err != nil {
		return nil, "", usagef(c.name, "%v", err)
	}
	client, err := af.client(ctx, e, c.name)
	if err != nil {
		return nil, "", err
	}
	ws, err := af.workspaceID(ctx)
	if err != nil {
		return nil, "", err
	}
	if ws == "" && cfg.WorkspaceID == "" {
		return nil, "", usagef(c.name, "no workspace: pass --workspace, set AIRBYTE_CLOUD_WORKSPACE_ID or workspace_id in the file")
	}
	if *state == "" {
		*state = defaultStateFile(*file)
	}
	opts := []connections.Option{connections.WithStateFile(*state), connections.WithLogger(e.conns.Logger())}
	if *removed {
		opts = append(opts, connections.DeleteRemoved())
	}
	if *del {
		opts = append(opts, connections.DeleteUnmentioned())
	}
	r, err := connections.New(client, ws, cfg, opts...)
	return r, ws, err
}

// uuidPattern is the form of Airbyte's ids.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// connectionID returns the id of the connection arg names: arg itself when
// it is an id, else the id of the one connection of that name in the
// workspace (the name a connections file and Airbyte's UI give it).
func (f *airbyteFlags) connectionID(ctx context.Context, cmd string, client *airbyteapi.Client, arg string) (string, error) {
	if uuidPattern.MatchString(arg) {
		return arg, nil
	}
	ws, err := f.workspaceID(ctx)
	if err != nil {
		return "", err
	}
	if ws == "" {
		return "", usagef(cmd, "%q is not a connection id; to name a connection by its name, give its workspace with --workspace or AIRBYTE_CLOUD_WORKSPACE_ID", arg)
	}
	var ids, names []string
	for conn, err := range (*api.Client)(client).Connections(ctx, ws) {
		if err != nil {
			return "", err
		}
		if conn.Name == arg {
			ids = append(ids, conn.ID)
		}
		names = append(names, strconv.Quote(conn.Name))
	}
	switch {
	case len(ids) == 1:
		return ids[0], nil
	case len(ids) > 1:
		return "", usagef(cmd, "workspace %s has %d connections named %q (%s); give the id of one", ws, len(ids), arg, strings.Join(ids, ", "))
	case len(names) == 0:
		return "", usagef(cmd, "workspace %s has no connections; %q names none", ws, arg)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	return "", usagef(cmd, "workspace %s has no connection named or with id %q; its connections are %s", ws, arg, strings.Join(names, ", "))
}

var airbyteCommand = &command{
	name:     "airbyte",
	synopsis: "airbyte sync CONNECTION [--wait] [--timeout D] | airbyte jobs [--connection CONNECTION] [--limit N] [credentials]",
	summary:  "Run a sync of an Airbyte connection and wait for it, or list jobs.",
	example: "goab airbyte sync 9924bcd0-99be-453d-ba47-c2c9766f7da5 --wait --timeout 30m\n" +
		"goab airbyte sync faker-to-warehouse --workspace 5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6 --wait   # by its name in the workspace\n" +
		"goab airbyte jobs --connection 9924bcd0-99be-453d-ba47-c2c9766f7da5 --limit 5",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		wait := fs.Bool("wait", false, "sync: wait until the job ends; exit 1 when it fails")
		timeout := fs.Duration("timeout", 0, "sync --wait: give up (and cancel the job) after this long; 0 waits as long as it takes")
		poll := fs.Duration("poll", time.Second, "sync --wait: the first wait between polls (it grows to 30 s)")
		connection := fs.String("connection", "", "jobs: only this connection's (its id, or its name in the --workspace)")
		limit := fs.Int("limit", 20, "jobs: at most this many, newest first")
		af := addAirbyteFlags(fs, true)
		pos, err := parse(c, e, fs, args)
		if err != nil {
			return err
		}
		if len(pos) == 0 {
			return usagef(c.name, "say sync CONNECTION or jobs")
		}
		client, err := af.client(ctx, e, c.name)
		if err != nil {
			return err
		}
		switch pos[0] {
		case "jobs":
			if len(pos) > 1 {
				return usagef(c.name, "unexpected arguments %q", pos[1:])
			}
			if *connection != "" {
				if *connection, err = af.connectionID(ctx, c.name, client, *connection); err != nil {
					return err
				}
			}
			tw := newTable(e.text, "JOB", "TYPE", "STATUS", "CONNECTION", "STARTED", "ROWS")
			n := 0
			// The job list is goab's own: the public packages list no jobs.
			for j, err := range (*api.Client)(client).Jobs(ctx, api.JobFilter{ConnectionID: *connection}) {
				if err != nil {
					return err
				}
				if n++; n > *limit {
					break
				}
				tw.row(j.ID, j.JobType, j.Status, j.ConnectionID, j.StartTime, j.RowsSynced)
			}
			return tw.flush()
		case "sync":
			if len(pos) != 2 {
				return usagef(c.name, "sync takes one connection: its id, or its name in the --workspace")
			}
			id, err := af.connectionID(ctx, c.name, client, pos[1])
			if err != nil {
				return err
			}
			// Which workspace the connection is in, for cloud.NewWorkspace.
			conn, err := (*api.Client)(client).Connection(ctx, id)
			if err != nil {
				return err
			}
			res, err := cloud.NewWorkspace(client, conn.WorkspaceID).Connection(ctx, conn.ID)
			if err != nil {
				return err
			}
			sr, err := res.RunSync(ctx)
			if err != nil {
				return err
			}
			verb := "started"
			if sr.Attached {
				verb = "was already running"
			}
			fmt.Fprintf(e.text, "Job %d %s for connection %s.\n", sr.JobID, verb, conn.Name)
			if !*wait {
				return nil
			}
			if *timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, *timeout)
				defer cancel()
			}
			job, err := sr.Wait(ctx, cloud.PollInterval(*poll, max(*poll, 30*time.Second)))
			if err != nil && *timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("job %d did not end within --timeout %s and was cancelled (%w); give a longer --timeout, or 0 to wait as long as it takes", sr.JobID, *timeout, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.text, "Job %d succeeded: %d rows in %s.\n", job.ID, job.RowsSynced, jobDuration(job.Duration))
			return nil
		}
		return usagef(c.name, "unknown subcommand %q; say sync or jobs", pos[0])
	},
}

// fivetranFlags are Fivetran's credentials; values may be
// secret_reference::NAME.
type fivetranFlags struct{ url, key, secret *string }

func addFivetranFlags(fs *flag.FlagSet) *fivetranFlags {
	return &fivetranFlags{
		url:    fs.String("fivetran-url", "", "Fivetran's API root (default $FIVETRAN_API_URL, else "+fivetran.DefaultURL+")"),
		key:    fs.String("api-key", "", "the Fivetran API key (default $FIVETRAN_API_KEY)"),
		secret: fs.String("api-secret", "", "the Fivetran API secret (default $FIVETRAN_API_SECRET)"),
	}
}

func (f *fivetranFlags) client(ctx context.Context, cmd string) (*fivetran.Client, error) {
	key, err := credential(ctx, *f.key, "FIVETRAN_API_KEY")
	if err != nil {
		return nil, err
	}
	secret, err := credential(ctx, *f.secret, "FIVETRAN_API_SECRET")
	if err != nil {
		return nil, err
	}
	if key == "" || secret == "" {
		return nil, usagef(cmd, "Fivetran needs --api-key and --api-secret (or FIVETRAN_API_KEY and FIVETRAN_API_SECRET)")
	}
	url := *f.url
	if url == "" {
		url = os.Getenv("FIVETRAN_API_URL")
	}
	var opts []fivetran.Option
	if url != "" {
		opts = append(opts, fivetran.WithBaseURL(url))
	}
	c, err := fivetran.New(key, secret, opts...)
	if err != nil {
		return nil, usagef(cmd, "%v", err)
	}
	return c, nil
}

var fivetranCommand = &command{
	name:     "fivetran",
	synopsis: "fivetran sync|resync CONNECTION [--tables schema.table,...] [--manual] [--fail-on-reschedule] [--timeout D] [credentials]",
	summary:  "Sync or resync a Fivetran connection and wait for it, re-triggering after quota reschedules.",
	example: "goab fivetran sync dominion_lamp --timeout 1h   # credentials from FIVETRAN_API_KEY and FIVETRAN_API_SECRET\n" +
		"goab fivetran resync dominion_lamp --tables public.users,public.orders",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		tables := fs.String("tables", "", "resync: only these tables, as schema.table separated by commas")
		manual := fs.Bool("manual", false, "put the connection on the manual schedule before triggering")
		failResched := fs.Bool("fail-on-reschedule", false, "end with an error naming the time to retry at when Fivetran reschedules the sync for lack of quota, instead of waiting")
		timeout := fs.Duration("timeout", 0, "give up after this long; 0 waits as long as it takes")
		poll := fs.Duration("poll", 2*time.Second, "the first wait between polls (it grows to 30 s)")
		ff := addFivetranFlags(fs)
		pos, err := parse(c, e, fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 2 || (pos[0] != "sync" && pos[0] != "resync") {
			return usagef(c.name, "say sync CONNECTION or resync CONNECTION")
		}
		if *tables != "" && pos[0] != "resync" {
			return usagef(c.name, "--tables goes with resync")
		}
		var scope map[string][]string
		for _, t := range splitList(*tables) {
			schema, table, ok := strings.Cut(t, ".")
			if !ok || schema == "" || table == "" {
				return usagef(c.name, "--tables: %q is not schema.table", t)
			}
			if scope == nil {
				scope = map[string][]string{}
			}
			scope[schema] = append(scope[schema], table)
		}
		client, err := ff.client(ctx, c.name)
		if err != nil {
			return err
		}
		opts := []fivetran.PollOption{fivetran.PollInterval(*poll, max(*poll, 30*time.Second))}
		if *manual {
			opts = append(opts, fivetran.SwitchToManual())
		}
		if *failResched {
			opts = append(opts, fivetran.FailOnReschedule())
		}
		if *timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		var res *fivetran.SyncResult
		if pos[0] == "sync" {
			res, err = client.SyncAndPoll(ctx, pos[1], opts...)
		} else {
			res, err = client.ResyncAndPoll(ctx, pos[1], scope, opts...)
		}
		if err != nil && *timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("the %s of %s did not end within --timeout %s (%w); Fivetran goes on with it: give a longer --timeout, or 0 to wait as long as it takes", pos[0], pos[1], *timeout, err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.text, "The %s of %s succeeded at %s after %d trigger(s).\n", pos[0], pos[1], res.Connection.SucceededAt.Format(time.RFC3339), res.Triggers)
		tw := newTable(e.text, "TABLE", "IN DESTINATION", "COLUMNS", "PRIMARY KEY")
		for _, t := range res.Tables {
			var pk []string
			for _, col := range t.Columns {
				if col.PrimaryKey {
					pk = append(pk, col.Name)
				}
			}
			tw.row(t.Schema+"."+t.Name, t.SchemaInDestination+"."+t.NameInDestination, len(t.Columns), orDash(strings.Join(pk, ",")))
		}
		return tw.flush()
	},
}

var watchCommand = &command{
	name:     "watch",
	synopsis: "watch [--airbyte CONNECTION,...] [--fivetran CONNECTION,...] --cursor FILE [--interval D] [--count N] [--for D] [credentials]",
	summary:  "Print each finished sync of Airbyte or Fivetran connections as a JSON line, once, resuming from a cursor file.",
	example:  "goab watch --airbyte 9924bcd0-99be-453d-ba47-c2c9766f7da5 --fivetran dominion_lamp --cursor watch.json --interval 1m",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		abConns := fs.String("airbyte", "", "Airbyte connections, separated by commas: ids, or names in the --workspace")
		ftConns := fs.String("fivetran", "", "Fivetran connection ids, separated by commas")
		cursorFile := fs.String("cursor", "", "the file that keeps how far the watch has reported (created if missing)")
		interval := fs.Duration("interval", 30*time.Second, "the pause between two polls")
		count := fs.Int("count", 0, "stop after this many events (0: no limit)")
		runFor := fs.Duration("for", 0, "stop after this long, as a sensor run from cron does (0: run until interrupted)")
		af := addAirbyteFlags(fs, false)
		ff := addFivetranFlags(fs)
		pos, err := parse(c, e, fs, args)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return usagef(c.name, "unexpected arguments %q", pos)
		}
		if *cursorFile == "" {
			return usagef(c.name, "--cursor FILE is required, so that no event is printed twice")
		}
		var opts []watch.Option
		// given maps each Airbyte connection id to the argument that
		// named it.
		given := map[string]string{}
		if ids := splitList(*abConns); len(ids) > 0 {
			client, err := af.client(ctx, e, c.name)
			if err != nil {
				return err
			}
			// A name is looked up in the workspace. A connection that is
			// not there would be watched in silence for ever (its job
			// list is empty): the watcher's first poll reads each
			// connection, Airbyte's and Fivetran's, before it polls any,
			// and ends on one not there (see below).
			for i, id := range ids {
				if ids[i], err = af.connectionID(ctx, c.name, client, id); err != nil {
					return err
				}
				given[ids[i]] = id
			}
			opts = append(opts, watch.Airbyte(client, ids...))
		}
		if ids := splitList(*ftConns); len(ids) > 0 {
			client, err := ff.client(ctx, c.name)
			if err != nil {
				return err
			}
			opts = append(opts, watch.Fivetran(client, ids...))
		}
		if len(opts) == 0 {
			return usagef(c.name, "give --airbyte or --fivetran connections to watch")
		}
		// The watcher saves the cursor after each event printed and each
		// round that moved it, so a kill at any moment loses no sync.
		w, err := watch.New(append(opts, watch.Interval(*interval), watch.SaveCursor(*cursorFile))...)
		if err != nil {
			return usagef(c.name, "%v", err)
		}
		cur, err := watch.LoadCursor(*cursorFile)
		if err != nil {
			return err
		}
		if *runFor > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *runFor)
			defer cancel()
		}
		n := 0
		// gone is a connection not found, or credentials refused: the
		// watch ends on it, unless more comes after it (a poll that lost
		// a connection mid-watch).
		var gone error
		for ev, err := range w.Events(ctx, cur) {
			if gone != nil {
				e.conns.Logger().Warn("watch: a poll failed; the next one retries", "err", gone)
				gone = nil
			}
			if errors.Is(err, airbyteapi.ErrNotFound) || errors.Is(err, fivetran.ErrNotFound) ||
				errors.Is(err, airbyteapi.ErrUnauthorized) || errors.Is(err, fivetran.ErrUnauthorized) {
				gone = err
				continue
			}
			if err != nil {
				e.conns.Logger().Warn("watch: a poll failed; the next one retries", "err", err)
				continue
			}
			line, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if err := e.printJSON(append(line, '\n')); err != nil {
				return err
			}
			if n++; *count > 0 && n >= *count {
				return nil
			}
		}
		if gone != nil && ctx.Err() == nil {
			// The watcher ended on a connection not there, or on
			// credentials refused: its first poll checks them all before
			// it watches any.
			if errors.Is(gone, airbyteapi.ErrUnauthorized) || errors.Is(gone, fivetran.ErrUnauthorized) {
				return gone
			}
			if errors.Is(gone, fivetran.ErrNotFound) {
				return usagef(c.name, "--fivetran: %v", gone)
			}
			for id, arg := range given {
				if strings.Contains(gone.Error(), id) {
					return usagef(c.name, "--airbyte: no connection %s (give a connection's id, or its name in the --workspace)", arg)
				}
			}
			return usagef(c.name, "--airbyte: %v", gone)
		}
		if gone != nil {
			e.conns.Logger().Warn("watch: a poll failed; the next one retries", "err", gone)
		}
		// Only the end of --for or an interrupt ends the loop: a normal
		// end, with the cursor saved.
		return cur.Save(*cursorFile)
	},
}

// jobDuration is a job's ISO 8601 duration (Airbyte's "PT1M30S") as goab
// prints durations elsewhere ("1m30s"); the text as it came when it is not
// one of days, hours, minutes and seconds, and "-" when there is none.
func jobDuration(iso string) string {
	rest, ok := strings.CutPrefix(iso, "P")
	if !ok || rest == "" {
		return orDash(iso)
	}
	var total time.Duration
	inTime := false
	for rest != "" {
		if rest[0] == 'T' && !inTime {
			inTime, rest = true, rest[1:]
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return iso
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return iso
		}
		var unit time.Duration
		switch {
		case !inTime && rest[i] == 'D':
			unit = 24 * time.Hour
		case inTime && rest[i] == 'H':
			unit = time.Hour
		case inTime && rest[i] == 'M':
			unit = time.Minute
		case inTime && rest[i] == 'S':
			unit = time.Second
		default:
			return iso // years, months, weeks: no fixed length
		}
		total += time.Duration(n * float64(unit))
		rest = rest[i+1:]
	}
	return total.Round(time.Millisecond).String()
}

// defaultStateFile is the state file of a connections file given no
// --state: its path with .yaml or .yml replaced by .state.json (added to
// another name), or the file.yml.state.json earlier versions wrote.
func defaultStateFile(file string) string {
	switch ext := filepath.Ext(file); ext {
	case ".yaml", ".yml":
		name := strings.TrimSuffix(file, ext) + ".state.json"
		// Earlier versions kept a .yml file's state under its whole
		// name: that file goes on being used rather than lose what it
		// knows, until the new one exists.
		if _, err := os.Stat(name); err != nil && ext == ".yml" {
			if _, err := os.Stat(file + ".state.json"); err == nil {
				return file + ".state.json"
			}
		}
		return name
	}
	return file + ".state.json"
}
