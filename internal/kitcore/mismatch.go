package kitcore

import (
	"fmt"
	"reflect"
	"strings"
)

// Mismatch says why c, given as a Go connector, implements none of ifaces
// (interface types such as kit.Source and kit.Destination), for the one it
// comes closest to: a pointer to it would do (its methods have pointer
// receivers), or these methods are missing, or have another signature
// (Read taking []protocol.State instead of the raw state, say), each with
// the signature wanted. kit.Serve takes any value, so the compiler cannot
// tell; without this the user learnt only that it was neither.
// It returns "" when c implements one of ifaces.
func Mismatch(c any, ifaces ...reflect.Type) string {
	if c == nil {
		return "it is nil"
	}
	t := reflect.TypeOf(c)
	for _, it := range ifaces {
		if t.Implements(it) {
			return ""
		}
	}
	if t.Kind() != reflect.Pointer {
		for _, it := range ifaces {
			if reflect.PointerTo(t).Implements(it) {
				return fmt.Sprintf("its methods have pointer receivers, so *%s is a %s: pass a pointer (&%s{})", t, it, t)
			}
		}
	}
	var best []string
	var bestIface reflect.Type
	for _, it := range ifaces {
		var problems []string
		for i := range it.NumMethod() {
			want := it.Method(i)
			got, ok := t.MethodByName(want.Name)
			switch {
			case !ok:
				problems = append(problems, "it has no method "+want.Name+" "+signature(want.Type))
			case reflect.ValueOf(c).Method(got.Index).Type() != want.Type:
				problems = append(problems, fmt.Sprintf("its %s is %s, where %s's is %s", want.Name,
					signature(reflect.ValueOf(c).Method(got.Index).Type()), it, signature(want.Type)))
			}
		}
		if bestIface == nil || len(problems) < len(best) {
			best, bestIface = problems, it
		}
	}
	if bestIface == nil {
		return ""
	}
	return "as a " + bestIface.String() + ", " + strings.Join(best, "; ")
}

// signature is a method's type without the leading "func".
func signature(t reflect.Type) string {
	return strings.TrimPrefix(t.String(), "func")
}
