package interpolation

import (
	"math"
	"testing"
)

// TestInt pins Int against Python's int() of one argument.
func TestInt(t *testing.T) {
	for _, c := range []struct {
		in   Value
		want string // Repr of the result, or the error
	}{
		{int64(-7), "-7"},
		{1.9, "1"},
		{-1.9, "-1"},
		{1e20, "100000000000000000000"},
		{true, "1"},
		{false, "0"},
		{" \t-0_1\n", "-1"},
		{"٣", "3"},
		{"99999999999999999999", "99999999999999999999"},
		{"1.5", "ValueError: invalid literal for int() with base 10: '1.5'"},
		{"0x10", "ValueError: invalid literal for int() with base 10: '0x10'"},
		{"_1", "ValueError: invalid literal for int() with base 10: '_1'"},
		{math.NaN(), "ValueError: cannot convert float NaN to integer"},
		{math.Inf(-1), "OverflowError: cannot convert float infinity to integer"},
		{nil, "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"},
		{NewDict(0), "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'dict'"},
	} {
		got, err := Int(c.in)
		s := ""
		if err != nil {
			s = err.Error()
		} else {
			s = Repr(got)
		}
		if s != c.want {
			t.Errorf("int(%s) = %s, want %s", Repr(c.in), s, c.want)
		}
	}
}
