package backend

import (
	"fmt"
	"strings"
)

// Internal column names, present in every stream table before the user
// columns.
const (
	ColumnRawID       = "_airbyte_raw_id"       // ULID, increasing in arrival order
	ColumnExtractedAt = "_airbyte_extracted_at" // timestamptz, from the record's emitted_at
	ColumnMeta        = "_airbyte_meta"         // JSON {"changes":[...]}: fields nulled and why
	// ColumnData is a user column of an open stream's table (one whose
	// schema declares no property): the record's whole data object. No
	// declared field may take its name.
	ColumnData = "_airbyte_data"
)

// Column is one user column of a stream table.
type Column struct {
	// Name is the normalised SQL identifier.
	Name string
	// Field is the top-level property name in the record's data.
	Field string
	// Type is the column's type: the existing column's when the table
	// existed already (schema evolution), else the JSON schema's.
	Type Type
	// SQLType is the existing column's type as the database names it
	// (DECIMAL(10,2) for a table someone else made), empty for a column
	// the load makes.
	SQLType string
}

// Table describes where one stream is written.
type Table struct {
	// Stream is the stream's name as the connector spells it.
	Stream string
	// Name is the table's normalised, prefixed, unqualified name.
	Name string
	// Columns are the user columns in schema order.
	Columns []Column
	// PrimaryKey holds the key's field paths (composite and nested keys).
	PrimaryKey [][]string
	// Cursor is the cursor field path, empty if none.
	Cursor []string
}

// Type is the SQL-independent type of a cache column, derived from the
// stream's JSON schema. Each backend maps it to its own SQL type.
type Type int

// The column types.
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
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Quote quotes an identifier for SQL with double quotes, doubling any quote
// inside. Every identifier the cache and its backends write goes through
// it, so no stream or field name can inject SQL.
func Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}
