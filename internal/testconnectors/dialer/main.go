// Command dialer is a test connector that reaches the URL of its config
// ("url") in its check and its read, as connectors of an API or a database
// do: it fails with the dial error when nothing answers there.
package main

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/x/goairbyte/internal/testconnectors/base"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

type dialer struct{ base.Items }

func (dialer) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["url"],"properties":{"url":{"type":"string"}}}`)}, nil
}

func get(ctx context.Context, raw json.RawMessage) error {
	var c struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return kit.ConfigError(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return kit.ConfigError(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (dialer) Check(ctx context.Context, config json.RawMessage) error { return get(ctx, config) }

func (dialer) Read(ctx context.Context, config json.RawMessage, _ *protocol.ConfiguredCatalog, _ json.RawMessage,
	emit func(*protocol.Message) error) error {
	if err := get(ctx, config); err != nil {
		return err
	}
	return emit(base.Record(`{"id":1}`))
}

func main() { kit.Serve(dialer{}) }
