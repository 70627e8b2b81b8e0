package interpolation

import (
	"math"
	"math/big"
	"testing"
)

// TestTimedeltaArithmeticRange: arithmetic on timedeltas gives Python's
// results and range errors (timedelta's |days| <= 999999999, days a C int,
// dates in the years 1 to 9999). Each want is what CPython 3.11 gives
// for the same expression. Multiplying wrapped around int64 (a date in
// 1988 for day_delta(200000000)), a difference of dates more than 292
// years apart saturated, and a date moved past 9999 was kept.
func TestTimedeltaArithmeticRange(t *testing.T) {
	const (
		cInt = "OverflowError: Python int too large to convert to C int"
		out  = "OverflowError: date value out of range"
	)
	inf := "(1e300 * 1e300)"
	for _, c := range []struct{ src, want string }{
		// Multiplication.
		{"{{ duration('P100000000D') * 20 }}", "OverflowError: days=2000000000; must have magnitude <= 999999999"},
		{"{{ 20 * duration('P100000000D') }}", "OverflowError: days=2000000000; must have magnitude <= 999999999"},
		{"{{ duration('P1D') * 1000000000 }}", "OverflowError: days=1000000000; must have magnitude <= 999999999"},
		{"{{ duration('P1D') * -1000000000 }}", "OverflowError: days=-1000000000; must have magnitude <= 999999999"},
		{"{{ duration('P1D') * 10000000000 }}", cInt},
		{"{{ duration('P1D') * 10**30 }}", cInt},
		{"{{ duration('-P1D') * 2147483648 }}", "OverflowError: days=-2147483648; must have magnitude <= 999999999"},
		{"{{ duration('-P1D') * 2147483649 }}", cInt},
		{"{{ duration('P1D') * 1e300 }}", cInt},
		{"{{ duration('P1D') * -1e9 }}", "OverflowError: days=-1000000000; must have magnitude <= 999999999"},
		{"{{ duration('P1D') * " + inf + " }}", "OverflowError: cannot convert Infinity to integer ratio"},
		{"{{ duration('P1D') * (" + inf + " - " + inf + ") }}", "ValueError: cannot convert NaN to integer ratio"},
		{"{{ duration('P200000D') * 500 }}", "'100000000 days, 0:00:00'"},
		{"{{ duration('PT0.000003S') * 0.5 }}", "'0:00:00.000002'"},
		{"{{ duration('PT0.000005S') * 0.5 }}", "'0:00:00.000002'"},
		{"{{ duration('P1D') * true }}", "'1 day, 0:00:00'"},
		// Addition and subtraction.
		// Past an int64 of microseconds (106,751,991 days) a timedelta is
		// kept as the longest (timedeltaMicros), not wrapped around.
		{"{{ duration('P100000000D') + duration('P100000000D') > duration('P1D') }}", "True"},
		{"{{ -duration('P100000000D') - duration('P100000000D') < -duration('P1D') }}", "True"},
		{"{{ now_utc() - (now_utc() - duration('P739000D')) }}", "'739000 days, 0:00:00'"},
		{"{{ today_utc() - (today_utc() - duration('P700000D')) }}", "'700000 days, 0:00:00'"},
		{"{{ today_utc() + duration('P3000000D') }}", out},
		{"{{ today_utc() - duration('P800000D') }}", out},
		{"{{ duration('P3000000D') + today_utc() }}", out},
		// Division.
		{"{{ duration('PT0.000003S') / 2 }}", "'0:00:00.000002'"},
		{"{{ duration('PT0.000003S') // 2 }}", "'0:00:00.000001'"},
		{"{{ duration('P1D') / 2.0 }}", "'12:00:00'"},
		{"{{ duration('PT0.000003S') / 2.0 }}", "'0:00:00.000002'"},
		{"{{ duration('P1D') // 10**30 }}", "'0:00:00'"},
		{"{{ duration('P1D') // -1000000000000000000000000000000 }}", "'-1 day, 23:59:59.999999'"},
		{"{{ duration('P1D') / 0.0 }}", "ZeroDivisionError: integer division or modulo by zero"},
		{"{{ duration('P1D') / 1e-300 }}", cInt},
		// Between two timedeltas: / is the exact quotient correctly
		// rounded, // and % floor like Python's ints.
		{"{{ duration('PT1815690225313.428402S') / duration('PT2819327710181.577350S') }}", "0.6440153156925805"},
		{"{{ duration('P7D') // duration('PT5H') }}", "33"},
		{"{{ duration('P7D') % duration('PT5H') }}", "'3:00:00'"},
		{"{{ duration('P7DT0.000003S') % duration('PT0.000002S') }}", "'0:00:00.000001'"},
		{"{{ -duration('P7D') % duration('P2D') }}", "'1 day, 0:00:00'"},
		{"{{ duration('P7D') % -duration('P2D') }}", "'-1 day, 0:00:00'"},
		{"{{ duration('P1D') / duration('PT0S') }}", "ZeroDivisionError: division by zero"},
		{"{{ duration('P1D') // duration('PT0S') }}", "ZeroDivisionError: integer division or modulo by zero"},
		{"{{ duration('P1D') % duration('PT0S') }}", "ZeroDivisionError: integer modulo by zero"},
		{"{{ duration('P1D') % 2 }}", "\"{{ duration('P1D') % 2 }}\""}, // TypeError: the source comes back
		// timedelta(days=n) of day_delta.
		{"{{ day_delta(-1.5, '%Y-%m-%dT%H:%M:%S') }}", "'2025-01-14T00:00:00'"},
		{"{{ day_delta(200000000) }}", out},
		{"{{ day_delta(10000000000) }}", cInt},
		{"{{ day_delta(1e300) }}", cInt},
		{"{{ day_delta(1000000000) }}", "OverflowError: days=1000000000; must have magnitude <= 999999999"},
	} {
		v, err := mustCompile(c.src).Eval(testVars(t))
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = Repr(v)
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.src, got, c.want)
		}
	}
}

