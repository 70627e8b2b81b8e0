package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// rulesManifest is a manifest of CDK 7.x whose spec has
// config_normalization_rules: migrations in the style of today's
// connectors (an old top-level key moved under credentials, as
// source-airtable's; a value raised, as source-stripe's), a remap and an
// addition among the transformations, and two DpathValidators (one whose
// key may be absent, one over a "*" path).
const rulesManifest = `
version: 7.10.1
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: https://api.example.com
        path: /items
        request_parameters:
          key: "{{ config.credentials.api_key }}"
          workers: "{{ config.num_workers }}"
          region: "{{ config.region }}"
          tag: "{{ config.tag }}"
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
spec:
  type: Spec
  connection_specification: {type: object, properties: {api_key: {type: string, airbyte_secret: true}}}
  config_normalization_rules:
    type: ConfigNormalizationRules
    config_migrations:
      - type: ConfigMigration
        description: api_key moves under credentials
        transformations:
          - type: ConfigAddFields
            fields: [{type: AddedFieldDefinition, path: [credentials, api_key], value: "{{ config['api_key'] }}"}]
            condition: "{{ config.get('api_key', False) }}"
      - type: ConfigMigration
        transformations:
          - type: ConfigAddFields
            fields: [{type: AddedFieldDefinition, path: [num_workers], value: "2"}]
            condition: "{{ config.get('num_workers', 25) == 1 and value == 2 and path == ['num_workers'] }}"
    transformations:
      - type: ConfigRemapField
        field_path: [region]
        map: {eu: europe, "{{ 'u' ~ 's' }}": "{{ config.tag }}-america"}
      - type: ConfigAddFields
        fields: [{type: AddedFieldDefinition, path: [tag], value: "t-{{ config.get('tag', 'none') }}"}]
    validations:
      - type: DpathValidator
        field_path: [limits, max]
        validation_strategy: {type: ValidateAdheresToSchema, base_schema: {type: integer, minimum: 1}}
      - type: DpathValidator
        field_path: [reports, "*", dims]
        validation_strategy:
          type: ValidateAdheresToSchema
          base_schema: {type: array, items: {type: string, enum: [a, b]}}
`

