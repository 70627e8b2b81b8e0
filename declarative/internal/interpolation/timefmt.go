package interpolation

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

var (
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays    = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// strftime formats dt as Python's datetime.strftime does on Linux: Python itself first
// replaces %f, %z and %Z (reading the format two bytes at a time from each %), then glibc
// formats the result in the C locale (with its flags - _ 0 ^ # and field widths), so that a
// directive glibc reads can run into what Python put in ('%1%Z' is '%1' then 'UTC...', which
// glibc reads as %1% and %U). Unknown directives are copied as they are. %s is the wall clock
// read as UTC (TZ=UTC).
//
// Like Python, it gives "" when the result would not fit in the largest buffer Python's
// time.strftime tries (see pyStrftimeLimit): a field width such as %999999999d would
// otherwise build a string of that size, or of 2^63 bytes for a width that overflows.
func strftime(dt dateTime, format string) string {
	format = pyStrftimeExpand(dt, format)
	limit := pyStrftimeLimit(format)
	b := make([]byte, 0, len(format)+16)
	y, mo, d := dt.t.Date()
	h, mi, sec := dt.t.Clock()
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b = append(b, c)
			continue
		}
		// The fields cursors use most, without glibc's flags and widths.
		field, width := -1, 2
		switch format[i+1] {
		case 'Y':
			if y >= 1000 {
				field, width = y, 4
			}
		case 'm':
			field = int(mo)
		case 'd':
			field = d
		case 'H':
			field = h
		case 'M':
			field = mi
		case 'S':
			field = sec
		}
		if field >= 0 {
			b = appendZeroPadded(b, field, width)
			i++
			continue
		}
		var tooLong bool
		n, out := glibcDirective(dt, format[i:], limit, &tooLong)
		if tooLong {
			return ""
		}
		b = append(b, out...)
		i += n - 1
		if len(b) > utf8.UTFMax*limit {
			return "" // more characters than limit, whatever they are
		}
	}
	if utf8.RuneCount(b) > limit {
		return ""
	}
	return string(b)
}

// pyStrftimeExpand is the format Python's wrap_strftime hands the C library: %f replaced by
// the microseconds, %z by the offset (+HHMM, then SS if any; nothing when naive), %Z by the
// tzname (nothing when naive), reading from each % the byte after it.
func pyStrftimeExpand(dt dateTime, format string) string {
	var b []byte
	last := 0 // format[:last] is in b
	for i := 0; i+1 < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		if c := format[i+1]; c == 'f' || c == 'z' || c == 'Z' {
			b = append(b, format[last:i]...)
			switch c {
			case 'f':
				b = appendZeroPadded(b, dt.micro(), 6)
			case 'z':
				if dt.aware {
					b = appendPyOffset(b, dt.offset())
				}
			case 'Z':
				b = append(b, strings.ReplaceAll(dt.zoneName(), "%", "%%")...)
			}
			last = i + 2
		}
		i++ // the byte after % goes with it
	}
	if last == 0 {
		return format
	}
	return string(append(b, format[last:]...))
}

// pyStrftimeLimit is the longest result, in characters, that Python's time.strftime returns
// for the expanded format: it calls the C library with buffers of 1024 characters, doubling
// while the result does not fit and the buffer is shorter than 256 times the format; a result
// that never fits comes back as "".
func pyStrftimeLimit(format string) int {
	n := utf8.RuneCountInString(format)
	size := 1024
	for size < 256*n {
		size += size
	}
	return size - 1 // the C library needs room for the terminating NUL
}

// appendZeroPadded appends a non-negative v with at least width digits.
func appendZeroPadded(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(b, buf[i:]...)
}

// appendPyOffset writes %z as Python does: +HHMM, then SS if any.
func appendPyOffset(b []byte, off int) []byte { return appendOffset(b, off, false) }

