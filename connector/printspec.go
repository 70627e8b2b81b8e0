package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// PrintConfigSpec writes the JSON schema of the connector's config to w as
// "yaml" (the default when format is "") or "json", keeping the spec's
// property order, so that a user can see which config to write.
func (c *Connector) PrintConfigSpec(ctx context.Context, w io.Writer, format string) error {
	spec, err := c.configSpec(ctx)
	if err != nil {
		return err
	}
	out, err := formatSpec(spec, format)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// WriteConfigSpecFile writes the config spec to a file, as YAML or JSON; an
// empty format follows the file's extension (.json is JSON, anything else
// YAML).
func (c *Connector) WriteConfigSpecFile(ctx context.Context, path, format string) error {
	if format == "" && strings.EqualFold(filepath.Ext(path), ".json") {
		format = "json"
	}
	var buf bytes.Buffer
	if err := c.PrintConfigSpec(ctx, &buf, format); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func formatSpec(spec json.RawMessage, format string) ([]byte, error) {
	switch strings.ToLower(format) {
	case "json":
		var buf bytes.Buffer
		if err := json.Indent(&buf, spec, "", "  "); err != nil {
			return nil, err
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	case "", "yaml", "yml":
		// JSON is YAML: parsing it into a node keeps the key order, which a
		// map would lose. Then drop the JSON flow style and quoting.
		var node yaml.Node
		if err := yaml.Unmarshal(spec, &node); err != nil {
			return nil, err
		}
		blockStyle(&node)
		return yaml.Marshal(&node)
	}
	return nil, fmt.Errorf("source: unknown spec format %q; use \"yaml\" or \"json\"", format)
}

func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}
