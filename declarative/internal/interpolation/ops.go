package interpolation

import (
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"
)

var opNames = map[string]string{"+": "+", "-": "-", "*": "*", "/": "/", "//": "//", "%": "%", "**": "** or pow()"}

func unsupported(op string, a, b Value) error {
	return typeErrorf("unsupported operand type(s) for %s: '%s' and '%s'", opNames[op], typeName(a), typeName(b))
}

// binop is Python's a <op> b for + - * / // % **.
func binop(op string, a, b Value) (Value, error) {
	if u, ok := a.(*undefined); ok {
		return nil, u.fail()
	}
	if u, ok := b.(*undefined); ok {
		if s, isStr := a.(string); isStr && op == "%" {
			// str.__mod__ takes an Undefined, which has __getitem__, for a mapping.
			return percentFormat(s, b)
		}
		return nil, u.fail()
	}
	ka, ia, ba, fa := numeric(a)
	kb, ib, bb, fb := numeric(b)
	if ka != 0 && kb != 0 {
		if ka == 1 && kb == 1 {
			if ba == nil && bb == nil {
				return intOp(op, ia, ib)
			}
			return bigOp(op, toBig(ia, ba), toBig(ib, bb))
		}
		x, y := fa, fb
		if ka == 1 {
			x = intToFloat(ia, ba)
		}
		if kb == 1 {
			y = intToFloat(ib, bb)
		}
		return floatOp(op, x, y)
	}
	switch op {
	case "+":
		switch x := a.(type) {
		case string:
			if y, ok := b.(string); ok {
				if err := checkText(len(x) + len(y)); err != nil {
					return nil, err
				}
				return x + y, nil
			}
			return nil, typeErrorf("can only concatenate str (not \"%s\") to str", typeName(b))
		case []Value:
			if y, ok := b.([]Value); ok {
				if len(x)+len(y) > maxRepeat {
					return nil, errListTooLong
				}
				return append(append(make([]Value, 0, len(x)+len(y)), x...), y...), nil
			}
			return nil, typeErrorf("can only concatenate list (not \"%s\") to list", typeName(b))
		case Tuple:
			if y, ok := b.(Tuple); ok {
				if len(x)+len(y) > maxRepeat {
					return nil, errListTooLong
				}
				return append(append(make(Tuple, 0, len(x)+len(y)), x...), y...), nil
			}
			return nil, typeErrorf("can only concatenate tuple (not \"%s\") to tuple", typeName(b))
		}
		return dateArith(op, a, b)
	case "-":
		return dateArith(op, a, b)
	case "*":
		if kb == 1 {
			if r, ok, err := repeat(a, ib, bb); ok {
				return r, err
			}
		}
		if ka == 1 {
			if r, ok, err := repeat(b, ia, ba); ok {
				return r, err
			}
		}
		if td, ok := a.(timeDelta); ok && kb != 0 {
			return scaleDelta(td, kb, ib, bb, fb)
		}
		if td, ok := b.(timeDelta); ok && ka != 0 {
			return scaleDelta(td, ka, ia, ba, fa)
		}
	case "%":
		if s, ok := a.(string); ok {
			return percentFormat(s, b)
		}
		if td, ok := a.(timeDelta); ok {
			if other, ok := b.(timeDelta); ok {
				// Python computes on the microseconds as ints.
				m, err := intOp(op, td.us, other.us)
				if err != nil {
					return nil, err
				}
				return timeDelta{m.(int64)}, nil
			}
		}
	case "/", "//":
		if td, ok := a.(timeDelta); ok {
			if other, ok := b.(timeDelta); ok {
				// Python computes on the microseconds as ints: / is their
				// correctly rounded quotient, // floors.
				return intOp(op, td.us, other.us)
			}
			if kb != 0 {
				return divideDelta(op, td, kb, ib, bb, fb)
			}
		}
	}
	return nil, unsupported(op, a, b)
}