func pad(v int64, width int, c byte) string {
	s := strconv.FormatInt(v, 10)
	neg := false
	if v < 0 {
		neg, s = true, s[1:]
	}
	if w := width - boolInt(neg); len(s) < w {
		s = strings.Repeat(string(c), w-len(s)) + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// glibcDirective formats the directive at the start of f (which begins with '%') and returns
// how many bytes it used. It sets *tooLong, and formats nothing, for a field width beyond
// limit, the longest result strftime may return.
func glibcDirective(dt dateTime, f string, limit int, tooLong *bool) (int, string) {
	i := 1
	for i < len(f) && strings.IndexByte("-_0^#", f[i]) >= 0 {
		i++
	}
	// ^ upper-cases, # swaps the case of some conversions; the last of - _ 0 pads.
	upper, swap := strings.Contains(f[1:i], "^"), strings.Contains(f[1:i], "#")
	padFlag := byte(0)
	for _, c := range []byte(f[1:i]) {
		if c == '-' || c == '_' || c == '0' {
			padFlag = c
		}
	}
	width := -1
	ws := i
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
	}
	if i > ws {
		// glibc stops a width at INT_MAX; Atoi stops at its own maximum, as far beyond limit.
		width, _ = strconv.Atoi(f[ws:i])
	}
	var modifier byte
	if i < len(f) && (f[i] == 'E' || f[i] == 'O') {
		modifier = f[i]
		i++
	}
	str := func(v string, caseChange bool) string {
		if width > limit {
			*tooLong = true
			return ""
		}
		if upper || (swap && caseChange) {
			v = strings.ToUpper(v)
		}
		if width > len(v) {
			p := " "
			if padFlag == '0' {
				p = "0"
			}
			v = strings.Repeat(p, width-len(v)) + v
		}
		return v
	}
	if i >= len(f) {
		// glibc copies a directive it does not know as it is, padded to the width.
		return i, str(f[:i], false)
	}
	conv := f[i]
	i++
	// glibc knows E only with these conversions and O only with those; with any other, the
	// directive is unknown.
	if modifier == 'E' && strings.IndexByte("cnprstuxyzCPRTXYZ%", conv) < 0 ||
		modifier == 'O' && strings.IndexByte("bdeghjklmnprstuwyzBCGHIMPRSTUVWZ%", conv) < 0 {
		if swap && (conv == 'b' || conv == 'B' || conv == 'h') {
			upper = true // glibc reads # for these before it finds the modifier bad
		}
		return i, str(f[:i], false)
	}
	t := dt.t
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	num := func(v int64, defWidth int, defPad byte) string {
		if width > limit {
			*tooLong = true
			return ""
		}
		p := defPad
		switch padFlag {
		case '-':
			p = 0
		case '_':
			p = ' '
		case '0':
			p = '0'
		}
		w := max(width, defWidth) // a narrower width than the field's digits does not cut it
		if p == 0 {
			out := strconv.FormatInt(v, 10)
			if width > len(out) {
				out = strings.Repeat(" ", width-len(out)) + out
			}
			return out
		}
		return pad(v, w, p)
	}
	wday := int(t.Weekday())
	yday := t.YearDay() - 1
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	ampm := "AM"
	if h >= 12 {
		ampm = "PM"
	}
	sub := func(format string) string { return str(strftime(dateTime{t: t, aware: dt.aware}, format), false) }
	switch conv {
	case 'a':
		return i, str(shortDays[wday], true)
	case 'A':
		return i, str(longDays[wday], true)
	case 'b', 'h':
		return i, str(shortMonths[mo-1], true)
	case 'B':
		return i, str(longMonths[mo-1], true)
	case 'c':
		return i, sub("%a %b %e %H:%M:%S %Y")
	case 'C':
		return i, num(int64(y/100), 1, '0') // "0" for the years 1 to 99, as %Y is "965"
	case 'd':
		return i, num(int64(d), 2, '0')
	case 'D', 'x':
		return i, sub("%m/%d/%y")
	case 'e':
		return i, num(int64(d), 2, ' ')
	case 'F':
		return i, sub("%Y-%m-%d")
	case 'g':
		iy, _ := t.ISOWeek()
		return i, num(int64(iy%100), 2, '0')
	case 'G':
		iy, _ := t.ISOWeek()
		return i, num(int64(iy), 1, '0')
	case 'H':
		return i, num(int64(h), 2, '0')
	case 'I':
		return i, num(int64(h12), 2, '0')
	case 'j':
		return i, num(int64(yday+1), 3, '0')
	case 'k':
		return i, num(int64(h), 2, ' ')
	case 'l':
		return i, num(int64(h12), 2, ' ')
	case 'm':
		return i, num(int64(mo), 2, '0')
	case 'M':
		return i, num(int64(mi), 2, '0')
	case 'n':
		return i, str("\n", false)
	case 'p', 'P':
		// %P, and %p with #, are lower case whatever ^ says.
		if conv == 'P' || swap {
			upper = false
			return i, str(strings.ToLower(ampm), false)
		}
		return i, str(ampm, false)
	case 'r':
		return i, sub("%I:%M:%S %p")
	case 'R':
		return i, sub("%H:%M")
	case 's':
		// Padded as a whole, sign included, and with spaces unless the 0 flag asks for zeros.
		wall := time.Date(y, mo, d, h, mi, s, 0, time.UTC)
		return i, str(strconv.FormatInt(wall.Unix(), 10), false)
	case 'S':
		return i, num(int64(s), 2, '0')
	case 't':
		return i, str("\t", false)
	case 'T', 'X':
		return i, sub("%H:%M:%S")
	case 'u':
		return i, num(int64((wday+6)%7+1), 1, '0')
	case 'U':
		return i, num(int64((yday+7-wday)/7), 2, '0')
	case 'V':
		_, w := t.ISOWeek()
		return i, num(int64(w), 2, '0')
	case 'w':
		return i, num(int64(wday), 1, '0')
	case 'W':
		return i, num(int64((yday+7-(wday+6)%7)/7), 2, '0')
	case 'y':
		return i, num(int64(y%100), 2, '0')
	case 'Y':
		return i, num(int64(y), 1, '0')
	case 'z':
		// Reached only with flags, a width or a modifier: Python hands these to glibc with
		// tm_isdst = -1, for which %z prints nothing, unpadded, and %Z an empty zone name, padded.
		return i, ""
	case 'Z':
		return i, str("", false)
	case '%':
		return i, str("%", false)
	}
	return i, str(f[:i], false)
}

// strptimeFields is what strptime read.
type strptimeFields struct {
	re     *regexp.Regexp
	groups []string
}

var (
	strptimeCache sync.Map // format → *strptimeFields or *Error
)

// strptimeDirectives are the regular expressions of Python's _strptime.TimeRE in the C locale.
var strptimeDirectives = map[byte]string{
	'd': `(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])`,
	'f': `(?P<f>[0-9]{1,6})`,
	'H': `(?P<H>2[0-3]|[0-1]\d|\d)`,
	'I': `(?P<I>1[0-2]|0[1-9]|[1-9])`,
	'G': `(?P<G>\d\d\d\d)`,
	'j': `(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`,
	'm': `(?P<m>1[0-2]|0[1-9]|[1-9])`,
	'M': `(?P<M>[0-5]\d|\d)`,
	'S': `(?P<S>6[0-1]|[0-5]\d|\d)`,
	'U': `(?P<U>5[0-3]|[0-4]\d|\d)`,
	'W': `(?P<W>5[0-3]|[0-4]\d|\d)`,
	'w': `(?P<w>[0-6])`,
	'u': `(?P<u>[1-7])`,
	'V': `(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)`,
	'y': `(?P<y>\d\d)`,
	'Y': `(?P<Y>\d\d\d\d)`,
	'z': `(?P<z>[+-]\d\d:?[0-5]\d(:?[0-5]\d(\.\d{1,6})?)?|(?-i:Z))`,
	'A': `(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)`,
	'a': `(?P<a>mon|tue|wed|thu|fri|sat|sun)`,
	'B': `(?P<B>september|february|december|november|january|october|august|march|april|june|july|may)`,
	'b': `(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`,
	'p': `(?P<p>am|pm)`,
	'Z': `(?P<Z>utc|gmt)`,
	'%': `%`,
}

// pySpaces is Python's \s+ for str patterns: Unicode whitespace, \v and \x1c-\x1f included
// (Go's \s is ASCII and lacks \v).
const pySpaces = `[\t\n\v\f\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+`

// isSpaceAt reports whether f has a Python whitespace character at byte i.
func isSpaceAt(f string, i int) bool {
	if i >= len(f) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(f[i:])
	return isSpace(r)
}

// spaceLen is the length in bytes of the character at byte i of f.
func spaceLen(f string, i int) int {
	_, n := utf8.DecodeRuneInString(f[i:])
	return n
}

// compileStrptime builds the regular expression _strptime builds for format.
func compileStrptime(format string) (*strptimeFields, error) {
	if c, ok := strptimeCache.Load(format); ok {
		if e, isErr := c.(*Error); isErr {
			return nil, e
		}
		return c.(*strptimeFields), nil
	}
	f, err := buildStrptime(format)
	if err != nil {
		strptimeCache.Store(format, err)
		return nil, err
	}
	strptimeCache.Store(format, f)
	return f, nil
}

func buildStrptime(format string) (*strptimeFields, *Error) {
	expand := map[byte]string{'c': "%a %b %d %H:%M:%S %Y", 'x': "%m/%d/%y", 'X': "%H:%M:%S"}
	var sb strings.Builder
	sb.WriteString(`(?i)^`)
	seen := map[byte]bool{}
	var redefined byte
	var walk func(f string) *Error
	walk = func(f string) *Error {
		for i := 0; i < len(f); i++ {
			c := f[i]
			switch {
			case c == '%':
				if i+1 >= len(f) {
					return valueErrorf("stray %% in format '%s'", format)
				}
				i++
				d := f[i]
				if e, ok := expand[d]; ok {
					if err := walk(e); err != nil {
						return err
					}
					continue
				}
				re, ok := strptimeDirectives[d]
				if !ok {
					bad := string(d)
					if unicode.IsSpace(rune(d)) {
						bad = "%"
					}
					return valueErrorf("'%s' is a bad directive in format '%s'", bad, format)
				}
				if seen[d] && d != '%' && redefined == 0 {
					// Python builds the whole pattern, refusing bad directives, before
					// re.compile finds this.
					redefined = d
				}
				seen[d] = true
				// Python's \d in a str pattern is any Unicode decimal digit; int() reads them.
				sb.WriteString(strings.ReplaceAll(re, `\d`, `\p{Nd}`))
			case isSpaceAt(f, i):
				// Python replaces each run of \s (str.isspace) in the format with \s+.
				for i += spaceLen(f, i); isSpaceAt(f, i); i += spaceLen(f, i) {
				}
				i--
				sb.WriteString(pySpaces)
			default:
				// A whole character: string(c) of one byte of it would be a Latin-1 one.
				r, size := utf8.DecodeRuneInString(f[i:])
				sb.WriteString(regexp.QuoteMeta(string(r)))
				i += size - 1
			}
		}
		return nil
	}
	if err := walk(format); err != nil {
		return nil, err
	}
	if redefined != 0 {
		return nil, newError("error", "redefinition of group name %s", Repr(string(redefined)))
	}
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, valueErrorf("'%s' is a bad directive in format '%s'", "%", format)
	}
	return &strptimeFields{re: re, groups: re.SubexpNames()}, nil
}

