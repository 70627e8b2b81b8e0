package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/registry"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/source"
)

// itemsManifest is a private API's connector, kept in a manifest directory
// laid out as Airbyte's monorepo: <dir>/source-items/manifest.yaml.
const itemsManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}, owner: {type: string}}}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: https://api.items.example
        path: /items
        authenticator: {type: ApiKeyAuthenticator, api_token: "{{ config['api_key'] }}", inject_into: {type: RequestOption, inject_into: header, field_name: X-Api-Key}}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [items]}}
spec:
  type: Spec
  connection_specification:
    type: object
    required: [api_key]
    properties:
      api_key: {type: string, airbyte_secret: true}
`

// tenantVault holds one tenant's secrets, the only ones its Environment
// resolves (README, Environments): a name it does not have is simply not
// there.
type tenantVault map[string]string

func (tenantVault) Name() string { return "tenant vault" }
func (v tenantVault) Get(_ context.Context, name string) (secrets.SecretString, bool, error) {
	s, ok := v[name]
	return secrets.NewSecretString(s), ok, nil
}

// toServer sends every request, whatever its host, to a test server.
type toServer struct{ addr string }

func (t toServer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = "http", t.addr
	return http.DefaultTransport.RoundTrip(req)
}

// tenantsJourney is a sync server's core: an Environment per tenant (its
// default cache, logger, secrets, registry with a manifest directory, HTTP
// client), two tenants reading the same manifest connector at once, the
// same tenant's second read of it refused while the first runs, a read
// cancelled (its ReadResult still says what was kept), and a tenant's
// reference to the server's own secret refused.
func tenantsJourney(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "outsider-tenants-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "manifests", "source-items"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifests", "source-items", "manifest.yaml"), []byte(itemsManifest), 0o644); err != nil {
		return err
	}
	owners := map[string]string{"key-of-acme-" + secret: "acme", "key-of-globex-1b9e": "globex"}
	hold := make(chan struct{}) // closed: requests go through
	var once sync.Once
	held := make(chan struct{}) // closed once a request waits on hold
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, ok := owners[r.Header.Get("X-Api-Key")]
		if !ok {
			http.Error(w, `{"error":"unknown key"}`, http.StatusUnauthorized)
			return
		}
		if owner == "globex" {
			once.Do(func() { close(held) })
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		n := map[string]int{"acme": 3, "globex": 2}[owner]
		var items []map[string]any
		for i := 1; i <= n; i++ {
			items = append(items, map[string]any{"id": i, "owner": owner})
		}
		json.NewEncoder(w).Encode(map[string]any{"items": items})
	}))
	defer api.Close()

	newTenant := func(name, key string) *goairbyte.Environment {
		env := goairbyte.NewEnvironment()
		env.SetCacheDir(filepath.Join(dir, name))
		env.SetLogger(logger.With("tenant", name))
		env.SetRegistry(registry.NewLoader(registry.WithOffline(true), registry.WithManifestDir(filepath.Join(dir, "manifests"))))
		env.AddSecretManager(tenantVault{"API_KEY": key})
		env.SetHTTPClient(&http.Client{Transport: toServer{strings.TrimPrefix(api.URL, "http://")}})
		return env
	}
	tenants := map[string]*goairbyte.Environment{"acme": newTenant("acme", "key-of-acme-"+secret), "globex": newTenant("globex", "key-of-globex-1b9e")}
	cfg := connector.WithConfig(map[string]any{"api_key": "secret_reference::API_KEY"})
	read := func(ctx context.Context, tenant string) (*source.ReadResult, error) {
		// The faker takes the same options: the Environment's HTTP client
		// is no option of a connector that makes no requests.
		if _, err := goairbyte.GetSource(ctx, "source-faker", connector.WithEnvironment(tenants[tenant]), cfg); err != nil {
			return nil, err
		}
		src, err := goairbyte.GetSource(ctx, "source-items", connector.WithEnvironment(tenants[tenant]), cfg)
		if err != nil {
			return nil, err
		}
		return src.Read(ctx)
	}

	// globex's read waits in the server; acme reads meanwhile, and
	// globex's second read of the same source is refused at once.
	type outcome struct {
		res *source.ReadResult
		err error
	}
	first := make(chan outcome, 1)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		res, err := read(cctx, "globex")
		first <- outcome{res, err}
	}()
	<-held
	acme, err := read(ctx, "acme")
	if err != nil {
		return err
	}
	_, err = read(ctx, "globex")
	seen(err)
	inUse := errors.Is(err, goairbyte.ErrInUse)
	want(inUse, "a second read of one tenant's source while the first runs: %v, want ErrInUse", err)
	cancel()
	o := <-first
	seen(o.err)
	want(errors.Is(o.err, context.Canceled) && o.res != nil, "a cancelled read: %v, ReadResult %v; want context.Canceled with a ReadResult", o.err, o.res)
	close(hold)
	globex, err := read(ctx, "globex")
	if err != nil {
		return err
	}

	// Each tenant's rows are its own, in its own cache.
	owner := func(res *source.ReadResult) string {
		ds, err := res.Stream(ctx, "items")
		if err != nil {
			return err.Error()
		}
		var got []string
		for rec, err := range ds.Records(ctx) {
			if err != nil {
				return err.Error()
			}
			got = append(got, fmt.Sprint(rec["owner"]))
		}
		return strings.Join(got, ",")
	}

	// A tenant's reference to the server's own secrets, in its environment
	// and its .env, finds nothing, and the error says why.
	os.Setenv("SERVER_DB_PASSWORD", secret)
	if err := os.WriteFile(".env", []byte("SERVER_API_TOKEN="+secret+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(".env")
	for _, name := range []string{"SERVER_DB_PASSWORD", "SERVER_API_TOKEN"} {
		src, err := goairbyte.GetSource(ctx, "source-items", connector.WithEnvironment(tenants["acme"]),
			connector.WithConfig(map[string]any{"api_key": "secret_reference::" + name}))
		if err != nil {
			return err
		}
		_, err = src.Read(ctx)
		seen(err)
		var nf *goairbyte.SecretNotFoundError
		want(errors.As(err, &nf) && nf.Name == name && strings.Contains(err.Error(), "tenant vault") &&
			strings.Contains(err.Error(), "does not read the process's environment variables or .env"),
			"a tenant's reference to the server's %s: %v, want a SecretNotFoundError naming the tenant vault and saying why", name, err)
		// The program's own Environment finds both.
		s, err := goairbyte.GetSecret(ctx, name)
		want(err == nil && s.Reveal() == secret, "GetSecret(%s) of the program: %v", name, err)
	}
	fmt.Printf("acme %v (%s), globex %v (%s), a second read at once in use %v, cancelled with a ReadResult %v\n",
		acme.StreamRecords(), owner(acme), globex.StreamRecords(), owner(globex), inUse, o.res != nil)
	return nil
}
