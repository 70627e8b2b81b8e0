package interpolation

import (
	"encoding/binary"
	"iter"
	"math"
	"math/big"
	"strings"
)

// Value is a Python value as the CDK's templates see it. Its dynamic type is one of:
// nil (None), bool, int64 (int), *big.Int (int beyond 64 bits), float64 (float), string (str),
// []Value (list), Tuple (tuple), *Dict (dict). Evaluation also uses datetimes, dates, timedeltas
// and callables internally, but Eval never returns them: the CDK parses every rendered template
// back with ast.literal_eval, which yields only the types above.
type Value = any

// Tuple is a Python tuple; literal_eval returns one for text such as "(1, 2)". JSON encodes it as
// an array.
type Tuple []Value

// Dict is a Python dict: insertion-ordered, with Python's key equality (1, 1.0 and True are the
// same key). Records, responses, configs and slices are dicts with string keys. The zero value
// is an empty dict ready to use; a *Dict is not safe for concurrent mutation.
type Dict struct {
	keys []Value
	vals []Value
	idx  map[string]int // string key → position, built once the dict grows past indexFrom
	// others maps the other keys that have a hashKey to their position, kept
	// with idx: without it a dict of a million int keys, built a key at a
	// time, took 10^12 steps.
	others map[any]int
}

// indexFrom is the size from which a dict keeps a hash index for its string keys; below it a
// linear scan over the keys is faster than hashing.
const indexFrom = 16

// NewDict returns an empty dict with room for n entries.
func NewDict(n int) *Dict {
	return &Dict{keys: make([]Value, 0, n), vals: make([]Value, 0, n)}
}

// Len returns the number of entries.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.keys)
}

// Get returns the value stored under the string key k.
func (d *Dict) Get(k string) (Value, bool) {
	if i := d.find(k); i >= 0 {
		return d.vals[i], true
	}
	return nil, false
}

// Set stores v under the string key k, keeping the key's position if it exists and appending it
// otherwise.
func (d *Dict) Set(k string, v Value) {
	if i := d.find(k); i >= 0 {
		d.vals[i] = v
		return
	}
	d.appendEntry(k, v)
}

// Delete removes the string key k and reports whether it was there.
func (d *Dict) Delete(k string) bool {
	i := d.find(k)
	if i < 0 {
		return false
	}
	d.removeAt(i)
	return true
}

// All yields the entries in insertion order. Keys are strings for dicts decoded from JSON; dicts
// built by templates may hold other keys (ints, bools, None, tuples).
func (d *Dict) All() iter.Seq2[Value, Value] {
	return func(yield func(Value, Value) bool) {
		if d == nil {
			return
		}
		for i := range d.keys {
			if !yield(d.keys[i], d.vals[i]) {
				return
			}
		}
	}
}

// Keys returns the keys in insertion order, as a new slice.
func (d *Dict) Keys() []Value {
	if d == nil {
		return nil
	}
	return append([]Value(nil), d.keys...)
}