// strptime parses s as Python's datetime.strptime(s, format) does.
func strptime(s, format string) (dateTime, error) {
	if p := fastProgramFor(format); p != nil {
		if dt, ok := p.run(s); ok {
			return dt, nil
		}
	}
	return strptimeRegexp(s, format)
}

// strptimeRegexp is strptime by the regular expression Python's _strptime builds.
func strptimeRegexp(s, format string) (dateTime, error) {
	f, err := compileStrptime(format)
	if err != nil {
		return dateTime{}, err
	}
	loc := f.re.FindStringSubmatchIndex(s)
	if loc == nil {
		return dateTime{}, valueErrorf("time data %s does not match format %s", Repr(s), Repr(format))
	}
	if loc[1] != len(s) {
		return dateTime{}, valueErrorf("unconverted data remains: %s", s[loc[1]:])
	}
	found := map[string]string{}
	var order []string // the groups in the format's order, as Python's groupdict() gives them
	for i, name := range f.groups {
		if name != "" && loc[2*i] >= 0 {
			found[name] = strings.Map(asciiDigit, s[loc[2*i]:loc[2*i+1]])
			order = append(order, name)
		}
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(found[k])); return n }
	year, haveYear := 1900, false
	month, day, hour, minute, second, fraction := 1, 1, 0, 0, 0, 0
	isoYear, isoWeek, weekOfYear, weekday, julian := -1, -1, -1, -1, -1 // -1: not read
	weekStartsMonday := false
	var gmtoff *int
	gmtFrac := 0
	for _, name := range order {
		v := found[name]
		switch name {
		case "y":
			year, haveYear = atoi("y"), true
			if year <= 68 {
				year += 2000
			} else {
				year += 1900
			}
		case "Y":
			year, haveYear = atoi("Y"), true
		case "G":
			isoYear = atoi("G")
		case "m":
			month = atoi("m")
		case "B":
			month = indexFold(longMonths[:], v) + 1
		case "b":
			month = indexFold(shortMonths[:], v) + 1
		case "d":
			day = atoi("d")
		case "H":
			hour = atoi("H")
		case "I":
			// In the format's order, like %H: the later of the two sets the hour.
			hour = atoi("I")
			switch strings.ToLower(found["p"]) {
			case "", "am":
				if hour == 12 {
					hour = 0
				}
			case "pm":
				if hour != 12 {
					hour += 12
				}
			}
		case "M":
			minute = atoi("M")
		case "S":
			second = atoi("S")
		case "f":
			fs := v + strings.Repeat("0", 6-len(v))
			fraction, _ = strconv.Atoi(fs)
		case "A":
			weekday = (indexFold(longDays[:], v) + 6) % 7
		case "a":
			weekday = (indexFold(shortDays[:], v) + 6) % 7
		case "w":
			weekday = (atoi("w") + 6) % 7
		case "u":
			weekday = atoi("u") - 1
		case "j":
			julian = atoi("j")
		case "U", "W":
			weekOfYear = atoi(name)
			weekStartsMonday = name == "W"
		case "V":
			isoWeek = atoi("V")
		case "z":
			off, frac, err := parseStrptimeOffset(v)
			if err != nil {
				return dateTime{}, err
			}
			gmtoff, gmtFrac = &off, frac
		}
	}
	// _strptime's checks of the ISO directives, in its order: %G needs %V and a weekday
	// unless a year was read; %V needs %G, unless %U or %W was read.
	if !haveYear && isoYear >= 0 {
		if isoWeek < 0 || weekday < 0 {
			return dateTime{}, valueErrorf("ISO year directive '%s' must be used with the ISO week directive '%s' and a weekday directive ('%s', '%s', '%s', or '%s').", "%G", "%V", "%A", "%a", "%w", "%u")
		}
		if julian >= 0 {
			return dateTime{}, valueErrorf("Day of the year directive '%s' is not compatible with ISO year directive '%s'. Use '%s' instead.", "%j", "%G", "%Y")
		}
	} else if weekOfYear < 0 && isoWeek >= 0 {
		if weekday < 0 || !haveYear {
			return dateTime{}, valueErrorf("ISO week directive '%s' must be used with the ISO year directive '%s' and a weekday directive ('%s', '%s', '%s', or '%s').", "%V", "%G", "%A", "%a", "%w", "%u")
		}
		return dateTime{}, valueErrorf("ISO week directive '%s' is incompatible with the year directive '%s'. Use the ISO year '%s' instead.", "%V", "%Y", "%G")
	}
	// Without a year, February 29 is computed in 1904, and the year is set back to 1900 at
	// the end (where the date does not exist).
	leapFix := false
	if !haveYear && month == 2 && day == 29 {
		year, leapFix = 1904, true
	}
	if julian < 0 && weekday >= 0 {
		switch {
		case weekOfYear >= 0:
			first := int(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Weekday()+6) % 7
			julian = dayOfWeekJulian(first, weekOfYear, weekday, weekStartsMonday)
		case isoYear >= 0 && isoWeek >= 0:
			// _calc_julian_from_V: the day of isoYear, which may fall before its first day.
			if isoYear < 1 {
				return dateTime{}, valueErrorf("year %d is out of range", isoYear)
			}
			jan4 := (int(time.Date(isoYear, 1, 4, 0, 0, 0, 0, time.UTC).Weekday())+6)%7 + 1
			julian = isoWeek*7 + weekday + 1 - (jan4 + 3)
			if julian < 1 {
				isoYear--
				if isoYear < 1 {
					return dateTime{}, valueErrorf("year %d is out of range", isoYear)
				}
				julian += 365 + boolInt(isLeap(isoYear))
			}
			year = isoYear
		}
		if julian != -1 && julian <= 0 {
			year--
			julian += 365 + boolInt(isLeap(year))
		}
	}
	if julian != -1 {
		if year < 1 {
			return dateTime{}, valueErrorf("year %d is out of range", year)
		}
		t := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, julian-1)
		year, month, day = t.Year(), int(t.Month()), t.Day()
	}
	if leapFix {
		year = 1900
	}
	loc2 := time.UTC
	if gmtoff != nil {
		if gmtFrac != 0 {
			return dateTime{}, valueErrorf("offset must be a timedelta representing a whole number of seconds")
		}
		if *gmtoff <= -86400 || *gmtoff >= 86400 {
			return dateTime{}, valueErrorf("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not %s.", Repr(timeDelta{int64(*gmtoff) * usPerSecond}))
		}
		loc2 = offsetZone(*gmtoff)
		if name := found["Z"]; name != "" {
			// The tzname is the text %Z matched, as Python gives it to timezone().
			loc2 = time.FixedZone(name, *gmtoff)
		}
	}
	dt, err := makeDateTime(year, month, day, hour, minute, second, fraction, loc2)
	if err != nil {
		return dateTime{}, err
	}
	dt.aware = gmtoff != nil
	return dt, nil
}

