package postgres

import (
	"strings"
	"time"
)

// stamp is a date, a date-time or a time of day as DuckDB's cast reads it
// (the cache's rule for date, timestamp and time columns, see package
// cache), read by hand: the layouts of package time read neither fields of
// one digit ("2024-1-5", "1:2:3"), nor 24:00:00, the end of a day, nor an
// offset with seconds (+05:30:15), nor " UTC" after the time, and
// PostgreSQL's loader refused all of them where DuckDB's took them.
type stamp struct {
	year, month, day   int
	hour, min, sec, ns int
	off                int  // the offset east of UTC, in seconds, when zone
	date, zone         bool // a date was given; a zone was given
	dateSpace          bool // a bare date was followed by white space
}

// parseStamp reads a date, optionally followed by "T" or white space and
// a time, and that by a zone: Z, +HH, +HH:MM, +HHMM, +HH:MM:SS (or -) or
// " UTC" in any case; white space may come before and after. With
// clockOnly the text is a time without a date. zoned is for the columns
// that keep the zone (timestamptz, timetz), where DuckDB's cast takes no
// white space before a zone but " UTC" after a date-time and an offset
// after a bare time.
func parseStamp(s string, clockOnly, zoned bool) (st stamp, ok bool) {
	i := skipSpace(s, 0)
	if !clockOnly {
		neg := false
		if i < len(s) && s[i] == '-' {
			neg, i = true, i+1
		}
		var n int
		if st.year, n = digits(s, i, 9); n == 0 {
			return st, false
		}
		i += n
		if i >= len(s) || (s[i] != '-' && s[i] != '/') {
			return st, false
		}
		sep := s[i]
		i++
		if st.month, n = digits(s, i, 2); n == 0 || i+n >= len(s) || s[i+n] != sep {
			return st, false
		}
		i += n + 1
		if st.day, n = digits(s, i, 2); n == 0 {
			return st, false
		}
		i += n
		if neg {
			st.year = -st.year
		}
		if st.month < 1 || st.month > 12 || st.day < 1 || st.day > daysIn(st.year, st.month) {
			return st, false
		}
		st.date = true
		if i == len(s) {
			return st, true
		}
		if j := skipSpace(s, i); j == len(s) {
			st.dateSpace = true
			return st, true
		} else if j > i {
			i = j
		} else if s[i] == 'T' {
			i++
		} else {
			return st, false
		}
	}
	var n int
	if st.hour, n = digits(s, i, 2); n == 0 || i+n >= len(s) || s[i+n] != ':' {
		return st, false
	}
	i += n + 1
	if st.min, n = digits(s, i, 2); n == 0 {
		return st, false
	}
	i += n
	if i < len(s) && s[i] == ':' {
		if st.sec, n = digits(s, i+1, 2); n == 0 {
			return st, false
		}
		i += n + 1
		if i < len(s) && s[i] == '.' {
			i++
			scale := 100_000_000
			for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
				st.ns += int(s[i]-'0') * scale
				scale /= 10
			}
		}
	}
	// A fraction finer than the microsecond is cut (see micros) before
	// 24:00:00 is checked, as DuckDB cuts it.
	st.ns -= st.ns % 1000
	if st.min > 59 || st.sec > 59 || st.hour > 24 || (st.hour == 24 && (st.min != 0 || st.sec != 0 || st.ns != 0)) {
		return st, false
	}
	start, j := i, skipSpace(s, i)
	if j == len(s) {
		return st, true
	}
	spaced := j > i
	i = j
	switch {
	case s[i] == 'Z' || (clockOnly && s[i] == 'z'):
		if spaced && zoned {
			return st, false
		}
		st.zone = true
		i++
	case s[i] == '+' || s[i] == '-':
		if spaced && zoned && !clockOnly {
			return st, false
		}
		sign := 1
		if s[i] == '-' {
			sign = -1
		}
		i++
		h, n := digits(s, i, 2)
		if n != 2 || h > 23 {
			return st, false
		}
		i += n
		m, sec := 0, 0
		for part := 0; part < 2 && i < len(s) && (s[i] == ':' || s[i] >= '0' && s[i] <= '9'); part++ {
			if s[i] == ':' {
				i++
			}
			v, n := digits(s, i, 2)
			if n != 2 || v > 59 {
				return st, false
			}
			i += n
			if part == 0 {
				m = v
			} else {
				sec = v
			}
		}
		st.off, st.zone = sign*(h*3600+m*60+sec), true
	case i-start == 1 && s[start] == ' ' && i+3 <= len(s) && strings.EqualFold(s[i:i+3], "utc") && (!clockOnly || !zoned):
		st.zone = true
		i += 3
	default:
		return st, false
	}
	return st, skipSpace(s, i) == len(s)
}

// skipSpace returns the index of the first byte of s at or after i that is
// not white space.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f') {
		i++
	}
	return i
}

// digits reads up to max decimal digits of s from i: their value and how
// many there were.
func digits(s string, i, max int) (v, n int) {
	for ; n < max && i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9'; n++ {
		v = v*10 + int(s[i+n]-'0')
	}
	return v, n
}

// daysIn is the number of days in month of year, in the proleptic
// Gregorian calendar (the year 0 is a leap year).
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// time is the stamp as a time.Time in its own zone (UTC when none was
// given); 24:00:00 is the next day's midnight.
func (st stamp) time() time.Time {
	loc := time.UTC
	if st.off != 0 {
		loc = time.FixedZone("", st.off)
	}
	return time.Date(st.year, time.Month(st.month), st.day, st.hour, st.min, st.sec, st.ns, loc)
}

// parseTimestamp reads a date or a date-time as a timestamp column takes
// it, a timestamptz one if zoned.
func parseTimestamp(s string, zoned bool) (time.Time, bool) {
	st, ok := parseStamp(s, false, zoned)
	if !ok || st.dateSpace {
		return time.Time{}, false
	}
	return st.time(), true
}

// parseTime reads a time as a time column takes it: a time of day (up
// to 24:00:00, which is 00:00:00) with an optional zone, its offset kept; else a date or
// date-time, whose time of day is read on its own clock for a time column,
// and in UTC with the offset 0 for a timetz one, as DuckDB's cast reads
// them. It returns the microseconds since midnight (a fraction finer is
// cut, as micros cuts it) and the offset east of UTC in seconds.
func parseTime(s string, tz bool) (us int64, off int, ok bool) {
	if st, ok := parseStamp(s, true, tz); ok {
		// 24:00:00 is 00:00:00 (see package cache).
		return int64(st.hour%24*3600+st.min*60+st.sec)*1_000_000 + int64(st.ns)/1000, st.off, true
	}
	st, ok := parseStamp(s, false, tz)
	if !ok || st.dateSpace {
		return 0, 0, false
	}
	t := st.time()
	if tz {
		t = t.UTC()
	}
	return timeOfDay(t), 0, true
}
