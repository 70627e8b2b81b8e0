// Package ingest is a destination connector written with kit for a slow
// HTTP ingest API: it posts the records before each STATE in one batch and
// echoes the STATE once the API has them. Told to stop (SIGTERM, or its
// context cancelled in process), it finishes the batch it is posting,
// echoes its state and returns: the kit's doc gives it 5 s for that.
package ingest

import (
	"bytes"
	"context"
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
	URL string `json:"url"`
}

// Spec takes the API's URL.
func (Destination) Spec(context.Context) (*protocol.ConnectorSpecification, error) {
	return &protocol.ConnectorSpecification{
		SupportedDestinationSyncModes: []protocol.DestinationSyncMode{protocol.DestinationAppend},
		ConnectionSpecification:       json.RawMessage(`{"type":"object","required":["url"],"properties":{"url":{"type":"string"}}}`)}, nil
}

// Check succeeds.
func (Destination) Check(context.Context, json.RawMessage) error { return nil }

// Write posts the records before each STATE, then echoes it. The post is
// not tied to ctx: a batch under way when the run is stopped is finished
// and confirmed, and the records after it are left for the next write.
func (Destination) Write(ctx context.Context, raw json.RawMessage, catalog *protocol.ConfiguredCatalog,
	input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return kit.ConfigError(err)
	}
	batch := map[string][]json.RawMessage{}
	for m, err := range input {
		if err != nil {
			return err
		}
		switch m.Type {
		case protocol.TypeRecord:
			batch[m.Record.Stream] = append(batch[m.Record.Stream], m.Record.Data)
		case protocol.TypeState:
			for stream, rows := range batch {
				if err := post(context.WithoutCancel(ctx), c.URL+"/tables/"+stream, rows); err != nil {
					return err
				}
				delete(batch, stream)
			}
			if err := emit(m); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err() // what is in batch is sent again next time
		}
	}
	return nil
}

func post(ctx context.Context, url string, rows []json.RawMessage) error {
	body, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the ingest API answered %s", resp.Status)
	}
	return nil
}
