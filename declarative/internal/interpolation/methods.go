package interpolation

import (
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"
)

// method is a Python method of a value type, called on recv.
type method func(f *frame, recv Value, args []Value, kws []kwValue) (Value, error)

// callable is a function value: a macro, a Jinja global or a bound method.
type callable struct {
	name string
	fn   func(f *frame, args []Value, kws []kwValue) (Value, error)
}

// dictView is what dict.keys(), .values() and .items() return.
type dictView struct {
	kind string // keys, values, items
	d    *Dict
}

func (v dictView) items() []Value {
	out := make([]Value, v.d.Len())
	for i := range out {
		switch v.kind {
		case "keys":
			out[i] = v.d.keys[i]
		case "values":
			out[i] = v.d.vals[i]
		default:
			out[i] = Tuple{v.d.keys[i], v.d.vals[i]}
		}
	}
	return out
}

// checkArgs enforces a method's arity: positional arguments only, between min and max.
func checkArgs(name string, args []Value, kws []kwValue, min, max int) error {
	if len(kws) > 0 {
		return typeErrorf("%s() takes no keyword arguments", name)
	}
	switch {
	case len(args) < min && min == max:
		return typeErrorf("%s() takes exactly %s (%d given)", name, plural(min, "argument"), len(args))
	case len(args) < min:
		return typeErrorf("%s() takes at least %s (%d given)", name, plural(min, "argument"), len(args))
	case len(args) > max && min == max:
		return typeErrorf("%s() takes exactly %s (%d given)", name, plural(max, "argument"), len(args))
	case len(args) > max:
		return typeErrorf("%s() takes at most %s (%d given)", name, plural(max, "argument"), len(args))
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "one " + word
	}
	return itoa(n) + " " + word + "s"
}

func itoa(n int) string { return Str(int64(n)) }

var dictMethods = map[string]method{
	"get": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs("get", args, kws, 1, 2); err != nil {
			return nil, err
		}
		v, found, err := recv.(*Dict).getAny(args[0])
		if err != nil {
			return nil, err
		}
		if !found {
			if len(args) == 2 {
				return args[1], nil
			}
			return nil, nil
		}
		return v, nil
	},
	"keys":   viewMethod("keys"),
	"values": viewMethod("values"),
	"items":  viewMethod("items"),
	"copy": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs("copy", args, kws, 0, 0); err != nil {
			return nil, err
		}
		d := recv.(*Dict)
		c := NewDict(d.Len())
		c.keys = append(c.keys, d.keys...)
		c.vals = append(c.vals, d.vals...)
		return c, nil
	},
	"pop": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs("pop", args, kws, 1, 2); err != nil {
			return nil, err
		}
		d := recv.(*Dict)
		i, err := d.lookup(args[0])
		if err != nil {
			return nil, err
		}
		if i < 0 {
			if len(args) == 2 {
				return args[1], nil
			}
			return nil, newError("KeyError", "%s", Repr(args[0]))
		}
		v := d.vals[i]
		d.removeAt(i)
		return v, nil
	},
	"setdefault": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs("setdefault", args, kws, 1, 2); err != nil {
			return nil, err
		}
		d := recv.(*Dict)
		if v, found, err := d.getAny(args[0]); err != nil || found {
			return v, err
		}
		var def Value
		if len(args) == 2 {
			def = args[1]
		}
		return def, d.put(args[0], def)
	},
	"update": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if len(args) > 1 {
			return nil, typeErrorf("update expected at most 1 argument, got %d", len(args))
		}
		d := recv.(*Dict)
		if len(args) == 1 {
			src, ok := args[0].(*Dict)
			if !ok {
				return nil, typeErrorf("'%s' object is not iterable", typeName(args[0]))
			}
			for i := range src.keys {
				if err := d.put(src.keys[i], src.vals[i]); err != nil {
					return nil, err
				}
			}
		}
		for _, k := range kws {
			d.Set(k.name, k.v)
		}
		return nil, nil
	},
	"clear": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		d := recv.(*Dict)
		d.keys, d.vals, d.idx, d.others = d.keys[:0], d.vals[:0], nil, nil
		return nil, nil
	},
}