func intToFloat(i int64, b *big.Int) float64 {
	if b != nil {
		return bigToFloat(b)
	}
	return float64(i)
}

// maxRepeat bounds the size of a repeated string or list (Python would fill the memory).
const maxRepeat = 1 << 20

// repeat is Python's sequence * n; ok is false when v is no sequence.
func repeat(v Value, n int64, big *big.Int) (Value, bool, error) {
	var size int
	switch x := v.(type) {
	case string:
		size = len(x)
	case []Value:
		size = len(x)
	case Tuple:
		size = len(x)
	default:
		return nil, false, nil
	}
	if s, ok := v.(string); ok {
		size = utf8.RuneCountInString(s)
	}
	switch {
	case big != nil:
		return nil, true, newError("OverflowError", "cannot fit 'int' into an index-sized integer")
	case n <= 0 || size == 0:
		n = 0
	case n > math.MaxInt64/int64(size):
		// Past sys.maxsize items: CPython's own errors.
		if _, ok := v.(string); ok {
			return nil, true, newError("OverflowError", "repeated string is too long")
		}
		return nil, true, newError("MemoryError", "")
	case n > maxRepeat/int64(size):
		return nil, true, newError("MemoryError", "repeated sequence too large for this evaluator")
	}
	switch x := v.(type) {
	case string:
		return strings.Repeat(x, int(n)), true, nil
	case []Value:
		out := make([]Value, 0, len(x)*int(n))
		for range n {
			out = append(out, x...)
		}
		return out, true, nil
	}
	x := v.(Tuple)
	out := make(Tuple, 0, len(x)*int(n))
	for range n {
		out = append(out, x...)
	}
	return out, true, nil
}

// scaleDelta is timedelta * int (exact) or * float (times the float's
// integer ratio, rounded half to even), with Python's range errors.
func scaleDelta(td timeDelta, kind int, i int64, b *big.Int, f float64) (Value, error) {
	us := big.NewInt(td.us)
	if kind == 1 {
		return newDelta(us.Mul(us, toBig(i, b)))
	}
	r, err := floatRatio(f)
	if err != nil {
		return nil, err
	}
	return newDelta(divRound(us.Mul(us, r.Num()), r.Denom()))
}

// divideDelta is timedelta / int or float (rounded half to even) and
// timedelta // int (floored), with Python's errors; timedelta // float is
// a TypeError.
func divideDelta(op string, td timeDelta, kind int, i int64, b *big.Int, f float64) (Value, error) {
	us := big.NewInt(td.us)
	var num, den *big.Int
	if kind == 1 {
		num, den = us, toBig(i, b)
	} else {
		if op == "//" {
			return nil, unsupported(op, td, f)
		}
		r, err := floatRatio(f)
		if err != nil {
			return nil, err
		}
		num, den = us.Mul(us, r.Denom()), r.Num()
	}
	if den.Sign() == 0 {
		return nil, newError("ZeroDivisionError", "integer division or modulo by zero")
	}
	if op == "//" {
		q, m := new(big.Int).DivMod(num, den, new(big.Int))
		// DivMod is Euclidean; Python floors, which differs for a
		// negative divisor with a remainder.
		if den.Sign() < 0 && m.Sign() != 0 {
			q.Sub(q, big.NewInt(1))
		}
		return newDelta(q)
	}
	return newDelta(divRound(num, den))
}

