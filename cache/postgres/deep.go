package postgres

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/valyala/fastjson"
	"github.com/x/goairbyte/cache/internal/backend"
)

// Records are parsed with fastjson, which refuses JSON nested deeper than
// fastjson.MaxDepth (300) levels; Python connectors send records nested
// far deeper (the protocol decoder passes up to 10,000). Such a record
// takes a slower path: its top-level members are split here, scalars are
// given to the encoder as fastjson values, and objects and arrays are kept
// as their raw JSON text, which jsonb and text columns take as it is.

// maxJSONDepth is the deepest value a jsonb column is given. Measured on
// PostgreSQL 15 with its default max_stack_depth (2MB): jsonb input of
// 10,000 nested arrays or objects parses, 20,000 fails the statement with
// "stack depth limit exceeded" (and would fail the whole COPY). The
// protocol decoder refuses lines nested 10,000 deep, so only a record
// built by hand can be deeper: its value is NULL, with a note.
const maxJSONDepth = 10_000

// tooDeep reports whether fastjson refused data for its nesting alone.
func tooDeep(err error) bool { return strings.Contains(err.Error(), "too big depth") }

// errNotObject is the error of record data that is not a JSON object.
var errNotObject = errors.New("record data is not a valid JSON object")

// shorten cuts fastjson's error text, which repeats itself for every level
// of nesting and quotes the rest of the record, to its first line's start.
func shorten(s string) string {
	const most = 200
	if len(s) <= most {
		return s
	}
	return strings.ToValidUTF8(s[:most], "") + "…"
}

// splitDeep fills bt.vals and bt.raw from data, a JSON object too deep for
// fastjson: scalars as fastjson values, objects and arrays as raw JSON.
func (bt *batch) splitDeep(data []byte) error {
	if bt.raw == nil {
		bt.raw = make([][]byte, len(bt.t.Columns))
		bt.scalars = make([]fastjson.Parser, len(bt.t.Columns))
	}
	clear(bt.raw)
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errNotObject
	}
	for i = skipWS(data, i+1); i < len(data) && data[i] != '}'; {
		kEnd := skipString(data, i)
		if kEnd < 0 {
			return errNotObject
		}
		var key string
		if json.Unmarshal(data[i:kEnd], &key) != nil {
			return errNotObject
		}
		if i = skipWS(data, kEnd); i >= len(data) || data[i] != ':' {
			return errNotObject
		}
		i = skipWS(data, i+1)
		end, depth := skipDeepValue(data, i)
		if end < 0 {
			return errNotObject
		}
		if col, ok := bt.index[key]; ok && bt.vals[col] == nil && bt.raw[col] == nil { // the first of a repeated member
			if err := bt.setMember(col, data[i:end], depth); err != nil {
				return err
			}
		}
		if i = skipWS(data, end); i < len(data) && data[i] == ',' {
			i = skipWS(data, i+1)
		} else if i >= len(data) || data[i] != '}' {
			return errNotObject
		}
	}
	if i >= len(data) || skipWS(data, i+1) != len(data) {
		return errNotObject
	}
	return nil
}

// unfit stands in bt.raw for an object or array a jsonb column cannot
// take: nested deeper than maxJSONDepth, or not valid JSON.
var unfit = []byte{}

// setMember gives column col the member value v, nested depth levels.
func (bt *batch) setMember(col int, v []byte, depth int) error {
	switch v[0] {
	case '{', '[':
		bt.raw[col] = v
		if depth > maxJSONDepth || !json.Valid(v) {
			bt.raw[col] = unfit
		}
	case '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// Parsed by the column's own parser, as the value of a record
		// that is not too deep: a fastjson.Arena's string is the text Go's
		// strconv.Quote makes of it, whose escapes (\x01, \a, \U000e0001)
		// fastjson does not read back, so a string holding a control
		// character was stored as the text of its escapes.
		sv, err := bt.scalars[col].ParseBytes(v)
		if err != nil {
			return errNotObject
		}
		bt.vals[col] = sv
	default:
		return errNotObject
	}
	return nil
}

// appendRaw appends the raw JSON object or array v as a column of type t:
// jsonb and text take its text, no other type takes it.
func appendRaw(out []byte, t backend.Type, v []byte) ([]byte, status) {
	switch {
	case len(v) == 0: // unfit
		return out, misfit
	case t == backend.TypeJSON:
		if escapesNUL(v) {
			return out, misfit
		}
		return append(append(out, 1), v...), valid // jsonb version 1, then the text
	case t == backend.TypeString:
		return append(out, v...), valid
	}
	return out, misfit
}

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipString returns the index after the string that opens at b[i], or -1.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipDeepValue returns the index after the value that starts at b[i], and
// how deeply it nests, without a limit on the depth; -1 if it does not end.
// It matches brackets and skips strings only: json.Valid checks the rest
// where it matters.
func skipDeepValue(b []byte, i int) (end, depth int) {
	if i >= len(b) {
		return -1, 0
	}
	switch b[i] {
	case '"':
		return skipString(b, i), 0
	case '{', '[':
	default: // a number or a literal: up to the next delimiter
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
			i++
		}
		return i, 0
	}
	var open []byte // the closing bracket of each open container
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			if i = skipString(b, i); i < 0 {
				return -1, 0
			}
			continue
		case '{':
			open = append(open, '}')
		case '[':
			open = append(open, ']')
		case '}', ']':
			if len(open) == 0 || open[len(open)-1] != c {
				return -1, 0
			}
			open = open[:len(open)-1]
			if len(open) == 0 {
				return i + 1, depth
			}
		}
		depth = max(depth, len(open))
		i++
	}
	return -1, 0
}
