package interpolation

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"math"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"crypto/sha3"
)

// filterFunc applies a filter to v.
type filterFunc func(f *frame, v Value, args []Value, kws []kwValue) (Value, error)

// testFunc is a Jinja test (x is name(args)).
type testFunc func(f *frame, v Value, args []Value, kws []kwValue) (bool, error)

// generator is what Jinja's map, select and friends return: an iterator, always truthy, with no
// length.
type generator struct{ items []Value }

// unsupportedFilters are Jinja filters this evaluator does not have; no manifest uses them.
var unsupportedFilters = map[string]bool{
	"batch": true, "slice": true, "groupby": true, "indent": true, "pprint": true, "random": true,
	"striptags": true, "urlize": true, "wordwrap": true, "xmlattr": true, "filesizeformat": true,
	"forceescape": true, "truncate": true,
}

var filters map[string]filterFunc
var tests map[string]testFunc

// soft is Jinja's soft_str: str() of a value, with undefined printing as "".
func soft(v Value) string { return Str(v) }

func filterLength(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	n, err := pyLen(v)
	return n, err
}

// pyLen is Python's len(v).
func pyLen(v Value) (Value, error) {
	switch x := v.(type) {
	case string:
		return int64(len([]rune(x))), nil
	case []Value:
		return int64(len(x)), nil
	case Tuple:
		return int64(len(x)), nil
	case *Dict:
		return int64(x.Len()), nil
	case dictView:
		return int64(x.d.Len()), nil
	case *undefined:
		return int64(0), nil
	}
	return nil, typeErrorf("object of type '%s' has no len()", typeName(v))
}

// iterItems is iterate; filters read better with it.
func iterItems(v Value) ([]Value, error) { return iterate(v) }

func kwArg(kws []kwValue, name string) (Value, bool) {
	for _, k := range kws {
		if k.name == name {
			return k.v, true
		}
	}
	return nil, false
}

// param returns a filter's parameter by position (after the value) or keyword.
func param(args []Value, kws []kwValue, i int, name string, def Value) Value {
	if i < len(args) {
		return args[i]
	}
	if v, ok := kwArg(kws, name); ok {
		return v
	}
	return def
}

var regexCache sync.Map

// pyRegexp compiles a Python regular expression with Go's engine; the constructs the two share
// (classes, groups, quantifiers, anchors) behave alike once \d, \s, \w and \Z are given
// their Python (Unicode) meaning. Lookarounds and backreferences fail to compile.
func pyRegexp(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(translateRegexp(pattern))
	if err != nil {
		return nil, newError("error", "%s", err.Error())
	}
	regexCache.Store(pattern, re)
	return re, nil
}

// hashes are the hashlib constructors the hash filter can name.
var hashes = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
	"sha384": sha512.New384, "sha512": sha512.New,
	"sha3_224": func() hash.Hash { return sha3.New224() }, "sha3_256": func() hash.Hash { return sha3.New256() },
	"sha3_384": func() hash.Hash { return sha3.New384() }, "sha3_512": func() hash.Hash { return sha3.New512() },
}

// pyClasses are Python's meanings of the class escapes, as Go class members.
var pyClasses = map[byte]string{
	'd': `\p{Nd}`,
	's': `\t\n\v\f\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`,
	'w': `\p{L}\p{N}_`,
}

