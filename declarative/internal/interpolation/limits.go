package interpolation

import "strings"

// maxText is the longest text an evaluation makes: what a template renders, and a string
// that an operation builds (~, +, join, replace, str() of a list or dict). A template's text
// is a URL, a header, a request body or a field of a record: the largest the corpus renders
// are records' fields, well under a megabyte. Python would fill the memory: a manifest's
// {% set x = x ~ x %} ten times over from a megabyte made a gigabyte in a second, and a list
// that holds itself twice over at each of a few levels ([a, a] of [b, b] …) prints as
// terabytes.
const maxText = 64 << 20

// maxIterations bounds the iterations of the for loops of one evaluation: as many as a loop
// over the longest list the evaluator makes (maxRepeat). Nested loops over such lists, each
// iteration about 4 µs, would otherwise run for days, deaf to the read's context.
const maxIterations = maxRepeat

// maxMade bounds the text (and list items) that the operations of one evaluation make, and
// that its filters and methods read, in all: sixteen of the longest texts. Within
// maxIterations, a loop whose body doubles a 32 MiB text, or hashes it, a million times
// would otherwise copy or read 32 TB.
const maxMade = 16 * maxText

// errTextTooLong is what an evaluation whose text would pass maxText fails with.
var errTextTooLong = newError("MemoryError", "text longer than 64 MiB: this evaluator makes no longer string")

// errTooManyIterations is what an evaluation whose loops would pass maxIterations fails with.
var errTooManyIterations = newError("MemoryError", "for loops of more than 1,048,576 iterations in one evaluation: this evaluator runs no more")

// checkText fails once a text of n bytes is too long.
func checkText(n int) error {
	if n > maxText {
		return errTextTooLong
	}
	return nil
}

// checkReplace fails when replacing old by repl in s (at most n times, all when n < 0)
// would make a text too long, before it is made.
func checkReplace(s, old, repl string, n int) error {
	if len(repl) <= len(old) {
		return nil
	}
	count := strings.Count(s, old)
	if n >= 0 && n < count {
		count = n
	}
	return checkText(len(s) + count*(len(repl)-len(old)))
}

// errListTooLong is what a concatenation of lists or tuples longer than maxRepeat fails with.
var errListTooLong = newError("MemoryError", "list longer than 1,048,576 items: this evaluator makes no longer list")

// iterate counts one iteration of a for loop and fails past maxIterations.
func (f *frame) iterate() error {
	if f.iterations++; f.iterations > maxIterations {
		return errTooManyIterations
	}
	return nil
}

// printsTooLong reports whether v prints longer than maxText, as the repr of a list that
// holds another many times over does (JSON prints it as long, give or take its escapes).
func printsTooLong(v Value) bool {
	switch x := v.(type) {
	case *generator:
		return len(reprInto(nil, x.items, true, nil)) > maxText
	case []Value, Tuple, *Dict:
		return len(reprInto(nil, v, true, nil)) > maxText
	}
	return false
}

// made counts the value an operation made or read against maxMade, passing v and err through.
func (f *frame) made(v Value, err error) (Value, error) {
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && len(s) > maxText {
		return nil, errTextTooLong // text of a value whose print reprInto cut
	}
	if f.madeBytes += sizeOf(v); f.madeBytes > maxMade {
		return nil, errTooMuchMade
	}
	return v, nil
}

// errTooMuchMade is what an evaluation whose operations made more than maxMade fails with.
var errTooMuchMade = newError("MemoryError", "operations that make or read more than 1 GiB of text in one evaluation: this evaluator does no more")

// sizeOf is the length of a string, list or tuple (0 for other values).
func sizeOf(v Value) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []Value:
		return len(x)
	case Tuple:
		return len(x)
	}
	return 0
}

// maxCompared bounds the items of lists, tuples and dicts that the comparisons of one
// evaluation visit (==, !=, in, <, sort, min, max, index, count), each comparison counting
// as one more: a second or two of comparing (17 ns an item, deep lists on a loaded 2-core
// machine), and a sort of a million values, or a loop of a million iterations making 60
// comparisons each. Python compares two lists item by item, and lists that hold one list many times
// over (a million lists of a million items, built in a moment from one) compare in 10^12
// steps, for hours, deaf to the read's context; the evaluator skips only what Python skips,
// an item compared with itself.
const maxCompared = 1 << 26

// errTooMuchCompared is what an evaluation whose comparisons would pass maxCompared fails with.
var errTooMuchCompared = newError("MemoryError", "comparisons that visit more than 67,108,864 items in one evaluation: this evaluator does no more")

// budget is what comparisons may still visit. A nil budget has no bound.
type budget struct {
	left int
	over bool // the budget ran out: the comparison's result is void
}

// spend takes n items from the budget and reports whether they were there.
func (bg *budget) spend(n int) bool {
	if bg == nil {
		return true
	}
	if bg.left -= n; bg.left < 0 {
		bg.over = true
	}
	return !bg.over
}

// bounded runs a comparison with what is left of the evaluation's budget, and fails once
// it is spent. The comparison itself counts as an item: index and count compare each item of
// a list with one value, scalars that visit nothing.
func (f *frame) bounded(cmp func(*budget) (bool, error)) (bool, error) {
	bg := budget{left: maxCompared - f.compared}
	ok, err := false, error(nil)
	if bg.spend(1) {
		ok, err = cmp(&bg)
	}
	f.compared = maxCompared - bg.left
	if bg.over {
		return false, errTooMuchCompared
	}
	return ok, err
}

// compare is Python's a <op> b within an evaluation. It is bounded's work written out: a
// closure here cost a template's comparison an allocation and a third of its time.
func (f *frame) compare(op string, a, b Value) (bool, error) {
	bg := budget{left: maxCompared - f.compared - 1}
	if bg.left < 0 {
		return false, errTooMuchCompared
	}
	ok, err := bg.compare(op, a, b)
	f.compared = maxCompared - bg.left
	if bg.over {
		return false, errTooMuchCompared
	}
	return ok, err
}