func (d *Dict) find(k string) int {
	if d == nil {
		return -1
	}
	if d.idx != nil {
		if i, ok := d.idx[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range d.keys {
		if s, ok := key.(string); ok && s == k {
			return i
		}
	}
	return -1
}

func (d *Dict) appendEntry(k Value, v Value) {
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	switch {
	case d.idx == nil:
		if len(d.keys) > indexFrom {
			d.buildIndex()
		}
	default:
		d.index(k, len(d.keys)-1)
	}
}

func (d *Dict) buildIndex() {
	d.idx, d.others = make(map[string]int, len(d.keys)*2), nil
	for i, key := range d.keys {
		d.index(key, i)
	}
}

// index records key's position i in the dict's index.
func (d *Dict) index(key Value, i int) {
	if s, ok := key.(string); ok {
		d.idx[s] = i
	} else if hk, ok := hashKey(key); ok {
		if d.others == nil {
			d.others = map[any]int{}
		}
		d.others[hk] = i
	}
}

// noneKey is None's hashKey.
type noneKey struct{}

// hashKey is the Go map key of a hashable value other than a string whose
// Python equality a Go key can say: ints, bools and floats, which compare
// by value across the three types (1, 1.0 and True are one dict key),
// None, and a tuple of at most maxTupleKey items in all (nested ones
// counted) each of which has a key or is a string. Values that have none
// (an int past int64, a float whole but past int64 — equal to such an
// int —, a NaN, a date, a tuple holding one of them or too many items) can
// equal no value that has one, so a lookup of a value with a key needs no
// scan, and one of a value without a key scans the keys as before.
func hashKey(v Value) (any, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case bool:
		if x {
			return int64(1), true
		}
		return int64(0), true
	case float64:
		if x != math.Trunc(x) {
			return x, !math.IsNaN(x) // a fraction, or a NaN, which equals nothing
		}
		if x >= -(1<<63) && x < 1<<63 {
			return int64(x), true
		}
		return nil, false // whole past int64 (or infinite): may equal a big int
	case nil:
		return noneKey{}, true
	case Tuple:
		b, ok := appendTupleKey(nil, x, maxTupleKey)
		return tupleKey(b), ok
	}
	return nil, false
}

// tupleKey is a tuple's hashKey: its items' keys written out, each after
// a byte that says its kind.
type tupleKey string

// maxTupleKey bounds the items, nested ones counted, of a tuple given a
// hashKey: a tuple that holds another many times over would take as long
// to write out as to compare.
const maxTupleKey = 64

// appendTupleKey writes t's key after b, and reports false when an item
// has no key or t holds more than n items in all.
func appendTupleKey(b []byte, t Tuple, n int) ([]byte, bool) {
	if len(t) > n {
		return nil, false
	}
	b = binary.AppendUvarint(append(b, '('), uint64(len(t)))
	n -= len(t)
	for _, e := range t {
		switch e := e.(type) {
		case string:
			b = append(binary.AppendUvarint(append(b, 's'), uint64(len(e))), e...)
			continue
		case Tuple:
			var ok bool
			if b, ok = appendTupleKey(b, e, n); !ok {
				return nil, false
			}
			n -= len(e)
			continue
		}
		k, ok := hashKey(e)
		if !ok {
			return nil, false
		}
		switch k := k.(type) {
		case int64:
			b = binary.BigEndian.AppendUint64(append(b, 'i'), uint64(k))
		case float64:
			b = binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(k))
		case noneKey:
			b = append(b, 'n')
		}
	}
	return b, true
}

func (d *Dict) removeAt(i int) {
	d.keys = append(d.keys[:i], d.keys[i+1:]...)
	d.vals = append(d.vals[:i], d.vals[i+1:]...)
	if d.idx != nil {
		d.buildIndex()
	}
}

// lookup finds any hashable key with Python's equality. It fails with a TypeError for
// unhashable keys (lists, dicts).
func (d *Dict) lookup(k Value) (int, error) {
	switch k := k.(type) {
	case string:
		return d.find(k), nil
	case []Value, *Dict:
		return -1, typeErrorf("unhashable type: '%s'", typeName(k))
	case Tuple:
		// Its items must be hashable too: checked, not looked up.
		for _, e := range k {
			switch e.(type) {
			case []Value, *Dict:
				return -1, typeErrorf("unhashable type: '%s'", typeName(e))
			}
		}
	}
	return d.lookupHashable(k)
}

func (d *Dict) lookupHashable(k Value) (int, error) {
	switch k.(type) {
	case []Value, *Dict:
		return -1, typeErrorf("unhashable type: '%s'", typeName(k))
	}
	if d == nil {
		return -1, nil
	}
	if s, ok := k.(string); ok {
		return d.find(s), nil
	}
	if hk, ok := hashKey(k); ok && d.idx != nil {
		if i, found := d.others[hk]; found {
			return i, nil
		}
		return -1, nil
	}
	for i, key := range d.keys {
		if _, isStr := key.(string); isStr {
			continue // k is no string: those went to find
		}
		if Equal(key, k) {
			return i, nil
		}
	}
	return -1, nil
}

