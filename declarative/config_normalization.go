package declarative

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
)

// configRules is a Spec's config_normalization_rules, as CDK 7.28.2 runs
// them (airbyte_cdk/sources/declarative/spec/spec.py: migrate_config,
// transform_config, validate_config; called by
// concurrent_declarative_source.py). When a config is given (check,
// discover, read; never spec), the source applies the migrations to a
// shallow copy of it and, when the copy then differs from the config,
// reports it in a CONTROL CONNECTOR_CONFIG message (and writes it to the
// config file); then the transformations, whose result is the config every
// component sees but is never reported. The validations run when the
// streams are built, on the transformed config: a failure fails a check
// ("Encountered an error while discovering streams. Error: ...") and is an
// uncaught exception in discover and read (a TRACE ERROR of failure type
// system_error).
type configRules struct {
	migrations      [][]configTransformation
	transformations []configTransformation
	validations     []configValidator
}

// configTransformation changes a config in place (the CDK's
// ConfigTransformation).
type configTransformation interface {
	transformConfig(cfg *dict, v func(cfg *dict) *vars) error
}

// configValidator checks a config (the CDK's Validator).
type configValidator interface {
	validateConfig(rc *readContext, cfg *dict) error
}

// configRules builds the rules (model_to_component_factory.py,
// create_spec and the create_config_* and create_*_validator methods). A
// Python component among them is not built: the unsupported scan lists
// it, and nothing runs.
func (b *builder) configRules(n *manifest.Map) (*configRules, error) {
	if n == nil {
		return nil, nil
	}
	r := &configRules{}
	for _, e := range n.List("config_migrations") {
		var ts []configTransformation
		for _, t := range e.(*manifest.Map).List("transformations") {
			ct, err := b.configTransformation(t.(*manifest.Map))
			if err != nil {
				return nil, err
			}
			if ct != nil {
				ts = append(ts, ct)
			}
		}
		r.migrations = append(r.migrations, ts)
	}
	for _, t := range n.List("transformations") {
		ct, err := b.configTransformation(t.(*manifest.Map))
		if err != nil {
			return nil, err
		}
		if ct != nil {
			r.transformations = append(r.transformations, ct)
		}
	}
	for _, e := range n.List("validations") {
		vn := e.(*manifest.Map)
		if vn.String("class_name") != "" {
			continue
		}
		switch vn.String("type") {
		case "DpathValidator":
			d := &dpathValidator{}
			var err error
			if d.path, err = b.fieldPath(vn); err != nil {
				return nil, err
			}
			sn, _ := vn.Get("validation_strategy")
			sm, _ := sn.(*manifest.Map)
			if sm == nil || sm.String("class_name") != "" {
				continue // a Python strategy: refused before any use
			}
			d.strategy = newSchemaStrategy(sm)
			r.validations = append(r.validations, d)
		case "PredicateValidator":
			r.validations = append(r.validations, predicateValidator{})
		}
	}
	return r, nil
}