func viewMethod(kind string) method {
	return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs(kind, args, kws, 0, 0); err != nil {
			return nil, err
		}
		return dictView{kind, recv.(*Dict)}, nil
	}
}

var seqMethods = map[string]method{
	"index": func(f *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs("index", args, kws, 1, 1); err != nil {
			return nil, err
		}
		at := -1
		if _, err := f.bounded(func(bg *budget) (bool, error) {
			for i, e := range seqOf(recv) {
				if bg.spend(1) && bg.equal(e, args[0], 0) {
					at = i
					break
				}
			}
			return false, nil
		}); err != nil {
			return nil, err
		}
		if at >= 0 {
			return int64(at), nil
		}
		return nil, valueErrorf("%s is not in %s", Repr(args[0]), typeName(recv))
	},
	"count": func(f *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs("count", args, kws, 1, 1); err != nil {
			return nil, err
		}
		n := int64(0)
		_, err := f.bounded(func(bg *budget) (bool, error) {
			for _, e := range seqOf(recv) {
				if !bg.spend(1) {
					break
				}
				if bg.equal(e, args[0], 0) {
					n++
				}
			}
			return false, nil
		})
		if err != nil {
			return nil, err
		}
		return n, nil
	},
}

var listMethods = map[string]method{
	"copy": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		return append([]Value(nil), recv.([]Value)...), checkArgs("copy", args, kws, 0, 0)
	},
	"reverse": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		l := recv.([]Value)
		for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
			l[i], l[j] = l[j], l[i]
		}
		return nil, checkArgs("reverse", args, kws, 0, 0)
	},
}

func seqOf(v Value) []Value {
	switch v := v.(type) {
	case []Value:
		return v
	case Tuple:
		return v
	}
	return nil
}

// findMethod returns the Python method name of obj's type, or nil.
func findMethod(obj Value, name string) method {
	switch obj.(type) {
	case *Dict:
		return dictMethods[name]
	case string:
		return strMethods[name]
	case []Value:
		if m := listMethods[name]; m != nil {
			return m
		}
		return seqMethods[name]
	case Tuple:
		return seqMethods[name]
	case dateTime:
		return dateTimeMethods[name]
	case date:
		return dateMethods[name]
	case timeDelta:
		if name == "total_seconds" {
			return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
				return recv.(timeDelta).totalSeconds(), checkArgs(name, args, kws, 0, 0)
			}
		}
	case float64:
		if name == "is_integer" {
			return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
				f := recv.(float64)
				return f == float64(int64(f)), checkArgs(name, args, kws, 0, 0)
			}
		}
	}
	return nil
}

// attribute returns a data attribute of obj (datetime.year, timedelta.days, ...).
func attribute(obj Value, name string) (Value, bool) {
	switch o := obj.(type) {
	case *Object:
		return objectAttribute(o, name)
	case bool, int64, *big.Int, float64:
		switch name {
		case "real":
			if b, ok := o.(bool); ok {
				return boolToInt(b), true
			}
			return o, true
		case "imag":
			if _, ok := o.(float64); ok {
				return 0.0, true
			}
			return int64(0), true
		}
	case dateTime:
		y, mo, d := o.t.Date()
		h, mi, s := o.t.Clock()
		switch name {
		case "year":
			return int64(y), true
		case "month":
			return int64(mo), true
		case "day":
			return int64(d), true
		case "hour":
			return int64(h), true
		case "minute":
			return int64(mi), true
		case "second":
			return int64(s), true
		case "microsecond":
			return int64(o.micro()), true
		}
	case date:
		switch name {
		case "year":
			return int64(o.y), true
		case "month":
			return int64(o.m), true
		case "day":
			return int64(o.d), true
		}
	case timeDelta:
		days, secs, us := o.parts()
		switch name {
		case "days":
			return days, true
		case "seconds":
			return secs, true
		case "microseconds":
			return us, true
		}
	case isoDuration:
		switch name {
		case "years":
			return o.years, true
		case "months":
			return o.months, true
		case "tdelta":
			return o.td, true
		}
	}
	return nil, false
}

