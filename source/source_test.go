package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/protocoltest"
	"github.com/x/goairbyte/internal/testenv"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// dockerName is the connector name of the Docker-run faker in these tests:
// the executor labels containers with it, so leftovers can be found
// without confusing them with other packages' tests.
const dockerName = "srctest-faker"

// runner builds a faker Source one way (local executable or Docker) and
// lists what of it is still alive.
type runner struct {
	name      string
	newSource func(t testing.TB, opts ...connector.Option) *source.Source
	leftovers func(t testing.TB) []string
}

func localRunner(t testing.TB) runner {
	bin := testenv.BuildBinary(t, "./cmd/source-faker")
	return runner{
		name: "local",
		newSource: func(t testing.TB, opts ...connector.Option) *source.Source {
			return newSource(t, "source-faker", append([]connector.Option{connector.WithLocalExecutable(bin)}, opts...)...)
		},
		leftovers: func(t testing.TB) []string { return processesOf(t, bin) },
	}
}

func dockerRunner(t testing.TB) runner {
	cli := testenv.Docker(t)
	image := testenv.FakerImage(t, cli)
	return runner{
		name: "docker",
		newSource: func(t testing.TB, opts ...connector.Option) *source.Source {
			return newSource(t, dockerName, append([]connector.Option{connector.WithDockerImage(image)}, opts...)...)
		},
		leftovers: func(t testing.TB) []string { return containersOf(t, cli) },
	}
}

// eachRunner runs f with the faker as a local executable and as a Docker
// image.
func eachRunner(t *testing.T, f func(t *testing.T, r runner)) {
	t.Run("local", func(t *testing.T) { f(t, localRunner(t)) })
	t.Run("docker", func(t *testing.T) { f(t, dockerRunner(t)) })
}

func newSource(t testing.TB, name string, opts ...connector.Option) *source.Source {
	t.Helper()
	opts = append([]connector.Option{connector.WithLogDir(t.TempDir())}, opts...)
	src, err := source.New(context.Background(), name, opts...)
	if err != nil {
		t.Fatalf("source.New: %v", err)
	}
	return src
}

// processesOf lists the running processes started from the executable bin.
func processesOf(t testing.TB, bin string) []string {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		if arg0, _, _ := bytes.Cut(b, []byte{0}); string(arg0) == bin {
			out = append(out, p)
		}
	}
	return out
}

// containersOf lists the containers (running or not) of dockerName.
func containersOf(t testing.TB, cli *client.Client) []string {
	t.Helper()
	res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", "io.goairbyte.connector="+dockerName)})
	if err != nil {
		t.Fatalf("listing containers: %v", err)
	}
	var out []string
	for _, c := range res.Items {
		out = append(out, c.ID)
	}
	return out
}

func fakerConfig(count int) map[string]any {
	return map[string]any{"count": count, "seed": 42}
}

