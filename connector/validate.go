package connector

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/secrets"
)

// ValidateConfig checks the config against the connector's spec (a JSON
// schema) and returns a *ConfigValidationError listing every failing field,
// or a *NoConfigError; an *OptionError for a connector of the other kind
// (see Check). A failing field the spec marks airbyte_secret is
// named with the rule it breaks, never with its value.
func (c *Connector) ValidateConfig(ctx context.Context) error {
	cfg, _, _, err := c.prepare(withOperation(ctx))
	if err != nil {
		return err
	}
	return c.validate(ctx, cfg)
}

// validate checks cfg, a config as prepare returns it, against the spec,
// with the one validator Go connectors use too (kit.ValidateConfig).
func (c *Connector) validate(ctx context.Context, cfg json.RawMessage) error {
	spec, err := c.Spec(ctx)
	if err != nil {
		return err
	}
	if err := c.roleMismatch(spec); err != nil {
		return err
	}
	err = kit.ValidateConfig(spec, cfg)
	var ic *kit.InvalidConfigError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ic):
		problems := make([]kit.ConfigProblem, len(ic.Problems))
		for i, p := range ic.Problems {
			problems[i] = kit.ConfigProblem{Field: p.Field, Reason: secrets.Mask(p.Reason)}
		}
		return &ConfigValidationError{Connector: c.name, Problems: problems}
	default:
		// A spec that is not a valid schema is the connector's bug: say so,
		// but do not block the user on it.
		c.logger.Warn("cannot validate the config: the connector's spec is not a valid JSON schema", "connector", c.name, "error", secrets.MaskError(err))
		return nil
	}
}
