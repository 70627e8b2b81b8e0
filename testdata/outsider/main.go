// Command outsider is a new user's program, written from goairbyte's docs
// alone (go doc, the README, examples/) in a module of its own:
//
//	outsider kit SOURCE-DEMO-BINARY   a kit connector, in process and as a program, into DuckDB
//	outsider manifest POSTGRES-DSN    a manifest connector into PostgreSQL, then a local-JSON destination
//	outsider pyairbyte                PyAirbyte's quickstart ported: the faker into the default cache, secrets from .env
//	outsider tenants                  a sync server's tenants: an Environment each, a manifest connector at once, cancelled, kept apart
//	outsider hostile                  a tenant's hostile manifest: a redirect to another host, fields named like SQL, a template bomb
//	outsider saas                     a service reading one API for 100 customers at once: records kept apart, retries, logs, connections, a cancel
//	outsider nightly                  a PyAirbyte nightly job: a corpus manifest with open streams into AIRBYTE_CACHE_ROOT, AIRBYTE_TEMP_DIR
//	outsider internal                 a Connector Builder manifest of a private API (OAuth, retries, a substream, a repeating cursor) into DuckDB
//	outsider destination DEST-EVENTS-BINARY
//	                                  a destination written with kit, into an HTTP event store that fails midway, in process and as a program
//	outsider stop DEST-INGEST-BINARY  a kit destination stopped while a slow ingest API takes 3 s over a batch, in process and as a program
//	outsider seasons POSTGRES-DSN     a source whose catalog changes over a year, into DuckDB and PostgreSQL alike
//	outsider zones POSTGRES-DSN       a company across time zones: offsets, a DST night, a user's TimeZone, into DuckDB and PostgreSQL
//	outsider evolve POSTGRES-DSN      a source changing under a team's SQL (a view, a read-only role), into DuckDB and PostgreSQL
//	outsider pyexamples POSTGRES-DSN  PyAirbyte's examples/ ported: a manifest paged to its 404, the faker into the no-op destination
//	outsider dba DSN SESSION-DSN TRANSACTION-DSN
//	                                  a cache in a DBA's shared, locked-down database: PgBouncer, a role without CREATE, publications, limits
//	outsider reconcile SOURCE-LEDGER-BINARY POSTGRES-DSN
//	                                  a reconciliation of incremental syncs (failed, killed, resumed) into DuckDB and PostgreSQL
//	outsider container VOLUME        an SRE's service in a locked-down container: no HOME, JSON logs masked, nothing left in TMPDIR
//	outsider remote AIRBYTE-URL WORKSPACE FIVETRAN-URL FT-CONNECTION DIR
//	                                  a platform team's sync service: connections as code, syncs on Airbyte and Fivetran, a watcher
//
// It prints what it saw and checks what the docs promise: incremental
// reads, the root sentinels and error types, and no secret in any error or
// log line. A broken promise is a line starting "FAIL" and exit status 1.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"example.com/outsider/demo"
	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// started is when the program started.
var started = time.Now()

// secret is the one string no error or log line may show.
const secret = "SECRET-7f3a9c"

var (
	failed bool
	errs   []string     // every error text seen
	logs   bytes.Buffer // what the JSON logger wrote
	logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
)

// want records a broken promise.
func want(ok bool, format string, args ...any) {
	if !ok {
		failed = true
		fmt.Printf("FAIL "+format+"\n", args...)
	}
}

// seen keeps err's text for the secret check and returns err.
func seen(err error) error {
	if err != nil {
		errs = append(errs, err.Error())
	}
	return err
}

