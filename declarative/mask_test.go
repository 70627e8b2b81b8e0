package declarative

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// TestMaskSecretsInArrayItems: a spec may mark airbyte_secret inside the
// items of an array (source-onesignal's applications[].app_api_key) or
// make the items secret strings themselves; their values are masked in
// errors and log lines like any other secret of the config.
func TestMaskSecretsInArrayItems(t *testing.T) {
	const appKey, listKey, nestedKey = "app-key-5d7e21", "list-key-9a0c44", "nested-key-1f6b83"
	text := []byte(`
version: 6.7.0
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
        http_method: GET
        request_parameters:
          list: "{{ config['keys'][1] }}"
          nested: "{{ config['groups'][0]['members'][0]['token'] }}"
        authenticator: {type: ApiKeyAuthenticator, api_token: "{{ config['applications'][0]['app_api_key'] }}", inject_into: {type: RequestOption, inject_into: request_parameter, field_name: key}}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [data]}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      applications:
        type: array
        items:
          type: object
          properties:
            app_name: {type: string}
            app_api_key: {type: string, airbyte_secret: true}
      keys: {type: array, items: {type: string, airbyte_secret: true}}
      groups:
        type: array
        items:
          oneOf:
            - type: object
              properties:
                members: {type: array, items: {type: object, properties: {token: {type: string, airbyte_secret: true}}}}
`)
	config := json.RawMessage(fmt.Sprintf(`{"applications": [{"app_name": "shop", "app_api_key": %q}],
		"keys": ["list-key-0", %q], "groups": [{"members": [{"token": %q}]}]}`, appKey, listKey, nestedKey))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [`) // malformed: the error names the URL
	}))
	defer srv.Close()
	var logs bytes.Buffer
	src, err := New(text,
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}}),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := src.Discover(context.Background(), config)
	if err != nil {
		t.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncFullRefresh})
	}
	var all bytes.Buffer
	err = src.Read(context.Background(), config, cc, nil, func(m *protocol.Message) error {
		b, _ := json.Marshal(m)
		all.Write(b)
		return nil
	})
	var de *decodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *decodeError", err)
	}
	all.WriteString(err.Error())
	all.Write(logs.Bytes())
	for _, s := range []string{appKey, listKey, nestedKey} {
		if strings.Contains(all.String(), s) {
			t.Errorf("secret %q leaked into messages, errors or logs: %s", s, err)
		}
	}
	if !strings.Contains(de.URL, "key=****") || !strings.Contains(de.URL, "list=****") || !strings.Contains(de.URL, "nested=****") {
		t.Errorf("the error names %q, want every secret masked", de.URL)
	}
}

// TestMaskSecretsInPreparedURL: a secret in a URL's user information or
// path is spelt there as urllib3 escapes those parts, which keeps
// sub-delimiters, ':' and '/' that quote escapes ("p%40ss!w:rd" for
// "p@ss!w:rd"); it is masked in that spelling too.
func TestMaskSecretsInPreparedURL(t *testing.T) {
	const password, key = "p@ss!w:rd", "k!y/[x]"
	text := strings.NewReplacer("url_base: https://api.example.com/v1/", `url_base: "https://user:{{ config['password'] }}@api.example.com/v1/"`,
		"PATH", `{{ config["key"] }}/items`,
		"connection_specification: {type: object}", "connection_specification: {type: object, properties: {password: {type: string, airbyte_secret: true}, key: {type: string, airbyte_secret: true}}}").
		Replace(requestURLManifest)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data": [`) // malformed: the error names the URL
	}))
	defer srv.Close()
	var logs bytes.Buffer
	src, err := New([]byte(text),
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}}),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	err = src.Check(context.Background(), json.RawMessage(fmt.Sprintf(`{"password": %q, "key": %q}`, password, key)))
	if err == nil || !strings.Contains(err.Error(), "https://user:****@api.example.com/v1/****/items") {
		t.Fatalf("err = %v, want one naming the URL with its secrets masked", err)
	}
	all := err.Error() + logs.String()
	for _, s := range []string{password, key, "p%40ss!w:rd", "k!y/%5Bx%5D"} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q leaked into errors or logs: %s", s, all)
		}
	}
}
