package interpolation

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// percentFormat is Python's format % args.
func percentFormat(format string, args Value) (Value, error) {
	var list []Value
	// mapping is args when Python takes it for a mapping: anything with __getitem__ but a
	// tuple or a str (a list or an Undefined too), which may then go unused.
	var mapping Value
	switch a := args.(type) {
	case Tuple:
		list = a
	case *Dict, []Value, *undefined:
		mapping = a
		list = []Value{a}
	default:
		list = []Value{a}
	}
	next := 0
	take := func() (Value, error) {
		if next >= len(list) {
			return nil, typeErrorf("not enough arguments for format string")
		}
		v := list[next]
		next++
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return nil, valueErrorf("incomplete format")
		}
		var arg Value
		haveArg := false
		if format[i] == '(' {
			if mapping == nil {
				return nil, typeErrorf("format requires a mapping")
			}
			depth, j := 1, i+1
			for ; j < len(format) && depth > 0; j++ {
				switch format[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth > 0 {
				return nil, valueErrorf("incomplete format key")
			}
			key := format[i+1 : j-1]
			var v Value
			switch m := mapping.(type) {
			case *Dict:
				var ok bool
				if v, ok = m.Get(key); !ok {
					return nil, newError("KeyError", "%s", Repr(key))
				}
			case *undefined:
				return nil, m.fail()
			default:
				return nil, typeErrorf("%s indices must be integers or slices, not str", typeName(mapping))
			}
			arg, haveArg = v, true
			i = j
		}
		spec := numSpec{precision: -1}
		for ; i < len(format) && strings.IndexByte("#0- +", format[i]) >= 0; i++ {
			switch format[i] {
			case '#':
				spec.alt = true
			case '0':
				spec.zero = true
			case '-':
				spec.left = true
			case ' ':
				spec.sign = ' '
			case '+':
				spec.sign = '+'
			}
		}
		readNum := func() (int, error) {
			if i < len(format) && format[i] == '*' {
				i++
				v, err := take()
				if err != nil {
					return 0, err
				}
				n, ok := v.(int64)
				if !ok {
					return 0, typeErrorf("* wants int")
				}
				return int(n), nil
			}
			j := i
			for i < len(format) && format[i] >= '0' && format[i] <= '9' {
				i++
			}
			if i == j {
				return -1, nil
			}
			return strconv.Atoi(format[j:i])
		}
		var err error
		if spec.width, err = readNum(); err != nil {
			return nil, err
		}
		if spec.width > maxWidth || spec.precision > maxWidth {
			return nil, newError("MemoryError", "field width too large for this evaluator")
		}
		if spec.width < 0 && spec.width != -1 {
			spec.left, spec.width = true, -spec.width
		}
		if i < len(format) && format[i] == '.' {
			i++
			if spec.precision, err = readNum(); err != nil {
				return nil, err
			}
			if spec.precision < 0 {
				spec.precision = 0
			}
			if spec.precision > maxWidth {
				return nil, newError("MemoryError", "precision too large for this evaluator")
			}
		}
		for i < len(format) && strings.IndexByte("hlL", format[i]) >= 0 {
			i++
		}
		if i >= len(format) {
			return nil, valueErrorf("incomplete format")
		}
		conv := format[i]
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if !haveArg {
			if arg, err = take(); err != nil {
				return nil, err
			}
		}
		s, err := formatOne(conv, arg, spec, i)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	if mapping == nil && next < len(list) {
		return nil, typeErrorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// maxWidth bounds field widths and precisions (Python would allocate gigabytes for a width of
// 10**9).
const maxWidth = 1 << 20

// numSpec is a parsed printf-style conversion.
type numSpec struct {
	alt, zero, left bool
	sign            byte
	width           int
	precision       int
}

func (s numSpec) pad(body string, numeric bool) string {
	n := len([]rune(body))
	if s.width <= n {
		return body
	}
	fill := s.width - n
	switch {
	case s.left:
		return body + strings.Repeat(" ", fill)
	case s.zero && numeric:
		sign := ""
		if body != "" && (body[0] == '-' || body[0] == '+' || body[0] == ' ') {
			sign, body = body[:1], body[1:]
		}
		prefix := ""
		if len(body) > 1 && body[0] == '0' && strings.IndexByte("xXob", body[1]) >= 0 {
			prefix, body = body[:2], body[2:]
		}
		return sign + prefix + strings.Repeat("0", fill) + body
	}
	return strings.Repeat(" ", fill) + body
}

func formatOne(conv byte, arg Value, spec numSpec, at int) (string, error) {
	if u, ok := arg.(*undefined); ok && strings.IndexByte("diueEfFgG", conv) >= 0 {
		return "", u.fail() // Undefined's __int__ and __float__ raise
	}
	switch conv {
	case 's':
		s := Str(arg)
		if spec.precision >= 0 && spec.precision < len([]rune(s)) {
			s = string([]rune(s)[:spec.precision])
		}
		return spec.pad(s, false), nil
	case 'r', 'a':
		s := Repr(arg)
		if spec.precision >= 0 && spec.precision < len([]rune(s)) {
			s = string([]rune(s)[:spec.precision])
		}
		return spec.pad(s, false), nil
	case 'd', 'i', 'u', 'x', 'X', 'o':
		n, err := intForFormat(arg, conv)
		if err != nil {
			return "", err
		}
		base := map[byte]int{'x': 16, 'X': 16, 'o': 8}[conv]
		if base == 0 {
			base = 10
		}
		digits := new(big.Int).Abs(n).Text(base)
		if conv == 'X' {
			digits = strings.ToUpper(digits)
		}
		if spec.precision > len(digits) {
			digits = strings.Repeat("0", spec.precision-len(digits)) + digits
		}
		if spec.alt && base != 10 {
			digits = "0" + string(conv) + digits
			if conv == 'o' {
				digits = "0o" + digits[2:]
			}
		}
		return spec.pad(signed(n.Sign() < 0, spec.sign, digits), true), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		f, err := floatForFormat(arg, conv)
		if err != nil {
			return "", err
		}
		p := spec.precision
		if p < 0 {
			p = 6
		}
		return spec.pad(signedFloat(f, spec.sign, formatFloat(math.Abs(f), conv, p, spec.alt)), !math.IsInf(f, 0) && !math.IsNaN(f)), nil
	case 'c':
		switch v := arg.(type) {
		case string:
			if len([]rune(v)) != 1 {
				return "", typeErrorf("%%c requires int or char")
			}
			return spec.pad(v, false), nil
		case int64:
			return spec.pad(string(rune(v)), false), nil
		}
		return "", typeErrorf("%%c requires int or char")
	}
	return "", valueErrorf("unsupported format character '%c' (0x%x) at index %d", conv, conv, at)
}

func signed(neg bool, sign byte, body string) string {
	switch {
	case neg:
		return "-" + body
	case sign != 0:
		return string(sign) + body
	}
	return body
}

func signedFloat(f float64, sign byte, body string) string {
	return signed(math.Signbit(f) && !math.IsNaN(f), sign, body)
}

func intForFormat(arg Value, conv byte) (*big.Int, error) {
	switch v := arg.(type) {
	case bool:
		return big.NewInt(boolToInt(v)), nil
	case int64:
		return big.NewInt(v), nil
	case *big.Int:
		return v, nil
	case float64:
		if conv == 'd' || conv == 'i' || conv == 'u' {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, newError("OverflowError", "cannot convert float infinity to integer")
			}
			b, _ := bigFloat(math.Trunc(v)).Int(nil)
			return b, nil
		}
		return nil, typeErrorf("%%%c format: an integer is required, not float", conv)
	}
	if conv == 'd' || conv == 'i' || conv == 'u' {
		return nil, typeErrorf("%%%c format: a real number is required, not %s", conv, typeName(arg))
	}
	return nil, typeErrorf("%%%c format: an integer is required, not %s", conv, typeName(arg))
}

func bigFloat(f float64) *big.Float { return new(big.Float).SetFloat64(f) }

func floatForFormat(arg Value, conv byte) (float64, error) {
	k, i, b, f := numeric(arg)
	switch k {
	case 1:
		return intToFloat(i, b), nil
	case 2:
		return f, nil
	}
	return 0, typeErrorf("must be real number, not %s", typeName(arg))
}

// formatFloat formats a non-negative float like C's printf with Python's spellings of
// infinity and NaN.
func formatFloat(f float64, conv byte, prec int, alt bool) string {
	upper := conv == 'E' || conv == 'F' || conv == 'G'
	if math.IsInf(f, 0) || math.IsNaN(f) {
		s := "inf"
		if math.IsNaN(f) {
			s = "nan"
		}
		if upper {
			s = strings.ToUpper(s)
		}
		return s
	}
	var s string
	switch conv {
	case 'f', 'F':
		s = strconv.FormatFloat(f, 'f', prec, 64)
		if alt && prec == 0 {
			s += "."
		}
	case 'e', 'E':
		s = strconv.FormatFloat(f, 'e', prec, 64)
	default:
		if prec == 0 {
			prec = 1
		}
		e := strconv.FormatFloat(f, 'e', prec-1, 64)
		exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
		if exp >= -4 && exp < prec {
			s = strconv.FormatFloat(f, 'f', prec-1-exp, 64)
			if !alt && strings.Contains(s, ".") {
				s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
			}
		} else {
			mant, ex, _ := strings.Cut(e, "e")
			if !alt && strings.Contains(mant, ".") {
				mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
			}
			s = mant + "e" + ex
		}
	}
	if upper {
		s = strings.ToUpper(s)
	}
	return s
}

// strFormat is Python's str.format.
func strFormat(format string, args []Value, kws []kwValue) (Value, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch c {
		case '{':
			if i+1 < len(format) && format[i+1] == '{' {
				b.WriteByte('{')
				i++
				continue
			}
			depth, j := 1, i+1
			for ; j < len(format) && depth > 0; j++ {
				switch format[j] {
				case '{':
					depth++
				case '}':
					depth--
				}
			}
			if depth > 0 {
				return nil, valueErrorf("expected '}' before end of string")
			}
			field := format[i+1 : j-1]
			i = j - 1
			s, err := formatField(field, args, kws, &auto)
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
		case '}':
			if i+1 < len(format) && format[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return nil, valueErrorf("Single '}' encountered in format string")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func formatField(field string, args []Value, kws []kwValue, auto *int) (string, error) {
	name, spec, _ := strings.Cut(field, ":")
	conv := byte(0)
	if k := strings.IndexByte(name, '!'); k >= 0 {
		if k+2 != len(name) {
			return "", valueErrorf("expected ':' after conversion specifier")
		}
		conv = name[k+1]
		name = name[:k]
	}
	first := name
	rest := ""
	if k := strings.IndexAny(name, ".["); k >= 0 {
		first, rest = name[:k], name[k:]
	}
	var v Value
	switch {
	case first == "":
		if *auto < 0 {
			return "", valueErrorf("cannot switch from manual field specification to automatic field numbering")
		}
		if *auto >= len(args) {
			return "", newError("IndexError", "Replacement index %d out of range for positional args tuple", *auto)
		}
		v = args[*auto]
		*auto++
	case first[0] >= '0' && first[0] <= '9':
		n, err := strconv.Atoi(first)
		if err != nil {
			return "", valueErrorf("invalid field name")
		}
		if n >= len(args) {
			return "", newError("IndexError", "Replacement index %d out of range for positional args tuple", n)
		}
		v = args[n]
	default:
		found := false
		for _, k := range kws {
			if k.name == first {
				v, found = k.v, true
			}
		}
		if !found {
			return "", newError("KeyError", "%s", Repr(first))
		}
	}
	for rest != "" {
		var err error
		if rest[0] == '.' {
			k := strings.IndexAny(rest[1:], ".[")
			attr := rest[1:]
			if k >= 0 {
				attr, rest = rest[1:k+1], rest[k+1:]
			} else {
				rest = ""
			}
			if v, err = getattr(v, attr); err != nil {
				return "", err
			}
			continue
		}
		k := strings.IndexByte(rest, ']')
		if k < 0 {
			return "", valueErrorf("Missing ']' in format string")
		}
		key := rest[1:k]
		rest = rest[k+1:]
		var kv Value = key
		if n, err := strconv.Atoi(key); err == nil {
			kv = int64(n)
		}
		if v, err = pyGetitem(v, kv); err != nil {
			return "", err
		}
	}
	switch conv {
	case 'r', 'a':
		v = Repr(v)
	case 's':
		v = Str(v)
	}
	return formatSpec(v, spec)
}

// formatSpec is Python's format(v, spec) for the standard format specification.
func formatSpec(v Value, spec string) (string, error) {
	if spec == "" {
		return Str(v), nil
	}
	fill, align := " ", byte(0)
	r := []rune(spec)
	if len(r) >= 2 && strings.ContainsRune("<>=^", r[1]) {
		fill, align, r = string(r[0]), byte(r[1]), r[2:]
	} else if len(r) >= 1 && strings.ContainsRune("<>=^", r[0]) {
		align, r = byte(r[0]), r[1:]
	}
	s := string(r)
	ns := numSpec{precision: -1, width: -1}
	if s != "" && strings.IndexByte("+- ", s[0]) >= 0 {
		if s[0] != '-' {
			ns.sign = s[0]
		}
		s = s[1:]
	}
	if s != "" && s[0] == '#' {
		ns.alt, s = true, s[1:]
	}
	if s != "" && s[0] == '0' {
		ns.zero, s = true, s[1:]
		if align == 0 {
			fill, align = "0", '='
		}
	}
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j > 0 {
		ns.width, _ = strconv.Atoi(s[:j])
		if ns.width > maxWidth || j > 7 {
			return "", newError("MemoryError", "field width too large for this evaluator")
		}
	}
	s = s[j:]
	grouping := ""
	if s != "" && (s[0] == ',' || s[0] == '_') {
		grouping, s = s[:1], s[1:]
	}
	if s != "" && s[0] == '.' {
		j = 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		ns.precision, _ = strconv.Atoi(s[1:j])
		if ns.precision > maxWidth || j > 8 {
			return "", newError("MemoryError", "precision too large for this evaluator")
		}
		s = s[j:]
	}
	typ := byte(0)
	if len(s) == 1 {
		typ = s[0]
	} else if len(s) > 1 {
		return "", valueErrorf("Invalid format specifier")
	}
	var body string
	numeric := true
	switch x := v.(type) {
	case string:
		if typ != 0 && typ != 's' {
			return "", valueErrorf("Unknown format code '%c' for object of type 'str'", typ)
		}
		numeric = false
		body = x
		if ns.precision >= 0 && ns.precision < len([]rune(body)) {
			body = string([]rune(body)[:ns.precision])
		}
		if align == 0 {
			align = '<'
		}
	case bool, int64, *big.Int:
		k, i, bi, _ := numeric3(x)
		_ = k
		n := toBig(i, bi)
		switch typ {
		case 0, 'd', 'n':
			body = groupDigits(new(big.Int).Abs(n).String(), grouping)
		case 'x', 'X', 'o', 'b':
			base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'b': 2}[typ]
			body = new(big.Int).Abs(n).Text(base)
			if typ == 'X' {
				body = strings.ToUpper(body)
			}
			if ns.alt {
				body = "0" + string(typ) + body
			}
		case 'e', 'E', 'f', 'F', 'g', 'G', '%':
			return formatSpec(bigToFloatV(n), spec)
		case 'c':
			body = string(rune(n.Int64()))
		default:
			return "", valueErrorf("Unknown format code '%c' for object of type 'int'", typ)
		}
		body = signed(n.Sign() < 0, ns.sign, body)
	case float64:
		p := ns.precision
		switch typ {
		case 0:
			if p < 0 {
				body = string(appendFloatRepr(nil, math.Abs(x)))
			} else {
				body = formatFloat(math.Abs(x), 'g', p, ns.alt)
			}
		case 'e', 'E', 'f', 'F', 'g', 'G':
			if p < 0 {
				p = 6
			}
			body = formatFloat(math.Abs(x), typ, p, ns.alt)
		case '%':
			if p < 0 {
				p = 6
			}
			body = formatFloat(math.Abs(x)*100, 'f', p, ns.alt) + "%"
		default:
			return "", valueErrorf("Unknown format code '%c' for object of type 'float'", typ)
		}
		if grouping != "" {
			intPart, frac, _ := strings.Cut(body, ".")
			body = groupDigits(intPart, grouping)
			if frac != "" {
				body += "." + frac
			}
		}
		body = signedFloat(x, ns.sign, body)
	default:
		if typ != 0 {
			return "", typeErrorf("unsupported format string passed to %s.__format__", typeName(v))
		}
		body = Str(v)
		numeric = false
		if align == 0 {
			align = '<'
		}
	}
	if align == 0 {
		align = '>'
	}
	n := len([]rune(body))
	if ns.width <= n {
		return body, nil
	}
	padN := ns.width - n
	switch align {
	case '<':
		return body + strings.Repeat(fill, padN), nil
	case '^':
		return strings.Repeat(fill, padN/2) + body + strings.Repeat(fill, padN-padN/2), nil
	case '=':
		if numeric && body != "" && strings.IndexByte("+- ", body[0]) >= 0 {
			return body[:1] + strings.Repeat(fill, padN) + body[1:], nil
		}
	}
	return strings.Repeat(fill, padN) + body, nil
}

func numeric3(v Value) (int, int64, *big.Int, float64) { return numeric(v) }

func bigToFloatV(n *big.Int) Value { return bigToFloat(n) }

func groupDigits(digits, sep string) string {
	if sep == "" || len(digits) <= 3 {
		return digits
	}
	var parts []string
	for len(digits) > 3 {
		parts = append([]string{digits[len(digits)-3:]}, parts...)
		digits = digits[:len(digits)-3]
	}
	return strings.Join(append([]string{digits}, parts...), sep)
}
