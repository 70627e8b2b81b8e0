package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// ReplaceStrings returns the JSON value raw, compacted, with the strings
// that are values (not an object's keys) replaced as replace says: it is
// called with each string's path (".credentials.token", ".replicas[1]")
// and decoded value, and returns the new value and true, or false to keep
// the string. Everything else stays as written: the keys' order, numbers,
// escapes. Decoding into a map and encoding again would sort the keys, and
// a config's order is meaningful (a manifest injected in a connector's
// config builds query strings and bodies in it). raw must hold one JSON
// value and nothing after it.
func ReplaceStrings(raw []byte, replace func(path, value string) (string, bool, error)) ([]byte, error) {
	var out []byte
	copied := 0
	err := eachStringValue(raw, func(path string, start, end int, value string) error {
		r, ok, err := replace(path, value)
		if err != nil || !ok {
			return err
		}
		out = append(out, raw[copied:start]...)
		out = AppendString(out, r)
		copied = end
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, raw[copied:]...)
	var compact bytes.Buffer
	if err := json.Compact(&compact, out); err != nil {
		return nil, err
	}
	return compact.Bytes(), nil
}

// eachStringValue calls f with every string of the JSON value raw that is
// a value, its path, and the bytes raw[start:end] that encode it, quotes
// included. It stops at the end of the first value.
func eachStringValue(raw []byte, f func(path string, start, end int, value string) error) error {
	type level struct {
		object bool
		atKey  bool   // an object's next token is a key (or its end)
		key    string // an object's current key
		index  int    // an array's current index
	}
	var stack []level
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	prev := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		start, end := prev, int(dec.InputOffset())
		prev = end
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				stack = append(stack, level{object: t == '{', atKey: t == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].atKey {
				stack[n-1].key, stack[n-1].atKey = t, false
				continue
			}
			// Only blanks, ':' and ',' come between the last token and
			// this one: the first quote opens it.
			start += bytes.IndexByte(raw[start:end], '"')
			var path strings.Builder
			for _, l := range stack {
				if l.object {
					path.WriteString("." + l.key)
				} else {
					fmt.Fprintf(&path, "[%d]", l.index)
				}
			}
			if err := f(path.String(), start, end, t); err != nil {
				return err
			}
		}
		// A value ended.
		if len(stack) == 0 {
			return nil
		}
		if top := &stack[len(stack)-1]; top.object {
			top.atKey = true
		} else {
			top.index++
		}
	}
}