// translateRegexp rewrites the escapes whose meaning differs between Python and Go.
func translateRegexp(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			e := p[i+1]
			i++
			lower := e | 0x20
			members, known := pyClasses[lower]
			switch {
			case e == 'Z':
				b.WriteString(`\z`)
			case known && inClass && e == lower:
				b.WriteString(members)
			case known && !inClass && e == lower:
				b.WriteString("[" + members + "]")
			case known && !inClass:
				b.WriteString("[^" + members + "]")
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hashFilter(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	a, _, err := bindArgs("hash", []string{"hash_type", "salt"}, 0, args, kws)
	if err != nil {
		return nil, err
	}
	if printsTooLong(v) { // its text would be cut (reprInto), and so the hash wrong
		return nil, errTextTooLong
	}
	hashType := "md5"
	if a[0] != nil {
		s, ok := a[0].(string)
		if !ok {
			return nil, typeErrorf("attribute name must be string, not '%s'", typeName(a[0]))
		}
		hashType = s
	}
	newHash, ok := hashes[hashType]
	if !ok {
		return nil, newError("AttributeError", "No hashing function named %s", hashType)
	}
	h := newHash()
	h.Write([]byte(Str(v)))
	if Truthy(a[1]) {
		h.Write([]byte(Str(a[1])))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// missingMethod is Python's error for v.name(), a method v lacks: an Undefined raises its own
// UndefinedError from __getattr__ (a filter calling value.items() or value.encode() on one),
// anything else an AttributeError.
func missingMethod(v Value, name string) error {
	if u, ok := v.(*undefined); ok {
		return u.fail()
	}
	return newError("AttributeError", "'%s' object has no attribute '%s'", typeName(v), name)
}

func base64Filter(decode bool) filterFunc {
	return func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
		if _, _, err := bindArgs("base64encode", nil, 0, args, kws); err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			return nil, missingMethod(v, "encode")
		}
		if !decode {
			return base64.StdEncoding.EncodeToString([]byte(s)), nil
		}
		var clean []byte
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				clean = append(clean, c)
			}
		}
		// binascii stops at the first complete padding; data after it is ignored.
		if i := strings.Index(string(clean), "="); i >= 0 {
			end := i
			for end < len(clean) && clean[end] == '=' {
				end++
			}
			clean = clean[:end]
		}
		raw := strings.TrimRight(string(clean), "=")
		if len(raw)%4 == 1 {
			return nil, newError("Error", "Invalid base64-encoded string: number of data characters (%d) cannot be 1 more than a multiple of 4", len(raw))
		}
		if padded := len(clean); padded%4 != 0 {
			return nil, newError("Error", "Incorrect padding")
		}
		out, err := base64.RawStdEncoding.DecodeString(raw)
		if err != nil {
			return nil, newError("Error", "Incorrect padding")
		}
		if !utf8.Valid(out) {
			return nil, newError("UnicodeDecodeError", "'utf-8' codec can't decode bytes")
		}
		return string(out), nil
	}
}

func regexSearch(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	a, _, err := bindArgs("regex_search", []string{"regex"}, 1, args, kws)
	if err != nil {
		return nil, err
	}
	pattern, ok := a[0].(string)
	if !ok {
		return nil, typeErrorf("first argument must be string or compiled pattern")
	}
	s, ok := v.(string)
	if !ok {
		return nil, typeErrorf("expected string or bytes-like object, got '%s'", typeName(v))
	}
	re, err := pyRegexp(pattern)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil || len(m) < 4 {
		return "", nil
	}
	if m[2] < 0 {
		return nil, nil
	}
	return s[m[2]:m[3]], nil
}

// cdkString is the CDK's string filter: a str as it is, anything else as JSON in triple quotes
// (so that literal_eval turns it back into a str).
func cdkString(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := appendPyJSON(nil, v, false, false)
	if err != nil {
		return nil, err
	}
	return `"""` + string(b) + `"""`, nil
}

