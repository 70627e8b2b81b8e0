package declarative

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/x/goairbyte/declarative/internal/manifest"
)

// schemaProperties are the properties the component schema defines for
// each component type, the manifest's root as "DeclarativeSource", and the
// untyped objects inside a component as "Type.field".
func schemaProperties(t *testing.T) map[string]map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("internal", "manifest", "declarative_component_schema.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Properties map[string]struct {
			Properties map[string]any `yaml:"properties"`
		} `yaml:"properties"`
	}
	var doc struct {
		object      `yaml:",inline"`
		Definitions map[string]object `yaml:"definitions"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc.Definitions["DeclarativeSource"] = doc.object
	out := map[string]map[string]bool{}
	for name, d := range doc.Definitions {
		out[name] = map[string]bool{}
		for p, ps := range d.Properties {
			out[name][p] = true
			if len(ps.Properties) > 0 {
				sub := map[string]bool{}
				for q := range ps.Properties {
					sub[q] = true
				}
				out[name+"."+p] = sub
			}
		}
	}
	return out
}

// readLog records which keys of which manifest mappings were looked up.
type readLog struct {
	mu   sync.Mutex
	read map[*manifest.Map]map[string]bool
}

func (l *readLog) add(m *manifest.Map, k string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.read[m] == nil {
		l.read[m] = map[string]bool{}
	}
	l.read[m][k] = true
}

func (l *readLog) was(m *manifest.Map, k string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.read[m][k]
}

// dataSections are the keys of a manifest's root that are data, not
// components the CDK builds.
var dataSections = map[string]bool{"definitions": true, "schemas": true, "metadata": true}

// typeAliases name the definitions of components whose type is not a
// definition's name (field → type → definition).
var typeAliases = map[string]map[string]string{
	"SessionTokenAuthenticator.request_authentication": {
		"ApiKey": "SessionTokenRequestApiKeyAuthenticator",
		"Bearer": "SessionTokenRequestBearerAuthenticator",
	},
}

// builtComponent is a component the CDK builds, with its path and the
// properties its manifest sets that the schema defines.
type builtComponent struct {
	path, typ string
	node      *manifest.Map
	set       []string
}

// builtComponents walks a resolved manifest from its root as the CDK's
// factory does: into the properties the schema defines for a component,
// not into keys it does not define (the CDK ignores them, and any
// component under them: source-fullstory's paginator under its record
// selector, source-orb's partition_router beside its retriever), nor into
// $parameters, JSON schemas or the root's data sections. An untyped
// object the schema describes inline is audited as "Type.field".
func builtComponents(root *manifest.Map, props map[string]map[string]bool) []builtComponent {
	var out []builtComponent
	var visit func(v any, path, field, typ string)
	visit = func(v any, path, field, typ string) {
		switch v := v.(type) {
		case []any:
			for i, e := range v {
				visit(e, fmt.Sprintf("%s[%d]", path, i), field, typ)
			}
		case *manifest.Map:
			t := v.String("type")
			if a := typeAliases[field][t]; a != "" {
				t = a
			}
			switch {
			case props[t] != nil:
				typ = t
			case t != "":
				return // a JSON schema or data
			case typ == "":
				if field != "SelectiveAuthenticator.authenticators" {
					return // data, such as a JSON schema without a type
				}
				// A mapping of components.
				for _, k := range v.Keys() {
					e, _ := v.Get(k)
					visit(e, path+"."+k, field, "")
				}
				return
			}
			c := builtComponent{path: path, typ: typ, node: v}
			for _, k := range v.Keys() {
				if !props[typ][k] || k == "$parameters" {
					continue
				}
				c.set = append(c.set, k)
				if typ == "DeclarativeSource" && dataSections[k] {
					continue
				}
				e, _ := v.Get(k)
				sub := ""
				if props[typ+"."+k] != nil {
					sub = typ + "." + k
				}
				visit(e, path+"."+k, typ+"."+k, sub)
			}
			out = append(out, c)
		}
	}
	visit(root, "$", "", "DeclarativeSource")
	return out
}

// harmlessUnread are the properties the builder does not look up, each
// with why that is not a divergence from the CDK. "*" is any component.
var harmlessUnread = map[string]string{
	"*.type":                            "selects the component: the builder dispatches on it where there is a choice, and the scan of unsupported components refuses every type it does not build",
	"*.$parameters":                     "pushed into the fields of the component and of its children by manifest.Load (the CDK's propagation); templates read them through paramsOf",
	"DeclarativeSource.version":         "checked by manifest.Load against the CDK's version",
	"DeclarativeSource.definitions":     "data that references point into, resolved by manifest.Load; the CDK builds nothing from it",
	"DeclarativeSource.schemas":         "data that references point into, resolved by manifest.Load",
	"DeclarativeSource.metadata":        "documentation (the Builder's state); the CDK builds nothing from it",
	"DeclarativeSource.description":     "documentation",
	"DeclarativeSource.dynamic_streams": "its DynamicDeclarativeStream components are refused by the unsupported scan",
	"DeclarativeStream.state_migrations": "its entries are LegacyToPerPartitionStateMigration or CustomStateMigration components, " +
		"which the unsupported scan refuses; an empty list (source-canny, source-productboard) migrates nothing",
	"OAuthAuthenticator.profile_assertion": "a JwtAuthenticator, which the unsupported scan refuses",
	"SimpleRetriever.decoder":              "JsonDecoder, the CDK's default, is the engine's only decoding; every other decoder is refused by the unsupported scan",
	"SessionTokenAuthenticator.decoder":    "JsonDecoder, the CDK's default, is the engine's only decoding; every other decoder is refused by the unsupported scan",
}

func harmless(typ, prop string) bool {
	return harmlessUnread[typ+"."+prop] != "" || harmlessUnread["*."+prop] != ""
}

// auditExtraManifest builds the supported components that no corpus
// stream the engine runs uses, so that the audit sees their lookups.
const auditExtraManifest = `
version: 6.31.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [s]}
concurrency_level: {type: ConcurrencyLevel, default_concurrency: "{{ config['n'] }}", max_concurrency: 4}
spec: {type: Spec, connection_specification: {type: object, properties: {}}}
streams:
  - type: DeclarativeStream
    name: s
    schema_loader: {type: InlineSchemaLoader, schema: {}}
    transformations:
      - {type: FlattenFields, flatten_lists: false}
      - {type: DpathFlattenFields, field_path: [a], delete_origin_value: true}
      - {type: KeysReplace, old: " ", new: _}
    retriever:
      type: SimpleRetriever
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: []}}
      requester:
        type: HttpRequester
        url_base: https://example.invalid
        path: /s
        authenticator:
          type: SessionTokenAuthenticator
          login_requester: {type: HttpRequester, url_base: https://example.invalid, path: /login}
          session_token_path: [token]
          request_authentication:
            type: ApiKey
            inject_into: {type: RequestOption, inject_into: header, field_name: X-Token}
`

// TestPropertyAudit finds the properties of components that a manifest
// sets and that the engine neither honours nor refuses: every property
// the schema defines for a component the engine builds must be looked up
// by the builder (which builds everything in New) or be listed in
// harmlessUnread with the reason. It walks the corpus (which holds the
// manifests of the conformance connectors too), skipping the streams the
// engine refuses, and then every supported component type of the schema.
func TestPropertyAudit(t *testing.T) {
	props := schemaProperties(t)
	type pair struct{ typ, prop string }
	used := map[pair]bool{}
	unread := map[pair][]string{}
	lookedUp := map[pair]bool{}
	runnable, refusedStreams := 0, 0
	audit := func(name string, text []byte) {
		m, err := manifest.Load(text)
		if err != nil {
			return // refused as the CDK refuses it
		}
		comps := builtComponents(m.Root, props)
		log := &readLog{read: map[*manifest.Map]map[string]bool{}}
		stop := manifest.TraceReads(log.add)
		o, _ := buildOptions(nil)
		src, err := build(m, o)
		stop()
		if err != nil {
			return
		}
		refused := func(path string) bool {
			for _, u := range src.unsupported {
				if path == u.Path || strings.HasPrefix(path, u.Path+".") || strings.HasPrefix(path, u.Path+"[") {
					return true
				}
			}
			for _, st := range src.streams {
				if (len(st.unsupported) > 0 || st.buildErr != nil) && (path == st.path || strings.HasPrefix(path, st.path+".")) {
					return true
				}
			}
			return false
		}
		for _, st := range src.streams {
			if len(st.unsupported) == 0 && st.buildErr == nil {
				runnable++
			} else {
				refusedStreams++
			}
		}
		for _, c := range comps {
			for k := range log.read[c.node] {
				lookedUp[pair{c.typ, k}] = true
			}
			if refused(c.path) {
				continue
			}
			for _, k := range c.set {
				p := pair{c.typ, k}
				used[p] = true
				if !log.was(c.node, k) && !slices.Contains(unread[p], name) {
					unread[p] = append(unread[p], name)
				}
			}
		}
	}
	for _, c := range corpus(t) {
		text, err := os.ReadFile(filepath.Join(c.dir, "manifest.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		audit(c.name, text)
	}
	var lines, harmlessPairs []string
	for p, names := range unread {
		if harmless(p.typ, p.prop) {
			harmlessPairs = append(harmlessPairs, p.typ+"."+p.prop)
			continue
		}
		lines = append(lines, fmt.Sprintf("%s.%s, set by %d connectors (%s)", p.typ, p.prop, len(names), strings.Join(names[:min(3, len(names))], ", ")))
	}
	sort.Strings(lines)
	sort.Strings(harmlessPairs)
	t.Logf("%d corpus streams built, %d refused (not audited)", runnable, refusedStreams)
	t.Logf("the corpus sets %d (component, property) pairs in components the engine runs; %d are not looked up and documented as harmless: %s",
		len(used), len(harmlessPairs), strings.Join(harmlessPairs, " "))
	if len(lines) > 0 {
		t.Errorf("properties the corpus sets that the engine neither reads nor refuses (honour them, refuse them in unbuiltFields, or say in harmlessUnread why they do not matter):\n%s", strings.Join(lines, "\n"))
	}

	// Every property of every component type the engine builds, whether or
	// not the corpus sets it.
	audit("extra", []byte(auditExtraManifest))
	var never []string
	for typ := range props {
		base, field, _ := strings.Cut(typ, ".")
		if !(supportedTypes[base] || base == "DeclarativeSource") || slices.Contains(unbuiltFields[base], field) {
			continue // refused, or inside a refused field
		}
		for p := range props[typ] {
			if !lookedUp[pair{typ, p}] && !harmless(typ, p) {
				never = append(never, typ+"."+p)
			}
		}
	}
	sort.Strings(never)
	if len(never) > 0 {
		t.Errorf("properties of supported components the builder never looks up (honour them, refuse them in unbuiltFields, or say in harmlessUnread why they do not matter): %s", strings.Join(never, " "))
	}
}

// TestPropertyAuditEager checks what TestPropertyAudit relies on: the
// builder reads the manifest in New and nothing reads it later, during
// spec, check, discover and read of the recorded conformance connectors.
func TestPropertyAuditEager(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(sharedManifests(t), "conformance", "*"))
	if len(dirs) == 0 {
		t.Fatal("no connectors in the shared conformance data")
	}
	props := schemaProperties(t)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := loadCase(t, dir)
			var mu sync.Mutex
			late := map[string]bool{}
			stop := func() {}
			c.afterBuild = func(src *Source) {
				// Component mappings only: the connection specification
				// is read (for its secrets) at every call, as data.
				paths := map[*manifest.Map]string{}
				for _, bc := range builtComponents(src.manifest.Root, props) {
					paths[bc.node] = bc.path + " (" + bc.typ + ")"
				}
				stop = manifest.TraceReads(func(m *manifest.Map, k string) {
					if p, ok := paths[m]; ok {
						mu.Lock()
						late[p+"."+k] = true
						mu.Unlock()
					}
				})
			}
			runConformance(t, c)
			stop()
			if len(late) > 0 {
				t.Errorf("manifest properties read after New (the audit would miss them): %v", slices.Sorted(maps.Keys(late)))
			}
		})
	}
}
