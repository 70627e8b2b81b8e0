package kit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// greeter is a whole source connector: one stream, "greetings", of config
// "count" records.
type greeter struct{}

func (greeter) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(
		`{"type":"object","required":["count"],"properties":{"count":{"type":"integer","minimum":1}}}`)}, nil
}

func (greeter) Check(context.Context, json.RawMessage) error { return nil }

func (greeter) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return &protocol.Catalog{Streams: []protocol.Stream{{Name: "greetings", JSONSchema: json.RawMessage(`{"type":"object"}`),
		SupportedSyncModes: []protocol.SyncMode{protocol.SyncFullRefresh}}}}, nil
}

func (greeter) Read(ctx context.Context, config json.RawMessage, catalog *protocol.ConfiguredCatalog, state json.RawMessage,
	emit func(*protocol.Message) error) error {
	var c struct{ Count int }
	if err := json.Unmarshal(config, &c); err != nil {
		return kit.ConfigError(err)
	}
	for i := range c.Count {
		// A new Message and Data for each record: the receiver may keep them.
		data := fmt.Appendf(nil, `{"id":%d,"text":"hello"}`, i+1)
		if err := emit(&protocol.Message{Type: protocol.TypeRecord,
			Record: &protocol.Record{Stream: "greetings", Data: data, EmittedAt: 1700000000000}}); err != nil {
			return err
		}
	}
	return nil
}

// streamEnd is the time on the stream's end, the one line of the read
// that changes from run to run.
var streamEnd = regexp.MustCompile(`"STREAM_STATUS","emitted_at":\d+`)

// A connector's main is kit.Serve(greeter{}); kit.Run is the same for a
// test. The config is validated against the spec before Read runs. The
// read ends with the stream's COMPLETE, which greeter did not send: kit
// ends every stream of a read that succeeds, as the Python CDK does, so
// that a runner knows the stream whole (an empty one too).
func Example() {
	dir, _ := os.MkdirTemp("", "kit-example-")
	defer os.RemoveAll(dir)
	config, catalog, bad := filepath.Join(dir, "config.json"), filepath.Join(dir, "catalog.json"), filepath.Join(dir, "bad.json")
	_ = os.WriteFile(config, []byte(`{"count": 2}`), 0o600)
	_ = os.WriteFile(bad, []byte(`{"count": 0}`), 0o600)
	_ = os.WriteFile(catalog, []byte(`{"streams":[{"stream":{"name":"greetings","json_schema":{},"supported_sync_modes":["full_refresh"]},
		"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`), 0o600)

	var out bytes.Buffer
	code := kit.Run(context.Background(), greeter{}, []string{"read", "--config", config, "--catalog", catalog}, nil, &out, os.Stderr)
	fmt.Print(streamEnd.ReplaceAllString(out.String(), `"STREAM_STATUS","emitted_at":NOW`))
	fmt.Println("exit code", code)
	code = kit.Run(context.Background(), greeter{}, []string{"check", "--config=" + bad}, nil, os.Stdout, os.Stderr)
	fmt.Println("exit code", code)
	// Output:
	// {"type":"RECORD","record":{"stream":"greetings","data":{"id":1,"text":"hello"},"emitted_at":1700000000000}}
	// {"type":"RECORD","record":{"stream":"greetings","data":{"id":2,"text":"hello"},"emitted_at":1700000000000}}
	// {"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":NOW,"stream_status":{"stream_descriptor":{"name":"greetings"},"status":"COMPLETE"}}}
	// exit code 0
	// {"type":"CONNECTION_STATUS","connectionStatus":{"status":"FAILED","message":"invalid config: field \"count\": minimum: got 0, want 1 (run `spec` to see the options)"}}
	// exit code 0
}
