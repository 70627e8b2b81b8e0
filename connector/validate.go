package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/x/goairbyte/secrets"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

// ValidateConfig checks the config against the connector's spec (a JSON
// schema) and returns a *ConfigValidationError listing every failing field,
// or a *NoConfigError. A failing field the spec marks airbyte_secret is
// named with the rule it breaks, never with its value.
func (c *Connector) ValidateConfig(ctx context.Context) error {
	cfg, err := c.prepare(ctx)
	if err != nil {
		return err
	}
	return c.validate(ctx, cfg)
}

// validate checks cfg, a config as prepare returns it, against the spec.
func (c *Connector) validate(ctx context.Context, cfg json.RawMessage) error {
	spec, err := c.Spec(ctx)
	if err != nil {
		return err
	}
	problems, err := validateAgainst(spec.ConnectionSpecification, cfg)
	if err != nil {
		// A spec that is not a valid schema is the connector's bug: say so,
		// but do not block the user on it.
		c.logger.Warn("cannot validate the config: the connector's spec is not a valid JSON schema", "connector", c.name, "error", err)
		return nil
	}
	if len(problems) == 0 {
		return nil
	}
	for i := range problems {
		problems[i].Reason = secrets.Mask(problems[i].Reason)
	}
	return &ConfigValidationError{Connector: c.name, Problems: problems}
}

// validateAgainst validates config against schema. The error is about the
// schema; problems are about the config.
func validateAgainst(schemaJSON, config json.RawMessage) ([]ConfigProblem, error) {
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	// Airbyte specs are draft-07 and often say nothing.
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource("spec.json", schemaDoc); err != nil {
		return nil, err
	}
	sch, err := c.Compile("spec.json")
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return nil, err
	}
	verr, ok := sch.Validate(inst).(*jsonschema.ValidationError)
	if !ok || verr == nil {
		return nil, nil
	}
	secretPaths := secretFields(schemaJSON, config)
	var problems []ConfigProblem
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				leaves(c)
			}
			return
		}
		p := ConfigProblem{Path: jsonPointer(e.InstanceLocation), Reason: e.ErrorKind.LocalizedString(printer)}
		if isSecretPath(secretPaths, e.InstanceLocation) {
			// The library's messages quote values ("minLength: got 3, want
			// 8", "'x' does not match pattern"): say only which rule failed.
			p.Reason = fmt.Sprintf("the secret value does not satisfy %q (value hidden)", strings.Join(e.ErrorKind.KeywordPath(), "/"))
		}
		if !slices.Contains(problems, p) {
			problems = append(problems, p)
		}
	}
	leaves(verr)
	return problems, nil
}

// isSecretPath reports whether loc is a secret field or inside one.
func isSecretPath(secrets []secretField, loc []string) bool {
	for _, f := range secrets {
		if len(loc) >= len(f.path) && slices.Equal(loc[:len(f.path)], f.path) {
			return true
		}
	}
	return false
}

func jsonPointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}