func tojsonFilter(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	b, err := appendPyJSON(nil, v, true, false)
	if err != nil {
		return nil, err
	}
	s := string(b)
	s = strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`).Replace(s)
	return s, nil
}

// urlQuote is Jinja's url_quote: percent-encoding of the UTF-8 bytes, keeping letters,
// digits and "_.-~" (and "/" outside query strings).
func urlQuote(v Value, forQS bool) string {
	s := Str(v)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~", c) >= 0 || c == '/' && !forQS {
			b.WriteByte(c)
			continue
		}
		if c == ' ' && forQS {
			b.WriteByte('+')
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

func urlencodeFilter(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	var pairs [][2]Value
	switch x := v.(type) {
	case *Dict:
		for k, val := range x.All() {
			pairs = append(pairs, [2]Value{k, val})
		}
	case []Value, Tuple:
		for _, it := range seqOf(x) {
			// for k, v in items: an item that is no iterable is a TypeError, one of
			// another length a ValueError.
			p, err := iterItems(it)
			switch {
			case err != nil:
				return nil, typeErrorf("cannot unpack non-iterable %s object", typeName(it))
			case len(p) > 2:
				return nil, valueErrorf("too many values to unpack (expected 2)")
			case len(p) < 2:
				return nil, valueErrorf("not enough values to unpack (expected 2, got %d)", len(p))
			}
			pairs = append(pairs, [2]Value{p[0], p[1]})
		}
	default:
		return urlQuote(v, false), nil
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = urlQuote(p[0], true) + "=" + urlQuote(p[1], true)
	}
	return strings.Join(parts, "&"), nil
}

// pyFloat is Python's float(v).
func pyFloat(v Value) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case bool:
		return float64(boolToInt(x)), nil
	case int64:
		return float64(x), nil
	case *big.Int:
		return bigToFloat(x), nil
	case string:
		s := strings.TrimFunc(x, isSpace)
		if s != "" && !strings.HasPrefix(s, "_") && !strings.HasSuffix(s, "_") && !strings.Contains(s, "__") {
			t := strings.ReplaceAll(s, "_", "")
			switch strings.ToLower(strings.TrimLeft(t, "+-")) {
			case "inf", "infinity":
				if strings.HasPrefix(t, "-") {
					return math.Inf(-1), nil
				}
				return math.Inf(1), nil
			case "nan":
				return math.NaN(), nil
			}
			if !strings.ContainsAny(strings.ToLower(t), "xpn") {
				if f, err := strconv.ParseFloat(t, 64); err == nil || isRangeErr(err) {
					return f, nil
				}
			}
		}
		return 0, valueErrorf("could not convert string to float: %s", Repr(x))
	case *undefined:
		return 0, x.fail()
	}
	return 0, typeErrorf("float() argument must be a string or a real number, not '%s'", typeName(v))
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// pyIntBase is Python's int(s, base) for a string.
func pyIntBase(s string, base int) (Value, bool) {
	t := strings.TrimFunc(s, isSpace)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg, t = t[0] == '-', t[1:]
	}
	prefix := map[int]string{16: "0x", 8: "0o", 2: "0b"}[base]
	if prefix != "" && len(t) > 1 && strings.EqualFold(t[:2], prefix) {
		t = strings.TrimPrefix(t[2:], "_")
	}
	if base == 0 {
		switch {
		case len(t) > 1 && (t[:2] == "0x" || t[:2] == "0X"):
			base, t = 16, t[2:]
		case len(t) > 1 && (t[:2] == "0o" || t[:2] == "0O"):
			base, t = 8, t[2:]
		case len(t) > 1 && (t[:2] == "0b" || t[:2] == "0B"):
			base, t = 2, t[2:]
		default:
			base = 10
			if strings.TrimLeft(t, "0_") != "" && strings.HasPrefix(t, "0") {
				return nil, false
			}
		}
		t = strings.TrimPrefix(t, "_")
	}
	if t == "" || strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
		return nil, false
	}
	var digits strings.Builder
	for _, r := range strings.ReplaceAll(t, "_", "") {
		d := digitValue(r)
		if d < 0 {
			d2 := strings.IndexRune("abcdefghijklmnopqrstuvwxyz", unicode.ToLower(r))
			if d2 < 0 {
				return nil, false
			}
			d = d2 + 10
		}
		if d >= base {
			return nil, false
		}
		digits.WriteByte("0123456789abcdefghijklmnopqrstuvwxyz"[d])
	}
	n, ok := new(big.Int).SetString(digits.String(), base)
	if !ok {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	return normInt(n), true
}

func intFilter(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	def := param(args, kws, 0, "default", int64(0))
	base := param(args, kws, 1, "base", int64(10))
	if u, ok := v.(*undefined); ok {
		return nil, u.fail()
	}
	if s, ok := v.(string); ok {
		b, _ := base.(int64)
		if n, ok := pyIntBase(s, int(b)); ok {
			return n, nil
		}
	} else if n, err := Int(v); err == nil { // a bool, an int or a finite float
		return n, nil
	}
	// int(float(value)), in the try that catches TypeError and ValueError only: an infinity
	// is int()'s OverflowError, which goes through.
	f, err := pyFloat(v)
	if err != nil || math.IsNaN(f) {
		if isType(err, "UndefinedError") {
			return nil, err
		}
		return def, nil
	}
	if math.IsInf(f, 0) {
		return nil, newError("OverflowError", "cannot convert float infinity to integer")
	}
	return pyIntFromFloat(f), nil
}

func floatFilter(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	def := param(args, kws, 0, "default", 0.0)
	f, err := pyFloat(v)
	if err != nil {
		if isType(err, "UndefinedError") {
			return nil, err
		}
		return def, nil
	}
	return f, nil
}

func firstLast(last bool) filterFunc {
	return func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
		items, err := iterItems(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			if last {
				return &undefined{hint: "No last item, sequence was empty."}, nil
			}
			return &undefined{hint: "No first item, sequence was empty."}, nil
		}
		if last {
			return items[len(items)-1], nil
		}
		return items[0], nil
	}
}

// attrGetter is Jinja's make_attrgetter: dotted attribute paths, integer parts as indexes.
func attrGetter(attr Value) func(Value) (Value, error) {
	s, ok := attr.(string)
	if !ok {
		return func(v Value) (Value, error) { return getitem(v, attr) }
	}
	parts := strings.Split(s, ".")
	return func(v Value) (Value, error) {
		var err error
		for _, p := range parts {
			if n, convErr := strconv.Atoi(p); convErr == nil {
				v, err = getitem(v, int64(n))
			} else {
				v, err = getitem(v, p)
			}
			if err != nil {
				return nil, err
			}
		}
		return v, nil
	}
}

func mapFilter(f *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	if !Truthy(v) {
		return &generator{}, nil // Jinja maps nothing over a falsy value, None included
	}
	items, err := iterItems(v)
	if err != nil {
		return nil, err
	}
	out := make([]Value, 0, len(items))
	if attr, ok := kwArg(kws, "attribute"); ok && len(args) == 0 {
		get := attrGetter(attr)
		def, hasDef := kwArg(kws, "default")
		for _, it := range items {
			x, err := get(it)
			if err != nil {
				return nil, err
			}
			if _, undef := x.(*undefined); undef && hasDef {
				x = def
			}
			out = append(out, x)
		}
		return &generator{out}, nil
	}
	if len(args) == 0 {
		return nil, newError("FilterArgumentError", "map requires a filter argument")
	}
	name, _ := args[0].(string)
	fn, ok := filters[name]
	if !ok {
		return nil, newError("TemplateRuntimeError", "No filter named %s found.", Repr(name))
	}
	for _, it := range items {
		x, err := fn(f, it, args[1:], kws)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return &generator{out}, nil
}

func selectFilter(byAttr, keep bool) filterFunc {
	return func(f *frame, v Value, args []Value, kws []kwValue) (Value, error) {
		if !Truthy(v) {
			return &generator{}, nil // Jinja selects nothing from a falsy value, None included
		}
		items, err := iterItems(v)
		if err != nil {
			return nil, err
		}
		get := func(x Value) (Value, error) { return x, nil }
		if byAttr {
			if len(args) == 0 {
				return nil, newError("FilterArgumentError", "Missing parameter for attribute name")
			}
			get = attrGetter(args[0])
			args = args[1:]
		}
		test := func(x Value) (bool, error) { return Truthy(x), nil }
		if len(args) > 0 {
			name, _ := args[0].(string)
			fn, ok := tests[name]
			if !ok {
				return nil, newError("TemplateRuntimeError", "No test named %s found.", Repr(name))
			}
			rest := args[1:]
			test = func(x Value) (bool, error) { return fn(f, x, rest, kws) }
		}
		var out []Value
		for _, it := range items {
			x, err := get(it)
			if err != nil {
				return nil, err
			}
			ok, err := test(x)
			if err != nil {
				return nil, err
			}
			if ok == keep {
				out = append(out, it)
			}
		}
		return &generator{out}, nil
	}
}

// sortKey lowercases strings unless the comparison is case-sensitive, as Jinja's
// ignore_case does.
func sortKey(v Value, caseSensitive bool) Value {
	if s, ok := v.(string); ok && !caseSensitive {
		return strings.ToLower(s)
	}
	return v
}

func sortFilter(f *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	reverse := Truthy(param(args, kws, 0, "reverse", false))
	cs := Truthy(param(args, kws, 1, "case_sensitive", false))
	attr := param(args, kws, 2, "attribute", nil)
	items, err := iterItems(v)
	if err != nil {
		return nil, err
	}
	out := append([]Value(nil), items...)
	get := func(x Value) (Value, error) { return sortKey(x, cs), nil }
	if attr != nil {
		g := attrGetter(attr)
		get = func(x Value) (Value, error) {
			y, err := g(x)
			return sortKey(y, cs), err
		}
	}
	var sortErr error
	sort.SliceStable(out, func(i, j int) bool {
		a, err1 := get(out[i])
		b, err2 := get(out[j])
		if err1 != nil || err2 != nil {
			sortErr = firstErr(err1, err2)
			return false
		}
		if reverse {
			a, b = b, a
		}
		less, err := f.compare("<", a, b)
		if err != nil {
			sortErr = err
		}
		return less
	})
	return out, sortErr
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func minMaxFilter(sign int) filterFunc {
	return func(f *frame, v Value, args []Value, kws []kwValue) (Value, error) {
		cs := Truthy(param(args, kws, 0, "case_sensitive", false))
		attr := param(args, kws, 1, "attribute", nil)
		items, err := iterItems(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return &undefined{hint: "No aggregated item, sequence was empty."}, nil
		}
		get := func(x Value) (Value, error) { return sortKey(x, cs), nil }
		if attr != nil {
			g := attrGetter(attr)
			get = func(x Value) (Value, error) {
				y, err := g(x)
				return sortKey(y, cs), err
			}
		}
		best := items[0]
		bk, err := get(best)
		if err != nil {
			return nil, err
		}
		op := ">"
		if sign < 0 {
			op = "<"
		}
		for _, it := range items[1:] {
			k, err := get(it)
			if err != nil {
				return nil, err
			}
			better, err := f.compare(op, k, bk)
			if err != nil {
				return nil, err
			}
			if better {
				best, bk = it, k
			}
		}
		return best, nil
	}
}

func joinFilter(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	sep := soft(param(args, kws, 0, "d", ""))
	attr := param(args, kws, 1, "attribute", nil)
	items, err := iterItems(v)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(items))
	size := 0
	for i, it := range items {
		if attr != nil {
			if it, err = attrGetter(attr)(it); err != nil {
				return nil, err
			}
		}
		parts[i] = soft(it)
		if size += len(parts[i]) + len(sep); size > maxText {
			return nil, errTextTooLong
		}
	}
	return strings.Join(parts, sep), nil
}

func strFilter(fn func(string) string) filterFunc {
	return func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
		return fn(soft(v)), nil
	}
}

var wordBeginning = regexp.MustCompile(`[-\s({\[<]+`)

// jinjaTitle is Jinja's title filter: each word's first character upper-cased, the rest
// lower-cased, words split at whitespace, dashes and opening brackets.
func jinjaTitle(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range wordBeginning.FindAllStringIndex(s, -1) {
		b.WriteString(titleWord(s[last:m[0]]))
		b.WriteString(titleWord(s[m[0]:m[1]]))
		last = m[1]
	}
	b.WriteString(titleWord(s[last:]))
	return b.String()
}

func titleWord(w string) string {
	if w == "" {
		return w
	}
	r := []rune(w)
	return strings.ToUpper(string(r[0])) + strings.ToLower(string(r[1:]))
}

func roundFilter(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	prec, _ := param(args, kws, 0, "precision", int64(0)).(int64)
	method, _ := param(args, kws, 1, "method", "common").(string)
	if method != "common" && method != "ceil" && method != "floor" {
		return nil, newError("FilterArgumentError", "method must be common, ceil or floor")
	}
	k, i, b, fv := numeric(v)
	if u, ok := v.(*undefined); ok && method != "common" {
		return nil, u.fail() // ceil and floor multiply it first
	}
	if k == 0 {
		return nil, typeErrorf("type %s doesn't define __round__ method", typeName(v))
	}
	if method == "common" {
		if k == 1 {
			if b != nil {
				return b, nil
			}
			return i, nil
		}
		// Python rounds the exact binary value, which strconv's formatting does too.
		r, _ := strconv.ParseFloat(strconv.FormatFloat(fv, 'f', int(max(prec, 0)), 64), 64)
		if prec < 0 {
			p := math.Pow(10, float64(-prec))
			r = math.RoundToEven(fv/p) * p
		}
		return r, nil
	}
	if k == 1 {
		fv = intToFloat(i, b)
	}
	p := math.Pow(10, float64(prec))
	if method == "ceil" {
		return math.Ceil(fv*p) / p, nil
	}
	return math.Floor(fv*p) / p, nil
}

func init() {
	filters = map[string]filterFunc{
		"hash":         hashFilter,
		"base64encode": base64Filter(false),
		"base64decode": base64Filter(true),
		"string":       cdkString,
		"regex_search": regexSearch,
		"length":       filterLength,
		"count":        filterLength,
		"first":        firstLast(false),
		"last":         firstLast(true),
		"int":          intFilter,
		"float":        floatFilter,
		"join":         joinFilter,
		"map":          mapFilter,
		"select":       selectFilter(false, true),
		"reject":       selectFilter(false, false),
		"selectattr":   selectFilter(true, true),
		"rejectattr":   selectFilter(true, false),
		"sort":         sortFilter,
		"max":          minMaxFilter(1),
		"min":          minMaxFilter(-1),
		"tojson":       tojsonFilter,
		"urlencode":    urlencodeFilter,
		"round":        roundFilter,
		"lower":        strFilter(strings.ToLower),
		"upper":        strFilter(strings.ToUpper),
		"title":        strFilter(jinjaTitle),
		"capitalize": strFilter(func(s string) string {
			r := []rune(strings.ToLower(s))
			if len(r) > 0 {
				r[0] = unicode.ToTitle(r[0])
			}
			return string(r)
		}),
		"escape": strFilter(htmlEscape),
		"e":      strFilter(htmlEscape),
		"safe":   strFilter(func(s string) string { return s }),
		"wordcount": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			return int64(len(wordRe.FindAllString(soft(v), -1))), nil
		},
		"default": defaultFilter,
		"d":       defaultFilter,
		"list": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			items, err := iterItems(v)
			return append([]Value{}, items...), err
		},
		"unique": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			cs := Truthy(param(args, kws, 0, "case_sensitive", false))
			items, err := iterItems(v)
			if err != nil {
				return nil, err
			}
			// Jinja keeps the keys it has seen in a set: a dict here, whose
			// lookups hash, where a list of them made unique quadratic.
			var out []Value
			seen := NewDict(0)
			for _, it := range items {
				k := sortKey(it, cs)
				i, err := seen.lookup(k)
				if err != nil {
					return nil, err
				}
				if i < 0 {
					seen.appendEntry(k, nil)
					out = append(out, it)
				}
			}
			return &generator{out}, nil
		},
		"reverse": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			if s, ok := v.(string); ok {
				r := []rune(s)
				for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
					r[i], r[j] = r[j], r[i]
				}
				return string(r), nil
			}
			items, err := iterItems(v)
			if err != nil {
				if isType(err, "TypeError") {
					// do_reverse turns reversed() and list() failing into its own error.
					return nil, newError("FilterArgumentError", "argument must be iterable")
				}
				return nil, err
			}
			out := make([]Value, len(items))
			for i, it := range items {
				out[len(items)-1-i] = it
			}
			return &generator{out}, nil
		},
		"sum": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			attr := param(args, kws, 0, "attribute", nil)
			total := param(args, kws, 1, "start", int64(0))
			copied := 0
			items, err := iterItems(v)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				if attr != nil {
					if it, err = attrGetter(attr)(it); err != nil {
						return nil, err
					}
				}
				if total, err = binop("+", total, it); err != nil {
					return nil, err
				}
				// Each + copies the sequence so far: sum(start=[]) of a
				// million lists copies them a million times over.
				if copied += sizeOf(total); copied > maxText {
					return nil, errTextTooLong
				}
			}
			return total, nil
		},
		"abs": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			switch x := v.(type) {
			case bool:
				return boolToInt(x), nil
			case int64:
				if x < 0 {
					return negate(x)
				}
				return x, nil
			case *big.Int:
				return new(big.Int).Abs(x), nil
			case float64:
				return math.Abs(x), nil
			case timeDelta:
				if x.us < 0 {
					return timeDelta{-x.us}, nil
				}
				return x, nil
			}
			return nil, typeErrorf("bad operand type for abs(): '%s'", typeName(v))
		},
		"attr": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			if len(args) != 1 {
				return nil, typeErrorf("do_attr() missing 1 required positional argument: 'name'")
			}
			name, ok := args[0].(string)
			if !ok {
				return nil, typeErrorf("attribute name must be string, not '%s'", typeName(args[0]))
			}
			if u, ok := v.(*undefined); ok && !strings.HasPrefix(name, "__") {
				return nil, u.fail() // Undefined's __getattr__ raises
			}
			// Jinja's attr filter reads attributes only, never items.
			if x, ok := attribute(v, name); ok {
				return x, nil
			}
			if m := findMethod(v, name); m != nil {
				return getattr(v, name)
			}
			return undefinedOf(v, name), nil
		},
		"replace": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			a, given, err := bindArgs("do_replace", []string{"old", "new", "count"}, 2, args, kws)
			if err != nil {
				return nil, err
			}
			n := -1
			if given[2] && a[2] != nil {
				c, ok := a[2].(int64)
				if !ok {
					return nil, typeErrorf("'%s' object cannot be interpreted as an integer", typeName(a[2]))
				}
				n = int(c)
			}
			s, old, repl := soft(v), soft(a[0]), soft(a[1])
			if err := checkReplace(s, old, repl, n); err != nil {
				return nil, err
			}
			return strings.Replace(s, old, repl, n), nil
		},
		"trim": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			chars := param(args, kws, 0, "chars", nil)
			if chars == nil {
				return strings.TrimFunc(soft(v), isSpace), nil
			}
			cs, ok := chars.(string)
			if !ok {
				return nil, typeErrorf("strip arg must be None or str")
			}
			return strings.Trim(soft(v), cs), nil
		},
		"center": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			w, _ := param(args, kws, 0, "width", int64(80)).(int64)
			return justify(soft(v), int(w), " ", 0)
		},
		"format": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			if len(args) > 0 && len(kws) > 0 {
				return nil, newError("FilterArgumentError", "can't handle positional and keyword arguments at the same time")
			}
			if len(kws) > 0 {
				d := NewDict(len(kws))
				for _, k := range kws {
					d.Set(k.name, k.v)
				}
				return percentFormat(soft(v), d)
			}
			return percentFormat(soft(v), Tuple(args))
		},
		"items": func(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			switch x := v.(type) {
			case *undefined:
				return &generator{}, nil
			case *Dict:
				return &generator{dictView{"items", x}.items()}, nil
			}
			return nil, typeErrorf("Can only get item pairs from a mapping.")
		},
		"dictsort": func(f *frame, v Value, args []Value, kws []kwValue) (Value, error) {
			d, ok := v.(*Dict)
			if !ok {
				return nil, missingMethod(v, "items")
			}
			cs := Truthy(param(args, kws, 0, "case_sensitive", false))
			by, _ := param(args, kws, 1, "by", "key").(string)
			reverse := Truthy(param(args, kws, 2, "reverse", false))
			pos := 0
			if by == "value" {
				pos = 1
			} else if by != "key" {
				return nil, newError("FilterArgumentError", "You can only sort by either \"key\" or \"value\"")
			}
			items := dictView{"items", d}.items()
			var sortErr error
			sort.SliceStable(items, func(i, j int) bool {
				a, b := sortKey(items[i].(Tuple)[pos], cs), sortKey(items[j].(Tuple)[pos], cs)
				if reverse {
					a, b = b, a
				}
				less, err := f.compare("<", a, b)
				if err != nil {
					sortErr = err
				}
				return less
			})
			return items, sortErr
		},
	}

	tests = map[string]testFunc{
		"defined":   func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { _, u := v.(*undefined); return !u, nil },
		"undefined": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { _, u := v.(*undefined); return u, nil },
		"none":      func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { return v == nil, nil },
		"true":      func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { return v == true, nil },
		"false":     func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { return v == false, nil },
		"boolean":   func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { _, ok := v.(bool); return ok, nil },
		"integer": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			switch v.(type) {
			case int64, *big.Int:
				return true, nil
			}
			return false, nil
		},
		"float": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { _, ok := v.(float64); return ok, nil },
		"number": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			k, _, _, _ := numeric(v)
			return k != 0, nil
		},
		"string": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { _, ok := v.(string); return ok, nil },
		"mapping": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			_, ok := v.(*Dict)
			return ok, nil
		},
		"iterable": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			_, err := iterItems(v)
			return err == nil, nil
		},
		"sequence": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			switch v.(type) {
			case string, []Value, Tuple, *Dict, *undefined:
				return true, nil
			}
			return false, nil
		},
		"callable": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			switch v.(type) {
			case *callable, *undefined: // an Undefined has __call__ (which raises)
				return true, nil
			}
			return false, nil
		},
		"sameas": func(_ *frame, v Value, args []Value, _ []kwValue) (bool, error) {
			if len(args) != 1 {
				return false, typeErrorf("test_sameas() missing 1 required positional argument: 'other'")
			}
			switch x := v.(type) {
			case nil, bool:
				return v == args[0], nil
			case *Dict:
				return x == args[0], nil
			}
			return false, nil
		},
		"odd":         parityTest(1),
		"even":        parityTest(0),
		"divisibleby": divisibleTest,
		// str(v).islower() and .isupper(): a text without cased letters is neither.
		"lower": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			s := soft(v)
			return hasCased(s) && strings.ToLower(s) == s, nil
		},
		"upper": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			s := soft(v)
			return hasCased(s) && strings.ToUpper(s) == s, nil
		},
		"escaped": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) { return false, nil },
		"in": func(f *frame, v Value, args []Value, _ []kwValue) (bool, error) {
			if len(args) != 1 {
				return false, typeErrorf("test_in() missing 1 required positional argument: 'seq'")
			}
			return f.compare("in", v, args[0])
		},
		"filter": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			s, _ := v.(string)
			return filters[s] != nil, nil
		},
		"test": func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
			s, _ := v.(string)
			return tests[s] != nil, nil
		},
	}
	for _, op := range [][]string{{"==", "eq", "equalto"}, {"!=", "ne"}, {"<", "lt", "lessthan"}, {"<=", "le"}, {">", "gt", "greaterthan"}, {">=", "ge"}} {
		fn := compareTest(op[0])
		for _, name := range op {
			tests[name] = fn
		}
	}
}

var wordRe = regexp.MustCompile(`[\p{L}\p{N}_]+`)

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func defaultFilter(_ *frame, v Value, args []Value, kws []kwValue) (Value, error) {
	def := param(args, kws, 0, "default_value", "")
	boolean := Truthy(param(args, kws, 1, "boolean", false))
	if _, undef := v.(*undefined); undef || boolean && !Truthy(v) {
		return def, nil
	}
	return v, nil
}

func compareTest(op string) testFunc {
	return func(f *frame, v Value, args []Value, _ []kwValue) (bool, error) {
		if len(args) != 1 {
			return false, typeErrorf("test takes exactly one argument")
		}
		return f.compare(op, v, args[0])
	}
}

func parityTest(want int64) testFunc {
	return func(_ *frame, v Value, _ []Value, _ []kwValue) (bool, error) {
		m, err := binop("%", v, int64(2))
		if err != nil {
			return false, err
		}
		return Equal(m, want), nil
	}
}

func divisibleTest(_ *frame, v Value, args []Value, _ []kwValue) (bool, error) {
	if len(args) != 1 {
		return false, typeErrorf("test_divisibleby() missing 1 required positional argument: 'num'")
	}
	m, err := binop("%", v, args[0])
	if err != nil {
		return false, err
	}
	return Equal(m, int64(0)), nil
}

// Int is Python's int(v) of one argument, for a value decoded from JSON:
// an int is itself, a float is truncated toward zero, a bool is 0 or 1, a
// string is read in base 10 as int() reads it (spaces around it, a sign,
// single underscores between digits). Anything else is int()'s TypeError,
// a string that is no such number its ValueError, NaN and the infinities
// its ValueError and OverflowError. The int is an int64 or a *big.Int.
func Int(v Value) (Value, error) {
	switch x := v.(type) {
	case bool:
		return boolToInt(x), nil
	case int64, *big.Int:
		return x, nil
	case float64:
		switch {
		case math.IsNaN(x):
			return nil, valueErrorf("cannot convert float NaN to integer")
		case math.IsInf(x, 0):
			return nil, newError("OverflowError", "cannot convert float infinity to integer")
		}
		return pyIntFromFloat(x), nil
	case string:
		if n, ok := pyIntBase(x, 10); ok {
			return n, nil
		}
		return nil, valueErrorf("invalid literal for int() with base 10: %s", Repr(x))
	}
	return nil, typeErrorf("int() argument must be a string, a bytes-like object or a real number, not '%s'", typeName(v))
}