// dayOfWeekJulian is _strptime's _calc_julian_from_U_or_W; firstWeekday and dayOfWeek count
// from Monday = 0.
func dayOfWeekJulian(firstWeekday, weekOfYear, dayOfWeek int, weekStartsMonday bool) int {
	if !weekStartsMonday {
		firstWeekday = (firstWeekday + 1) % 7
		dayOfWeek = (dayOfWeek + 1) % 7
	}
	week0 := (7 - firstWeekday) % 7
	if weekOfYear == 0 {
		return 1 + dayOfWeek - firstWeekday
	}
	return 1 + week0 + 7*(weekOfYear-1) + dayOfWeek
}

func indexFold(list []string, v string) int {
	for i, s := range list {
		if strings.EqualFold(s, v) {
			return i
		}
	}
	return 0
}

func parseStrptimeOffset(z string) (off, frac int, err error) {
	if z == "Z" {
		return 0, 0, nil
	}
	orig := z
	if z[3] == ':' {
		z = z[:3] + z[4:]
		if len(z) > 5 {
			if z[5] != ':' {
				return 0, 0, valueErrorf("Inconsistent use of : in %s", orig)
			}
			z = z[:5] + z[6:]
		}
	}
	hours, _ := strconv.Atoi(z[1:3])
	minutes, _ := strconv.Atoi(z[3:5])
	seconds := 0
	if len(z) > 5 {
		// int(z[5:7]): with a colon only between hours and minutes ("+0100:30"), it reads ":3".
		n, ok := pyInt(z[5:min(7, len(z))])
		if !ok {
			return 0, 0, valueErrorf("invalid literal for int() with base 10: %s", Repr(z[5:min(7, len(z))]))
		}
		seconds = int(n)
	}
	off = hours*3600 + minutes*60 + seconds
	if len(z) > 8 {
		r := z[8:]
		frac, _ = strconv.Atoi(r + strings.Repeat("0", 6-len(r)))
	}
	if z[0] == '-' {
		off, frac = -off, -frac
	}
	return off, frac, nil
}

