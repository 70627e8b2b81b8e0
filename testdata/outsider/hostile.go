package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
)

// hostileManifest is a tenant's upload to a service that runs tenants' manifests in process:
// its items stream's fields are named like SQL, its bomb stream renders a request parameter
// with loops inside loops (a gigabyte of text, then a terabyte, as Jinja would make it).
const hostileManifest = `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [items]}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      base_url: {type: string}
      api_key: {type: string, airbyte_secret: true}
definitions:
  requester:
    type: HttpRequester
    url_base: "{{ config['base_url'] }}"
    authenticator: {type: ApiKeyAuthenticator, api_token: "{{ config['api_key'] }}", inject_into: {type: RequestOption, inject_into: header, field_name: X-Api-Key}}
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}, "\"; DROP TABLE items; --": {type: string}, "a'b": {type: string}}}}
    retriever:
      type: SimpleRetriever
      requester: {$ref: "#/definitions/requester", path: /items}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [items]}}
  - type: DeclarativeStream
    name: bomb
    schema_loader: {type: InlineSchemaLoader, schema: {type: object, properties: {id: {type: integer}}}}
    retriever:
      type: SimpleRetriever
      requester:
        $ref: "#/definitions/requester"
        path: /bomb
        request_parameters:
          q: "{% for a in [0]*1048576 %}{% for b in [0]*1048576 %}{% for c in [0]*1048576 %}xxxxxxxx{% endfor %}{% endfor %}{% endfor %}"
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [items]}}
`

// hostileJourney runs a tenant's hostile manifest against its own API in the tenant's
// Environment: the API redirects to another host, which must get no API key, and its fields
// named like SQL must land as values; the bomb stream must fail with the evaluator's
// MemoryError rather than take the service down.
func hostileJourney(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "outsider-hostile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var mu sync.Mutex
	var keysElsewhere []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keysElsewhere = append(keysElsewhere, r.Header.Get("X-Api-Key"))
		mu.Unlock()
		w.Write([]byte(`{"items": [{"id": 1, "\"; DROP TABLE items; --": "x'); DROP TABLE items; --", "a'b": "it's"}]}`))
	}))
	defer elsewhere.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "key-"+secret {
			http.Error(w, "unknown key", http.StatusUnauthorized)
			return
		}
		// The API has moved: to another host (localhost, not 127.0.0.1).
		http.Redirect(w, r, strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusFound)
	}))
	defer api.Close()
	env := goairbyte.NewEnvironment()
	env.SetCacheDir(filepath.Join(dir, "cache"))
	env.SetLogger(logger)
	src, err := goairbyte.GetSource(ctx, "source-tenant", connector.WithEnvironment(env), connector.WithManifest([]byte(hostileManifest)),
		connector.WithConfig(map[string]any{"base_url": api.URL, "api_key": "key-" + secret}))
	if err != nil {
		return err
	}
	if err := src.SelectStreams(ctx, "items"); err != nil {
		return err
	}
	res, err := src.Read(ctx)
	if err != nil {
		return seen(err)
	}
	items, err := res.Stream(ctx, "items")
	if err != nil {
		return err
	}
	var values []string
	for rec, err := range items.Records(ctx) {
		if err != nil {
			return err
		}
		values = append(values, fmt.Sprint(rec["___drop_table_items____"], " ", rec["a_b"]))
	}
	if err := src.SelectStreams(ctx, "bomb"); err != nil {
		return err
	}
	_, bombErr := src.Read(ctx)
	want(bombErr != nil && strings.Contains(seen(bombErr).Error(), "MemoryError"), "the bomb stream's read gave %v, want the evaluator's MemoryError", bombErr)
	mu.Lock()
	defer mu.Unlock()
	fmt.Printf("items %v, keys sent elsewhere %q, bomb failed %v\n", values, keysElsewhere, bombErr != nil)
	return nil
}
