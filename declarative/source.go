package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
	"github.com/x/goairbyte/protocol"
)

// Source is a declarative connector: a manifest loaded, validated and built
// into components once, ready to answer spec, check, discover and read. It
// is safe for concurrent use; each call works on its own config and state.
type Source struct {
	opts        options
	manifest    *manifest.Manifest
	spec        *protocol.ConnectorSpecification
	secretSpec  *manifest.Map // the connection specification, to find the config's secrets
	unsupported []manifest.Component
	streams     []*stream
	check       *checkStream
	level       *concurrencyLevel
	rules       *configRules
	budget      *budgetSpec
}

// New loads a manifest (the text of a manifest.yaml) and builds the
// connector: every component and template is built here, before any
// request. A manifest that does not load or validate (bad YAML, a broken
// $ref, a component that breaks the CDK's component schema) is an error
// here, whose message names each problem's JSON path, such as
// "$.streams[0].retriever.record_selector.extractor: missing property
// 'field_path'" (its types are internal: match the message, not a type).
// A stream that does not build (a template that does not compile, a
// component given values it cannot take) does not fail New, as the CDK
// builds streams only for check, discover and read: Check, Discover and
// Read return its error, which names the stream and the template. A
// manifest that needs components the engine does not run still builds, so
// that Spec works; the calls that would use those components return an
// *UnsupportedError before any request.
func New(manifestText []byte, opts ...Option) (*Source, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	m, err := manifest.Load(manifestText)
	if ne := (*manifest.NewerError)(nil); errors.As(err, &ne) {
		// Its Python components too, which a Docker image would run.
		return nil, unsupported(unsupportedComponents(ne.Manifest))
	}
	if err != nil {
		return nil, err
	}
	return build(m, o)
}

// build builds the connector from a loaded manifest (New without the
// loading, which the property audit test keeps out of its trace).
func build(m *manifest.Manifest, o options) (*Source, error) {
	s := &Source{opts: o, manifest: m}
	var err error
	if s.spec, err = buildSpec(m.Root); err != nil {
		return nil, err
	}
	s.secretSpec = m.Root.Map("spec").Map("connection_specification")
	s.unsupported = unsupportedComponents(m)
	b := &builder{src: s, parents: parentNames(m.Root)}
	if s.streams, err = b.buildStreams(m.Root, s.unsupported); err != nil {
		return nil, fmt.Errorf("declarative: %w", err)
	}
	if s.check, err = b.checkStream(m.Root.Map("check")); err != nil {
		return nil, fmt.Errorf("declarative: check: %w", err)
	}
	if s.level, err = b.concurrencyLevel(m.Root.Map("concurrency_level")); err != nil {
		return nil, fmt.Errorf("declarative: concurrency_level: %w", err)
	}
	if s.budget, err = b.apiBudget(m.Root.Map("api_budget")); err != nil {
		return nil, fmt.Errorf("declarative: api_budget: %w", err)
	}
	if s.rules, err = b.configRules(m.Root.Map("spec").Map("config_normalization_rules")); err != nil {
		return nil, fmt.Errorf("declarative: spec.config_normalization_rules: %w", err)
	}
	return s, nil
}

// Spec returns the connector's specification, the manifest's spec block.
func (s *Source) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	cp := *s.spec
	cp.ConnectionSpecification = append(json.RawMessage(nil), s.spec.ConnectionSpecification...)
	return &cp, nil
}

func (s *Source) streamByName(name string) *stream {
	for _, st := range s.streams {
		if st.name == name {
			return st
		}
	}
	return nil
}

// unsupportedFor returns an *UnsupportedError when any of the streams, or
// a component outside the streams, is not run by the engine.
func (s *Source) unsupportedFor(streams []*stream) error {
	var comps []manifest.Component
	for _, c := range s.unsupported {
		if !strings.HasPrefix(c.Path, "$.streams[") {
			comps = append(comps, c)
		}
	}
	for _, st := range streams {
		comps = append(comps, st.unsupported...)
	}
	if len(comps) == 0 {
		for _, st := range streams {
			if st.buildErr != nil {
				return st.buildErr
			}
		}
		return nil
	}
	return unsupported(comps)
}

// unsupportedComponents lists the components of m that name Python code or
// that this engine does not build.
func unsupportedComponents(m *manifest.Manifest) []manifest.Component {
	var out []manifest.Component
	for _, c := range m.Components() {
		switch {
		case c.ClassName != "" || !supportedTypes[c.Type]:
			out = append(out, c)
		default:
			out = append(out, asyncUnbuilt(c)...)
			// Fields of built components whose behaviour is not built.
			for _, f := range unbuiltFields[c.Type] {
				if truthyField(c.Node, f) {
					out = append(out, manifest.Component{Path: c.Path + "." + f, Type: c.Type + " " + f, Node: c.Node})
				}
			}
		}
	}
	// What only newer CDKs know: run without it, the manifest would be read
	// as it was not written to be.
	return append(out, m.Newer...)
}