// strArg returns args[i] as a string, or a TypeError naming the method.
func strArg(name string, args []Value, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", typeErrorf("%s arg must be None or str", name)
	}
	return s, nil
}

func optStrArg(name string, args []Value, i int) (string, bool, error) {
	if i >= len(args) || args[i] == nil {
		return "", false, nil
	}
	s, err := strArg(name, args, i)
	return s, true, err
}

func intArg(name string, args []Value, i int, def int) (int, error) {
	if i >= len(args) || args[i] == nil {
		return def, nil
	}
	switch v := args[i].(type) {
	case int64:
		return int(v), nil
	case bool:
		return int(boolToInt(v)), nil
	}
	return 0, typeErrorf("'%s' object cannot be interpreted as an integer", typeName(args[i]))
}

func stripFunc(chars string, has bool) func(rune) bool {
	if !has {
		return isSpace
	}
	return func(r rune) bool { return strings.ContainsRune(chars, r) }
}

func stripMethod(name string, fn func(string, func(rune) bool) string) method {
	return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs(name, args, kws, 0, 1); err != nil {
			return nil, err
		}
		chars, has, err := optStrArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		return fn(recv.(string), stripFunc(chars, has)), nil
	}
}

func simpleStr(name string, fn func(string) Value) method {
	return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs(name, args, kws, 0, 0); err != nil {
			return nil, err
		}
		return fn(recv.(string)), nil
	}
}

func allRunes(s string, pred func(rune) bool) Value {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !pred(r) {
			return false
		}
	}
	return true
}

func affixMethod(name string, test func(s, affix string) bool) method {
	return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs(name, args, kws, 1, 3); err != nil {
			return nil, err
		}
		s := recv.(string)
		r := []rune(s)
		start, err := intArg(name, args, 1, 0)
		if err != nil {
			return nil, err
		}
		end, err := intArg(name, args, 2, len(r))
		if err != nil {
			return nil, err
		}
		start, end = clampIndex(start, len(r), 0, len(r)), clampIndex(end, len(r), 0, len(r))
		if start > end {
			return false, nil
		}
		s = string(r[start:end])
		switch a := args[0].(type) {
		case string:
			return test(s, a), nil
		case Tuple:
			for _, x := range a {
				xs, ok := x.(string)
				if !ok {
					return nil, typeErrorf("tuple for %s must only contain str, not %s", name, typeName(x))
				}
				if test(s, xs) {
					return true, nil
				}
			}
			return false, nil
		}
		return nil, typeErrorf("%s first arg must be str or a tuple of str, not %s", name, typeName(args[0]))
	}
}

func findMethodStr(name string, last, raise bool) method {
	return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs(name, args, kws, 1, 3); err != nil {
			return nil, err
		}
		sub, ok := args[0].(string)
		if !ok {
			return nil, typeErrorf("must be str, not %s", typeName(args[0]))
		}
		r := []rune(recv.(string))
		start, err := intArg(name, args, 1, 0)
		if err != nil {
			return nil, err
		}
		end, err := intArg(name, args, 2, len(r))
		if err != nil {
			return nil, err
		}
		start, end = clampIndex(start, len(r), 0, len(r)), clampIndex(end, len(r), 0, len(r))
		idx := -1
		if start <= end {
			s := string(r[start:end])
			var bi int
			if last {
				bi = strings.LastIndex(s, sub)
			} else {
				bi = strings.Index(s, sub)
			}
			if bi >= 0 {
				idx = start + len([]rune(s[:bi]))
			}
		}
		if idx < 0 && raise {
			return nil, valueErrorf("substring not found")
		}
		return int64(idx), nil
	}
}