func intOp(op string, a, b int64) (Value, error) {
	switch op {
	case "+":
		if s := a + b; (s > a) == (b > 0) {
			return s, nil
		}
	case "-":
		if s := a - b; (s < a) == (b > 0) {
			return s, nil
		}
	case "*":
		if a == 0 || b == 0 {
			return int64(0), nil
		}
		if p := a * b; p/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64) {
			return p, nil
		}
	case "/":
		if b == 0 {
			return nil, newError("ZeroDivisionError", "division by zero")
		}
		return trueDivInt(big.NewInt(a), big.NewInt(b)), nil
	case "//":
		if b == 0 {
			return nil, newError("ZeroDivisionError", "integer division or modulo by zero")
		}
		if !(a == math.MinInt64 && b == -1) {
			return floorDiv(a, b), nil
		}
	case "%":
		if b == 0 {
			return nil, newError("ZeroDivisionError", "integer modulo by zero")
		}
		if b == -1 {
			return int64(0), nil
		}
		return a - floorDiv(a, b)*b, nil
	case "**":
		if b < 0 {
			return floatOp("**", float64(a), float64(b))
		}
	}
	return bigOp(op, big.NewInt(a), big.NewInt(b))
}

// trueDivInt is Python's int / int: the correctly rounded quotient.
func trueDivInt(a, b *big.Int) Value {
	q := new(big.Rat).SetFrac(a, b)
	f, _ := q.Float64()
	return f
}

func bigOp(op string, a, b *big.Int) (Value, error) {
	r := new(big.Int)
	switch op {
	case "+":
		r.Add(a, b)
	case "-":
		r.Sub(a, b)
	case "*":
		r.Mul(a, b)
	case "/":
		if b.Sign() == 0 {
			return nil, newError("ZeroDivisionError", "division by zero")
		}
		return trueDivInt(a, b), nil
	case "//", "%":
		if b.Sign() == 0 {
			if op == "%" {
				return nil, newError("ZeroDivisionError", "integer modulo by zero")
			}
			return nil, newError("ZeroDivisionError", "integer division or modulo by zero")
		}
		q, m := new(big.Int).DivMod(a, b, new(big.Int))
		// DivMod is Euclidean; Python floors toward negative infinity.
		if m.Sign() != 0 && b.Sign() < 0 {
			q.Add(q, big.NewInt(1))
			m.Add(m, b)
		}
		if op == "//" {
			return normInt(q), nil
		}
		return normInt(m), nil
	case "**":
		if b.Sign() < 0 {
			return floatOp("**", bigToFloat(a), bigToFloat(b))
		}
		// 0, 1 and -1 stay small under any exponent, as Python computes them.
		if a.CmpAbs(big.NewInt(1)) <= 0 {
			switch {
			case a.Sign() == 0 && b.Sign() == 0, a.Sign() > 0:
				return int64(1), nil
			case a.Sign() == 0:
				return int64(0), nil
			case b.Bit(0) == 1:
				return int64(-1), nil
			}
			return int64(1), nil
		}
		if b.BitLen() > 20 || a.BitLen()*int(b.Int64()) > 1<<16 {
			return nil, newError("OverflowError", "exponent too large for this evaluator")
		}
		r.Exp(a, b, nil)
	}
	return normInt(r), nil
}

func floatOp(op string, a, b float64) (Value, error) {
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		if b == 0 {
			return nil, newError("ZeroDivisionError", "float division by zero")
		}
		return a / b, nil
	case "//":
		if b == 0 {
			return nil, newError("ZeroDivisionError", "float floor division by zero")
		}
		div, _ := floatDivMod(a, b)
		return div, nil
	case "%":
		if b == 0 {
			return nil, newError("ZeroDivisionError", "float modulo")
		}
		_, mod := floatDivMod(a, b)
		return mod, nil
	case "**":
		if a == 0 && b < 0 {
			return nil, newError("ZeroDivisionError", "0.0 cannot be raised to a negative power")
		}
		if a < 0 && b != math.Trunc(b) {
			return nil, valueErrorf("complex results are not supported by this evaluator")
		}
		r := math.Pow(a, b)
		if math.IsInf(r, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) { // finite operands only
			return nil, newError("OverflowError", "(34, 'Numerical result out of range')")
		}
		return r, nil
	}
	return nil, unsupported(op, a, b)
}