// FuzzTimedeltaArithmetic checks timedelta * / // + - against exact
// rational arithmetic: a result within an int64 of microseconds is the
// exact one rounded (never a wrapped one), a longer one within Python's
// range keeps its sign, and an error comes only past that range, for a
// float that is not finite or a zero divisor.
func FuzzTimedeltaArithmetic(f *testing.F) {
	const day = usPerDay
	f.Add(int64(day), int64(1000000000), 0.0, uint8(0))
	f.Add(int64(100000000*day), int64(20), 0.0, uint8(0))
	f.Add(int64(day), int64(0), 1e300, uint8(1))
	f.Add(int64(3), int64(2), 0.0, uint8(2))
	f.Add(int64(3), int64(0), 2.0, uint8(3))
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), 0.0, uint8(5))
	f.Add(int64(-7), int64(-2), 0.0, uint8(4))
	f.Fuzz(func(t *testing.T, us, n int64, x float64, op uint8) {
		if us == math.MinInt64 {
			us++ // never made: timedeltaMicros keeps it negatable
		}
		a := timeDelta{us}
		var b Value = n
		var exact *big.Rat
		opName := []string{"*", "*", "/", "/", "//", "+", "-"}[op%7]
		switch op % 7 {
		case 0:
			exact = new(big.Rat).SetInt(new(big.Int).Mul(big.NewInt(us), big.NewInt(n)))
		case 1, 3:
			b = x
			if math.IsNaN(x) || math.IsInf(x, 0) || op%7 == 3 && x == 0 {
				break
			}
			r := new(big.Rat).SetFloat64(x)
			if op%7 == 1 {
				exact = r.Mul(r, new(big.Rat).SetInt64(us))
			} else {
				exact = r.Quo(new(big.Rat).SetInt64(us), r)
			}
		case 2, 4:
			if n != 0 {
				exact = new(big.Rat).SetFrac(big.NewInt(us), big.NewInt(n))
			}
			if n != 0 && op%7 == 4 {
				// Python floors.
				floor := new(big.Rat).SetFrac(big.NewInt(us), big.NewInt(n))
				fl := new(big.Int).Quo(floor.Num(), floor.Denom())
				if floor.Sign() < 0 && !floor.IsInt() {
					fl.Sub(fl, big.NewInt(1))
				}
				exact = new(big.Rat).SetInt(fl)
			}
		case 5, 6:
			m := n
			if m == math.MinInt64 {
				m++
			}
			b = timeDelta{m}
			s := new(big.Int).SetInt64(m)
			if op%7 == 6 {
				s.Neg(s)
			}
			exact = new(big.Rat).SetInt(s.Add(s, big.NewInt(us)))
		}
		got, err := binop(opName, a, b)
		if exact == nil {
			if err == nil {
				t.Fatalf("%v %s %v = %v, want an error", a, opName, b, got)
			}
			return
		}
		// Python's range, in microseconds: days within 999999999.
		limit := new(big.Rat).SetInt(new(big.Int).Mul(big.NewInt(1000000000), big.NewInt(day)))
		inRange := new(big.Rat).Abs(exact).Cmp(new(big.Rat).Sub(limit, big.NewRat(day, 1))) <= 0
		if err != nil {
			if inRange {
				t.Fatalf("%v %s %v: %v, want %s µs", a, opName, b, err, exact.FloatString(1))
			}
			return
		}
		td, ok := got.(timeDelta)
		if !ok {
			t.Fatalf("%v %s %v = %T", a, opName, b, got)
		}
		diff := new(big.Rat).Sub(exact, new(big.Rat).SetInt64(td.us))
		switch {
		case new(big.Rat).Abs(diff).Cmp(big.NewRat(1, 2)) <= 0:
		case exact.Sign() > 0 && td.us == math.MaxInt64, exact.Sign() < 0 && td.us == math.MinInt64+1:
			// Kept as the longest timedelta.
		default:
			t.Fatalf("%v %s %v = %d µs, want %s", a, opName, b, td.us, exact.FloatString(1))
		}
	})
}