// TestConfigNormalizationRules pins CDK 7.28.2's config normalization
// (airbyte_cdk/sources/declarative/spec/spec.py and
// concurrent_declarative_source.py, _migrate_and_transform_config and
// streams): the migrations change a shallow copy of the config, reported
// in a CONTROL CONNECTOR_CONFIG message only when that copy differs from
// the config at its top level; the transformations then change what the
// components see, unreported.
func TestConfigNormalizationRules(t *testing.T) {
	api := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"data": [{"id": 1}]}`) }
	for _, c := range []struct {
		name, config, control, request string
	}{
		{"migrated", `{"api_key": "k1", "num_workers": 1, "region": "eu"}`,
			`{"api_key":"k1","num_workers":2,"region":"eu","credentials":{"api_key":"k1"}}`,
			"GET /items?key=k1&workers=2&region=europe&tag=t-none"},
		// Nothing to migrate: no message. ConfigRemapField's map is
		// evaluated over the config being transformed.
		{"current", `{"credentials": {"api_key": "k1"}, "num_workers": 3, "region": "us", "tag": "x"}`,
			"", "GET /items?key=k1&workers=3&region=x-america&tag=t-x"},
		// The key added inside an object the config had changes the
		// config the CDK compares with too (dict(config) is shallow): the
		// migrated config is used but not reported.
		{"nested", `{"api_key": "k2", "credentials": {}, "num_workers": 3, "region": "moon"}`,
			"", "GET /items?key=k2&workers=3&region=moon&tag=t-none"},
	} {
		run := runFeature(t, rulesManifest, c.config, "", api)
		if run.err != nil {
			t.Errorf("%s: %v", c.name, run.err)
			continue
		}
		var controls []string
		for _, m := range run.messages {
			if m.Type == protocol.TypeControl {
				controls = append(controls, string(m.Control.ConnectorConfig.Config))
			}
		}
		if c.control == "" {
			sameStrings(t, c.name+": CONTROL messages", controls, nil)
		} else {
			sameStrings(t, c.name+": CONTROL messages", controls, []string{c.control})
			if run.messages[0].Type != protocol.TypeControl {
				t.Errorf("%s: the CONTROL message is not the first message", c.name)
			}
		}
		sameStrings(t, c.name+": requests", run.requests, []string{c.request})
	}
}

// TestConfigNormalizationCheck: CheckEmit emits the migrated config, and
// a check runs on the transformed config.
func TestConfigNormalizationCheck(t *testing.T) {
	var got []string
	src, err := New([]byte(rulesManifest), loopback(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI())
		fmt.Fprint(w, `{"data": [{"id": 1}]}`)
	})...)
	if err != nil {
		t.Fatal(err)
	}
	var controls []string
	err = src.CheckEmit(context.Background(), json.RawMessage(`{"api_key": "k1", "region": "eu"}`), func(m *protocol.Message) error {
		controls = append(controls, string(m.Control.ConnectorConfig.Config))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameStrings(t, "CONTROL messages", controls, []string{`{"api_key":"k1","region":"eu","credentials":{"api_key":"k1"}}`})
	sameStrings(t, "requests", got, []string{"/items?key=k1&region=europe&tag=t-none"})
}

// TestConfigValidations pins the validations (validators/dpath_validator.py,
// validate_adheres_to_schema.py; jsonschema 4.25's messages): run when the
// streams are built, on the transformed config, before any request; a
// failure fails a check with the CDK's words (CheckStream's "discovering
// streams") and ends discover and read with the exception's message.
func TestConfigValidations(t *testing.T) {
	requests := 0
	src, err := New([]byte(rulesManifest), loopback(t, func(w http.ResponseWriter, r *http.Request) {
		requests++
		fmt.Fprint(w, `{"data": []}`)
	})...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ config, want string }{
		{`{"reports": [{"dims": ["a"]}, {"dims": ["b", "z"]}]}`, `JSON schema validation error: 'z' is not one of ['a', 'b']`},
		{`{"reports": [{"dims": "[\"a\", 3]"}]}`, `JSON schema validation error: 3 is not of type 'string'`},
		{`{"reports": [{"dims": "[a"}]}`, `Invalid JSON string: [a`},
		{`{"limits": {"max": 0}}`, `JSON schema validation error: 0 is less than the minimum of 1`},
	} {
		ctx := context.Background()
		cfg := json.RawMessage(c.config)
		var ce *checkError
		err := src.Check(ctx, cfg)
		wantCheck := interpolation.Repr("Encountered an error while discovering streams. Error: " + c.want)
		if !errors.As(err, &ce) || ce.Message != wantCheck {
			t.Errorf("Check(%s) = %v, want the check failed with %s", c.config, err, wantCheck)
		}
		if _, err := src.Discover(ctx, cfg); err == nil || err.Error() != c.want {
			t.Errorf("Discover(%s) = %v, want %s", c.config, err, c.want)
		}
		if err := src.Read(ctx, cfg, allStreams(src), nil, func(*protocol.Message) error { return nil }); err == nil || err.Error() != c.want {
			t.Errorf("Read(%s) = %v, want %s", c.config, err, c.want)
		}
	}
	if requests != 0 {
		t.Errorf("%d requests were sent for invalid configs", requests)
	}
	// Absent keys skip the validation; an empty "*" match has nothing to
	// validate.
	if err := src.Check(context.Background(), json.RawMessage(`{"reports": [], "limits": {}}`)); err != nil {
		t.Errorf("Check without the validated keys: %v", err)
	}
}

// TestConfigRulesPython: a Python transformation or validation strategy
// among the rules is refused by every call that takes a config, before
// any request, and names its class; Spec still works.
func TestConfigRulesPython(t *testing.T) {
	for _, rule := range []string{
		"transformations: [{type: CustomConfigTransformation, class_name: source_declarative_manifest.components.Fix}]",
		"config_migrations: [{type: ConfigMigration, transformations: [{type: CustomConfigTransformation, class_name: source_declarative_manifest.components.Fix}]}]",
		"validations: [{type: DpathValidator, field_path: [a], validation_strategy: {type: CustomValidationStrategy, class_name: source_declarative_manifest.components.Url}}]",
	} {
		text := rulesManifest[:strings.Index(rulesManifest, "    config_migrations:")] + "    " + rule + "\n"
		src, err := New([]byte(text))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if _, err := src.Spec(context.Background()); err != nil {
			t.Errorf("Spec: %v", err)
		}
		ctx, cfg := context.Background(), json.RawMessage(`{}`)
		_, derr := src.Discover(ctx, cfg)
		for name, err := range map[string]error{
			"Check":    src.Check(ctx, cfg),
			"Discover": derr,
			"Read":     src.Read(ctx, cfg, allStreams(src), nil, func(*protocol.Message) error { return nil }),
		} {
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "source_declarative_manifest.components.") {
				t.Errorf("%s with %s: %v, want an *UnsupportedError naming the class", name, rule, err)
			}
		}
	}
}

// loopback serves handler (one request at a time) on a loopback port for
// the test, and returns the options that send a Source's requests there.
func loopback(t *testing.T, handler http.HandlerFunc) []Option {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return []Option{
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}, Timeout: 10 * time.Second}),
		WithClock(func() time.Time { return featureNow }),
		withSleep(noSleep),
	}
}
