package interpolation

import (
	"math"
	"math/big"
	"testing"
	"time"
)

// TestCheckJSON holds CheckJSON to EncodeJSON's answer (the same error, or
// none) on every kind of value, the failing ones included.
func TestCheckJSON(t *testing.T) {
	cyclic := NewDict(0)
	cyclic.Set("a", int64(1))
	cyclic.Set("self", cyclic)
	indirect, inner := NewDict(0), NewDict(0)
	inner.Set("up", []Value{indirect})
	indirect.Set("inner", inner)
	selfList := make([]Value, 1)
	selfList[0] = selfList
	deep := Value(int64(1))
	for range maxDepth + 1 {
		deep = []Value{deep}
	}
	badKey := NewDict(0)
	_ = badKey.put(Tuple{int64(1)}, "x")
	nanKey := NewDict(0)
	_ = nanKey.put(math.NaN(), "x")
	oddKeys := NewDict(0)
	_ = oddKeys.put(int64(1), true)
	_ = oddKeys.put(nil, big.NewInt(7))
	_ = oddKeys.put(false, 2.5)
	nanFirst := NewDict(0)
	nanFirst.Set("n", math.NaN())
	nanFirst.Set("self", nanFirst)
	decoded, err := DecodeJSON([]byte(`{"id": 1, "s": "é\u2028", "f": 1.5, "l": [null, true, {"x": []}], "big": 123456789012345678901234567890}`))
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]Value{
		"decoded": decoded, "nil": nil, "string": "x", "int": int64(3), "float": 2.5,
		"nan": math.NaN(), "inf": math.Inf(-1), "nan in list": []Value{int64(1), math.NaN()},
		"nan in tuple": Tuple{math.Inf(1)}, "generator": &generator{items: []Value{"a", math.NaN()}},
		"cyclic dict": cyclic, "cycle through a list": indirect, "list in itself": selfList,
		"too deep": deep, "tuple key": badKey, "nan key": nanKey, "odd keys": oddKeys,
		"nan before cycle": nanFirst, "datetime": newAware(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)),
		"go value": struct{}{}, "datetime in dict": dictOf("when", newNaive(time.Unix(0, 0).UTC())),
	}
	for name, v := range values {
		_, encErr := EncodeJSON(v)
		checkErr := CheckJSON(v)
		if (encErr == nil) != (checkErr == nil) || encErr != nil && encErr.Error() != checkErr.Error() {
			t.Errorf("%s: CheckJSON = %v, EncodeJSON fails with %v", name, checkErr, encErr)
		}
	}
}

func dictOf(k string, v Value) *Dict {
	d := NewDict(1)
	d.Set(k, v)
	return d
}