// put stores v under any hashable key, as Python's d[k] = v.
func (d *Dict) put(k Value, v Value) error {
	i, err := d.lookup(k)
	if err != nil {
		return err
	}
	if i >= 0 {
		d.vals[i] = v
		return nil
	}
	d.appendEntry(k, v)
	return nil
}

// getAny returns the value under any key, as Python's d.get(k).
func (d *Dict) getAny(k Value) (Value, bool, error) {
	i, err := d.lookup(k)
	if err != nil || i < 0 {
		return nil, false, err
	}
	return d.vals[i], true, nil
}

// maxDepth bounds the recursion of Copy, Equal and the JSON encoder, which a dict containing
// itself (made by a template with setdefault) would otherwise never end.
const maxDepth = 10000

// Copy returns a deep copy of v: dicts, lists and tuples are copied, scalars shared.
func Copy(v Value) Value { return copyDepth(v, 0, nil) }

// copying is a dict being copied and its copy: a dict met again inside itself becomes its
// copy, as Python's deepcopy does.
type copying struct{ from, to *Dict }

func copyDepth(v Value, depth int, path []copying) Value {
	if depth > maxDepth {
		return nil
	}
	switch v := v.(type) {
	case *Dict:
		if v == nil {
			return v
		}
		for _, p := range path {
			if p.from == v {
				return p.to
			}
		}
		c := &Dict{keys: make([]Value, len(v.keys)), vals: make([]Value, len(v.vals))}
		path = append(path, copying{v, c})
		for i := range v.keys {
			c.keys[i] = copyDepth(v.keys[i], depth+1, path)
			c.vals[i] = copyDepth(v.vals[i], depth+1, path)
		}
		if v.idx != nil {
			c.buildIndex()
		}
		return c
	case []Value:
		c := make([]Value, len(v))
		for i, e := range v {
			c[i] = copyDepth(e, depth+1, path)
		}
		return c
	case Tuple:
		c := make(Tuple, len(v))
		for i, e := range v {
			c[i] = copyDepth(e, depth+1, path)
		}
		return c
	}
	return v
}

// Truthy reports Python's bool(v).
func Truthy(v Value) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case int64:
		return v != 0
	case *big.Int:
		return v.Sign() != 0
	case float64:
		return v != 0
	case string:
		return v != ""
	case []Value:
		return len(v) > 0
	case Tuple:
		return len(v) > 0
	case *Dict:
		return v.Len() > 0
	case *undefined:
		return false
	case *Object:
		return v.Items == nil || v.Items.Len() > 0
	case dictView:
		return v.d.Len() > 0
	case timeDelta:
		return v.us != 0
	case isoDuration:
		return v.years != 0 || v.months != 0 || v.td.us != 0
	}
	return true
}

// numeric returns v as a number: kind 1 int (in i or b), 2 float; 0 when v is no number.
// Python's bool is an int.
func numeric(v Value) (kind int, i int64, b *big.Int, f float64) {
	switch v := v.(type) {
	case bool:
		if v {
			return 1, 1, nil, 0
		}
		return 1, 0, nil, 0
	case int64:
		return 1, v, nil, 0
	case *big.Int:
		return 1, 0, v, 0
	case float64:
		return 2, 0, nil, v
	}
	return 0, 0, nil, 0
}

func toBig(i int64, b *big.Int) *big.Int {
	if b != nil {
		return b
	}
	return big.NewInt(i)
}

func bigToFloat(b *big.Int) float64 {
	f, _ := new(big.Float).SetInt(b).Float64()
	return f
}