// makeDateTime builds a datetime with Python's range checks and messages.
func makeDateTime(y, mo, d, h, mi, s, us int, loc *time.Location) (dateTime, error) {
	switch {
	case y < 1 || y > 9999:
		return dateTime{}, valueErrorf("year %d is out of range", y)
	case mo < 1 || mo > 12:
		return dateTime{}, valueErrorf("month must be in 1..12")
	case d < 1 || d > daysIn(y, time.Month(mo)):
		return dateTime{}, valueErrorf("day is out of range for month")
	case h < 0 || h > 23:
		return dateTime{}, valueErrorf("hour must be in 0..23")
	case mi < 0 || mi > 59:
		return dateTime{}, valueErrorf("minute must be in 0..59")
	case s < 0 || s > 59:
		return dateTime{}, valueErrorf("second must be in 0..59")
	case us < 0 || us > 999999:
		return dateTime{}, valueErrorf("microsecond must be in 0..999999")
	}
	return dateTime{t: time.Date(y, time.Month(mo), d, h, mi, s, us*1000, loc), aware: loc != time.UTC}, nil
}

// isoparse parses s as dateutil.parser.isoparse does; the result is naive unless s has an
// offset.
func isoparse(s string) (dateTime, error) {
	for _, r := range s {
		if r > 0x7f {
			return dateTime{}, valueErrorf("ISO-8601 strings should contain only ASCII characters")
		}
	}
	comps, pos, err := isoDateCommon(s)
	if err != nil {
		comps, pos, err = isoDateUncommon(s)
		if err != nil {
			return dateTime{}, err
		}
	}
	tm := [4]int{}
	var off *int
	if len(s) > pos {
		tm, off, err = isoTime(s[pos+1:])
		if err != nil {
			return dateTime{}, err
		}
	}
	loc := time.UTC
	if off != nil {
		loc = offsetZone(*off)
		if *off == 0 {
			loc = utcZone
		}
	}
	extraDay := false
	if tm[0] == 24 {
		tm[0] = 0
		extraDay = true
	}
	dt, err := makeDateTime(comps[0], comps[1], comps[2], tm[0], tm[1], tm[2], tm[3], loc)
	if err != nil {
		return dateTime{}, err
	}
	dt.aware = off != nil
	if extraDay {
		dt.t = dt.t.AddDate(0, 0, 1)
	}
	return dt, nil
}