// floatDivMod is CPython's _float_div_mod, which // and % of floats share: the quotient comes
// from fmod's remainder and is snapped to the nearest integer, so 3 // 1e-5 is 299999.0 (the
// true quotient of the doubles is just under 300000), and a zero remainder takes the sign of b.
func floatDivMod(a, b float64) (div, mod float64) {
	mod = math.Mod(a, b)
	div = (a - mod) / b
	if mod != 0 {
		if (b < 0) != (mod < 0) {
			mod += b
			div--
		}
	} else {
		mod = math.Copysign(0, b)
	}
	if div == 0 {
		return math.Copysign(0, a/b), mod
	}
	floor := math.Floor(div)
	if div-floor > 0.5 {
		floor++
	}
	return floor, mod
}

// addDays is date + timedelta(days=days): Python's OverflowError out of
// the years 1 to 9999 (days is at most 999999999, so AddDate cannot wrap).
func addDays(t time.Time, days int64) (Value, error) {
	return dateInRange(t.AddDate(0, 0, int(days)))
}

// dateArith handles + and - between datetimes, dates, timedeltas and isodate durations.
func dateArith(op string, a, b Value) (Value, error) {
	switch x := a.(type) {
	case dateTime:
		switch y := b.(type) {
		case timeDelta:
			if op == "-" {
				y.us = -y.us
			}
			t, err := addMicros(x.t, y.us)
			if err != nil {
				return nil, err
			}
			return dateTime{t: t, aware: x.aware}, nil
		case isoDuration:
			if op == "-" {
				y = isoDuration{-y.years, -y.months, timeDelta{-y.td.us}}
			}
			t, err := Duration{y.years, y.months, y.td.us}.AddTo(x.t)
			if err != nil {
				return nil, err
			}
			return dateTime{t: t, aware: x.aware}, nil
		case dateTime:
			if op == "-" {
				if x.aware != y.aware {
					return nil, typeErrorf("can't subtract offset-naive and offset-aware datetimes")
				}
				// Not t.Sub, which saturates at 292 years.
				return timeDelta{x.unixMicro() - y.unixMicro()}, nil
			}
		}
	case date:
		switch y := b.(type) {
		case timeDelta:
			days := floorDiv(y.us, usPerDay)
			if op == "-" {
				days = -days
			}
			return addDays(x.time(), days)
		case isoDuration:
			if op == "-" {
				y = isoDuration{-y.years, -y.months, timeDelta{-y.td.us}}
			}
			t, err := addMonths(x.time(), int64(y.years), int64(y.months))
			if err != nil {
				return nil, err
			}
			return addDays(t, floorDiv(y.td.us, usPerDay))
		case date:
			if op == "-" {
				return timeDelta{(x.time().Unix() - y.time().Unix()) * usPerSecond}, nil
			}
		}
	case timeDelta:
		switch y := b.(type) {
		case timeDelta:
			sum := big.NewInt(y.us)
			if op == "-" {
				sum.Neg(sum)
			}
			return newDelta(sum.Add(sum, big.NewInt(x.us)))
		case dateTime, date:
			if op == "+" {
				return dateArith(op, b, a)
			}
		}
	case isoDuration:
		switch b.(type) {
		case dateTime, date:
			if op == "+" {
				return dateArith(op, b, a)
			}
		}
	}
	return nil, unsupported(op, a, b)
}

// compare is Python's a <op> b for == != < <= > >= in notin, with no bound on the items it
// visits: for constants only (Jinja's folding), whose size the template's text bounds. An
// evaluation compares with frame.compare.
func compare(op string, a, b Value) (bool, error) { return (*budget)(nil).compare(op, a, b) }

