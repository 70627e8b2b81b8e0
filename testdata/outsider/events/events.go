// Package events is a destination connector written with kit: it posts
// records, in batches, to a company's event store over HTTP, and echoes a
// STATE once every record before it is stored (the kit's rule).
package events

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// Destination is the connector.
type Destination struct{}

var _ kit.Destination = Destination{}

type config struct {
	URL       string `json:"url"`
	APIKey    string `json:"api_key"`
	BatchSize int    `json:"batch_size"`
}

// Spec marks the API key airbyte_secret.
func (Destination) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{
		SupportedDestinationSyncModes: []protocol.DestinationSyncMode{protocol.DestinationAppend},
		ConnectionSpecification: json.RawMessage(`{"type":"object","required":["url","api_key"],"properties":{
			"url":{"type":"string"},"api_key":{"type":"string","airbyte_secret":true},"batch_size":{"type":"integer","minimum":1}}}`)}, nil
}

func parse(raw json.RawMessage) (config, error) {
	c := config{BatchSize: 100}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, kit.ConfigError(err)
	}
	return c, nil
}

// Check asks the store; its error quotes the key it was refused, as a
// careless connector's does.
func (Destination) Check(ctx context.Context, raw json.RawMessage) error {
	c, err := parse(raw)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.URL+"/ping", nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Api-Key", c.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the event store refused key %s: %s", c.APIKey, resp.Status)
	}
	return nil
}

// post sends one batch, three tries for a 429 or 5xx; the idempotency key,
// the batch's hash, keeps a batch sent again (a retry, or the next write
// sending what the last did not confirm) from being stored twice.
func post(ctx context.Context, c config, stream string, body []byte) error {
	sum := sha256.Sum256(append([]byte(stream+"\x00"), body...))
	for try := 1; ; try++ {
		req, err := http.NewRequestWithContext(ctx, "POST", c.URL+"/streams/"+stream, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("X-Api-Key", c.APIKey)
		req.Header.Set("Idempotency-Key", hex.EncodeToString(sum[:]))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 2:
			return nil
		case try == 3 || resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500:
			return fmt.Errorf("the event store answered %s to a batch of stream %s", resp.Status, stream)
		}
	}
}

// Write posts each stream's records in batches and echoes a STATE once
// every record before it is stored.
func (Destination) Write(ctx context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	c, err := parse(raw)
	if err != nil {
		return err
	}
	batches := map[string][]json.RawMessage{}
	flush := func(stream string) error {
		if len(batches[stream]) == 0 {
			return nil
		}
		body, err := json.Marshal(batches[stream])
		if err != nil {
			return err
		}
		batches[stream] = nil
		return post(ctx, c, stream, body)
	}
	for m, err := range input {
		switch {
		case err != nil:
			return err
		case m.Malformed != nil:
			return fmt.Errorf("input line %d: %v", m.Malformed.Line, m.Malformed.Err)
		case m.Type == protocol.TypeRecord:
			s := m.Record.Stream
			batches[s] = append(batches[s], m.Record.Data)
			if len(batches[s]) >= c.BatchSize {
				err = flush(s)
			}
		case m.Type == protocol.TypeState:
			for s := range batches {
				if err = flush(s); err != nil {
					break
				}
			}
			if err == nil {
				err = emit(m)
			}
		}
		if err != nil {
			return err
		}
	}
	for s := range batches {
		if err := flush(s); err != nil {
			return err
		}
	}
	return nil
}
