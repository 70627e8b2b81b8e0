package declarative_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/protocol"
)

// Example reads a one-stream manifest from a local API.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"users": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}]}`)
	}))
	defer api.Close()
	manifest := `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [users]}
streams:
  - type: DeclarativeStream
    name: users
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /users
        authenticator: {type: BearerAuthenticator, api_token: "{{ config['token'] }}"}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [users]}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      base_url: {type: string}
      token: {type: string, airbyte_secret: true}
`
	src, err := declarative.New([]byte(manifest), declarative.WithClock(func() time.Time {
		return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	config := json.RawMessage(`{"base_url": "` + api.URL + `", "token": "secret"}`)
	ctx := context.Background()
	fmt.Println("check:", src.Check(ctx, config))
	catalog, err := src.Discover(ctx, config)
	if err != nil {
		fmt.Println(err)
		return
	}
	configured := &protocol.ConfiguredCatalog{}
	for _, s := range catalog.Streams {
		configured.Streams = append(configured.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncFullRefresh})
	}
	err = src.Read(ctx, config, configured, nil, func(m *protocol.Message) error {
		switch m.Type {
		case protocol.TypeRecord:
			fmt.Printf("record %s\n", m.Record.Data)
		case protocol.TypeState:
			fmt.Printf("state %s\n", m.State.Stream.StreamState)
		case protocol.TypeTrace:
			fmt.Printf("status %s\n", m.Trace.StreamStatus.Status)
		}
		return nil
	})
	fmt.Println("read:", err)
	// Output:
	// check: <nil>
	// status STARTED
	// status RUNNING
	// record {"id":1,"name":"Ada"}
	// record {"id":2,"name":"Alan"}
	// state {"__ab_no_cursor_state_message":true}
	// status COMPLETE
	// read: <nil>
}

// ExampleSource_CheckEmit keeps the config a token rotation updates: the
// API's refresh tokens work once, so the config holding the new one, which
// comes as a CONTROL message, must replace the stored one.
func ExampleSource_CheckEmit() {
	refresh := "r1"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			if r.PostFormValue("refresh_token") != refresh {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			refresh = "r2"
			fmt.Fprint(w, `{"access_token": "a1", "expires_in": 3600, "refresh_token": "r2"}`)
			return
		}
		fmt.Fprint(w, `{"users": [{"id": 1}]}`)
	}))
	defer api.Close()
	manifest := `
version: 6.7.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [users]}
streams:
  - type: DeclarativeStream
    name: users
    primary_key: [id]
    schema_loader: {type: InlineSchemaLoader, schema: {type: object}}
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /users
        authenticator:
          type: OAuthAuthenticator
          token_refresh_endpoint: "{{ config['base_url'] }}/token"
          client_id: "{{ config['client_id'] }}"
          client_secret: "{{ config['client_secret'] }}"
          refresh_token: "{{ config['credentials']['refresh_token'] }}"
          refresh_token_updater: {}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [users]}
spec: {type: Spec, connection_specification: {type: object}}
`
	stored := json.RawMessage(`{"base_url": "` + api.URL + `", "client_id": "c", "client_secret": "s", "credentials": {"refresh_token": "r1"}}`)
	src, err := declarative.New([]byte(manifest),
		declarative.WithClock(func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("check:", src.CheckEmit(context.Background(), stored, func(m *protocol.Message) error {
		if m.Type == protocol.TypeControl && m.Control.ConnectorConfig != nil {
			stored = m.Control.ConnectorConfig.Config
		}
		return nil
	}))
	var cfg struct {
		Credentials map[string]string `json:"credentials"`
	}
	_ = json.Unmarshal(stored, &cfg)
	fmt.Println("refresh token:", cfg.Credentials["refresh_token"])
	fmt.Println("expires:", cfg.Credentials["token_expiry_date"])
	// Output:
	// check: <nil>
	// refresh token: r2
	// expires: 2025-01-15T13:00:00+00:00
}
