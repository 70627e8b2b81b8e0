package connector

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/x/goairbyte/secrets"
)

// A config given as a Go value may hold secrets.SecretString fields. Their
// MarshalJSON prints ****, which is right everywhere but in the one place
// the connector reads its config. So the config is stored with each
// SecretString replaced by a secret reference to a vault of the Connector's
// own ("secret_reference::goairbyte-secretstring-N"): Config returns the
// reference, and the value is revealed only when prepare resolves the
// config for a run, through the vault, first in the chain of managers.

// vaultPrefix begins the names of a Connector's own SecretString
// references.
const vaultPrefix = "goairbyte-secretstring-"

// vault holds the SecretStrings of one Connector's config; it is a
// secrets.SecretManager.
type vault struct {
	mu     sync.Mutex
	values map[string]secrets.SecretString
	// names finds a value's reference again: a program that sets the
	// same config on every request would otherwise add an entry each
	// time, and the vault cannot forget any (a config given back by
	// Config holds references to earlier ones).
	names map[string]string
}

// Name names the vault in messages.
func (v *vault) Name() string { return "the config's SecretString values" }

// Get returns a SecretString of the config by its reference name. A name
// of a vault's that this one does not hold is another Connector's, copied
// from its Config: no manager has it, and telling the user to set an
// environment variable of that name would mislead, so it is an error that
// says what the reference is.
func (v *vault) Get(_ context.Context, name string) (secrets.SecretString, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.values[name]
	if !ok && strings.HasPrefix(name, vaultPrefix) {
		return s, false, fmt.Errorf("%w: %s%s stands for a secrets.SecretString of another connector's config "+
			"(its Config gives this reference, never the value) and resolves only there; put the SecretString itself "+
			"in this config", secrets.ErrSecretNotFound, secrets.ReferencePrefix, name)
	}
	return s, ok, nil
}

// holdsAny reports whether the vault holds a SecretString.
func (v *vault) holdsAny() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.values) > 0
}

// put keeps s and returns the reference that stands for it.
func (v *vault) put(s secrets.SecretString) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.values == nil {
		v.values, v.names = map[string]secrets.SecretString{}, map[string]string{}
	}
	name, ok := v.names[s.Reveal()]
	if !ok {
		name = fmt.Sprintf("%s%d", vaultPrefix, len(v.values)+1)
		v.values[name], v.names[s.Reveal()] = s, name
	}
	return secrets.ReferencePrefix + name
}

// removeVaultReferences deletes from the JSON tree v the references into a
// vault, as configFingerprint deletes the fields the spec marks secret (an
// array item becomes null): a SecretString is a secret by the user's own
// declaration, and its reference's number follows map order and grows with
// each SetConfig, so hashing it would make the same config give another
// fingerprint.
func removeVaultReferences(v any) {
	isRef := func(e any) bool {
		s, ok := e.(string)
		return ok && strings.HasPrefix(s, secrets.ReferencePrefix+vaultPrefix)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if isRef(e) {
				delete(x, k)
			} else {
				removeVaultReferences(e)
			}
		}
	case []any:
		for i, e := range x {
			if isRef(e) {
				x[i] = nil
			} else {
				removeVaultReferences(e)
			}
		}
	}
}

var (
	secretStringType = reflect.TypeFor[secrets.SecretString]()
	jsonMarshalerT   = reflect.TypeFor[json.Marshaler]()
	textMarshalerT   = reflect.TypeFor[encoding.TextMarshaler]()
)

// containsSecretString reports whether values of t can hold a SecretString.
func containsSecretString(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == secretStringType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return containsSecretString(t.Elem(), seen)
	case reflect.Interface:
		return true // decided by the dynamic value
	case reflect.Struct:
		for i := range t.NumField() {
			if containsSecretString(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// referenceSecretStrings returns config as a tree of JSON values (maps,
// slices, strings, numbers...) in which every SecretString is a reference
// into v, following encoding/json's rules for struct fields (tags, "-",
// omitempty, embedded structs). ok is false when config holds no
// SecretString, so that encoding/json can marshal it as it is.
func referenceSecretStrings(config any, v *vault) (tree any, ok bool, err error) {
	if config == nil || !containsSecretString(reflect.TypeOf(config), map[reflect.Type]bool{}) {
		return nil, false, nil
	}
	w := &secretWalker{v: v}
	tree, err = w.walk(reflect.ValueOf(config))
	return tree, w.found, err
}

type secretWalker struct {
	v     *vault
	found bool
	depth int
}

func (w *secretWalker) walk(rv reflect.Value) (any, error) {
	if !rv.IsValid() {
		return nil, nil
	}
	if w.depth++; w.depth > 1000 {
		return nil, fmt.Errorf("the config is nested too deep (a cycle?)")
	}
	defer func() { w.depth-- }()
	t := rv.Type()
	if t == secretStringType {
		w.found = true
		return w.v.put(rv.Interface().(secrets.SecretString)), nil
	}
	// A value with its own JSON form that cannot hold a SecretString is
	// taken as encoding/json makes it.
	if (t.Implements(jsonMarshalerT) || t.Implements(textMarshalerT)) && !containsSecretString(t, map[reflect.Type]bool{}) {
		return viaJSON(rv.Interface())
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return w.walk(rv.Elem())
	case reflect.Map:
		if rv.IsNil() {
			return nil, nil
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			k, err := mapKey(it.Key())
			if err != nil {
				return nil, err
			}
			if out[k], err = w.walk(it.Value()); err != nil {
				return nil, err
			}
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return viaJSON(rv.Interface()) // base64, as encoding/json writes bytes
		}
		out := make([]any, rv.Len())
		for i := range out {
			var err error
			if out[i], err = w.walk(rv.Index(i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case reflect.Struct:
		out := map[string]any{}
		return out, w.fields(rv, out)
	}
	return viaJSON(rv.Interface())
}

// fields adds the JSON fields of struct rv to out; fields of an embedded
// struct come after, so that the outer ones win as in encoding/json.
func (w *secretWalker) fields(rv reflect.Value, out map[string]any) error {
	t := rv.Type()
	var embedded []reflect.Value
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := rv.Field(i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, fv)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && fv.IsZero() && f.Type != secretStringType {
			continue
		}
		if strings.Contains(","+opts+",", ",omitempty,") && f.Type == secretStringType && fv.Interface().(secrets.SecretString).IsZero() {
			continue
		}
		v, err := w.walk(fv)
		if err != nil {
			return err
		}
		out[name] = v
	}
	for _, e := range embedded {
		inner := map[string]any{}
		if err := w.fields(e, inner); err != nil {
			return err
		}
		for k, v := range inner {
			if _, taken := out[k]; !taken {
				out[k] = v
			}
		}
	}
	return nil
}

// mapKey is a map key as encoding/json writes it.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	m1 := reflect.MakeMap(reflect.MapOf(k.Type(), reflect.TypeFor[bool]()))
	m1.SetMapIndex(k, reflect.ValueOf(true))
	b, err := json.Marshal(m1.Interface())
	if err != nil {
		return "", err
	}
	var m map[string]bool
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	for s := range m {
		return s, nil
	}
	return "", nil
}

// viaJSON is x as encoding/json writes it, decoded into a JSON tree.
func viaJSON(x any) (any, error) {
	b, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	var v any
	return v, decodeJSON(b, &v)
}