func TestSpecAndConfigSpec(t *testing.T) {
	t.Parallel()
	eachRunner(t, func(t *testing.T, r runner) {
		ctx := context.Background()
		src := r.newSource(t)
		spec, err := src.Spec(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(spec.ConnectionSpecification, []byte(`"count"`)) {
			t.Fatalf("spec has no count property: %s", spec.ConnectionSpecification)
		}
		var y bytes.Buffer
		if err := src.PrintConfigSpec(ctx, &y, "yaml"); err != nil {
			t.Fatal(err)
		}
		// Key order is the spec's, and the style is block YAML.
		if !strings.Contains(y.String(), "properties:\n") || strings.Index(y.String(), "count:") > strings.Index(y.String(), "seed:") {
			t.Fatalf("YAML spec not as expected:\n%s", y.String())
		}
		path := filepath.Join(t.TempDir(), "spec.json")
		if err := src.WriteConfigSpecFile(ctx, path, ""); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || m["properties"] == nil {
			t.Fatalf("spec file is not the JSON schema: %v\n%s", err, b)
		}
		if got := src.DocsURL(); !strings.HasPrefix(got, "https://") {
			t.Fatalf("DocsURL = %q", got)
		}
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	eachRunner(t, func(t *testing.T, r runner) {
		ctx := context.Background()
		good := r.newSource(t, connector.WithConfig(fakerConfig(10)))
		if err := good.Check(ctx); err != nil {
			t.Fatalf("Check with a good config: %v", err)
		}
		bad := r.newSource(t, connector.WithConfig(map[string]any{"count": 0}))
		err := bad.Check(ctx)
		var cf *connector.CheckFailedError
		if !errors.As(err, &cf) || !strings.Contains(cf.Message, "count") {
			t.Fatalf("Check with count 0: want *CheckFailedError about count, got %v", err)
		}
		none := r.newSource(t)
		var nc *connector.NoConfigError
		if err := none.Check(ctx); !errors.As(err, &nc) {
			t.Fatalf("Check without config: want *NoConfigError, got %v", err)
		}
	})
}

func TestDiscoverAndSelect(t *testing.T) {
	t.Parallel()
	eachRunner(t, func(t *testing.T, r runner) {
		ctx := context.Background()
		src := r.newSource(t, connector.WithConfig(fakerConfig(10)))
		names, err := src.AvailableStreams(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"products", "purchases", "users"}) {
			t.Fatalf("streams = %v", names)
		}
		schema, err := src.StreamJSONSchema(ctx, "users")
		if err != nil || !bytes.Contains(schema, []byte(`"email"`)) {
			t.Fatalf("users schema: %v %s", err, schema)
		}

		err = src.SelectStreams(ctx, "users", "nope")
		var nf *protocol.StreamNotFoundError
		if !errors.As(err, &nf) || nf.Stream != "nope" || !slices.Contains(nf.Available, "users") {
			t.Fatalf("selecting an unknown stream: want *StreamNotFoundError listing users, got %v", err)
		}
		if err := src.SelectStreams(ctx, "users", "products"); err != nil {
			t.Fatal(err)
		}
		sel, err := src.SelectedStreams(ctx)
		if err != nil || !slices.Equal(sel, []string{"users", "products"}) {
			t.Fatalf("SelectedStreams = %v, %v", sel, err)
		}
		src.SelectAllStreams()
		if sel, _ := src.SelectedStreams(ctx); len(sel) != 3 {
			t.Fatalf("after SelectAllStreams: %v", sel)
		}

		cat, err := src.ConfiguredCatalog(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(cat)
		if err := protocoltest.ValidateConfiguredCatalog(raw); err != nil {
			t.Fatalf("configured catalog does not match the protocol: %v\n%s", err, raw)
		}
		for _, cs := range cat.Streams {
			if want := catalogs.Supports(&cs.Stream, "incremental"); (cs.SyncMode == "incremental") != want {
				t.Errorf("stream %s: sync mode %s, supports incremental %v", cs.Stream.Name, cs.SyncMode, want)
			}
		}
		full, err := src.ConfiguredCatalog(ctx, []string{"users"}, source.FullRefresh(),
			source.PrimaryKey("users", []string{"email"}), source.CursorField("users", "created_at"))
		if err != nil {
			t.Fatal(err)
		}
		u := full.Streams[0]
		if u.SyncMode != "full_refresh" || !slices.Equal(u.PrimaryKey[0], []string{"email"}) || !slices.Equal(u.CursorField, []string{"created_at"}) {
			t.Fatalf("overrides not applied: %+v", u)
		}
	})
}

func TestSelectBeforeConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := localRunner(t)
	src := r.newSource(t, connector.WithStreams("users", "nope"))
	var nc *connector.NoConfigError
	if _, err := src.SelectedStreams(ctx); !errors.As(err, &nc) {
		t.Fatalf("SelectedStreams without config: want *NoConfigError, got %v", err)
	}
	if err := src.SelectStreams(ctx, "users", "nope"); err != nil {
		t.Fatalf("selecting before the config is known must be remembered, got %v", err)
	}
	if err := src.SetConfig(fakerConfig(5)); err != nil {
		t.Fatal(err)
	}
	var nf *protocol.StreamNotFoundError
	if _, err := src.SelectedStreams(ctx); !errors.As(err, &nf) || nf.Stream != "nope" {
		t.Fatalf("remembered unknown stream: want *StreamNotFoundError, got %v", err)
	}
	if _, err := src.ConfiguredCatalog(ctx, nil); !errors.As(err, &nf) {
		t.Fatalf("ConfiguredCatalog with a bad remembered selection: got %v", err)
	}
	// Records names its stream and is not held up by the selection.
	n := 0
	for _, err := range src.Records(ctx, "users") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("read %d users, want 5", n)
	}
}

func TestRecords(t *testing.T) {
	// Not parallel: its Docker case counts the containers of one connector name.
	eachRunner(t, func(t *testing.T, r runner) {
		ctx := context.Background()
		src := r.newSource(t, connector.WithConfig(fakerConfig(25)))
		var ids []int64
		for rec, err := range src.Records(ctx, "users") {
			if err != nil {
				t.Fatal(err)
			}
			if rec.Stream() != "users" || rec.EmittedAt().IsZero() {
				t.Fatalf("record stream %q emitted at %v", rec.Stream(), rec.EmittedAt())
			}
			id, ok := rec.Get("ID") // case-insensitive
			if !ok {
				t.Fatalf("record without id: %s", rec.Raw())
			}
			ids = append(ids, id.(int64))
			if email, ok := rec.Get("email"); !ok || !strings.Contains(email.(string), "@") {
				t.Fatalf("email = %v in %s", email, rec.Raw())
			}
		}
		if len(ids) != 25 || ids[0] != 1 || ids[24] != 25 {
			t.Fatalf("ids = %v", ids)
		}

		n := 0
		for _, err := range src.Records(ctx, "users", source.Limit(7)) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 7 {
			t.Fatalf("Limit(7) gave %d records", n)
		}
		if left := r.leftovers(t); len(left) > 0 {
			t.Fatalf("after a limited read, left behind: %v", left)
		}

		var nf *protocol.StreamNotFoundError
		for _, err := range src.Records(ctx, "nope") {
			if !errors.As(err, &nf) {
				t.Fatalf("unknown stream: want *StreamNotFoundError, got %v", err)
			}
		}
	})
}

func TestRecordsEarlyBreakAndCancel(t *testing.T) {
	// Not parallel: its Docker case counts the containers of one connector name.
	eachRunner(t, func(t *testing.T, r runner) {
		src := r.newSource(t, connector.WithConfig(fakerConfig(1_000_000)))
		n := 0
		for _, err := range src.Records(context.Background(), "users") {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 3 {
				break
			}
		}
		if left := r.leftovers(t); len(left) > 0 {
			t.Fatalf("after breaking out of Records, left behind: %v", left)
		}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n = 0
		var last error
		for _, err := range src.Records(ctx, "users") {
			if err != nil {
				last = err
				break
			}
			if n++; n == 1000 {
				cancel()
			}
		}
		if !errors.Is(last, context.Canceled) {
			t.Fatalf("cancelled read: want context.Canceled, got %v after %d records", last, n)
		}
		if msg := last.Error(); !strings.Contains(msg, src.Name()) || !strings.Contains(msg, "cancelled") || strings.Contains(msg, "closed") {
			t.Errorf("a cancelled read should say what was cancelled, and only that: %s", msg)
		}
		if n >= 1_000_000 {
			t.Fatalf("cancel did not stop the read")
		}
		if left := r.leftovers(t); len(left) > 0 {
			t.Fatalf("after cancelling Records, left behind: %v", left)
		}
	})
}

func TestDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := localRunner(t).newSource(t, connector.WithConfig(fakerConfig(3)))
	var docs []source.Document
	for d, err := range src.Documents(ctx, "users", source.TitleProperty("name"),
		source.ContentProperties("occupation", "language"), source.MetadataProperties("id", "email"), source.RenderMetadata()) {
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	if len(docs) != 3 {
		t.Fatalf("%d documents", len(docs))
	}
	d := docs[0]
	if d.ID != "1" || d.Metadata["id"] != int64(1) || len(d.Metadata) != 2 {
		t.Fatalf("document ID %q metadata %v", d.ID, d.Metadata)
	}
	for _, want := range []string{"# ", "```yaml\n", "email: ", "## Occupation\n\n", "## Language\n\n"} {
		if !strings.Contains(d.Content, want) {
			t.Fatalf("content lacks %q:\n%s", want, d.Content)
		}
	}
	if d.LastModified.IsZero() {
		t.Fatalf("no LastModified from the cursor updated_at")
	}
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := localRunner(t).newSource(t, connector.WithConfig(map[string]any{"count": "many", "records_per_slice": 0}))
	err := src.ValidateConfig(ctx)
	var ve *connector.ConfigValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ConfigValidationError, got %v", err)
	}
	var paths []string
	for _, p := range ve.Problems {
		paths = append(paths, p.Field)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"count", "records_per_slice"}) {
		t.Fatalf("problems at %v, want count and records_per_slice: %v", paths, err)
	}
	// Discover validates first.
	if _, err := src.Discover(ctx); !errors.As(err, &ve) {
		t.Fatalf("Discover with a bad config: %v", err)
	}
	if err := src.SetConfig(fakerConfig(1)); err != nil {
		t.Fatal(err)
	}
	if err := src.ValidateConfig(ctx); err != nil {
		t.Fatalf("a good config: %v", err)
	}
}