// pyInt parses s as Python's int(s): surrounding whitespace, a sign, digits with single
// underscores between them. It fails for an int past int64 too; pyIntParse tells them apart.
func pyInt(s string) (int64, bool) {
	n, valid, fits := pyIntParse(s)
	return n, valid && fits
}

// pyIntParse is pyInt that also says whether s is an int at all (valid) and whether it fits an
// int64 (fits).
func pyIntParse(s string) (n int64, valid, fits bool) {
	s = strings.TrimFunc(s, isSpace)
	if s == "" {
		return 0, false, false
	}
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false, false
	}
	fits = true
	for _, c := range s {
		if c == '_' {
			continue
		}
		d := digitValue(c)
		if d < 0 {
			return 0, false, false
		}
		if n > (math.MaxInt64-int64(d))/10 {
			fits = false
		}
		if fits {
			n = n*10 + int64(d)
		}
	}
	if neg {
		n = -n
	}
	return n, true, fits
}

// digitValue is the value of a Unicode decimal digit, or -1.
func digitValue(c rune) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	if unicode.Is(unicode.Nd, c) {
		for base := c; base >= c-9; base-- {
			if !unicode.Is(unicode.Nd, base-1) {
				return int(c - base)
			}
		}
	}
	return -1
}

func isoInt(s string) (int, error) {
	// dateutil calls int() on bytes, which strips only ASCII's six whitespace characters, not
	// \x1c-\x1f as str's int() (pyInt) does.
	if t := strings.Trim(s, " \t\n\r\v\f"); strings.TrimFunc(t, isSpace) != t {
		return 0, valueErrorf("invalid literal for int() with base 10: b%s", Repr(s))
	}
	n, ok := pyInt(s)
	if !ok {
		return 0, valueErrorf("invalid literal for int() with base 10: b%s", Repr(s))
	}
	return int(n), nil
}

func sub(s string, i, j int) string {
	if i > len(s) {
		return ""
	}
	if j > len(s) {
		j = len(s)
	}
	return s[i:j]
}

func isoDateCommon(s string) ([3]int, int, error) {
	c := [3]int{1, 1, 1}
	if len(s) < 4 {
		return c, 0, valueErrorf("ISO string too short")
	}
	var err error
	if c[0], err = isoInt(s[:4]); err != nil {
		return c, 0, err
	}
	pos := 4
	if pos >= len(s) {
		return c, pos, nil
	}
	hasSep := s[pos] == '-'
	if hasSep {
		pos++
	}
	if len(s)-pos < 2 {
		return c, 0, valueErrorf("Invalid common month")
	}
	if c[1], err = isoInt(s[pos : pos+2]); err != nil {
		return c, 0, err
	}
	pos += 2
	if pos >= len(s) {
		if hasSep {
			return c, pos, nil
		}
		return c, 0, valueErrorf("Invalid ISO format")
	}
	if hasSep {
		if s[pos] != '-' {
			return c, 0, valueErrorf("Invalid separator in ISO string")
		}
		pos++
	}
	if len(s)-pos < 2 {
		return c, 0, valueErrorf("Invalid common day")
	}
	if c[2], err = isoInt(s[pos : pos+2]); err != nil {
		return c, 0, err
	}
	return c, pos + 2, nil
}

