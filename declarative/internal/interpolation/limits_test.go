package interpolation

import (
	"strings"
	"testing"
	"time"
)

// TestHostileTemplatesFailBounded evaluates templates a hostile manifest could hold, each of
// which made gigabytes to terabytes of text or ran for hours, deaf to the read's context:
// each must fail with a MemoryError instead.
func TestHostileTemplatesFailBounded(t *testing.T) {
	const mib = "{% set x = 'a'*1048576 %}"
	const x32 = mib + "{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}{% set x = x ~ x %}"
	tenfold := "{% set a = ['xxxxxxxxxx']*10 %}"
	prev := "a"
	for _, name := range strings.Split("bcdefghij", "") {
		tenfold += "{% set " + name + " = [" + strings.Repeat(prev+",", 9) + prev + "] %}"
		prev = name
	}
	for _, tc := range []struct{ name, src string }{
		{"nested loops", "{% for a in [0]*1048576 %}{% for b in [0]*1048576 %}{% endfor %}{% endfor %}"},
		{"nested loops rendering", "{% for a in [0]*1000 %}{% for b in [0]*1000 %}{% for c in [0]*100 %}xxxxxxxxxx{% endfor %}{% endfor %}{% endfor %}"},
		{"doubling", mib + strings.Repeat("{% set x = x ~ x %}", 12) + "{{ x|length }}"},
		{"doubling with +", mib + strings.Repeat("{% set x = x + x %}", 12) + "{{ x|length }}"},
		{"list doubling", "{% set x = [0]*1048576 %}{% set x = x + x %}{{ x|length }}"},
		{"shared lists printed", "{{ [[0]*1048576]*1048576 }}"},
		{"shared lists as json", "{{ ([[0]*1048576]*1048576)|tojson|length }}"},
		{"shared lists as string", "{{ ([[0]*1048576]*1048576)|string|length }}"},
		{"shared lists concatenated", "{{ ([[0]*1048576]*1048576) ~ '' }}"},
		{"tenfold lists printed", tenfold + "{{ j }}"},
		{"join", "{{ (['a'*1048576]*1048576)|join|length }}"},
		{"join method", "{{ ''.join(['a'*1048576]*1048576)|length }}"},
		{"replace", "{{ ('a'*1048576)|replace('a', 'a'*100)|length }}"},
		{"replace method", "{{ ('a'*1048576).replace('a', 'a'*100)|length }}"},
		{"sum of lists", "{{ ([[0]*1048576]*1048576)|sum(start=[])|length }}"},
		{"copies in a loop", x32 + "{% for a in [0]*1048576 %}{% set y = x ~ x %}{% endfor %}"},
		{"shared lists hashed", "{{ ([[0]*1048576]*1048576)|hash }}"},
		{"shared lists lower-cased", "{{ ([[0]*1048576]*1048576)|lower|length }}"},
		{"hashes in a loop", x32 + "{% for a in [0]*1048576 %}{% set y = x|hash('md5') %}{% endfor %}"},
		// Lists built apart share nothing with each other, so Python compares them item by item:
		// 10^12 steps. So does this evaluator, until its comparisons' budget is spent.
		{"lists built apart compared", "{% set a = [[0]*1048576]*1048576 %}{% set b = [[0]*1048576]*1048576 %}{{ a == b }}"},
		{"lists built apart ordered", "{% set a = [[0]*1048576]*1048576 %}{% set b = [[0]*1048576]*1048576 %}{{ a < b }}"},
		{"lists built apart sorted", "{{ ([[0]*1048576, [0]*1048576]*524288)|sort|length }}"},
		{"lists built apart searched", "{% set a = [[0]*1048576]*1048576 %}{{ [0]*1048575 + [1] in a }}"},
		{"lists built apart tested", "{% set a = [[0]*1048576]*1048576 %}{{ a is eq([[0]*1048576]*1048576) }}"},
		{"lists built apart counted", "{% set a = [[0]*1048576]*1048576 %}{{ a.count([0]*1048576) }}"},
		{"counts in a loop", "{% set l = [0]*1048576 %}{% for i in l %}{% set _ = l.count(1) %}{% endfor %}"},
		{"searches in a loop", "{% set l = [0]*1048576 %}{% for i in l %}{% set _ = 1 in l %}{% endfor %}"},
		{"max of lists built apart", "{{ max([[0]*1048576, [0]*1048576]*524288) }}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each spends seconds of one core
			start := time.Now()
			tm, err := Compile(tc.src)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			vs := Vars{Now: time.Now}
			v, err := tm.Eval(&vs)
			if err == nil || !isType(err, "MemoryError") {
				t.Fatalf("got %.80s, %v; want a MemoryError", Repr(v), err)
			}
			t.Logf("%v in %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestLargeTemplatesWithinBounds checks that what real templates do with large values still
// works: a loop over a million items, a 16 MiB text rendered, joined and printed; and that
// lists holding one list a million times over compare and sort in a moment, as in Python
// (they compared their items by content: 10^12 steps, for hours).
func TestLargeTemplatesWithinBounds(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want Value
	}{
		{"{% set n = namespace(c=0) %}{% for a in [1]*1048576 %}{% set n.c = n.c + a %}{% endfor %}{{ n.c }}", int64(1 << 20)},
		{"{% set x = 'a'*1048576 %}{{ (x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x ~ x)|length }}", int64(16 << 20)},
		{"{{ (['a'*1048576]*16)|join|length }}", int64(16 << 20)},
		{"{% set a = [[0]*1048576]*1048576 %}{{ a == a[:] }}", true},
		{"{% set a = [[0]*1048576]*1048576 %}{{ a in [a[:]] }}", true},
		{"{{ ([[0]*1048576]*1048576)|sort|length }}", int64(1 << 20)},
		{"{{ ([[0]*1048576]*4)|string|length }}", int64(6 + 2 + 3*2 + 4*(3*(1<<20)-2+2))}, // """[[0, …], …]"""
		{"{% set a = [[0]*1048576]*1048576 %}{{ [0]*1048576 in a }}", true},               // one list built apart: a million items
		{"{% set a = [[0]*1048576]*1048576 %}{{ a.index([0]*1048576) }}", int64(0)},
		{"{% set a = [[0]*1048576]*1048576 %}{{ a.count(a[0]) }}", int64(1 << 20)}, // the same list each time: nothing visited
		{"{% set l = [0]*1048576 %}{% for i in l %}{% set _ = i in [1, 2, 3] %}{% endfor %}{{ l|sort|length }}", int64(1 << 20)},
	} {
		tm, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("compile %q: %v", tc.src, err)
		}
		vs := Vars{Now: time.Now}
		v, err := tm.Eval(&vs)
		if err != nil || !Equal(v, tc.want) {
			t.Errorf("%.60s: got %v, %v; want %v", tc.src, v, err, tc.want)
		}
	}
}
