package cache

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Type is the SQL-independent type of a cache column. Each backend maps it to
// its own SQL type.
type Type int

// The column types, derived from a stream's JSON schema by [ColumnType].
const (
	TypeJSON        Type = iota // objects, arrays, unions and anything unknown
	TypeString                  // "string"
	TypeInteger                 // "integer", or number with airbyte_type integer
	TypeNumber                  // "number"
	TypeBoolean                 // "boolean"
	TypeDate                    // string with format date
	TypeTimestamp               // date-time with airbyte_type timestamp_without_timezone
	TypeTimestampTZ             // date-time: time zone aware (PyAirbyte drops the zone; we keep it)
	TypeTime                    // string with format time
	TypeTimeTZ                  // time with airbyte_type time_with_timezone
)

var typeNames = [...]string{"json", "string", "integer", "number", "boolean", "date", "timestamp", "timestamptz", "time", "timetz"}

// String is the type's name, as used in error messages.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// propSchema is the part of a JSON schema property the type mapping reads.
type propSchema struct {
	Type        json.RawMessage   `json:"type"`
	Format      string            `json:"format"`
	AirbyteType string            `json:"airbyte_type"`
	OneOf       []json.RawMessage `json:"oneOf"`
	AnyOf       []json.RawMessage `json:"anyOf"`
}

// ColumnType maps one property of a JSON schema to a column type. Nullable
// types ("type": ["null","integer"]) map like their non-null type; unions of
// several types, oneOf/anyOf of different types and anything unknown become
// JSON so that no value is ever dropped.
func ColumnType(prop json.RawMessage) Type {
	var p propSchema
	if len(prop) == 0 || json.Unmarshal(prop, &p) != nil {
		return TypeJSON
	}
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
	if len(nonNull) == 0 {
		// No usable "type": a oneOf/anyOf whose branches all agree still
		// has a type; airbyte_type alone is a hint too.
		alts := append(p.OneOf, p.AnyOf...)
		if len(alts) > 0 {
			var first Type = -1
			for _, a := range alts {
				var ap propSchema
				if json.Unmarshal(a, &ap) == nil && string(ap.Type) == `"null"` {
					continue
				}
				t := ColumnType(a)
				if first == -1 {
					first = t
				} else if t != first {
					return TypeJSON
				}
			}
			if first != -1 {
				return first
			}
		}
		switch p.AirbyteType {
		case "integer":
			return TypeInteger
		case "timestamp_with_timezone":
			return TypeTimestampTZ
		case "timestamp_without_timezone":
			return TypeTimestamp
		}
		return TypeJSON
	}
	if len(nonNull) > 1 {
		return TypeJSON
	}
	switch nonNull[0] {
	case "string":
		switch strings.ToLower(p.Format) {
		case "date-time":
			if p.AirbyteType == "timestamp_without_timezone" {
				return TypeTimestamp
			}
			return TypeTimestampTZ
		case "date":
			return TypeDate
		case "time":
			if p.AirbyteType == "time_with_timezone" {
				return TypeTimeTZ
			}
			return TypeTime
		}
		switch p.AirbyteType {
		case "timestamp_with_timezone":
			return TypeTimestampTZ
		case "timestamp_without_timezone":
			return TypeTimestamp
		}
		return TypeString
	case "integer":
		if p.AirbyteType == "big_integer" {
			return TypeString // may exceed 64 bits; kept exact as text
		}
		return TypeInteger
	case "number":
		if p.AirbyteType == "integer" {
			return TypeInteger
		}
		return TypeNumber
	case "boolean":
		return TypeBoolean
	}
	return TypeJSON
}