func main() {
	ctx := context.Background()
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "kit":
		err = kitJourney(ctx, os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "manifest":
		err = manifestJourney(ctx, os.Args[2])
	case len(os.Args) == 2 && os.Args[1] == "pyairbyte":
		err = pyairbyteJourney(ctx)
	case len(os.Args) == 2 && os.Args[1] == "tenants":
		err = tenantsJourney(ctx)
	case len(os.Args) == 2 && os.Args[1] == "hostile":
		err = hostileJourney(ctx)
	case len(os.Args) == 2 && os.Args[1] == "saas":
		err = saasJourney(ctx)
	case len(os.Args) == 2 && os.Args[1] == "nightly":
		err = nightlyJourney(ctx)
	case len(os.Args) == 2 && os.Args[1] == "internal":
		err = internalJourney(ctx)
	case len(os.Args) == 3 && os.Args[1] == "destination":
		err = destinationJourney(ctx, os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "stop":
		err = stopJourney(ctx, os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "seasons":
		err = seasonsJourney(ctx, os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "zones":
		err = zonesJourney(ctx, os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "evolve":
		err = evolveJourney(ctx, os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "pyexamples":
		err = pyExamplesJourney(ctx, os.Args[2])
	case len(os.Args) == 5 && os.Args[1] == "dba":
		err = dbaJourney(ctx, os.Args[2], os.Args[3], os.Args[4])
	case len(os.Args) == 4 && os.Args[1] == "reconcile":
		err = reconcileJourney(ctx, os.Args[2], os.Args[3])
	case len(os.Args) == 3 && os.Args[1] == "container":
		err = containerJourney(ctx, os.Args[2])
	case len(os.Args) == 7 && os.Args[1] == "remote":
		err = remoteJourney(ctx, os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6])
	default:
		err = errors.New("usage: outsider kit BINARY | outsider manifest DSN | outsider pyairbyte | outsider tenants | outsider hostile | outsider saas | outsider nightly | outsider internal | outsider destination BINARY | outsider seasons DSN | outsider zones DSN | outsider evolve DSN | outsider pyexamples DSN | outsider dba DSN SESSION-DSN TRANSACTION-DSN | outsider reconcile BINARY DSN | outsider container VOLUME | outsider remote AIRBYTE-URL WORKSPACE FIVETRAN-URL FIVETRAN-CONNECTION DIR")
	}
	if err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
	all := strings.Join(errs, "\n") + logs.String()
	want(!strings.Contains(all, secret), "the secret shows in an error or a log line:\n%s", all)
	want(len(errs) > 0 && logs.Len() > 0, "no error (%d) or no log line (%d bytes) was checked for the secret", len(errs), logs.Len())
	if failed {
		os.Exit(1)
	}
}

// kitJourney reads the kit connector in process and as the program exe,
// twice each into a DuckDB cache, then provokes the errors a user handles.
func kitJourney(ctx context.Context, exe string) error {
	c, err := goairbyte.NewLocalCache(ctx, "journey", "")
	if err != nil {
		return err
	}
	defer c.Close()
	for _, way := range []connector.Option{connector.WithGoConnector(demo.Source{}), connector.WithLocalExecutable(exe)} {
		src, err := goairbyte.GetSource(ctx, "source-demo", way, connector.WithLogger(logger),
			connector.WithConfig(map[string]any{"api_token": demo.Token, "count": 5}))
		if err != nil {
			return err
		}
		if err := src.Check(ctx); err != nil {
			return err
		}
		res, err := src.Read(ctx, source.UseCache(c), source.ForceFullRefresh())
		if err != nil {
			return err
		}
		first := res.StreamRecords()
		if err := src.SetConfig(map[string]any{"api_token": demo.Token, "count": 8}); err != nil {
			return err
		}
		if res, err = src.Read(ctx, source.UseCache(c)); err != nil {
			return err
		}
		events, err := res.Stream(ctx, "events")
		if err != nil {
			return err
		}
		rows, err := events.Count(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%s: read 1 %v, read 2 %v, %d events in %s\n", src, first, res.StreamRecords(), rows, events.QualifiedTableName())
		// The connector sets no EmittedAt: its records are extracted when
		// read, not in 1970.
		var old int64
		if err := c.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+events.QualifiedTableName()+" WHERE _airbyte_extracted_at < ?",
			started.Add(-time.Second)).Scan(&old); err != nil {
			return err
		}
		want(old == 0, "%s: %d events extracted before the program started", src, old)

		// A config that breaks the spec, with the secret in it.
		if err := src.SetConfig(map[string]any{"api_token": secret, "count": 0}); err != nil {
			return err
		}
		var cv *connector.ConfigValidationError
		err = seen(src.ValidateConfig(ctx))
		want(errors.Is(err, goairbyte.ErrConfigInvalid) && errors.As(err, &cv) && len(cv.Problems) == 1 && cv.Problems[0].Field == "count",
			"%s: ValidateConfig of count 0: %v", src, err)
		_, err = src.Read(ctx, source.UseCache(c))
		want(errors.Is(seen(err), goairbyte.ErrConfigInvalid), "%s: Read with count 0: %v", src, err)

		// A check the connector fails, quoting the secret.
		if err := src.SetConfig(map[string]any{"api_token": secret, "count": 2}); err != nil {
			return err
		}
		var cf *connector.CheckFailedError
		err = seen(src.Check(ctx))
		want(errors.Is(err, goairbyte.ErrCheckFailed) && errors.As(err, &cf) && strings.Contains(cf.Message, "refused the token ****"),
			"%s: Check with a refused token: %v", src, err)

		// A stream the connector does not have.
		var snf *protocol.StreamNotFoundError
		_, err = src.Read(ctx, source.UseCache(c), source.Streams("nope"))
		want(errors.Is(seen(err), goairbyte.ErrStreamNotFound) && errors.As(err, &snf) && slices.Equal(snf.Available, []string{"events", "teams"}),
			"%s: Read of stream nope: %v", src, err)
		for _, err := range src.Records(ctx, "nope") {
			want(errors.Is(seen(err), goairbyte.ErrStreamNotFound), "%s: Records of stream nope: %v", src, err)
			break
		}
		_, err = res.Stream(ctx, "nope")
		want(errors.Is(seen(err), goairbyte.ErrStreamNotFound), "%s: ReadResult.Stream(nope): %v", src, err)
	}

	// The program crashes (a goroutine's panic): the error says why, not
	// where in its stack.
	src, err := goairbyte.GetSource(ctx, "source-demo", connector.WithLocalExecutable(exe), connector.WithLogger(logger),
		connector.WithConfig(map[string]any{"api_token": demo.Token, "count": 3, "pages": 0}))
	if err != nil {
		return err
	}
	var ce *goairbyte.ConnectorError
	_, err = src.Read(ctx, source.UseCache(c))
	want(errors.Is(seen(err), goairbyte.ErrConnectorFailed) && errors.As(err, &ce) && ce.Reason() == "panic: runtime error: integer divide by zero",
		"a crashed connector program: %v", err)

	// Ways of running that cannot work.
	var ni *goairbyte.NotInstalledError
	_, err = goairbyte.GetSource(ctx, "source-demo", connector.WithLocalExecutable(filepath.Join(os.TempDir(), "no-such-connector")))
	want(errors.Is(seen(err), goairbyte.ErrNotInstalled) && errors.As(err, &ni), "a missing executable: %v", err)
	var oe *connector.OptionError
	_, err = goairbyte.GetSource(ctx, "source-demo", connector.WithGoConnector(demo.Source{}), connector.WithLocalExecutable(exe))
	want(errors.Is(seen(err), goairbyte.ErrInvalidOption) && errors.As(err, &oe), "two ways of running: %v", err)
	return nil
}

// manifest is a small API's connector in Airbyte's declarative format: an
// API key in a header, page numbers, records under result.items.
const manifest = `
version: 6.7.0
type: DeclarativeSource
check:
  type: CheckStream
  stream_names: [widgets]
streams:
  - type: DeclarativeStream
    name: widgets
    primary_key: [id]
    schema_loader:
      type: InlineSchemaLoader
      schema:
        type: object
        properties:
          id: {type: integer}
          label: {type: string}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /widgets
        http_method: GET
        authenticator:
          type: ApiKeyAuthenticator
          api_token: "{{ config['api_key'] }}"
          inject_into: {type: RequestOption, inject_into: header, field_name: X-Api-Key}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [result, items]}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: page}
        pagination_strategy: {type: PageIncrement, page_size: 10, start_from_page: 1}
spec:
  type: Spec
  connection_specification:
    type: object
    required: [base_url, api_key]
    properties:
      base_url: {type: string}
      api_key: {type: string, airbyte_secret: true}
`

// widgetsAPI serves the manifest's API: 25 widgets, 10 a page, to the key
// secret only.
func widgetsAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != secret {
			http.Error(w, `{"error": "unknown key `+r.Header.Get("X-Api-Key")+`"}`, http.StatusUnauthorized)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		items := []map[string]any{}
		for i := (page-1)*10 + 1; i <= min(page*10, 25); i++ {
			items = append(items, map[string]any{"id": i, "label": "widget " + strconv.Itoa(i)})
		}
		json.NewEncoder(w).Encode(map[string]any{"result": map[string]any{"items": items}})
	}))
}

// manifestJourney reads the manifest's API into the PostgreSQL cache at
// dsn, writes the cache to the local-JSON destination twice, then
// provokes the errors of a wrong key.
func manifestJourney(ctx context.Context, dsn string) error {
	api := widgetsAPI()
	defer api.Close()
	c, err := goairbyte.NewPostgresCache(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close()

	// The manifest's text as a string, not a []byte: refused at once.
	var oe *connector.OptionError
	_, err = goairbyte.GetSource(ctx, "source-widgets", connector.WithManifest(manifest))
	want(errors.Is(seen(err), goairbyte.ErrInvalidOption) && errors.As(err, &oe) && strings.Contains(err.Error(), "[]byte"),
		"WithManifest of the text as a string: %v", err)

	// A field name misspelt: the error names the field the component
	// misses, not another component's type.
	typo := strings.Replace(manifest, "field_path:", "feild_path:", 1)
	_, err = goairbyte.GetSource(ctx, "source-widgets", connector.WithManifest([]byte(typo)))
	want(err != nil && strings.Contains(seen(err).Error(), "$.streams[0].retriever.record_selector.extractor: missing property 'field_path'"),
		"GetSource of a manifest with feild_path: %v", err)

	src, err := goairbyte.GetSource(ctx, "source-widgets",
		connector.WithManifest([]byte(manifest)),
		connector.WithHTTPClient(api.Client()),
		connector.WithLogger(logger),
		connector.WithConfig(map[string]any{"base_url": api.URL, "api_key": secret}))
	if err != nil {
		return err
	}
	res, err := src.Read(ctx, source.UseCache(c))
	if err != nil {
		return err
	}
	widgets, err := res.Stream(ctx, "widgets")
	if err != nil {
		return err
	}
	fmt.Printf("%s: read %v into %s\n", src, res.StreamRecords(), widgets.QualifiedTableName())
	// The rows read alike on every backend: a JSON column is decoded, as
	// DuckDB's rows give it, not jsonb's text.
	for row, err := range widgets.Records(ctx) {
		if err != nil {
			return err
		}
		meta, ok := row["_airbyte_meta"].(map[string]any)
		want(ok && meta["changes"] != nil, "Dataset.Records on PostgreSQL: _airbyte_meta is %T %v, want a map[string]any", row["_airbyte_meta"], row["_airbyte_meta"])
		break
	}
	// A stream the read did not get is not said to be missing from the source.
	_, err = res.Stream(ctx, "gadgets")
	want(errors.Is(seen(err), goairbyte.ErrStreamNotFound) && strings.Contains(err.Error(), "the read of source-widgets"),
		"ReadResult.Stream of a stream not read: %v", err)

	out, err := os.MkdirTemp("", "outsider-json-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	dst, err := goairbyte.GetDestination(ctx, "destination-local-json",
		connector.WithConfig(map[string]any{"destination_path": out}))
	if err != nil {
		return err
	}
	for i := 1; i <= 2; i++ {
		wr, err := dst.Write(ctx, res)
		if err != nil {
			return err
		}
		st, err := wr.State.State(ctx, "widgets")
		if err != nil {
			return err
		}
		fmt.Printf("write %d: sent %v, confirmed %v, %d state(s) confirmed, stored state %t\n",
			i, wr.RecordsSent, wr.RecordsConfirmed, wr.StatesConfirmed, st != nil)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*widgets*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d lines\n", filepath.Base(f), bytes.Count(b, []byte("\n")))
	}

	// A key the API refuses.
	if err := src.SetConfig(map[string]any{"base_url": api.URL, "api_key": secret + "-old"}); err != nil {
		return err
	}
	err = seen(src.Check(ctx))
	want(errors.Is(err, goairbyte.ErrCheckFailed), "Check with a refused key: %v", err)
	var ce *goairbyte.ConnectorError
	_, err = src.Read(ctx, source.UseCache(c))
	want(errors.Is(seen(err), goairbyte.ErrConnectorFailed) && errors.As(err, &ce) && ce.FailureType == protocol.FailureConfig,
		"Read with a refused key: %v", err)
	return nil
}
