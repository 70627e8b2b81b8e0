package interpolation

import "unsafe"

// Converting a string, an int64 or a float64 to an interface allocates a copy of it on the
// heap, one allocation per value. A JSON document holds dozens, so the decoder keeps them in
// slabs, one allocation per document and kind, and builds interfaces that point into the slab.
// This is sound because slab entries are written once, before their interface is made, and
// never again; the garbage collector keeps a slab alive while any value points into it (a
// slab that append moves leaves the old array to the values that point into it).

// eface is the layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	stringType  = typeOf("")
	int64Type   = typeOf(int64(0))
	float64Type = typeOf(float64(0))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

func makeIface(typ, data unsafe.Pointer) Value {
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, data
	return v
}

// slabs hold the scalars of one decoded document.
type slabs struct {
	strs   []string
	ints   []int64
	floats []float64
}

func (s *slabs) str(v string) Value {
	if len(s.strs) == cap(s.strs) {
		s.strs = make([]string, 0, max(16, cap(s.strs)*2))
	}
	s.strs = append(s.strs, v)
	return makeIface(stringType, unsafe.Pointer(&s.strs[len(s.strs)-1]))
}

func (s *slabs) int(v int64) Value {
	if v >= 0 && v < 256 {
		return v // the runtime has these preallocated
	}
	if len(s.ints) == cap(s.ints) {
		s.ints = make([]int64, 0, max(8, cap(s.ints)*2))
	}
	s.ints = append(s.ints, v)
	return makeIface(int64Type, unsafe.Pointer(&s.ints[len(s.ints)-1]))
}

func (s *slabs) float(v float64) Value {
	if len(s.floats) == cap(s.floats) {
		s.floats = make([]float64, 0, max(8, cap(s.floats)*2))
	}
	s.floats = append(s.floats, v)
	return makeIface(float64Type, unsafe.Pointer(&s.floats[len(s.floats)-1]))
}