// configTransformation builds one transformation; nil for a Python one.
func (b *builder) configTransformation(n *manifest.Map) (configTransformation, error) {
	if n.String("class_name") != "" {
		return nil, nil
	}
	switch n.String("type") {
	case "ConfigAddFields":
		a := &configAddFields{}
		t, err := b.transformation(withType(n, "AddFields"))
		if err != nil {
			return nil, err
		}
		a.fields = t.(*addFields).fields
		// InterpolatedBoolean(condition, parameters={}).
		if a.condition, err = b.condition(n, "condition"); err != nil {
			return nil, err
		}
		return a, nil
	case "ConfigRemoveFields":
		t, err := b.transformation(withType(n, "RemoveFields"))
		if err != nil {
			return nil, err
		}
		rf := t.(*removeFields)
		return &configRemoveFields{pointers: rf.pointers, condition: rf.condition}, nil
	case "ConfigRemapField":
		m := &configRemapField{}
		var err error
		if m.path, err = b.fieldPath(n); err != nil {
			return nil, err
		}
		if len(m.path) == 0 {
			return nil, errors.New("field_path cannot be empty.")
		}
		if _, isMap := mustGet(n, "map").(*manifest.Map); !isMap {
			// InterpolatedMapping over a string: .items() fails.
			m.mapErr = errors.New("'str' object has no attribute 'items'")
			return m, nil
		}
		if m.mapping, err = b.mapping(n, "map"); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s: not a config transformation", n.String("type"))
}

// fieldPath compiles the field_path of n, each part a template without
// $parameters (InterpolatedString.create(path, parameters={})).
func (b *builder) fieldPath(n *manifest.Map) ([]*tmpl, error) {
	var out []*tmpl
	for _, p := range n.List("field_path") {
		t, err := b.compileValue(p, interpolation.NewDict(0), "field_path")
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// withType is a copy of the component n with another type, to build a
// config transformation with the record transformation it shares its
// fields and their meaning with.
func withType(n *manifest.Map, typ string) *manifest.Map {
	c := manifest.Clone(n).(*manifest.Map)
	c.Set("type", typ)
	return c
}

// configAddFields is ConfigAddFields
// (transformations/config_transformations/add_fields.py): each field's
// value is evaluated over the config, then set at its path (dpath.new) when
// the condition, which sees config, value and path, holds.
type configAddFields struct {
	fields    []addedField
	condition *tmpl
}

func (a *configAddFields) transformConfig(cfg *dict, vf func(*dict) *vars) error {
	for _, f := range a.fields {
		v := vf(cfg)
		val, err := f.value.evalTyped(v, f.valueType)
		if err != nil {
			return err
		}
		if a.condition != nil {
			path := make([]value, len(f.path))
			for i, p := range f.path {
				path[i] = p
			}
			cv := v.with(func(x *vars) { x.SetName("value", val); x.SetName("path", path) })
			ok, err := a.condition.evalBool(cv)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		setPath(cfg, f.path, val)
	}
	return nil
}

// configRemoveFields is ConfigRemoveFields (remove_fields.py): when the
// condition over the config holds, every value a pointer matches is
// deleted, as RemoveFields deletes them from records.
type configRemoveFields struct {
	pointers  [][]string
	condition *tmpl
}

func (r *configRemoveFields) transformConfig(cfg *dict, vf func(*dict) *vars) error {
	if r.condition != nil {
		ok, err := r.condition.evalBool(vf(cfg))
		if err != nil || !ok {
			return err
		}
	}
	rf := &removeFields{}
	for _, p := range r.pointers {
		if err := rf.remove(cfg, p, nil); err != nil {
			return err
		}
	}
	return nil
}

// configRemapField is ConfigRemapField (remap_field.py): the value at the
// path (each part a template over the config; every part but the last
// must lead to an object) is replaced by what the map gives for it, when
// the map has it as a key.
type configRemapField struct {
	path    []*tmpl
	mapping *tmplMapping
	mapErr  error
}

func (m *configRemapField) transformConfig(cfg *dict, vf func(*dict) *vars) error {
	v := vf(cfg)
	parts := make([]value, len(m.path))
	for i, t := range m.path {
		p, err := t.eval(v)
		if err != nil {
			return err
		}
		parts[i] = p
	}
	cur := cfg
	for _, p := range parts[:len(parts)-1] {
		k, ok := p.(string)
		if !ok {
			return nil // a key the config's object cannot have
		}
		next, ok := cur.Get(k)
		if !ok {
			return nil
		}
		if cur, ok = next.(*dict); !ok {
			return nil
		}
	}
	if m.mapErr != nil {
		return m.mapErr
	}
	// The map: keys rendered as strings, values evaluated (valid_key_types
	// (str,), as InterpolatedMapping.eval).
	mapped := map[string]value{}
	for i, kt := range m.mapping.keys {
		kv, err := kt.evalRaw(v, interpolation.TypeStr)
		if err != nil {
			return err
		}
		val := m.mapping.vals[i]
		if t, ok := val.(*tmpl); ok {
			if val, err = t.evalRaw(v, 0); err != nil {
				return err
			}
		}
		k, ok := kv.(string)
		if !ok {
			k = interpolation.Str(kv)
		}
		mapped[k] = val
	}
	name, ok := parts[len(parts)-1].(string)
	if !ok {
		return nil
	}
	old, ok := cur.Get(name)
	if !ok {
		return nil
	}
	switch old.(type) {
	case *dict, []value:
		// current[field_name] in mapping hashes the value.
		return fmt.Errorf("unhashable type: '%s'", map[bool]string{true: "dict", false: "list"}[isDict(old)])
	}
	if s, isStr := old.(string); isStr {
		if nv, found := mapped[s]; found {
			cur.Set(name, nv)
		}
	}
	return nil
}

func isDict(v value) bool { _, ok := v.(*dict); return ok }

// dpathValidator is DpathValidator (validators/dpath_validator.py): its
// path, each part a template evaluated over an empty config, selects the
// values to validate: all that match when a part is "*" (none is no
// failure), else the one value at the path (none: the validation is
// skipped, and logged).
type dpathValidator struct {
	path     []*tmpl
	strategy *schemaStrategy
}

func (d *dpathValidator) validateConfig(rc *readContext, cfg *dict) error {
	empty := &vars{config: interpolation.NewDict(0)}
	empty.Set(interpolation.VarConfig, empty.config)
	var path []string
	glob := false
	for _, t := range d.path {
		p, err := t.eval(empty)
		if err != nil {
			return err
		}
		s, ok := p.(string)
		if !ok {
			s = interpolation.Str(p)
		}
		path = append(path, s)
		glob = glob || s == "*"
	}
	if len(path) == 0 {
		return errors.New("Field path is empty")
	}
	if glob {
		var found []value
		globValues(cfg, path, &found)
		for _, v := range found {
			if err := d.strategy.validate(v); err != nil {
				return err
			}
		}
		return nil
	}
	v, ok := pathGet(cfg, path)
	if !ok {
		if rc.log.Enabled(context.Background(), slog.LevelInfo) {
			parts := make([]value, len(path))
			for i, p := range path {
				parts[i] = p
			}
			rc.log.Info("Validation skipped. Key not found: " + interpolation.Repr(parts))
		}
		return nil
	}
	return d.strategy.validate(v)
}

// predicateValidator is PredicateValidator, which CDK 7.28.2 cannot run
// among a spec's validations: Spec.validate_config passes it the config,
// and its validate takes no argument.
type predicateValidator struct{}

func (predicateValidator) validateConfig(*readContext, *dict) error {
	return errors.New("PredicateValidator.validate() takes 1 positional argument but 2 were given")
}

// schemaStrategy is ValidateAdheresToSchema
// (validators/validate_adheres_to_schema.py): a string value is parsed as
// JSON first; the value must then satisfy base_schema, as
// jsonschema.validate checks it (the schema's draft, 2020-12 without
// $schema).
type schemaStrategy struct {
	schema *jsonschema.Schema
	err    error // the schema does not compile: every validation fails
}

func newSchemaStrategy(n *manifest.Map) *schemaStrategy {
	s := &schemaStrategy{}
	bs, _ := n.Get("base_schema")
	raw, err := encodeJSON(fromManifest(bs))
	if err == nil {
		var doc any
		if doc, err = jsonschema.UnmarshalJSON(bytes.NewReader(raw)); err == nil {
			c := jsonschema.NewCompiler()
			if err = c.AddResource("base_schema.json", doc); err == nil {
				s.schema, err = c.Compile("base_schema.json")
			}
		}
	}
	if err != nil {
		s.err = fmt.Errorf("the base_schema is not a valid JSON schema: %v", err)
	}
	return s
}

func (s *schemaStrategy) validate(v value) error {
	if str, ok := v.(string); ok {
		parsed, err := decodeJSON([]byte(str))
		if err != nil {
			return fmt.Errorf("Invalid JSON string: %s", str)
		}
		v = parsed
	}
	if s.err != nil {
		return s.err
	}
	raw, err := encodeJSON(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	err = s.schema.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	return errors.New("JSON schema validation error: " + pythonSchemaMessage(bestMatch(ve), v))
}

// bestMatch is jsonschema's best_match as far as it matters here: of the
// errors found, the first of those nearest the instance's root.
func bestMatch(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	var best *jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			if best == nil || len(e.InstanceLocation) < len(best.InstanceLocation) {
				best = e
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return best
}

// pythonSchemaMessage words a validation error as Python's jsonschema
// 4.25 (the CDK's) words it, for the keywords config schemas use; others
// keep the validator's English.
func pythonSchemaMessage(e *jsonschema.ValidationError, root value) string {
	inst, _ := pathGet(root, e.InstanceLocation)
	r := interpolation.Repr
	nonEmpty := func(want int, short string) string {
		if want == 1 {
			return r(inst) + " should be non-empty"
		}
		return r(inst) + " " + short
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		ws := make([]string, len(k.Want))
		for i, w := range k.Want {
			ws[i] = r(w)
		}
		return r(inst) + " is not of type " + strings.Join(ws, ", ")
	case *kind.Required:
		return r(k.Missing[0]) + " is a required property"
	case *kind.Enum:
		return r(inst) + " is not one of " + r(plainValue(k.Want))
	case *kind.Const:
		return r(plainValue(k.Want)) + " was expected"
	case *kind.MinLength:
		return nonEmpty(k.Want, "is too short")
	case *kind.MinItems:
		return nonEmpty(k.Want, "is too short")
	case *kind.MaxLength:
		if k.Want == 0 {
			return r(inst) + " is expected to be empty"
		}
		return r(inst) + " is too long"
	case *kind.MaxItems:
		if k.Want == 0 {
			return r(inst) + " is expected to be empty"
		}
		return r(inst) + " is too long"
	case *kind.Minimum:
		return r(inst) + " is less than the minimum of " + r(ratValue(k.Want))
	case *kind.Maximum:
		return r(inst) + " is greater than the maximum of " + r(ratValue(k.Want))
	case *kind.Pattern:
		return r(inst) + " does not match " + r(k.Want)
	case *kind.AdditionalProperties:
		ps := make([]string, len(k.Properties))
		for i, p := range k.Properties {
			ps[i] = r(p)
		}
		verb := "were"
		if len(ps) == 1 {
			verb = "was"
		}
		return "Additional properties are not allowed (" + strings.Join(ps, ", ") + " " + verb + " unexpected)"
	}
	return e.Error()
}

// plainValue is a value the schema validator holds, as a value of package
// interpolation.
func plainValue(v any) value {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	out, err := decodeJSON(raw)
	if err != nil {
		return nil
	}
	return out
}

// ratValue is a schema's number as Python reads it from JSON: an int when
// it is whole.
func ratValue(q *big.Rat) value {
	if q.IsInt() && q.Num().IsInt64() {
		return q.Num().Int64()
	}
	f, _ := q.Float64()
	return f
}

// normalizeConfig applies the rules to the read context's config: the
// migrations (reported by a CONTROL CONNECTOR_CONFIG message when they
// changed the config, compared as Python compares the shallow copy they
// changed with the config: a field added inside an object the config
// already had changes both, and is not reported), then the
// transformations, then the validations.
func (s *Source) normalizeConfig(ctx context.Context, rc *readContext) error {
	r := s.rules
	if r == nil {
		return nil
	}
	cfg, _ := rc.config.(*dict)
	if cfg == nil {
		return nil
	}
	vf := func(c *dict) *vars {
		v := &vars{config: c}
		v.Now = s.opts.now
		v.Set(interpolation.VarConfig, c)
		return v
	}
	migrated := interpolation.NewDict(cfg.Len())
	for k, v := range cfg.All() {
		migrated.Set(k.(string), v)
	}
	for _, m := range r.migrations {
		for _, t := range m {
			if err := t.transformConfig(migrated, vf); err != nil {
				return err
			}
		}
	}
	if !interpolation.Equal(migrated, cfg) {
		if err := rc.configUpdated(ctx, migrated); err != nil {
			return err
		}
	}
	for _, t := range r.transformations {
		if err := t.transformConfig(migrated, vf); err != nil {
			return err
		}
	}
	rc.setConfig(migrated)
	rc.mask.addConfigSecrets(migrated, s.secretSpec)
	for _, v := range r.validations {
		if err := v.validateConfig(rc, migrated); err != nil {
			return &configInvalidError{msg: rc.mask.text(err.Error())}
		}
	}
	return nil
}

// prepareCall is what the CDK does with a call's config before it builds
// the streams: the config normalization rules, then the api_budget, built
// with the transformed config.
func (s *Source) prepareCall(ctx context.Context, rc *readContext) error {
	if err := s.normalizeConfig(ctx, rc); err != nil {
		return err
	}
	var err error
	rc.budget, err = s.newBudget(rc)
	return err
}

// configInvalidError is a config a validation of the rules refused; its
// message is the CDK's exception's.
type configInvalidError struct{ msg string }

func (e *configInvalidError) Error() string { return e.msg }
