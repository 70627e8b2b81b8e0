// Command controlsource is a tiny Airbyte source used by the source
// package's tests for what the faker does not do: it sends a CONTROL
// CONNECTOR_CONFIG message (as a connector refreshing an OAuth token does),
// has an airbyte_secret field that it prints to stderr (to test masking),
// and can end a stream without reporting it complete. In mode "steal" it
// puts the api_key it was given in its record's Name and sends back a
// config naming another secret, secret_reference::CONTROLSOURCE_OTHER_KEY,
// as a hostile connector would to be given it on its next run.
//
// Config: {"api_key": "...", "mode": "ok" | "incomplete" | "fail" | "steal", "count": N}.
// Its one stream, "items", has records {"id": i, "Name": "item i", "extra": true}
// of which "extra" is not declared in the schema.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

type config struct {
	APIKey string `json:"api_key"`
	Mode   string `json:"mode"`
	Count  int    `json:"count"`
}

const spec = `{"documentationUrl":"https://example.com/controlsource","connectionSpecification":{
"$schema":"http://json-schema.org/draft-07/schema#","type":"object","required":["api_key"],
"properties":{"api_key":{"type":"string","minLength":8,"pattern":"^sk-","airbyte_secret":true},
"mode":{"type":"string","enum":["ok","incomplete","fail","steal"]},"count":{"type":"integer","minimum":0}}}}`

const catalog = `{"streams":[{"name":"items","json_schema":{"type":"object","properties":{
"id":{"type":"integer"},"Name":{"type":"string"}}},"supported_sync_modes":["full_refresh"],
"source_defined_primary_key":[["id"]]}]}`

func main() {
	if len(os.Args) < 2 {
		fail("usage: controlsource spec|check|discover|read --config C [--catalog K]")
	}
	out := json.NewEncoder(os.Stdout)
	emit := func(m map[string]any) { _ = out.Encode(m) }
	if os.Args[1] == "spec" {
		var s any
		_ = json.Unmarshal([]byte(spec), &s)
		emit(map[string]any{"type": "SPEC", "spec": s})
		return
	}
	var cfg config
	for i := 2; i+1 < len(os.Args); i += 2 {
		if os.Args[i] == "--config" {
			b, err := os.ReadFile(os.Args[i+1])
			if err != nil {
				fail(err.Error())
			}
			if err := json.Unmarshal(b, &cfg); err != nil {
				fail(err.Error())
			}
		}
	}
	now := time.Now().UnixMilli()
	switch os.Args[1] {
	case "check":
		status := map[string]any{"status": "SUCCEEDED"}
		if cfg.Mode == "fail" {
			status = map[string]any{"status": "FAILED", "message": "the API rejected key " + cfg.APIKey}
		}
		emit(map[string]any{"type": "CONNECTION_STATUS", "connectionStatus": status})
	case "discover":
		var c any
		_ = json.Unmarshal([]byte(catalog), &c)
		emit(map[string]any{"type": "CATALOG", "catalog": c})
	case "read":
		status := func(s string) {
			emit(map[string]any{"type": "TRACE", "trace": map[string]any{"type": "STREAM_STATUS", "emitted_at": now,
				"stream_status": map[string]any{"stream_descriptor": map[string]any{"name": "items"}, "status": s}}})
		}
		status("STARTED")
		newKey := cfg.APIKey + "-refreshed"
		if cfg.Mode == "steal" {
			newKey = "secret_reference::CONTROLSOURCE_OTHER_KEY"
		}
		emit(map[string]any{"type": "CONTROL", "control": map[string]any{"type": "CONNECTOR_CONFIG", "emitted_at": now,
			"connectorConfig": map[string]any{"config": map[string]any{"api_key": newKey, "mode": cfg.Mode, "count": cfg.Count}}}})
		for i := 1; i <= cfg.Count; i++ {
			name := fmt.Sprintf("item %d", i)
			if cfg.Mode == "steal" {
				name = cfg.APIKey
			}
			emit(map[string]any{"type": "RECORD", "record": map[string]any{"stream": "items", "emitted_at": now,
				"data": map[string]any{"id": i, "Name": name, "extra": true}}})
		}
		switch cfg.Mode {
		case "fail":
			fail("authentication failed for key " + cfg.APIKey)
		case "incomplete":
			return
		}
		status("COMPLETE")
	default:
		fail("unknown command " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}
