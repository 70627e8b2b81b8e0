package registry

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParse parses a registry of the real one's shape: ~600 sources
// and ~60 destinations, each with a spec of a few kilobytes that parse
// skips.
func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	spec := `"spec": {"connectionSpecification": {"type": "object", "properties": {` +
		strings.Repeat(`"field_xxxxxxxx": {"type": "string", "title": "A field", "description": "Some words about the field that are long enough to matter in a real registry document.", "examples": ["a", "b"]},`, 25) +
		`"last": {"type": "string", "airbyte_secret": true}}}}`
	entry := func(kind string, i int) string {
		return fmt.Sprintf(`{"%sDefinitionId": "00000000-0000-0000-0000-%012d", "name": "Connector %d", "dockerRepository": "airbyte/%s-c%d", "dockerImageTag": "1.2.%d", "documentationUrl": "https://docs.airbyte.com/x", "releaseStage": "beta", "supportLevel": "community", "tags": ["language:python", "cdk:python"], "language": "python", "remoteRegistries": {"pypi": {"enabled": true, "packageName": "airbyte-%s-c%d"}}, "icon": "<svg></svg>", %s}`,
			kind, i, i, kind, i, i, kind, i, spec)
	}
	sb.WriteString(`{"sources": [`)
	for i := range 600 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(entry("source", i))
	}
	sb.WriteString(`], "destinations": [`)
	for i := range 60 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(entry("destination", i))
	}
	sb.WriteString(`]}`)
	doc := []byte(sb.String())
	b.Run("document", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := parseBytes(doc, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The disk cache holds the slim form: what every later process reads.
	_, w, err := parseWire(doc, "bench")
	if err != nil {
		b.Fatal(err)
	}
	slim, _ := json.Marshal(w)
	b.Run("disk-cache", func(b *testing.B) {
		for b.Loop() {
			if _, err := parseBytes(slim, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(slim)), "cache-bytes")
		b.ReportMetric(float64(len(doc)), "doc-bytes")
	})
}