var strMethods map[string]method

func init() {
	strMethods = map[string]method{
		"lower": simpleStr("lower", func(s string) Value { return strings.ToLower(s) }),
		"upper": simpleStr("upper", func(s string) Value { return strings.ToUpper(s) }),
		"title": simpleStr("title", func(s string) Value { return pyTitle(s) }),
		"capitalize": simpleStr("capitalize", func(s string) Value {
			r := []rune(strings.ToLower(s))
			if len(r) > 0 {
				r[0] = unicode.ToTitle(r[0])
			}
			return string(r)
		}),
		"swapcase": simpleStr("swapcase", func(s string) Value {
			return strings.Map(func(r rune) rune {
				if unicode.IsUpper(r) {
					return unicode.ToLower(r)
				}
				return unicode.ToUpper(r)
			}, s)
		}),
		"casefold":  simpleStr("casefold", func(s string) Value { return strings.ToLower(s) }),
		"isdigit":   simpleStr("isdigit", func(s string) Value { return allRunes(s, unicode.IsDigit) }),
		"isdecimal": simpleStr("isdecimal", func(s string) Value { return allRunes(s, func(r rune) bool { return unicode.Is(unicode.Nd, r) }) }),
		"isnumeric": simpleStr("isnumeric", func(s string) Value { return allRunes(s, unicode.IsNumber) }),
		"isalpha":   simpleStr("isalpha", func(s string) Value { return allRunes(s, unicode.IsLetter) }),
		"isalnum": simpleStr("isalnum", func(s string) Value {
			return allRunes(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) })
		}),
		"isspace":    simpleStr("isspace", func(s string) Value { return allRunes(s, isSpace) }),
		"isascii":    simpleStr("isascii", func(s string) Value { return s == "" || allRunes(s, func(r rune) bool { return r < 0x80 }) == true }),
		"islower":    simpleStr("islower", func(s string) Value { return hasCased(s) && strings.ToLower(s) == s }),
		"isupper":    simpleStr("isupper", func(s string) Value { return hasCased(s) && strings.ToUpper(s) == s }),
		"strip":      stripMethod("strip", strings.TrimFunc),
		"lstrip":     stripMethod("lstrip", strings.TrimLeftFunc),
		"rstrip":     stripMethod("rstrip", strings.TrimRightFunc),
		"startswith": affixMethod("startswith", strings.HasPrefix),
		"endswith":   affixMethod("endswith", strings.HasSuffix),
		"find":       findMethodStr("find", false, false),
		"rfind":      findMethodStr("rfind", true, false),
		"index":      findMethodStr("index", false, true),
		"rindex":     findMethodStr("rindex", true, true),
		"split":      splitMethod("split", false),
		"rsplit":     splitMethod("rsplit", true),
		"count": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
			if err := checkArgs("count", args, kws, 1, 1); err != nil {
				return nil, err
			}
			sub, err := strArg("count", args, 0)
			if err != nil {
				return nil, err
			}
			if sub == "" {
				return int64(len([]rune(recv.(string))) + 1), nil
			}
			return int64(strings.Count(recv.(string), sub)), nil
		},
		"replace": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
			if err := checkArgs("replace", args, kws, 2, 3); err != nil {
				return nil, err
			}
			old, ok1 := args[0].(string)
			repl, ok2 := args[1].(string)
			if !ok1 || !ok2 {
				return nil, typeErrorf("replace() argument must be str, not %s", typeName(args[0]))
			}
			n, err := intArg("replace", args, 2, -1)
			if err != nil {
				return nil, err
			}
			if err := checkReplace(recv.(string), old, repl, n); err != nil {
				return nil, err
			}
			return strings.Replace(recv.(string), old, repl, n), nil
		},
		"join": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
			if err := checkArgs("join", args, kws, 1, 1); err != nil {
				return nil, err
			}
			items, err := iterate(args[0])
			if err != nil {
				return nil, typeErrorf("can only join an iterable")
			}
			parts := make([]string, len(items))
			size := 0
			for i, it := range items {
				s, ok := it.(string)
				if !ok {
					return nil, typeErrorf("sequence item %d: expected str instance, %s found", i, typeName(it))
				}
				parts[i] = s
				if size += len(s) + len(recv.(string)); size > maxText {
					return nil, errTextTooLong
				}
			}
			return strings.Join(parts, recv.(string)), nil
		},
		"zfill": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
			if err := checkArgs("zfill", args, kws, 1, 1); err != nil {
				return nil, err
			}
			w, err := intArg("zfill", args, 0, 0)
			if err != nil {
				return nil, err
			}
			if w > maxWidth {
				return nil, errTooWide
			}
			s := recv.(string)
			n := len([]rune(s))
			if n >= w {
				return s, nil
			}
			sign := ""
			if s != "" && (s[0] == '+' || s[0] == '-') {
				sign, s = s[:1], s[1:]
			}
			return sign + strings.Repeat("0", w-n) + s, nil
		},
		"removeprefix": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
			if err := checkArgs("removeprefix", args, kws, 1, 1); err != nil {
				return nil, err
			}
			p, err := strArg("removeprefix", args, 0)
			return strings.TrimPrefix(recv.(string), p), err
		},
		"removesuffix": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
			if err := checkArgs("removesuffix", args, kws, 1, 1); err != nil {
				return nil, err
			}
			p, err := strArg("removesuffix", args, 0)
			return strings.TrimSuffix(recv.(string), p), err
		},
		"partition":  partitionMethod("partition", false),
		"rpartition": partitionMethod("rpartition", true),
		"splitlines": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
			s := strings.ReplaceAll(strings.ReplaceAll(recv.(string), "\r\n", "\n"), "\r", "\n")
			s = strings.TrimSuffix(s, "\n")
			if s == "" {
				return []Value{}, nil
			}
			var out []Value
			for _, l := range strings.Split(s, "\n") {
				out = append(out, l)
			}
			return out, nil
		},
		"format": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
			return strFormat(recv.(string), args, kws)
		},
		"ljust":  justMethod("ljust", -1),
		"rjust":  justMethod("rjust", 1),
		"center": justMethod("center", 0),
	}
}

