package manifest

import (
	"errors"
	"strings"
	"testing"
)

// newerManifest is a manifest of the given version whose stream's
// requester, record selector and top level take extra fields.
func newerManifest(version, requester, selector, top string) string {
	return "version: " + version + `
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
streams:
  - type: DeclarativeStream
    name: items
    $parameters: {url: "https://y/items"}
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester: {type: HttpRequester, http_method: GET` + requester + `}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}` + selector + `}
spec: {type: Spec, connection_specification: {type: object}}
` + top
}

// TestNewerVersionLoads: a manifest of a version newer than 6.31.1 loads
// when it uses only what CDK 6.31.1 knows; the version alone is no reason
// to refuse it (CDK 7.x runs the registry's manifests of every version).
func TestNewerVersionLoads(t *testing.T) {
	for _, v := range []string{"6.31.2", "6.48.15", "7.10.1", "8.0.0"} {
		m, err := Load([]byte(newerManifest(v, `, url_base: "https://x", path: /items`, "", "")))
		if err != nil {
			t.Errorf("version %s: %v", v, err)
			continue
		}
		if len(m.Newer) != 0 {
			t.Errorf("version %s: Newer = %v, want none", v, m.Newer)
		}
	}
	if _, err := Load([]byte(newerManifest("0.28.0", `, url_base: "https://x", path: /items`, "", ""))); err == nil || !strings.Contains(err.Error(), "predates") {
		t.Errorf("version 0.28.0: %v, want it refused as older than 0.29", err)
	}
}

// TestNewerComponents: what only CDKs newer than 6.31.1 know is listed with
// its path (in Manifest.Newer when the 6.31.1 schema still validates the
// manifest, else in a *NewerError); what no CDK knows is not.
func TestNewerComponents(t *testing.T) {
	const ok = `, url_base: "https://x", path: /items`
	for _, c := range []struct {
		name, requester, selector, top string
		want                           []string // "Type at path"; nil: none
		loads                          bool
	}{
		{name: "a field no CDK knows", requester: ok + `, colour: blue, description: "the items"`, loads: true},
		{name: "a field of a newer CDK that validates", requester: ok, selector: `, transform_before_filtering: true`, loads: true,
			want: []string{"RecordSelector transform_before_filtering " + NewerCDK + " at $.streams[0].retriever.record_selector.transform_before_filtering"}},
		{name: "a null newer field", requester: ok, selector: `, transform_before_filtering: null`, loads: true},
		{name: "a newer type", requester: ok + `, request_parameters: {fields: {type: QueryProperties, property_list: [a, b]}}`,
			want: []string{"QueryProperties " + NewerCDK + " at $.streams[0].retriever.requester.request_parameters.fields"}},
		{name: "a newer top-level field", requester: ok, top: "max_concurrent_async_job_count: 2\n",
			want: []string{"DeclarativeSource max_concurrent_async_job_count " + NewerCDK + " at $.max_concurrent_async_job_count"}},
		{name: "an api_budget is run", requester: ok, top: "api_budget: {type: HTTPAPIBudget, policies: []}\n", loads: true},
		{name: "url without url_base is run", requester: `, url: "https://x/items"`, loads: true},
		{name: "url beside url_base is not", requester: ok + `, url: "https://x/items"`, loads: true,
			want: []string{"HttpRequester url " + NewerCDK + " at $.streams[0].retriever.requester.url"}},
		{name: "no path is run", requester: `, url_base: "https://x/items"`, loads: true},
		{name: "a newer field a parameter filled", requester: ok, loads: true}, // the stream's $parameters.url: CDK 6.31.1 ignores it
		{name: "field_path replacing field_name", requester: ok + `, authenticator: {type: ApiKeyAuthenticator, api_token: t, inject_into: {type: RequestOption, inject_into: body_json, field_path: [auth, key]}}`,
			want: []string{"RequestOption field_path " + NewerCDK + " at $.streams[0].retriever.requester.authenticator.inject_into.field_path"}},
		{name: "field_path beside field_name", requester: ok + `, authenticator: {type: ApiKeyAuthenticator, api_token: t, inject_into: {type: RequestOption, inject_into: header, field_name: key, field_path: [auth, key]}}`, loads: true},
	} {
		m, err := Load([]byte(newerManifest("7.10.1", c.requester, c.selector, c.top)))
		var got []Component
		var ne *NewerError
		switch {
		case err == nil && c.loads:
			got = m.Newer
		case errors.As(err, &ne) && !c.loads:
			got = ne.Components
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: the error %q does not say %q", c.name, err, w)
				}
			}
		default:
			t.Errorf("%s: Load: %v (want it to load: %v)", c.name, err, c.loads)
			continue
		}
		var names []string
		for _, g := range got {
			names = append(names, g.Type+" at "+g.Path)
		}
		if strings.Join(names, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s: newer components\n%s\nwant\n%s", c.name, strings.Join(names, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
