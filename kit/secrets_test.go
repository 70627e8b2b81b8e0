package kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"

	"github.com/x/goairbyte/protocol"
)

// leaky is a destination whose errors and logs quote its config's API
// key, as a careless connector's do ("answered 401 for key …").
type leaky struct{}

const leakyKey = "sk-live-0123456789"

func (leaky) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object",
		"properties":{"url":{"type":"string"},"api_key":{"type":"string","airbyte_secret":true},
		"auth":{"oneOf":[{"type":"object","properties":{"token":{"type":"string","airbyte_secret":true}}}]}}}`)}, nil
}

func (leaky) Check(_ context.Context, raw json.RawMessage) error {
	return fmt.Errorf("the store refused %s", raw)
}

func (leaky) Write(_ context.Context, raw json.RawMessage, _ *protocol.ConfiguredCatalog,
	_ iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	if err := emit(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo,
		Message: "posting with " + string(raw), StackTrace: "at " + leakyKey}}); err != nil {
		return err
	}
	if err := emit(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{Type: protocol.StateStream,
		Stream: &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: "items"},
			StreamState: json.RawMessage(`{"c":"` + leakyKey + `"}`)}}}); err != nil {
		return err
	}
	return errors.New("POST failed for key " + leakyKey + " and token tok-abcdef")
}

// Served as a program, a connector's output never shows a value of a field
// its spec marks airbyte_secret, whatever its errors and logs quote: the
// Python CDK masks them likewise, and a runner other than goairbyte's (an
// Airbyte platform showing the check's message) masks nothing. Data (a
// STATE's blob, a RECORD) is passed as it is.
func TestServeMasksSecrets(t *testing.T) {
	t.Parallel()
	config := file(t, "c.json", `{"url":"http://store","api_key":"`+leakyKey+`","auth":{"token":"tok-abcdef"}}`)
	check := run(t, leaky{}, "", "check", "--config", config)
	write := run(t, leaky{}, "", "write", "--config", config, "--catalog", file(t, "k.json", itemsCatalog))
	for name, r := range map[string]result{"check": check, "write": write} {
		out := strings.Join(r.lines, "\n")
		for _, m := range r.msgs {
			if m.Type == protocol.TypeState {
				out = strings.Replace(out, string(m.State.Stream.StreamState), "", 1) // a state's data is the connector's
			}
		}
		for _, secret := range []string{leakyKey, "tok-abcdef"} {
			if strings.Contains(out, secret) || strings.Contains(r.stderr, secret) {
				t.Errorf("%s shows the secret %q:\nstdout:\n%s\nstderr:\n%s", name, secret, strings.Join(r.lines, "\n"), r.stderr)
			}
		}
		if !strings.Contains(out, "****") || !strings.Contains(out, "http://store") {
			t.Errorf("%s: want the secrets masked and the rest kept:\n%s", name, out)
		}
	}
	if len(write.of(protocol.TypeState)) != 1 || !strings.Contains(string(write.of(protocol.TypeState)[0].State.Stream.StreamState), leakyKey) {
		t.Errorf("write: the state's data changed: %s", strings.Join(write.lines, "\n"))
	}
}