func hasCased(s string) bool {
	for _, r := range s {
		if unicode.IsUpper(r) || unicode.IsLower(r) {
			return true
		}
	}
	return false
}

// pyTitle is Python's str.title(): a cased letter after an uncased character starts a word.
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		if prevCased {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		prevCased = unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
	}
	return b.String()
}

func justMethod(name string, side int) method {
	return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs(name, args, kws, 1, 2); err != nil {
			return nil, err
		}
		w, err := intArg(name, args, 0, 0)
		if err != nil {
			return nil, err
		}
		fill := " "
		if len(args) == 2 {
			if fs, ok := args[1].(string); ok && len([]rune(fs)) == 1 {
				fill = fs
			} else {
				return nil, typeErrorf("The fill character must be exactly one character long")
			}
		}
		return justify(recv.(string), w, fill, side)
	}
}

// errTooWide is Python's failure to allocate a padded string wider than the evaluator builds.
var errTooWide = newError("MemoryError", "padding width too large for this evaluator")

// justify pads s to width w with fill: side -1 left-justifies, 1 right-justifies, 0 centers
// as Python's str.center does.
func justify(s string, w int, fill string, side int) (string, error) {
	if w > maxWidth {
		return "", errTooWide
	}
	n := len([]rune(s))
	if n >= w {
		return s, nil
	}
	total := w - n
	switch side {
	case -1:
		return s + strings.Repeat(fill, total), nil
	case 1:
		return strings.Repeat(fill, total) + s, nil
	}
	left := total / 2
	if total%2 == 1 && w%2 == 1 {
		left++
	}
	return strings.Repeat(fill, left) + s + strings.Repeat(fill, total-left), nil
}

