package interpolation

// Object is a Python object of a class the CDK hands its templates that is
// neither a plain value nor a dict: the requests.Response of an async job's
// creation, kept in a stream slice
// (stream_slice['create_job_response'].json()), or a StreamSlice with its
// extra_fields (stream_slice.extra_fields['url']). Attributes are looked
// up first, then methods; an object with Items is also a Mapping of them,
// as a StreamSlice is of its partition and cursor values.
type Object struct {
	// Class is the Python class name, as type errors print it.
	Class string
	// Attrs are the attributes, Methods the methods (positional arguments
	// only).
	Attrs   map[string]Value
	Methods map[string]func(args []Value) (Value, error)
	// Items, when set, makes the object a Mapping: obj[k], obj.get(k),
	// obj.keys() and truthiness are those of Items.
	Items *Dict
	// Text is the object's repr (and str); "<Class object>" when empty.
	Text string
}

// objectAttribute is o's attribute or method called name.
func objectAttribute(o *Object, name string) (Value, bool) {
	if v, ok := o.Attrs[name]; ok {
		return v, true
	}
	if m := objectMethod(o, name); m != nil {
		return &callable{name: name, fn: func(f *frame, args []Value, kws []kwValue) (Value, error) {
			return m(f, o, args, kws)
		}}, true
	}
	return nil, false
}

// objectMethod is o's method called name: its own, else a dict method of
// its Items.
func objectMethod(o *Object, name string) method {
	if fn := o.Methods[name]; fn != nil {
		return func(_ *frame, _ Value, args []Value, kws []kwValue) (Value, error) {
			if len(kws) > 0 {
				return nil, typeErrorf("%s() takes no keyword arguments", name)
			}
			return fn(args)
		}
	}
	if o.Items != nil {
		if m := dictMethods[name]; m != nil {
			return func(f *frame, _ Value, args []Value, kws []kwValue) (Value, error) {
				return m(f, o.Items, args, kws)
			}
		}
	}
	return nil
}

// objectGetitem is Python's o[key].
func objectGetitem(o *Object, key Value) (Value, error) {
	if o.Items == nil {
		return nil, typeErrorf("'%s' object is not subscriptable", o.Class)
	}
	return pyGetitem(o.Items, key)
}

// objectRepr is repr(o).
func objectRepr(b []byte, o *Object) []byte {
	if o.Text != "" {
		return append(b, o.Text...)
	}
	return append(b, "<"+o.Class+" object>"...)
}
