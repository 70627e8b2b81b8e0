package interpolation

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// fortyInts is a template that builds a dict of the keys 1 to 40, a key at a time: past
// indexFrom, so its lookups go through the index.
const fortyInts = "{% set d = {} %}{% for i in [0]*40 %}{% set _ = d.update({loop.index: loop.index}) %}{% endfor %}"

// TestDictIndexKeepsPythonEquality: a dict's index of keys other than strings finds a key by
// Python's equality, across ints, floats and bools (1, 1.0 and True are one key), and still
// finds by a scan what has no Go key (an int past int64 equal to a whole float).
func TestDictIndexKeepsPythonEquality(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{fortyInts + "{{ [d[1.0], d[true], d[40.0], d.get(41), d.get(0.5), d|length] }}", "[1, 1, 40, None, None, 40]"},
		{fortyInts + "{% set _ = d.update({2.5: 'f', none: 'n', 2**70: 'big', (1, 2): 't'}) %}{{ [d[2.5], d[none], d[2.0**70], d[(1.0, 2)], d|length] }}", "['f', 'n', 'big', 't', 44]"},
		{fortyInts + "{% set _ = d.update({1.0: 'x', true: 'y'}) %}{{ [d[1], d|length, (d|list)[0]] }}", "['y', 40, 1]"},
		{fortyInts + "{% set _ = d.pop(1) %}{{ [d.get(1.0), d[2.0], d|length] }}", "[None, 2, 39]"},
		{fortyInts + "{% set _ = d.clear() %}{% set _ = d.update({1: 'a'}) %}{{ [d[1.0], d|length] }}", "['a', 1]"},
		{"{{ ([1, 1.0, true, 2, 'a', 'A', none, none, 2**70, 2.0**70] + [0.5]*20)|unique|list }}", "[1, 2, 'a', None, 1180591620717411303424, 0.5]"},
		{fortyInts + "{% set _ = d.update({(1, 'a', (2.5, none)): 't', (2**70, 1): 'big', ('a', 1): 's'}) %}" +
			"{{ [d[(true, 'a', (2.5, none))], d[(2.0**70, 1.0)], d.get(('a', 2)), d[('a', true)], d.get((1, 'a', (2.5,))), d|length] }}", "['t', 'big', None, 's', None, 43]"},
		{"{{ [(1, 2), (1.0, 2.0), ('a',), ('A',), (1, (2,)), (1, (2.0,))]|unique|list }}", "[(1, 2), ('a',), ('A',), (1, (2,))]"}, // unique lower-cases strings, not tuples' items
	} {
		tm, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("compile %q: %v", tc.src, err)
		}
		vs := Vars{Now: time.Now}
		v, err := tm.Eval(&vs)
		if err != nil || Repr(v) != tc.want {
			t.Errorf("%s\ngot  %s, %v\nwant %s", strings.TrimPrefix(tc.src, fortyInts), Repr(v), err, tc.want)
		}
	}
}

// BenchmarkDictIntKeys builds a dict of n int keys, or of n tuple keys, a key at a time,
// and takes the unique values of a list of n strings: all were quadratic, the keys other
// than strings and the values unique had seen being found by a scan.
func BenchmarkDictIntKeys(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		for name, src := range map[string]string{
			"update": "{% set d = {} %}{% for i in [0]*N %}{% set _ = d.update({loop.index: i}) %}{% endfor %}{{ d|length }}",
			"tuples": "{% set d = {} %}{% for i in [0]*N %}{% set _ = d.update({(loop.index, 'x'): i}) %}{% endfor %}{{ d|length }}",
			"unique": "{% set d = {} %}{% for i in [0]*N %}{% set _ = d.update({loop.index|string: i}) %}{% endfor %}{{ d|list|unique|list|length }}",
		} {
			src = strings.ReplaceAll(src, "N", fmt.Sprint(n))
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				tm, err := Compile(src)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					vs := Vars{Now: time.Now}
					if v, err := tm.Eval(&vs); err != nil || v != int64(n) {
						b.Fatal(v, err)
					}
				}
			})
		}
	}
}

// TestDictIndexAgreesWithScan puts random hashable values of every kind as keys into a dict
// past indexFrom and looks up random values: the index must find what a scan of the keys
// with Equal finds, and nothing else.
func TestDictIndexAgreesWithScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var value func(depth int) Value
	value = func(depth int) Value {
		switch rng.IntN(9) {
		case 0:
			return int64(rng.IntN(7) - 3)
		case 1:
			return float64(rng.IntN(7)-3) / 2 // halves: some whole, some not
		case 2:
			return rng.IntN(2) == 0
		case 3:
			return nil
		case 4:
			return []string{"a", "b", "1", ""}[rng.IntN(4)]
		case 5:
			return new(big.Int).Lsh(big.NewInt(int64(rng.IntN(3)+1)), 70)
		case 6:
			return math.Ldexp(float64(rng.IntN(3)+1), 70) // equal to case 5's
		case 7:
			return []float64{math.NaN(), math.Inf(1), math.Copysign(0, -1)}[rng.IntN(3)]
		}
		if depth > 2 {
			return int64(0)
		}
		tu := make(Tuple, rng.IntN(3))
		for i := range tu {
			tu[i] = value(depth + 1)
		}
		return tu
	}
	indexed := 0
	for round := range 200 {
		d := NewDict(0)
		var keys []Value
		for range 40 {
			k := value(0)
			if i, err := d.lookup(k); err != nil {
				t.Fatal(err)
			} else if i < 0 {
				d.appendEntry(k, nil)
				keys = append(keys, k)
			}
		}
		if d.idx != nil {
			indexed++
		}
		for range 100 {
			probe := value(0)
			want := -1
			for i, k := range keys {
				if Equal(k, probe) {
					want = i
					break
				}
			}
			got, err := d.lookup(probe)
			if err != nil || got != want {
				t.Fatalf("round %d: looking up %s in %s: index at %d (%v), scan at %d", round, Repr(probe), Repr(Tuple(keys)), got, err, want)
			}
		}
	}
	if indexed < 150 {
		t.Fatalf("%d rounds of 200 made a dict large enough to be indexed", indexed)
	}
}
