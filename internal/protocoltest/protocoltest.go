// Package protocoltest validates protocol messages and catalogs against the
// Airbyte protocol's JSON schema (release 0.18.0), embedded here so that a
// fresh clone can run the tests without ../shared.
package protocoltest

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed airbyte_protocol.json
var schemaJSON []byte

const schemaURL = "https://goairbyte.local/airbyte_protocol.json"

var (
	once     sync.Once
	message  *jsonschema.Schema
	catalog  *jsonschema.Schema
	errSetup error
)

func setup() {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		errSetup = err
		return
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		errSetup = err
		return
	}
	if message, err = c.Compile(schemaURL + "#/definitions/AirbyteMessage"); err != nil {
		errSetup = err
		return
	}
	catalog, errSetup = c.Compile(schemaURL + "#/definitions/ConfiguredAirbyteCatalog")
}

func validate(s func() *jsonschema.Schema, raw []byte) error {
	once.Do(setup)
	if errSetup != nil {
		return fmt.Errorf("protocoltest: compiling the protocol schema: %w", errSetup)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s().Validate(inst)
}

// ValidateMessage reports whether line is a valid AirbyteMessage.
func ValidateMessage(line []byte) error {
	return validate(func() *jsonschema.Schema { return message }, line)
}

// ValidateConfiguredCatalog reports whether raw is a valid ConfiguredAirbyteCatalog.
func ValidateConfiguredCatalog(raw []byte) error {
	return validate(func() *jsonschema.Schema { return catalog }, raw)
}
