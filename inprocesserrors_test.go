package goairbyte_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// customManifest is a manifest whose one stream has a requester written in
// Python, which the engine does not run.
const customManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [events]}
streams:
  - type: DeclarativeStream
    name: events
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester: {type: CustomRequester, class_name: source_mine.components.MyRequester}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec: {type: Spec, connection_specification: {type: object}}
`

// An in-process manifest's failure reaches the *declarative.UnsupportedError
// the engine returned: Check's *CheckFailedError and Read's and Records'
// *ConnectorError unwrap to it, and still match their sentinels.
func TestInProcessManifestErrorsUnwrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := goairbyte.GetSource(ctx, "source-mine", connector.WithEnvironment(goairbyte.NewEnvironment()),
		connector.WithManifest([]byte(customManifest)), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	unsupported := func(what string, err, sentinel error) {
		t.Helper()
		var ue *declarative.UnsupportedError
		if !errors.Is(err, sentinel) || !errors.Is(err, declarative.ErrUnsupported) || !errors.As(err, &ue) || len(ue.Components) != 1 || ue.Components[0].Type != "CustomRequester" ||
			!strings.Contains(err.Error(), "CustomRequester") {
			t.Errorf("%s: got %v, want an error matching %v that unwraps to the *declarative.UnsupportedError naming CustomRequester", what, err, sentinel)
			return
		}
		t.Logf("%s: %v", what, err)
	}
	unsupported("Check", src.Check(ctx), goairbyte.ErrCheckFailed)
	c, err := goairbyte.NewLocalCache(ctx, "mine", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
	unsupported("Read", err, goairbyte.ErrConnectorFailed)
	err = nil
	for _, e := range src.Records(ctx, "events") {
		if e != nil {
			err = e
		}
	}
	unsupported("Records", err, goairbyte.ErrConnectorFailed)
}

// errAccount is the sentinel accountError matches.
var errAccount = errors.New("account problem")

// accountError is a kit connector's own error type, quoting the token.
type accountError struct{ verb, token string }

func (e *accountError) Error() string {
	return e.verb + ": the account of token " + e.token + " is closed"
}
func (e *accountError) Is(target error) bool { return target == errAccount }

// closedAccount is a kit source and destination whose every command after
// spec fails with an *accountError, but discover when it has a catalog.
type closedAccount struct{ catalog *protocol.Catalog }

func (closedAccount) token(raw json.RawMessage) string {
	var c struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.Token
}

func (closedAccount) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","properties":{"token":{"type":"string","airbyte_secret":true}}}`)}, nil
}
func (a closedAccount) Check(_ context.Context, raw json.RawMessage) error {
	return &accountError{"check", a.token(raw)}
}
func (a closedAccount) Discover(_ context.Context, raw json.RawMessage) (*protocol.Catalog, error) {
	if a.catalog != nil {
		return a.catalog, nil
	}
	return nil, &accountError{"discover", a.token(raw)}
}
func (a closedAccount) Read(_ context.Context, raw json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	_ func(*protocol.Message) error) error {
	return &accountError{"read", a.token(raw)}
}
func (a closedAccount) Write(_ context.Context, raw json.RawMessage, _ *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], _ func(*protocol.Message) error) error {
	for range input {
	}
	return &accountError{"write", a.token(raw)}
}

