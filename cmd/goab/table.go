package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/x/goairbyte/internal/termsafe"
)

// table writes aligned columns, goab's one way of printing a table. Its
// cells are names a connector or a remote service chose, so each is escaped
// on its own: the Writer under env.text must keep tabs and newlines, which
// lay out the table, and a tab or newline inside a name would add a column
// or forge a row.
type table struct {
	tw *tabwriter.Writer
}

// newTable starts a table on w with a header row (none when header is
// empty).
func newTable(w io.Writer, header ...any) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row adds one row; each cell is printed as fmt.Sprint prints it.
func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(t.tw, "\t")
		}
		io.WriteString(t.tw, termsafe.String(fmt.Sprint(c)))
	}
	io.WriteString(t.tw, "\n")
}

// flush writes the table out.
func (t *table) flush() error { return t.tw.Flush() }
