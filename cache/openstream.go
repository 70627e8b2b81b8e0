package cache

import (
	"bytes"
	"encoding/json"

	"github.com/x/goairbyte/cache/internal/backend"
	"github.com/x/goairbyte/internal/jsonscan"
	"github.com/x/goairbyte/protocol"
)

// openRecord is a record of an open stream as its batch takes it: the data
// becomes {"<key or cursor field>": value, …, "_airbyte_data": data}, so
// that the backends load the copies into their columns and the data whole
// into _airbyte_data by the path every stream takes. A field the data lacks
// is left out (its column is NULL); a field given twice gives its first
// value, as the backends read one. Data that is not an object is passed as
// it is, for the batch to refuse.
func (l *load) openRecord(p *streamPlan, rec *protocol.Record) *protocol.Record {
	d := rec.Data
	i := jsonscan.SkipWS(d, 0)
	if i == len(d) || d[i] != '{' {
		return rec
	}
	fields := p.table.Columns[:len(p.table.Columns)-1] // the last is _airbyte_data
	out := make([]byte, 0, len(d)+len(backend.ColumnData)+8+16*len(fields))
	out = append(out, '{')
	var members map[string]json.RawMessage // the data decoded, when the scan cannot tell
	for _, c := range fields {
		v, scan := jsonscan.Field(d, c.Field, 0)
		if scan == jsonscan.FieldUnknown {
			if members == nil {
				var ok bool
				if members, ok = firstMembers(d); !ok {
					return rec
				}
			}
			v, scan = members[c.Field], jsonscan.FieldAbsent
			if v != nil {
				scan = jsonscan.FieldFound
			}
		}
		if scan == jsonscan.FieldFound {
			out = jsonscan.AppendString(out, c.Field)
			out = append(append(out, ':'), v...)
			out = append(out, ',')
		}
	}
	out = append(out, `"`+backend.ColumnData+`":`...)
	out = append(append(out, d[i:]...), '}')
	open := *rec
	open.Data = out
	return &open
}

// firstMembers decodes the members of a JSON object, keeping the first
// value of a key given twice; ok is false when obj is not one.
func firstMembers(obj []byte) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	members := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if k, _ := tok.(string); members[k] == nil {
			members[k] = v
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	return members, true
}