func TestExecutionMethods(t *testing.T) {
	ctx := context.Background()
	bin := testenv.BuildBinary(t, "./cmd/source-faker")
	_, err := source.New(ctx, "source-faker", connector.WithLocalExecutable(bin), connector.WithDockerImage(""))
	var oe *connector.OptionError
	if !errors.As(err, &oe) || !errors.Is(err, connector.ErrInvalidOption) ||
		!strings.Contains(err.Error(), "WithLocalExecutable") || !strings.Contains(err.Error(), "WithDockerImage") {
		t.Fatalf("two methods: want an *OptionError naming both, got %v", err)
	}
	var nm *connector.NoMethodError
	if _, err := source.New(ctx, "source-not-on-path-xyz"); !errors.As(err, &nm) || !errors.Is(err, executor.ErrNotInstalled) {
		t.Fatalf("no method: want a *NoMethodError matching ErrNotInstalled, got %v", err)
	}
	// An executable of that name on PATH wins.
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	src, err := source.New(ctx, "source-faker", connector.WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Spec(ctx); err != nil {
		t.Fatalf("spec of the faker found on PATH: %v", err)
	}

	// Docker image names: "" is the registry's image (the built-in entry of
	// source-faker names goairbyte's), else airbyte/<name>; the version
	// becomes the tag when there is none.
	for _, c := range []struct{ name, image, version, want string }{
		{"source-faker", "", "1.2.3", "goairbyte/source-faker:1.2.3"},
		{"source-faker", "", "", "goairbyte/source-faker:0.1.0"},
		{"source-unregistered", "", "1.2.3", "airbyte/source-unregistered:1.2.3"},
		{"source-unregistered", "", "", "airbyte/source-unregistered:latest"},
		{"source-faker", "localhost:5000/faker", "", "localhost:5000/faker:latest"},
		{"source-faker", "me/faker:dev", "", "me/faker:dev"},
	} {
		src, err := source.New(ctx, c.name, connector.WithDockerImage(c.image), connector.WithVersion(c.version))
		if err != nil {
			t.Fatal(err)
		}
		if got := core.ConnOf(src.Connector).Executor().Method().Image; got != c.want {
			t.Errorf("image %q version %q: got %q, want %q", c.image, c.version, got, c.want)
		}
	}
	// An image with a tag of its own and another version: the pin is not
	// dropped in silence.
	if _, err := source.New(ctx, "source-faker", connector.WithDockerImage("me/faker:dev"), connector.WithVersion("9.9")); !errors.Is(err, connector.ErrInvalidOption) {
		t.Errorf("image me/faker:dev with version 9.9: got %v, want an *OptionError", err)
	}
}

// The catalog paths that look a stream up by name, and are not exported,
// fail with a *protocol.StreamNotFoundError naming it, as the exported
// ones do (the root package's TestStreamNotFoundEverywhere).
func TestStreamNotFoundOnCatalogPaths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := fakerSource(t, map[string]any{"count": 5, "seed": 1}, connector.WithEnvironment(connector.NewEnvironment()))
	wantNotFound := func(what string, err error, stream string) {
		t.Helper()
		var nf *protocol.StreamNotFoundError
		if !errors.Is(err, protocol.ErrStreamNotFound) || !errors.As(err, &nf) || nf.Stream != stream {
			t.Errorf("%s: got %v, want a *protocol.StreamNotFoundError for %q", what, err, stream)
		}
	}
	_, err := src.StreamJSONSchema(ctx, "nope")
	wantNotFound("StreamJSONSchema", err, "nope")
	_, err = src.ConfiguredCatalog(ctx, []string{"nope"})
	wantNotFound("ConfiguredCatalog", err, "nope")
	for _, err := range src.Documents(ctx, "nope") {
		wantNotFound("Documents", err, "nope")
		break
	}
	// A key or cursor override for a stream the catalog lacks (a typo)
	// would read the stream without the key it was meant to merge on.
	_, err = src.ConfiguredCatalog(ctx, []string{"users"}, source.PrimaryKey("usres", []string{"id"}))
	wantNotFound("ConfiguredCatalog with PrimaryKey", err, "usres")
	_, err = src.ConfiguredCatalog(ctx, []string{"users"}, source.CursorField("usres", "updated_at"))
	wantNotFound("ConfiguredCatalog with CursorField", err, "usres")
	// An override of a stream of the catalog that this read leaves out is
	// not an error.
	src.SetPrimaryKey("products", []string{"id"})
	if _, err := src.ConfiguredCatalog(ctx, []string{"users"}); err != nil {
		t.Errorf("an override of a stream not read: %v", err)
	}
}