func (bg *budget) compare(op string, a, b Value) (bool, error) {
	switch op {
	case "==":
		return bg.equal(a, b, 0), nil
	case "!=":
		return !bg.equal(a, b, 0), nil
	case "in", "notin":
		ok, err := bg.contains(b, a)
		if op == "notin" {
			ok = !ok
		}
		return ok, err
	}
	c, err := bg.order(op, a, b)
	if err != nil {
		return false, err
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// order compares two values for <, <=, >, >= (a NaN compares false both ways: result 2).
func (bg *budget) order(op string, a, b Value) (int, error) {
	if u, ok := a.(*undefined); ok {
		return 0, u.fail()
	}
	if u, ok := b.(*undefined); ok {
		return 0, u.fail()
	}
	ka, ia, ba, fa := numeric(a)
	kb, ib, bb, fb := numeric(b)
	if ka != 0 && kb != 0 {
		switch {
		case ka == 1 && kb == 1:
			if ba == nil && bb == nil {
				return cmpInt(ia, ib), nil
			}
			return toBig(ia, ba).Cmp(toBig(ib, bb)), nil
		case ka == 2 && kb == 2:
			if math.IsNaN(fa) || math.IsNaN(fb) {
				return nanOrder(op), nil
			}
			return cmpFloat(fa, fb), nil
		case ka == 2:
			if math.IsNaN(fa) {
				return nanOrder(op), nil
			}
			return floatIntCmp(fa, ib, bb), nil
		default:
			if math.IsNaN(fb) {
				return nanOrder(op), nil
			}
			return -floatIntCmp(fb, ia, ba), nil
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case []Value:
		if y, ok := b.([]Value); ok {
			return bg.seqOrder(op, x, y)
		}
	case Tuple:
		if y, ok := b.(Tuple); ok {
			return bg.seqOrder(op, x, y)
		}
	case dateTime:
		if y, ok := b.(dateTime); ok {
			if x.aware != y.aware {
				return 0, typeErrorf("can't compare offset-naive and offset-aware datetimes")
			}
			return x.t.Compare(y.t), nil
		}
		if _, ok := b.(date); ok {
			return 0, typeErrorf("can't compare datetime.datetime to datetime.date")
		}
	case date:
		if y, ok := b.(date); ok {
			return x.time().Compare(y.time()), nil
		}
		if _, ok := b.(dateTime); ok {
			return 0, typeErrorf("can't compare datetime.date to datetime.datetime")
		}
	case timeDelta:
		if y, ok := b.(timeDelta); ok {
			return cmpInt(x.us, y.us), nil
		}
	}
	return 0, typeErrorf("'%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
}

// nanOrder makes every ordering comparison with NaN false.
func nanOrder(op string) int {
	switch op {
	case "<", "<=":
		return 1
	}
	return -1
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (bg *budget) seqOrder(op string, a, b []Value) (int, error) {
	if len(a) == len(b) && len(a) > 0 && &a[0] == &b[0] {
		return 0, nil // the same items, which Python's loop finds equal one by one
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if !bg.spend(1) {
			return 0, nil // over budget: the caller fails
		}
		if bg.equal(a[i], b[i], 0) {
			continue
		}
		return bg.order(op, a[i], b[i])
	}
	return cmpInt(int64(len(a)), int64(len(b))), nil
}

// contains is Python's item in container.
func (bg *budget) contains(container, item Value) (bool, error) {
	switch c := container.(type) {
	case string:
		s, ok := item.(string)
		if !ok {
			return false, typeErrorf("'in <string>' requires string as left operand, not %s", typeName(item))
		}
		return strings.Contains(c, s), nil
	case []Value:
		return bg.seqContains(c, item), nil
	case Tuple:
		return bg.seqContains(c, item), nil
	case *Dict:
		_, found, err := c.getAny(item)
		return found, err
	case *undefined:
		return false, nil
	case *generator, dictView:
		items, _ := iterate(c)
		return bg.seqContains(items, item), nil
	case *namespace:
		return false, typeErrorf("argument of type 'Namespace' is not iterable")
	}
	return false, typeErrorf("argument of type '%s' is not iterable", typeName(container))
}

func (bg *budget) seqContains(s []Value, item Value) bool {
	for _, e := range s {
		if !bg.spend(1) {
			return false
		}
		if bg.equal(e, item, 0) {
			return true
		}
	}
	return false
}