// normInt returns b as an int64 when it fits.
func normInt(b *big.Int) Value {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

// Equal reports Python's a == b (1 == 1.0 == True, lists and dicts by content, dict order
// ignored). It has no bound; an evaluation compares through its frame (frame.compare), whose
// comparisons visit at most maxCompared items in all.
func Equal(a, b Value) bool { return (*budget)(nil).equal(a, b, 0) }

func (bg *budget) equal(a, b Value, depth int) bool {
	if depth > maxDepth {
		return false
	}
	ka, ia, ba, fa := numeric(a)
	kb, ib, bb, fb := numeric(b)
	if ka != 0 && kb != 0 {
		switch {
		case ka == 1 && kb == 1:
			if ba == nil && bb == nil {
				return ia == ib
			}
			return toBig(ia, ba).Cmp(toBig(ib, bb)) == 0
		case ka == 2 && kb == 2:
			return fa == fb
		case ka == 2:
			return floatIntCmp(fa, ib, bb) == 0 && !math.IsNaN(fa)
		default:
			return floatIntCmp(fb, ia, ba) == 0 && !math.IsNaN(fb)
		}
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		s, ok := b.(string)
		return ok && s == a
	case []Value:
		l, ok := b.([]Value)
		return ok && bg.seqEqual(a, l, depth)
	case Tuple:
		l, ok := b.(Tuple)
		return ok && bg.seqEqual(a, l, depth)
	case *Dict:
		o, ok := b.(*Dict)
		if ok && a == o {
			return true
		}
		if !ok || a.Len() != o.Len() || !bg.spend(a.Len()) {
			return false
		}
		for i, k := range a.keys {
			v, found, err := o.getAny(k)
			if err != nil || !found || !bg.equal(a.vals[i], v, depth+1) {
				return false
			}
		}
		return true
	case *undefined:
		_, ok := b.(*undefined)
		return ok
	case dateTime:
		o, ok := b.(dateTime)
		if !ok || a.aware != o.aware {
			return false
		}
		return a.t.Equal(o.t)
	case date:
		o, ok := b.(date)
		return ok && a == o
	case timeDelta:
		o, ok := b.(timeDelta)
		return ok && a == o
	case isoDuration:
		o, ok := b.(isoDuration)
		return ok && a == o
	}
	return a == b
}

func (bg *budget) seqEqual(a, b []Value, depth int) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) > 0 && &a[0] == &b[0] {
		// The same items: Python compares items by identity first
		// (PyObject_RichCompareBool), so [x]*n == [x]*n compares x once, where
		// comparing a list that holds another a million times over by content
		// took 10^12 steps.
		return true
	}
	if !bg.spend(len(a)) {
		return false
	}
	for i := range a {
		if !bg.equal(a[i], b[i], depth+1) {
			return false
		}
	}
	return true
}

// floatIntCmp compares a float with an int exactly, as Python does.
func floatIntCmp(f float64, i int64, b *big.Int) int {
	if math.IsNaN(f) {
		return 2
	}
	if math.IsInf(f, 1) {
		return 1
	}
	if math.IsInf(f, -1) {
		return -1
	}
	bf := new(big.Float).SetFloat64(f)
	var bi big.Float
	if b != nil {
		bi.SetInt(b)
	} else {
		bi.SetInt64(i)
	}
	return bf.Cmp(&bi)
}

// typeName is Python's type(v).__name__.
func typeName(v Value) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []Value:
		return "list"
	case Tuple:
		return "tuple"
	case *Dict:
		return "dict"
	case *undefined:
		return "Undefined"
	case dateTime:
		return "datetime"
	case date:
		return "date"
	case timeDelta:
		return "timedelta"
	case isoDuration:
		return "Duration"
	case *callable:
		return "function"
	case *namespace:
		return "Namespace"
	case *Object:
		return v.(*Object).Class
	case *generator:
		return "generator"
	case templateRef:
		return "TemplateReference"
	case dictView:
		return "dict_" + v.(dictView).kind
	case pySlice:
		return "slice"
	}
	return "object"
}

// qualifiedTypeName is the name Python prints in comparison errors ('datetime.datetime').
func qualifiedTypeName(v Value) string {
	switch v.(type) {
	case dateTime:
		return "datetime.datetime"
	case date:
		return "datetime.date"
	case timeDelta:
		return "datetime.timedelta"
	case isoDuration:
		return "isodate.duration.Duration"
	}
	return typeName(v)
}

// Python's string predicates used by methods and tests.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f, 0x85:
		return true
	}
	return r > 0x7f && strings.ContainsRune("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r)
}