// TestConfiguredCatalogOfNoSelection: with no stream selected, the catalog
// a read would pass is every stream's, as Read reads them all and as
// PyAirbyte's configured_catalog does; "*" names all of them too. It said
// no streams were selected.
func TestConfiguredCatalogOfNoSelection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := fakerSource(t, map[string]any{"count": 5, "seed": 1}, connector.WithEnvironment(connector.NewEnvironment()))
	names := func(c *protocol.ConfiguredCatalog) []string {
		var out []string
		for _, cs := range c.Streams {
			out = append(out, cs.Stream.Name)
		}
		return out
	}
	all := []string{"products", "users", "purchases"}
	for _, streams := range [][]string{nil, {"*"}} {
		cat, err := src.ConfiguredCatalog(ctx, streams)
		if err != nil || !slices.Equal(names(cat), all) {
			t.Errorf("ConfiguredCatalog(%q) with nothing selected = %v, %v; want %v", streams, cat, err, all)
		}
	}
	if err := src.SelectStreams(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	if cat, err := src.ConfiguredCatalog(ctx, nil); err != nil || !slices.Equal(names(cat), []string{"users"}) {
		t.Errorf("ConfiguredCatalog(nil) with users selected = %v, %v", cat, err)
	}
	if cat, err := src.ConfiguredCatalog(ctx, []string{"*"}); err != nil || !slices.Equal(names(cat), all) {
		t.Errorf("ConfiguredCatalog(\"*\") with users selected = %v, %v", cat, err)
	}
}

