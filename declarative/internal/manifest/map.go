package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
)

// Map is a mapping of a manifest with the order of its keys kept, as the
// Python CDK keeps it (a dict). Values are nil, bool, int64, float64, string,
// []any or *Map.
type Map struct {
	keys []string
	vals map[string]any
}

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{vals: map[string]any{}} }

// Len is the number of keys.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Keys are the keys in their order. The slice must not be modified.
func (m *Map) Keys() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// Get returns the value of key k and whether it is present.
func (m *Map) Get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if h := readHook.Load(); h != nil {
		(*h)(m, k)
	}
	v, ok := m.vals[k]
	return v, ok
}

// Has reports whether key k is present.
func (m *Map) Has(k string) bool {
	_, ok := m.Get(k)
	return ok
}

// Set sets key k, appending it when it is new (a Python dict assignment).
func (m *Map) Set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// Delete removes key k, keeping the order of the others.
func (m *Map) Delete(k string) {
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	for i, key := range m.keys {
		if key == k {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			break
		}
	}
}

// String returns the value of key k when it is a string, else "".
func (m *Map) String(k string) string {
	v, _ := m.Get(k)
	s, _ := v.(string)
	return s
}

// Map returns the value of key k when it is a mapping, else nil.
func (m *Map) Map(k string) *Map {
	v, _ := m.Get(k)
	mm, _ := v.(*Map)
	return mm
}

// List returns the value of key k when it is a list, else nil.
func (m *Map) List(k string) []any {
	v, _ := m.Get(k)
	l, _ := v.([]any)
	return l
}

// MarshalJSON encodes the mapping with its keys in order.
func (m *Map) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := appendJSON(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// JSON encodes any manifest value as JSON, keeping key order; Python's json
// module writes the same document (up to white space and float spelling).
func JSON(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := appendJSON(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func appendJSON(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		enc, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(enc)
	case string:
		enc, _ := json.Marshal(v)
		b.Write(enc)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *Map:
		if v == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			enc, _ := json.Marshal(k)
			b.Write(enc)
			b.WriteByte(':')
			if err := appendJSON(b, v.vals[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("manifest: cannot encode %T as JSON", v)
	}
	return nil
}

// Clone returns a deep copy of a manifest value.
func Clone(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Clone(e)
		}
		return out
	case *Map:
		if v == nil {
			return v
		}
		out := &Map{keys: append([]string(nil), v.keys...), vals: make(map[string]any, len(v.vals))}
		for k, e := range v.vals {
			out.vals[k] = Clone(e)
		}
		return out
	}
	return v
}

// plain converts a manifest value to the generic form of encoding/json
// (map[string]any, []any, json.Number), which schema validators take.
func plain(v any) any {
	switch v := v.(type) {
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case float64:
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	case *Map:
		out := make(map[string]any, v.Len())
		for _, k := range v.keys {
			out[k] = plain(v.vals[k])
		}
		return out
	}
	return v
}

// readHook, when set, is told of every key looked up with Get (and so
// with String, Map, List and Has). Nil except in the audit test of package
// declarative, which finds the properties of components that the engine
// never consults; an atomic load is all it costs otherwise.
var readHook atomic.Pointer[func(*Map, string)]

// TraceReads is a test hook: until stop is called, f is told of every key
// looked up in any Map, from any goroutine (f must be safe for concurrent
// use). It is not for programs: the engine's audit test uses it to list
// the manifest properties a build never reads.
func TraceReads(f func(m *Map, key string)) (stop func()) {
	readHook.Store(&f)
	return func() { readHook.Store(nil) }
}