// supportedTypes are the component types the engine builds. A manifest
// using any other is refused before its first request.
var supportedTypes = map[string]bool{
	"Spec": true, "CheckStream": true, "ConcurrencyLevel": true,
	"DeclarativeStream": true, "SimpleRetriever": true, "HttpRequester": true,
	"InlineSchemaLoader": true, "RecordSelector": true, "DpathExtractor": true,
	"RecordFilter": true, "JsonDecoder": true,
	"NoAuth": true, "ApiKeyAuthenticator": true, "BearerAuthenticator": true,
	"BasicHttpAuthenticator": true, "SelectiveAuthenticator": true,
	"DefaultPaginator": true, "NoPagination": true, "CursorPagination": true,
	"PageIncrement": true, "OffsetIncrement": true, "RequestOption": true, "RequestPath": true,
	"DefaultErrorHandler": true, "CompositeErrorHandler": true, "HttpResponseFilter": true,
	"ConstantBackoffStrategy": true, "ExponentialBackoffStrategy": true,
	"WaitTimeFromHeader": true, "WaitUntilTimeFromHeader": true,
	"ListPartitionRouter": true, "SubstreamPartitionRouter": true, "ParentStreamConfig": true,
	"DatetimeBasedCursor": true, "MinMaxDatetime": true,
	"AddFields": true, "AddedFieldDefinition": true, "RemoveFields": true, "KeysToLower": true,
	"KeysReplace": true, "FlattenFields": true, "DpathFlattenFields": true,
	"OAuthAuthenticator": true, "SessionTokenAuthenticator": true,
	"SessionTokenRequestApiKeyAuthenticator": true, "SessionTokenRequestBearerAuthenticator": true,
	"AsyncRetriever": true, "ResponseToFileExtractor": true,
	// CDK 7.28.2's config normalization rules (config_normalization.go).
	"ConfigNormalizationRules": true, "ConfigMigration": true, "ConfigAddFields": true,
	"ConfigRemoveFields": true, "ConfigRemapField": true, "DpathValidator": true,
	"PredicateValidator": true, "ValidateAdheresToSchema": true,
	// One of the manifest's streams (state_delegating.go).
	"StateDelegatingStream": true,
	// The manifest's api_budget (api_budget.go).
	"HTTPAPIBudget": true, "MovingWindowCallRatePolicy": true, "FixedWindowCallRatePolicy": true,
	"UnlimitedCallRatePolicy": true, "Rate": true, "HttpRequestRegexMatcher": true,
}

// unbuiltFields are the fields of built component types whose behaviour
// the engine does not have; a manifest setting one is refused rather than
// read without it. None of them is used by the corpus.
var unbuiltFields = map[string][]string{
	// The JWT profile assertion grant.
	"OAuthAuthenticator": {"use_profile_assertion"},
	// A GlobalSubstreamCursor (the CDK reads such streams synchronously)
	// and the concurrent cursor's clamping of windows to days, weeks or
	// months.
	"DatetimeBasedCursor": {"global_substream_cursor", "clamping"},
	// stream_slice.extra_fields needs a slice value with an attribute
	// that is not a key, which package interpolation does not have.
	"ParentStreamConfig": {"extra_fields"},
	// The fallback to a full refresh when the state's cursor is older
	// than the API keeps data (CDK 7.28.2).
	"StateDelegatingStream": {"api_retention_period"},
}

// truthyField reports whether field k of n is set to a value Python
// holds true.
func truthyField(n *manifest.Map, k string) bool {
	v, _ := n.Get(k)
	return interpolation.Truthy(fromManifest(v))
}

// concurrencyLevel is the ConcurrencyLevel component.
type concurrencyLevel struct {
	fixed   int
	tmpl    *tmpl
	maximum int
}

// defaultConcurrency is the CDK's concurrency without a concurrency_level
// (its lowest safe level).
const defaultConcurrency = 2

func (b *builder) concurrencyLevel(n *manifest.Map) (*concurrencyLevel, error) {
	if n == nil {
		return nil, nil
	}
	c := &concurrencyLevel{}
	if m, ok := n.Get("max_concurrency"); ok {
		if i, ok := toInt(m); ok {
			c.maximum = int(i)
		}
	}
	switch d := mustGet(n, "default_concurrency").(type) {
	case int64:
		c.fixed = int(d)
	case string:
		if strings.Contains(d, "config") && c.maximum == 0 {
			return nil, fmt.Errorf("ConcurrencyLevel requires that max_concurrency be defined if the default_concurrency can be used-specified")
		}
		t, err := b.compile(d, paramsOf(n))
		if err != nil {
			return nil, err
		}
		c.tmpl = t
	}
	return c, nil
}

// concurrency is the number of partitions read at once.
func (s *Source) concurrency(rc *readContext) int {
	c := s.level
	if c == nil {
		return defaultConcurrency
	}
	if c.tmpl == nil {
		return max(c.fixed, 1)
	}
	v, err := c.tmpl.eval(rc.vars())
	n, ok := v.(int64)
	if err != nil || !ok {
		return defaultConcurrency
	}
	if c.maximum > 0 && int(n) > c.maximum {
		n = int64(c.maximum)
	}
	return max(int(n), 1)
}
