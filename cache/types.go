package cache

import (
	"encoding/json"
	"strings"

	"github.com/x/goairbyte/cache/internal/backend"
)

// propSchema is the part of a JSON schema property the type mapping reads.
type propSchema struct {
	Type        json.RawMessage   `json:"type"`
	Format      string            `json:"format"`
	AirbyteType string            `json:"airbyte_type"`
	OneOf       []json.RawMessage `json:"oneOf"`
	AnyOf       []json.RawMessage `json:"anyOf"`
}

// columnType maps one property of a JSON schema to a column type. Nullable
// types ("type": ["null","integer"]) map like their non-null type; unions of
// several types, oneOf/anyOf of different types and anything unknown become
// JSON so that no value is ever dropped.
func columnType(prop json.RawMessage) backend.Type {
	var p propSchema
	if len(prop) == 0 || json.Unmarshal(prop, &p) != nil {
		return backend.TypeJSON
	}
	switch types := p.nonNullTypes(); len(types) {
	case 0:
		return p.untypedColumnType()
	case 1:
		return p.namedColumnType(types[0])
	}
	return backend.TypeJSON
}

// nonNullTypes lists the property's "type", one name or several, without
// "null".
func (p *propSchema) nonNullTypes() []string {
	var types []string
	if len(p.Type) > 0 {
		var one string
		if json.Unmarshal(p.Type, &one) == nil {
			types = []string{one}
		} else {
			_ = json.Unmarshal(p.Type, &types)
		}
	}
	nonNull := types[:0:0]
	for _, t := range types {
		if t != "null" {
			nonNull = append(nonNull, t)
		}
	}
	return nonNull
}

// untypedColumnType is the type of a property with no usable "type": a
// oneOf/anyOf whose branches all agree still has one; airbyte_type alone
// is a hint too.
func (p *propSchema) untypedColumnType() backend.Type {
	var first backend.Type = -1
	for _, a := range append(p.OneOf, p.AnyOf...) {
		var ap propSchema
		if json.Unmarshal(a, &ap) == nil && string(ap.Type) == `"null"` {
			continue
		}
		t := columnType(a)
		if first == -1 {
			first = t
		} else if t != first {
			return backend.TypeJSON
		}
	}
	if first != -1 {
		return first
	}
	if p.AirbyteType == "integer" {
		return backend.TypeInteger
	}
	if t, ok := p.airbyteTimestamp(); ok {
		return t
	}
	return backend.TypeJSON
}

// airbyteTimestamp is the type of a property whose airbyte_type says it is
// a timestamp, with or without a time zone.
func (p *propSchema) airbyteTimestamp() (backend.Type, bool) {
	switch p.AirbyteType {
	case "timestamp_with_timezone":
		return backend.TypeTimestampTZ, true
	case "timestamp_without_timezone":
		return backend.TypeTimestamp, true
	}
	return 0, false
}

// namedColumnType is the type of a property of the one JSON type name.
func (p *propSchema) namedColumnType(name string) backend.Type {
	switch name {
	case "string":
		return p.stringColumnType()
	case "integer":
		if p.AirbyteType == "big_integer" {
			return backend.TypeString // may exceed 64 bits; kept exact as text
		}
		return backend.TypeInteger
	case "number":
		if p.AirbyteType == "integer" {
			return backend.TypeInteger
		}
		return backend.TypeNumber
	case "boolean":
		return backend.TypeBoolean
	}
	return backend.TypeJSON
}

// stringColumnType is the type of a string property: by its format, then
// by its airbyte_type.
func (p *propSchema) stringColumnType() backend.Type {
	switch strings.ToLower(p.Format) {
	case "date-time":
		if p.AirbyteType == "timestamp_without_timezone" {
			return backend.TypeTimestamp
		}
		return backend.TypeTimestampTZ
	case "date":
		return backend.TypeDate
	case "time":
		if p.AirbyteType == "time_with_timezone" {
			return backend.TypeTimeTZ
		}
		return backend.TypeTime
	}
	if t, ok := p.airbyteTimestamp(); ok {
		return t
	}
	return backend.TypeString
}