// An in-process kit connector's own error reaches errors.As and errors.Is
// through Check, Discover, Read, Records and a destination's Write, while
// the errors keep their sentinels and mask the secret the connector's
// error quotes.
func TestInProcessKitErrorsUnwrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const token = "tok-9f3e1c77b2a84d5e"
	env := goairbyte.NewEnvironment()
	cfg := connector.WithConfig(map[string]any{"token": token})
	account := func(what string, err, sentinel error, verb string) {
		t.Helper()
		var ae *accountError
		switch {
		case !errors.Is(err, sentinel):
			t.Errorf("%s: got %v, want it to match %v", what, err, sentinel)
		case !errors.Is(err, errAccount) || !errors.As(err, &ae) || ae.verb != verb:
			t.Errorf("%s: got %T %v, want it to unwrap to the connector's *accountError of %s", what, err, err, verb)
		case strings.Contains(err.Error(), token):
			t.Errorf("%s: the message leaks the token: %v", what, err)
		case !strings.Contains(err.Error(), "is closed"):
			t.Errorf("%s: the connector's message is lost: %v", what, err)
		default:
			t.Logf("%s: %v", what, err)
		}
	}
	src, err := goairbyte.GetSource(ctx, "source-closed", connector.WithEnvironment(env), connector.WithGoConnector(closedAccount{}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	account("Check", src.Check(ctx), goairbyte.ErrCheckFailed, "check")
	_, err = src.Discover(ctx)
	account("Discover", err, goairbyte.ErrConnectorFailed, "discover")

	cat := &protocol.Catalog{Streams: []protocol.Stream{{Name: "items", JSONSchema: json.RawMessage(`{"type":"object"}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}
	src, err = goairbyte.GetSource(ctx, "source-closed", connector.WithEnvironment(env), connector.WithGoConnector(closedAccount{cat}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := goairbyte.NewLocalCache(ctx, "closed", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = src.Read(ctx, source.UseCache(c), source.NoProgress())
	account("Read", err, goairbyte.ErrConnectorFailed, "read")
	err = nil
	for _, e := range src.Records(ctx, "items") {
		if e != nil {
			err = e
		}
	}
	account("Records", err, goairbyte.ErrConnectorFailed, "read")

	dst, err := goairbyte.GetDestination(ctx, "destination-closed", connector.WithEnvironment(env), connector.WithGoConnector(closedAccount{}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	account("destination Check", dst.Check(ctx), goairbyte.ErrCheckFailed, "check")
	_, err = dst.Write(ctx, fakerSource(t), destination.NoCache(), destination.NoStateCache(), destination.NoProgress())
	account("Write", err, goairbyte.ErrConnectorFailed, "write")
}

// closedForGood is a kit source and destination whose read and write fail
// with a config_error, at run time (the config passed the spec).
type closedForGood struct{ closedAccount }

func (closedForGood) Read(context.Context, json.RawMessage, *protocol.ConfiguredCatalog, json.RawMessage, func(*protocol.Message) error) error {
	return kit.ConfigError(errors.New("the account is closed"))
}
func (closedForGood) Write(_ context.Context, _ json.RawMessage, _ *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], _ func(*protocol.Message) error) error {
	for range input {
	}
	return kit.ConfigError(errors.New("the account is closed"))
}

// A config_error at run time is the same error from a source's Read and
// Records as from a destination's Write: a *ConnectorError whose failure
// type says config_error, matching ErrConnectorFailed, and matching
// ErrConfigInvalid on both sides or neither (that sentinel is for a
// config the spec refuses, which both sides check before the connector
// runs).
func TestRuntimeConfigErrorSameBothWays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := goairbyte.NewEnvironment()
	cat := &protocol.Catalog{Streams: []protocol.Stream{{Name: "items", JSONSchema: json.RawMessage(`{"type":"object"}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}
	conn := closedForGood{closedAccount{cat}}
	src, err := goairbyte.GetSource(ctx, "source-closed", connector.WithEnvironment(env), connector.WithGoConnector(conn),
		connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	readErr, recordsErr := readAndRecordsErrors(t, src, "items")
	dst, err := goairbyte.GetDestination(ctx, "destination-closed", connector.WithEnvironment(env), connector.WithGoConnector(conn),
		connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	_, writeErr := dst.Write(ctx, fakerSource(t), destination.NoCache(), destination.NoStateCache(), destination.NoProgress())
	invalid := errors.Is(writeErr, goairbyte.ErrConfigInvalid)
	for what, err := range map[string]error{"Read": readErr, "Records": recordsErr, "Write": writeErr} {
		var ce *goairbyte.ConnectorError
		if !errors.Is(err, goairbyte.ErrConnectorFailed) || !errors.As(err, &ce) || ce.FailureType != protocol.FailureConfig {
			t.Errorf("%s: got %v, want a *ConnectorError of a config_error, matching ErrConnectorFailed", what, err)
		}
		if errors.Is(err, goairbyte.ErrConfigInvalid) != invalid {
			t.Errorf("%s: matches ErrConfigInvalid: %v; the destination's Write: %v", what, !invalid, invalid)
		}
		t.Logf("%s: %v", what, err)
	}
}

// repeatingManifest reads an API whose cursor pagination sends one next
// page token for ever.
const repeatingManifest = `
version: 6.31.1
type: DeclarativeSource
check: {type: CheckStream, stream_names: [customers]}
streams:
  - type: DeclarativeStream
    name: customers
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, url_base: "{{ config['base_url'] }}", path: /customers, http_method: GET}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: cursor}
        pagination_strategy: {type: CursorPagination, cursor_value: "{{ response.next }}"}
spec: {type: Spec, connection_specification: {type: object}}
`

// An in-process manifest that fails with an error the CDK does not word
// (a paginator repeating its page token) sends the CDK's "Something went
// wrong in the connector. See the logs for more details.", and the reason
// in its internal message; an in-process run has no log to see, and its
// logger had nothing, so the *ConnectorError says the reason instead.
func TestInProcessGenericFailureSaysWhy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data": [{"id": 1}], "next": "page-2"}`)
	}))
	defer api.Close()
	src, err := goairbyte.GetSource(ctx, "source-repeating", connector.WithEnvironment(goairbyte.NewEnvironment()),
		connector.WithManifest([]byte(repeatingManifest)), connector.WithConfig(map[string]any{"base_url": api.URL}))
	if err != nil {
		t.Fatal(err)
	}
	readErr, recordsErr := readAndRecordsErrors(t, src, "customers")
	for what, err := range map[string]error{"Read": readErr, "Records": recordsErr} {
		var ce *goairbyte.ConnectorError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), `the paginator returned the page token "page-2" again`) ||
			strings.Contains(err.Error(), "See the logs") {
			t.Errorf("%s: got %v, want a *ConnectorError naming the repeated page token, not sending to logs there are none of", what, err)
		}
	}
}

// readAndRecordsErrors reads src into a DuckDB cache of its own and then
// its stream with Records, and returns the error of each.
func readAndRecordsErrors(t *testing.T, src *goairbyte.Source, stream string) (readErr, recordsErr error) {
	t.Helper()
	ctx := context.Background()
	c, err := goairbyte.NewLocalCache(ctx, "errors", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, readErr = src.Read(ctx, source.UseCache(c), source.NoProgress())
	for _, e := range src.Records(ctx, stream) {
		if e != nil {
			recordsErr = e
		}
	}
	return readErr, recordsErr
}
