package declarative

import (
	"bufio"
	"fmt"
	"io"
)

// pandasCSV reads CSV rows as pandas' C tokenizer does with
// dialect="unix" (delimiter ",", quote '"', doubled quotes, no escape
// character) and its defaults (skip_blank_lines): encoding/csv differs
// from it on lines of spaces (skipped by pandas), a lone CR (a line end
// for pandas), a CRLF inside quotes (kept by pandas) and a quote closed
// before the field ends ("ab"c is abc for pandas).
type pandasCSV struct {
	r    *bufio.Reader
	line int // lines read, for errors
	// buf holds the row's fields one after the other, ends where each
	// ends: the row becomes one string, its fields slices of it (one
	// allocation a row, not one a field).
	buf  []byte
	ends []int
	row  []string
}

// csv tokenizer states (tokenizer.c's names).
const (
	csvStartRecord = iota
	csvWhitespaceLine
	csvStartField
	csvInField
	csvInQuoted
	csvQuoteInQuoted
)

// next returns the next row, io.EOF after the last. The slice is reused.
func (p *pandasCSV) next() ([]string, error) {
	p.row = p.row[:0]
	p.buf = p.buf[:0]
	p.ends = p.ends[:0]
	state := csvStartRecord
	var pending []byte // a whitespace line's bytes, in case it is not one
	endField := func() { p.ends = append(p.ends, len(p.buf)) }
	for {
		c, err := p.r.ReadByte()
		if err == io.EOF {
			switch state {
			case csvStartRecord, csvWhitespaceLine:
				return nil, io.EOF
			case csvInQuoted:
				return nil, fmt.Errorf("Error tokenizing data. C error: EOF inside string starting at row %d", p.line)
			}
			endField()
			p.line++
			return p.fields(), nil
		}
		if err != nil {
			return nil, err
		}
		if c == '\r' {
			// CRLF or a lone CR ends the line alike (outside quotes).
			if state != csvInQuoted {
				if n, err := p.r.Peek(1); err == nil && n[0] == '\n' {
					p.r.ReadByte()
				}
				c = '\n'
			}
		}
	again:
		switch state {
		case csvStartRecord:
			switch c {
			case '\n':
				p.line++ // a blank line
			case ' ', '\t':
				pending = append(pending[:0], c)
				state = csvWhitespaceLine
			default:
				state = csvStartField
				goto again
			}
		case csvWhitespaceLine:
			switch c {
			case '\n':
				p.line++ // a line of spaces counts as blank
				state = csvStartRecord
			case ' ', '\t':
				pending = append(pending, c)
			default:
				// Not blank: its spaces start the first field.
				p.buf = append(p.buf, pending...)
				state = csvInField
				goto again
			}
		case csvStartField:
			switch c {
			case '\n':
				endField()
				p.line++
				return p.fields(), nil
			case '"':
				state = csvInQuoted
			case ',':
				endField()
			default:
				p.buf = append(p.buf, c)
				state = csvInField
			}
		case csvInField:
			switch c {
			case '\n':
				endField()
				p.line++
				return p.fields(), nil
			case ',':
				endField()
				state = csvStartField
			default:
				p.buf = append(p.buf, c)
			}
		case csvInQuoted:
			if c == '"' {
				state = csvQuoteInQuoted
			} else {
				p.buf = append(p.buf, c)
			}
		case csvQuoteInQuoted:
			switch c {
			case '"':
				p.buf = append(p.buf, c)
				state = csvInQuoted
			case ',':
				endField()
				state = csvStartField
			case '\n':
				endField()
				p.line++
				return p.fields(), nil
			default:
				p.buf = append(p.buf, c)
				state = csvInField
			}
		}
	}
}

// fields makes the row of the fields in buf.
func (p *pandasCSV) fields() []string {
	text := string(p.buf)
	start := 0
	for _, end := range p.ends {
		p.row = append(p.row, text[start:end])
		start = end
	}
	return p.row
}