// TestReadResultDocuments: the rows a read left in the cache render as the
// documents Source.Documents makes of the same records, as PyAirbyte's
// CachedDataset.to_documents: a retrieval pipeline ported from PyAirbyte
// renders what it read without reading the source again. The cache's own
// columns are no metadata.
func TestReadResultDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := fakerSource(t, map[string]any{"count": 5, "seed": 1, "always_updated": false})
	res, err := src.Read(ctx, source.UseCache(openDuckDB(t)), source.Streams("users"))
	if err != nil {
		t.Fatal(err)
	}
	opts := []source.DocumentOption{source.TitleProperty("name"), source.ContentProperties("occupation", "language"),
		source.MetadataProperties("id", "email"), source.RenderMetadata()}
	want := map[string]source.Document{}
	for d, err := range src.Documents(ctx, "users", opts...) {
		if err != nil {
			t.Fatal(err)
		}
		want[d.ID] = d
	}
	n := 0
	for d, err := range res.Documents(ctx, "users", opts...) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		w, ok := want[d.ID]
		if !ok || d.Content != w.Content || !reflect.DeepEqual(d.Metadata, w.Metadata) || d.LastModified.IsZero() {
			t.Errorf("document %q from the cache:\n%+v\nfrom the source:\n%+v", d.ID, d, w)
		}
	}
	if n != len(want) || n != 5 {
		t.Fatalf("%d documents from the cache, %d from the source, want 5", n, len(want))
	}
	for d, err := range res.Documents(ctx, "users", source.TitleProperty("name")) {
		if err != nil {
			t.Fatal(err)
		}
		for k := range d.Metadata {
			if strings.HasPrefix(k, "_airbyte_") {
				t.Errorf("metadata holds the cache's column %s", k)
			}
		}
		if _, ok := d.Metadata["email"]; !ok || !strings.HasPrefix(d.Content, "# ") {
			t.Errorf("default metadata %v, content %q", d.Metadata, d.Content)
		}
		break
	}
	// A date-time column renders as a connector writes one, not as JSON.
	for d, err := range res.Documents(ctx, "users", source.ContentProperties("created_at")) {
		if _, perr := time.Parse(time.RFC3339Nano, d.Content); err != nil || perr != nil {
			t.Errorf("created_at from the cache renders as %q (%v)", d.Content, err)
		}
		break
	}
	var nf *protocol.StreamNotFoundError
	for _, err := range res.Documents(ctx, "purchases") {
		if !errors.As(err, &nf) {
			t.Errorf("documents of a stream the read did not get: %v", err)
		}
		break
	}
}
