package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/x/goairbyte/internal/jsonscan"
)

// Encoder writes protocol messages, one per line.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder writing to w. Each Encode is one Write call.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes m as one line (see [AppendMessage]).
func (e *Encoder) Encode(m *Message) error {
	b, err := AppendMessage(e.buf[:0], m)
	if err != nil {
		return err
	}
	e.buf = b
	_, err = e.w.Write(e.buf)
	return err
}

// AppendRecord appends r to dst as one RECORD message line, newline
// included, and returns the extended buffer. It is the hot path of
// connectors that emit records: no reflection, no validation; r.Data is
// copied verbatim and must be a JSON object (what the Decoder returns is).
// The output is what [AppendMessage] writes for the same record.
func AppendRecord(dst []byte, r *Record) []byte {
	dst = append(dst, `{"type":"RECORD","record":{`...)
	if r.Namespace != "" {
		dst = append(dst, `"namespace":`...)
		dst = jsonscan.AppendString(dst, r.Namespace)
		dst = append(dst, ',')
	}
	dst = append(dst, `"stream":`...)
	dst = jsonscan.AppendString(dst, r.Stream)
	dst = append(dst, `,"data":`...)
	if len(r.Data) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, r.Data...)
	}
	dst = append(dst, `,"emitted_at":`...)
	dst = strconv.AppendInt(dst, r.EmittedAt, 10)
	if r.Meta != nil {
		dst = append(dst, `,"meta":`...)
		dst, _ = appendValue(dst, reflect.ValueOf(r.Meta).Elem(), false)
	}
	if r.FileReference != nil {
		dst = append(dst, `,"file_reference":`...)
		dst, _ = appendValue(dst, reflect.ValueOf(r.FileReference).Elem(), false)
	}
	return append(dst, "}}\n"...)
}

// AppendMessage appends m to dst as one protocol line, newline included.
// Fields are written in declaration order with their omitempty rules, like
// encoding/json, but raw JSON blobs (record data, states, schemas, configs)
// are written byte for byte instead of being re-compacted, so opaque
// connector data round-trips exactly. Blobs are validated; an invalid one,
// a non-finite number, an unparsed line or a message whose Type's payload
// is missing (a record's data must be an object) is an error and leaves dst
// as it was.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if m.Unparsed != nil {
		return dst, errors.New("protocol: cannot encode an unparsed line as a message; write its Unparsed bytes as they are")
	}
	if !m.Type.known() || !m.payloadPresent() {
		return dst, fmt.Errorf("protocol: cannot encode a message of type %q without its payload; set the field that the type names", m.Type)
	}
	if m.Type == TypeRecord && m.payloadOnlyRecord() {
		if !jsonscan.Valid(m.Record.Data) {
			return dst, fmt.Errorf("protocol: record data of stream %q is not valid JSON", m.Record.Stream)
		}
		return AppendRecord(dst, m.Record), nil
	}
	out, err := appendValue(dst, reflect.ValueOf(m).Elem(), true)
	if err != nil {
		return dst, err
	}
	return append(out, '\n'), nil
}

// payloadOnlyRecord reports whether m has no payload other than its record,
// so that AppendRecord writes all of it.
func (m *Message) payloadOnlyRecord() bool {
	return m.Log == nil && m.Spec == nil && m.ConnectionStatus == nil && m.Catalog == nil &&
		m.State == nil && m.Trace == nil && m.Control == nil && m.DestinationCatalog == nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// appendValue writes v as JSON with encoding/json's rules for the kinds the
// protocol types use; json.RawMessage is written verbatim (validated when
// validate is set). It exists because encoding/json re-compacts raw
// messages, which would change opaque blobs.
func appendValue(dst []byte, v reflect.Value, validate bool) ([]byte, error) {
	if v.Type() == rawMessageType {
		raw := v.Bytes()
		if len(raw) == 0 {
			return append(dst, "null"...), nil
		}
		if validate && !jsonscan.Valid(raw) {
			return dst, errors.New("protocol: a raw JSON field holds invalid JSON")
		}
		if bytes.ContainsAny(raw, "\r\n") {
			// A raw newline can only be whitespace (JSON escapes it inside
			// strings), but it would break the one-message-per-line framing:
			// compact such blobs, keep every other one byte for byte.
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil {
				return dst, fmt.Errorf("protocol: a raw JSON field holds invalid JSON: %w", err)
			}
			return append(dst, b.Bytes()...), nil
		}
		return append(dst, raw...), nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		return appendValue(dst, v.Elem(), validate)
	case reflect.String:
		return jsonscan.AppendString(dst, v.String()), nil
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool()), nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.AppendInt(dst, v.Int(), 10), nil
	case reflect.Float64:
		return appendFloat(dst, v.Float())
	case reflect.Slice:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i := range v.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, v.Index(i), validate); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case reflect.Struct:
		return appendStruct(dst, v, validate)
	}
	return dst, fmt.Errorf("protocol: cannot encode a %s", v.Type())
}

func appendStruct(dst []byte, v reflect.Value, validate bool) ([]byte, error) {
	t := v.Type()
	dst = append(dst, '{')
	first := true
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		if tag == "-" || !t.Field(i).IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if opts == "omitempty" && isEmpty(fv) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonscan.AppendString(dst, name)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, fv, validate); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// isEmpty is encoding/json's omitempty rule for the kinds used here.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer:
		return v.IsNil()
	case reflect.String, reflect.Slice:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int64, reflect.Int32:
		return v.Int() == 0
	case reflect.Float64:
		return v.Float() == 0
	}
	return false
}

// appendFloat formats like encoding/json: shortest representation, plain
// notation unless the exponent is extreme.
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, fmt.Errorf("protocol: cannot encode the number %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Shorten e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}