func partitionMethod(name string, last bool) method {
	return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs(name, args, kws, 1, 1); err != nil {
			return nil, err
		}
		sep, err := strArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return nil, valueErrorf("empty separator")
		}
		s := recv.(string)
		i := strings.Index(s, sep)
		if last {
			i = strings.LastIndex(s, sep)
		}
		if i < 0 {
			if last {
				return Tuple{"", "", s}, nil
			}
			return Tuple{s, "", ""}, nil
		}
		return Tuple{s[:i], sep, s[i+len(sep):]}, nil
	}
}

func splitMethod(name string, fromRight bool) method {
	return func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		var sep Value
		maxsplit := int64(-1)
		if len(args) > 2 {
			return nil, typeErrorf("%s() takes at most 2 arguments (%d given)", name, len(args))
		}
		if len(args) > 0 {
			sep = args[0]
		}
		if len(args) > 1 {
			m, ok := args[1].(int64)
			if !ok {
				return nil, typeErrorf("'%s' object cannot be interpreted as an integer", typeName(args[1]))
			}
			maxsplit = m
		}
		for _, k := range kws {
			switch k.name {
			case "sep":
				sep = k.v
			case "maxsplit":
				m, ok := k.v.(int64)
				if !ok {
					return nil, typeErrorf("'%s' object cannot be interpreted as an integer", typeName(k.v))
				}
				maxsplit = m
			default:
				return nil, typeErrorf("%s() got an unexpected keyword argument '%s'", name, k.name)
			}
		}
		s := recv.(string)
		var parts []string
		switch sp := sep.(type) {
		case nil:
			parts = splitWhitespace(s, int(maxsplit), fromRight)
		case string:
			if sp == "" {
				return nil, valueErrorf("empty separator")
			}
			if fromRight && maxsplit >= 0 {
				parts = rsplitN(s, sp, int(maxsplit))
			} else if maxsplit >= 0 {
				parts = strings.SplitN(s, sp, int(maxsplit)+1)
			} else {
				parts = strings.Split(s, sp)
			}
		default:
			return nil, typeErrorf("must be str or None, not %s", typeName(sep))
		}
		out := make([]Value, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	}
}

func rsplitN(s, sep string, n int) []string {
	var parts []string
	for n > 0 {
		i := strings.LastIndex(s, sep)
		if i < 0 {
			break
		}
		parts = append([]string{s[i+len(sep):]}, parts...)
		s = s[:i]
		n--
	}
	return append([]string{s}, parts...)
}

func splitWhitespace(s string, maxsplit int, fromRight bool) []string {
	if !fromRight {
		var parts []string
		rest := strings.TrimLeftFunc(s, isSpace)
		for rest != "" {
			if maxsplit >= 0 && len(parts) == maxsplit {
				parts = append(parts, rest)
				return parts
			}
			i := strings.IndexFunc(rest, isSpace)
			if i < 0 {
				parts = append(parts, rest)
				break
			}
			parts = append(parts, rest[:i])
			rest = strings.TrimLeftFunc(rest[i:], isSpace)
		}
		return parts
	}
	var parts []string
	rest := strings.TrimRightFunc(s, isSpace)
	for rest != "" {
		if maxsplit >= 0 && len(parts) == maxsplit {
			return append([]string{rest}, parts...)
		}
		i := strings.LastIndexFunc(rest, isSpace)
		if i < 0 {
			parts = append([]string{rest}, parts...)
			break
		}
		_, n := utf8.DecodeRuneInString(rest[i:])
		parts = append([]string{rest[i+n:]}, parts...)
		rest = strings.TrimRightFunc(rest[:i], isSpace)
	}
	return parts
}
