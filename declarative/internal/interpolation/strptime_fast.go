package interpolation

import (
	"strings"
	"sync"
	"time"
)

// The cursor parses every record's cursor value, so strptime has a fast path: the common
// formats (numeric fields, literals, whitespace, %z) are compiled once into a list of steps
// that reads the text without a regular expression. A field followed by a literal that is no
// digit, or by the end, takes as many digits as it can, which is the choice Python's regular
// expression makes there (its longer alternatives come first). When the fast path does not
// apply or does not match, the regular expression decides, so errors read as Python's.

type fastStep struct {
	kind    byte   // a directive letter, 'L' literal, 'W' whitespace
	lit     string // for 'L'
	minW    int    // digits: fewest and most
	maxW    int
	minV    int // accepted range
	maxV    int
	spaceOK bool // %d's " 5"
}

type fastProgram struct{ steps []fastStep }

var fastPrograms sync.Map // format → *fastProgram, or nil when the format has no fast path

var fastDirectives = map[byte]fastStep{
	'Y': {minW: 4, maxW: 4, minV: 0, maxV: 9999},
	'm': {minW: 1, maxW: 2, minV: 1, maxV: 12},
	'd': {minW: 1, maxW: 2, minV: 1, maxV: 31, spaceOK: true},
	'H': {minW: 1, maxW: 2, minV: 0, maxV: 23},
	'M': {minW: 1, maxW: 2, minV: 0, maxV: 59},
	'S': {minW: 1, maxW: 2, minV: 0, maxV: 61},
	'f': {minW: 1, maxW: 6, minV: 0, maxV: 999999},
	'y': {minW: 2, maxW: 2, minV: 0, maxV: 99},
	'z': {},
}

func fastProgramFor(format string) *fastProgram {
	if p, ok := fastPrograms.Load(format); ok {
		return p.(*fastProgram)
	}
	p := buildFastProgram(format)
	fastPrograms.Store(format, p)
	return p
}

func buildFastProgram(format string) *fastProgram {
	p := &fastProgram{}
	seen := map[byte]bool{}
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '%':
			if i+1 >= len(format) {
				return nil
			}
			i++
			st, ok := fastDirectives[format[i]]
			if !ok || seen[format[i]] {
				return nil
			}
			seen[format[i]] = true
			st.kind = format[i]
			p.steps = append(p.steps, st)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			for i+1 < len(format) && strings.IndexByte(" \t\n\r\v\f", format[i+1]) >= 0 {
				i++
			}
			p.steps = append(p.steps, fastStep{kind: 'W'})
		case c >= 0x80 || c >= 0x1c && c <= 0x1f:
			return nil // Python's whitespace beyond ASCII's: the regular expression reads it
		default:
			if n := len(p.steps); n > 0 && p.steps[n-1].kind == 'L' {
				p.steps[n-1].lit += string(c)
			} else {
				p.steps = append(p.steps, fastStep{kind: 'L', lit: string(c)})
			}
		}
	}
	// A numeric field must be followed by the end, whitespace, %z (which starts with a sign or
	// Z) or a literal that starts with no digit.
	for i, st := range p.steps {
		if st.kind == 'L' || st.kind == 'W' {
			continue
		}
		if i+1 < len(p.steps) {
			next := p.steps[i+1]
			if next.kind != 'L' && next.kind != 'W' && next.kind != 'z' || next.kind == 'L' && next.lit[0] >= '0' && next.lit[0] <= '9' {
				return nil
			}
			if st.kind == 'z' && next.kind == 'L' && (next.lit[0] == ':' || next.lit[0] == '.') {
				return nil
			}
		}
	}
	return p
}

// run parses s; ok is false when the fast path cannot decide.
func (p *fastProgram) run(s string) (dt dateTime, ok bool) {
	year, month, day, hour, minute, second, frac := 1900, 1, 1, 0, 0, 0, 0
	var off int
	aware := false
	pos := 0
	for _, st := range p.steps {
		switch st.kind {
		case 'L':
			if len(s)-pos < len(st.lit) || !strings.EqualFold(s[pos:pos+len(st.lit)], st.lit) {
				return dt, false
			}
			for j := 0; j < len(st.lit); j++ {
				if st.lit[j] >= 0x80 || s[pos+j] >= 0x80 {
					return dt, false // Unicode case folding: leave it to the regular expression
				}
			}
			pos += len(st.lit)
		case 'W':
			start := pos
			for pos < len(s) && strings.IndexByte(" \t\n\r\v\f", s[pos]) >= 0 {
				pos++
			}
			if pos == start {
				return dt, false
			}
		case 'z':
			n, o, good := fastOffset(s[pos:])
			if !good {
				return dt, false
			}
			pos += n
			off, aware = o, true
		default:
			start := pos
			if st.spaceOK && pos+1 < len(s) && s[pos] == ' ' && s[pos+1] >= '1' && s[pos+1] <= '9' {
				pos++
				start = pos
				if pos+1 < len(s) && s[pos+1] >= '0' && s[pos+1] <= '9' {
					return dt, false
				}
			}
			v := 0
			for pos < len(s) && pos-start < st.maxW && s[pos] >= '0' && s[pos] <= '9' {
				v = v*10 + int(s[pos]-'0')
				pos++
			}
			w := pos - start
			if w < st.minW || pos < len(s) && s[pos] >= '0' && s[pos] <= '9' || v < st.minV || v > st.maxV {
				return dt, false
			}
			switch st.kind {
			case 'Y':
				year = v
			case 'y':
				year = v + 1900
				if v <= 68 {
					year = v + 2000
				}
			case 'm':
				month = v
			case 'd':
				day = v
			case 'H':
				hour = v
			case 'M':
				minute = v
			case 'S':
				second = v
			case 'f':
				for range 6 - w {
					v *= 10
				}
				frac = v
			}
		}
	}
	if pos != len(s) {
		return dt, false
	}
	loc := time.UTC
	if aware {
		loc = offsetZone(off)
	}
	dt, err := makeDateTime(year, month, day, hour, minute, second, frac, loc)
	if err != nil {
		return dt, false
	}
	dt.aware = aware
	return dt, true
}

// fastOffset reads the %z forms Z, ±HHMM and ±HH:MM at the end of a field.
func fastOffset(s string) (n, off int, ok bool) {
	if strings.HasPrefix(s, "Z") {
		return 1, 0, true
	}
	if len(s) < 5 || s[0] != '+' && s[0] != '-' {
		return 0, 0, false
	}
	d := func(c byte) bool { return c >= '0' && c <= '9' }
	if !d(s[1]) || !d(s[2]) || s[1] > '2' || s[1] == '2' && s[2] > '3' {
		return 0, 0, false
	}
	i := 3
	if s[i] == ':' {
		i++
	}
	if len(s) < i+2 || s[i] < '0' || s[i] > '5' || !d(s[i+1]) {
		return 0, 0, false
	}
	end := i + 2
	if end < len(s) && (d(s[end]) || s[end] == ':' || s[end] == '.') {
		return 0, 0, false // seconds or fractions: the regular expression reads those
	}
	off = (int(s[1]-'0')*10+int(s[2]-'0'))*3600 + (int(s[i]-'0')*10+int(s[i+1]-'0'))*60
	if s[0] == '-' {
		off = -off
	}
	return end, off, true
}