func isoDateUncommon(s string) ([3]int, int, error) {
	var c [3]int
	if len(s) < 4 {
		return c, 0, valueErrorf("ISO string too short")
	}
	year, err := isoInt(s[:4])
	if err != nil {
		return c, 0, err
	}
	hasSep := sub(s, 4, 5) == "-"
	pos := 4 + boolInt(hasSep)
	var t time.Time
	if sub(s, pos, pos+1) == "W" {
		pos++
		week, err := isoInt(sub(s, pos, pos+2))
		if err != nil {
			return c, 0, err
		}
		pos += 2
		day := 1
		if len(s) > pos {
			if (sub(s, pos, pos+1) == "-") != hasSep {
				return c, 0, valueErrorf("Inconsistent use of dash separator")
			}
			pos += boolInt(hasSep)
			if day, err = isoInt(sub(s, pos, pos+1)); err != nil {
				return c, 0, err
			}
			pos++
		}
		if week <= 0 || week >= 54 {
			return c, 0, valueErrorf("Invalid week: %d", week)
		}
		if day <= 0 || day >= 8 {
			return c, 0, valueErrorf("Invalid weekday: %d", day)
		}
		if year < 1 {
			return c, 0, valueErrorf("year %d is out of range", year)
		}
		jan4 := time.Date(year, 1, 4, 0, 0, 0, 0, time.UTC)
		wk1 := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
		t = wk1.AddDate(0, 0, (week-1)*7+day-1)
		if t.Year() > 9999 {
			// dateutil adds the days to a date, at once, before it reads the time.
			return c, 0, newError("OverflowError", "date value out of range")
		}
	} else {
		if len(s)-pos < 3 {
			return c, 0, valueErrorf("Invalid ordinal day")
		}
		od, err := isoInt(s[pos : pos+3])
		if err != nil {
			return c, 0, err
		}
		pos += 3
		if od < 1 || od > 365+boolInt(isLeap(year)) {
			return c, 0, valueErrorf("Invalid ordinal day %d for year %d", od, year)
		}
		if year < 1 {
			return c, 0, valueErrorf("year %d is out of range", year)
		}
		t = time.Date(year, 1, od, 0, 0, 0, 0, time.UTC)
	}
	return [3]int{t.Year(), int(t.Month()), t.Day()}, pos, nil
}

var isoFraction = regexp.MustCompile(`^[.,]([0-9]+)`)

func isoTime(s string) ([4]int, *int, error) {
	var c [4]int
	var off *int
	if len(s) < 2 {
		return c, nil, valueErrorf("ISO time too short")
	}
	pos, comp := 0, -1
	hasSep := false
	for pos < len(s) && comp < 5 {
		comp++
		if strings.IndexByte("-+Zz", s[pos]) >= 0 {
			o, err := isoTZ(s[pos:])
			if err != nil {
				return c, nil, err
			}
			off = &o
			pos = len(s)
			break
		}
		if comp == 1 && s[pos] == ':' {
			hasSep = true
			pos++
		} else if comp == 2 && hasSep {
			if s[pos] != ':' {
				return c, nil, valueErrorf("Inconsistent use of colon separator")
			}
			pos++
		}
		if comp < 3 {
			n, err := isoInt(sub(s, pos, pos+2))
			if err != nil {
				return c, nil, err
			}
			c[comp] = n
			pos += 2
		}
		if comp == 3 {
			m := isoFraction.FindStringSubmatch(s[pos:])
			if m == nil {
				continue
			}
			us := m[1]
			if len(us) > 6 {
				us = us[:6]
			}
			n, _ := strconv.Atoi(us)
			for range 6 - len(us) {
				n *= 10
			}
			c[3] = n
			pos += len(m[0])
		}
	}
	if pos < len(s) {
		return c, nil, valueErrorf("Unused components in ISO string")
	}
	if c[0] == 24 && (c[1] != 0 || c[2] != 0 || c[3] != 0) {
		return c, nil, valueErrorf("Hour may only be 24 at 24:00:00.000")
	}
	return c, off, nil
}

func isoTZ(s string) (int, error) {
	if s == "Z" || s == "z" {
		return 0, nil
	}
	if len(s) != 3 && len(s) != 5 && len(s) != 6 {
		return 0, valueErrorf("Time zone offset must be 1, 3, 5 or 6 characters")
	}
	mult := 1
	switch s[0] {
	case '-':
		mult = -1
	case '+':
	default:
		return 0, valueErrorf("Time zone offset requires sign")
	}
	hours, err := isoInt(s[1:3])
	if err != nil {
		return 0, err
	}
	minutes := 0
	if len(s) > 3 {
		from := 3
		if s[3] == ':' {
			from = 4
		}
		if minutes, err = isoInt(s[from:]); err != nil {
			return 0, err
		}
	}
	if hours == 0 && minutes == 0 {
		return 0, nil
	}
	if minutes > 59 {
		return 0, valueErrorf("Invalid minutes in time zone offset")
	}
	if hours > 23 {
		return 0, valueErrorf("Invalid hours in time zone offset")
	}
	return mult * (hours*60 + minutes) * 60, nil
}

// ParseDatetime parses s with a cursor datetime format as the CDK's DatetimeParser.parse does:
// "%s" (epoch seconds), "%s_as_float" (epoch seconds with a fraction), "%ms" (epoch
// milliseconds), otherwise Python's strptime; a result without an offset is UTC.
func ParseDatetime(format, s string) (time.Time, error) {
	switch format {
	case "%s":
		n, valid, fits := pyIntParse(s)
		switch {
		case !valid:
			return time.Time{}, valueErrorf("invalid literal for int() with base 10: %s", Repr(s))
		case !fits:
			return time.Time{}, newError("OverflowError", "timestamp out of range for platform time_t")
		}
		return fromTimestamp(n, 0)
	case "%s_as_float":
		f, err := pyFloat(asciiDecimal(s))
		if err != nil {
			return time.Time{}, valueErrorf("could not convert string to float: %s", Repr(s))
		}
		if math.IsNaN(f) {
			return time.Time{}, valueErrorf("Invalid value NaN (not a number)")
		}
		// CPython splits the float with modf and rounds the microseconds half to even.
		sec, frac := math.Modf(f)
		us := math.RoundToEven(frac * 1e6)
		if us >= 1e6 {
			sec, us = sec+1, us-1e6
		} else if us < 0 {
			sec, us = sec-1, us+1e6
		}
		// CPython's range check lets 2**63 through (float(INT64_MAX) is 2**63), and x86-64
		// converts it to the least int64.
		if !(sec >= math.MinInt64 && sec <= math.MaxInt64) {
			return time.Time{}, newError("OverflowError", "timestamp out of range for platform time_t")
		}
		n := int64(math.MinInt64)
		if sec < math.MaxInt64 {
			n = int64(sec)
		}
		return fromTimestamp(n, int64(us))
	case "%ms":
		n, valid, fits := pyIntParse(s)
		switch {
		case !valid:
			return time.Time{}, valueErrorf("invalid literal for int() with base 10: %s", Repr(s))
		case !fits:
			return time.Time{}, newError("OverflowError", "date value out of range")
		}
		t := time.UnixMilli(n).In(utcZone)
		if t.Year() < 1 || t.Year() > 9999 {
			return time.Time{}, newError("OverflowError", "date value out of range")
		}
		return t, nil
	}
	dt, err := strptime(s, format)
	if err != nil {
		return time.Time{}, err
	}
	if !dt.aware {
		y, mo, d := dt.t.Date()
		h, mi, sec := dt.t.Clock()
		return time.Date(y, mo, d, h, mi, sec, dt.t.Nanosecond(), utcZone), nil
	}
	return dt.t, nil
}

// fromTimestamp is datetime.fromtimestamp(sec + us/1e6, timezone.utc) with CPython's errors:
// glibc's gmtime fails (OSError EOVERFLOW) for a year whose tm_year does not fit a C int, then
// datetime refuses the years outside 1 to 9999 (ValueError).
func fromTimestamp(sec, us int64) (time.Time, error) {
	// The civil year of day number days since 1970-01-01 (Hinnant's days_from_civil,
	// inverted), in int64 where time.Unix would wrap.
	z := floorDiv(sec, 86400) + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	y := yoe + era*400
	if mp := (5*doy + 2) / 153; mp >= 10 {
		y++ // January or February
	}
	if y-1900 != int64(int32(y-1900)) {
		return time.Time{}, newError("OSError", "[Errno 75] Value too large for defined data type")
	}
	if y < 1 || y > 9999 {
		return time.Time{}, valueErrorf("year %d is out of range", y)
	}
	return time.Unix(sec, us*1000).In(utcZone), nil
}

// asciiDigit maps a Unicode decimal digit to its ASCII one.
func asciiDigit(r rune) rune {
	if r >= utf8.RuneSelf {
		if d := digitValue(r); d >= 0 {
			return rune('0' + d)
		}
	}
	return r
}

// asciiDecimal is what float() reads of s: Unicode decimal digits as ASCII ones, Unicode
// spaces as ' ', any other non-ASCII character as '?' (which no float has).
func asciiDecimal(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		ascii = ascii && s[i] < utf8.RuneSelf
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch d := digitValue(r); {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case d >= 0:
			b.WriteByte(byte('0' + d))
		case isSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// FormatDatetime formats t with a cursor datetime format as the CDK's DatetimeParser.format
// does: "%s", "%s_as_float" and "%ms" from the timestamp, otherwise Python's strftime (t's
// offset is the datetime's; %f is microseconds, %z "+0000").
func FormatDatetime(format string, t time.Time) string {
	dt := newAware(t)
	switch format {
	case "%s":
		return strconv.FormatInt(int64(math.Trunc(dt.timestamp())), 10)
	case "%s_as_float":
		return string(appendFloatRepr(nil, dt.timestamp()))
	case "%ms":
		return strconv.FormatInt(int64(math.Trunc(dt.timestamp()*1000)), 10)
	}
	return strftime(dt, format)
}
