package interpolation

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dateTime is a Python datetime.datetime with microsecond precision. A naive datetime keeps its
// wall clock in t with the UTC location; an aware one carries its offset and tzname in t's
// location.
type dateTime struct {
	t     time.Time
	aware bool
}

// date is a Python datetime.date.
type date struct {
	y int
	m time.Month
	d int
}

// timeDelta is a Python datetime.timedelta, in microseconds.
type timeDelta struct{ us int64 }

const (
	usPerSecond = int64(1_000_000)
	usPerDay    = 86400 * usPerSecond
)

// utcZone is the tzinfo of now_utc() and of the CDK's parsed datetimes; its tzname is "UTC".
var utcZone = time.FixedZone("UTC", 0)

func newAware(t time.Time) dateTime {
	return dateTime{t: t.Truncate(time.Microsecond), aware: true}
}

// offsetZone is Python's datetime.timezone(timedelta(seconds=off)): named "UTC" or "UTC+hh:mm".
func offsetZone(off int) *time.Location {
	if off == 0 {
		return utcZone
	}
	sign := '+'
	a := off
	if a < 0 {
		sign, a = '-', -a
	}
	name := fmt.Sprintf("UTC%c%02d:%02d", sign, a/3600, a/60%60)
	if a%60 != 0 {
		name += fmt.Sprintf(":%02d", a%60)
	}
	return time.FixedZone(name, off)
}

func (dt dateTime) micro() int { return dt.t.Nanosecond() / 1000 }

func (dt dateTime) offset() int {
	_, off := dt.t.Zone()
	return off
}

func (dt dateTime) zoneName() string {
	if !dt.aware {
		return ""
	}
	name, _ := dt.t.Zone()
	return name
}

// unixMicro is the POSIX timestamp in microseconds; a naive datetime counts as UTC (the CDK
// runs with TZ=UTC).
func (dt dateTime) unixMicro() int64 {
	return dt.t.Unix()*usPerSecond + int64(dt.micro())
}

// timestamp is Python's dt.timestamp(). An aware datetime's is timedelta.total_seconds(), the
// microseconds divided by 10**6 and rounded once (a float64 of the microseconds would round
// first past 2**53 µs, in the year 2255); a naive one's is seconds plus microseconds / 1e6,
// in floats.
func (dt dateTime) timestamp() float64 {
	if !dt.aware {
		return float64(dt.t.Unix()) + float64(dt.micro())/1e6
	}
	us := dt.unixMicro()
	if us > -1<<53 && us < 1<<53 {
		return float64(us) / 1e6 // both exact: one rounding
	}
	f, _ := new(big.Rat).SetFrac64(us, usPerSecond).Float64()
	return f
}

// timestampErr is the error timestamp() raises: for a naive datetime, CPython's
// local_to_seconds also reads the local time a day earlier, which on 0001-01-01 is in year 0.
func (dt dateTime) timestampErr() error {
	if y, m, d := dt.t.Date(); !dt.aware && y == 1 && m == 1 && d == 1 {
		return valueErrorf("year 0 is out of range")
	}
	return nil
}

// appendISO appends dt.isoformat(sep).
func (dt dateTime) appendISO(b []byte, sep byte) []byte {
	y, mo, d := dt.t.Date()
	h, mi, s := dt.t.Clock()
	b = fmt.Appendf(b, "%04d-%02d-%02d%c%02d:%02d:%02d", y, int(mo), d, sep, h, mi, s)
	if us := dt.micro(); us != 0 {
		b = fmt.Appendf(b, ".%06d", us)
	}
	if dt.aware {
		b = appendOffset(b, dt.offset(), true)
	}
	return b
}

func appendOffset(b []byte, off int, colon bool) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = fmt.Appendf(b, "%02d", off/3600)
	if colon {
		b = append(b, ':')
	}
	b = fmt.Appendf(b, "%02d", off/60%60)
	if off%60 != 0 {
		if colon {
			b = append(b, ':')
		}
		b = fmt.Appendf(b, "%02d", off%60)
	}
	return b
}

func (dt dateTime) appendRepr(b []byte) []byte {
	y, mo, d := dt.t.Date()
	h, mi, s := dt.t.Clock()
	b = fmt.Appendf(b, "datetime.datetime(%d, %d, %d, %d, %d", y, int(mo), d, h, mi)
	if s != 0 || dt.micro() != 0 {
		b = fmt.Appendf(b, ", %d", s)
	}
	if dt.micro() != 0 {
		b = fmt.Appendf(b, ", %d", dt.micro())
	}
	if dt.aware {
		if dt.offset() == 0 {
			b = append(b, ", tzinfo=datetime.timezone.utc"...)
		} else {
			b = append(b, ", tzinfo=datetime.timezone("...)
			b = timeDelta{int64(dt.offset()) * usPerSecond}.appendRepr(b)
			b = append(b, ')')
		}
	}
	return append(b, ')')
}

func (d date) appendISO(b []byte) []byte {
	return fmt.Appendf(b, "%04d-%02d-%02d", d.y, int(d.m), d.d)
}

func (d date) time() time.Time { return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC) }

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// parts splits a timedelta as Python stores it: days (any sign), seconds and microseconds
// (non-negative).
func (td timeDelta) parts() (days, secs, us int64) {
	days = floorDiv(td.us, usPerDay)
	rest := td.us - days*usPerDay
	return days, rest / usPerSecond, rest % usPerSecond
}

func (td timeDelta) appendStr(b []byte) []byte {
	days, secs, us := td.parts()
	if days != 0 {
		b = strconv.AppendInt(b, days, 10)
		b = append(b, " day"...)
		if days != 1 && days != -1 {
			b = append(b, 's')
		}
		b = append(b, ", "...)
	}
	b = fmt.Appendf(b, "%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if us != 0 {
		b = fmt.Appendf(b, ".%06d", us)
	}
	return b
}

func (td timeDelta) appendRepr(b []byte) []byte {
	days, secs, us := td.parts()
	b = append(b, "datetime.timedelta("...)
	var parts []string
	if days != 0 {
		parts = append(parts, "days="+strconv.FormatInt(days, 10))
	}
	if secs != 0 {
		parts = append(parts, "seconds="+strconv.FormatInt(secs, 10))
	}
	if us != 0 {
		parts = append(parts, "microseconds="+strconv.FormatInt(us, 10))
	}
	if len(parts) == 0 {
		parts = append(parts, "0")
	}
	b = append(b, strings.Join(parts, ", ")...)
	return append(b, ')')
}

func (td timeDelta) totalSeconds() float64 { return float64(td.us) / 1e6 }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Duration is an ISO-8601 duration as Python's isodate parses it: a calendar part (years and
// months, applied to a date the way isodate does, clamping the day to the month's last day) and
// an exact part. isodate returns a plain timedelta when the calendar part is zero.
type Duration struct {
	Years, Months float64 // calendar part; isodate keeps them as decimals
	// Micros is the exact part (weeks, days, hours, minutes and seconds) in
	// microseconds, as a timedelta keeps it: a time.Duration holds only 292
	// years, and a longer step wrapped around to a negative one.
	Micros int64
}

type isoDuration struct {
	years, months float64
	td            timeDelta
}

func (d isoDuration) appendStr(b []byte) []byte {
	if d.years != 0 {
		b = fmt.Appendf(b, "%d years, ", int64(d.years))
	}
	if d.months != 0 {
		if d.months <= 1 {
			b = fmt.Appendf(b, "%d month, ", int64(d.months))
		} else {
			b = fmt.Appendf(b, "%d months, ", int64(d.months))
		}
	}
	return d.td.appendStr(b)
}

func (d isoDuration) appendRepr(b []byte) []byte {
	days, secs, us := d.td.parts()
	return fmt.Appendf(b, "isodate.duration.Duration(%d, %d, %d, years=%d, months=%d)", days, secs, us, int64(d.years), int64(d.months))
}

// String returns Python's str() of the duration ("1 month, 0:00:00", "1 day, 0:00:00").
func (d Duration) String() string {
	if d.Years == 0 && d.Months == 0 {
		return string(timeDelta{d.Micros}.appendStr(nil))
	}
	return string(isoDuration{d.Years, d.Months, timeDelta{d.Micros}}.appendStr(nil))
}

// AddTo returns t + d with isodate's arithmetic: years and months move the calendar date (the
// day clamped to the new month's length: Jan 31 + P1M is Feb 29 in a leap year), then the exact
// part is added. It fails for fractional years or months, as isodate does.
func (d Duration) AddTo(t time.Time) (time.Time, error) {
	if d.Years == 0 && d.Months == 0 {
		return addMicros(t, d.Micros)
	}
	if d.Years != math.Trunc(d.Years) || d.Months != math.Trunc(d.Months) {
		return time.Time{}, valueErrorf("fractional years or months not supported for date calculations")
	}
	// Past these, no year is in range (and int64 of a larger float is undefined). isodate
	// passes the new year to datetime.replace, which takes a C int: ValueError for a year
	// that fits one, OverflowError past it.
	if math.Abs(d.Years) > 1e5 || math.Abs(d.Months) > 12e5 {
		y, mo, _ := t.Date()
		ny := float64(y) + d.Years + math.Floor((float64(mo)-1+d.Months)/12)
		switch {
		case ny >= math.MinInt32 && ny <= math.MaxInt32:
			return time.Time{}, valueErrorf("year %d is out of range", int64(ny))
		case math.Abs(ny) >= 1<<63:
			return time.Time{}, newError("OverflowError", "Python int too large to convert to C long")
		case ny > 0:
			return time.Time{}, newError("OverflowError", "signed integer is greater than maximum")
		}
		return time.Time{}, newError("OverflowError", "signed integer is less than minimum")
	}
	t, err := addMonths(t, int64(d.Years), int64(d.Months))
	if err != nil {
		return time.Time{}, err
	}
	return addMicros(t, d.Micros)
}

// SubFrom returns t - d: isodate adds the negated duration.
func (d Duration) SubFrom(t time.Time) (time.Time, error) {
	return Duration{-d.Years, -d.Months, -d.Micros}.AddTo(t)
}

// addMicros is datetime + timedelta(microseconds=us), exact for any
// timedelta (t.Add of a time.Duration would wrap past 292 years), and
// Python's OverflowError when the result leaves the years 1 to 9999.
func addMicros(t time.Time, us int64) (time.Time, error) {
	const maxSpan = 10000 * 366 * 86400 // seconds: no date in range is farther
	sec, rem := us/usPerSecond, us%usPerSecond
	if sec > maxSpan || sec < -maxSpan {
		return time.Time{}, newError("OverflowError", "date value out of range")
	}
	u := t.Add(time.Duration(rem) * time.Microsecond)
	u = time.Unix(u.Unix()+sec, int64(u.Nanosecond())).In(u.Location())
	if y := u.Year(); y < 1 || y > 9999 {
		return time.Time{}, newError("OverflowError", "date value out of range")
	}
	return u, nil
}

// addMonths moves t by years and months on the calendar, clamping the day as isodate does.
func addMonths(t time.Time, years, months int64) (time.Time, error) {
	y, mo, day := t.Date()
	m := int64(mo) + months
	carry := floorDiv(m-1, 12)
	m -= carry * 12
	ny := int64(y) + years + carry
	if ny < 1 || ny > 9999 {
		return time.Time{}, valueErrorf("year %d is out of range", ny)
	}
	if md := daysIn(int(ny), time.Month(m)); day > md {
		day = md
	}
	h, mi, s := t.Clock()
	return time.Date(int(ny), time.Month(m), day, h, mi, s, t.Nanosecond(), t.Location()), nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// ParseDuration parses an ISO-8601 duration as isodate.parse_duration does ("P1D", "PT0.5S",
// "P1Y2M", "-P3W"). Years and months go to the calendar part, the rest to Exact.
func ParseDuration(s string) (Duration, error) {
	v, err := parseISODuration(s)
	if err != nil {
		return Duration{}, err
	}
	switch v := v.(type) {
	case timeDelta:
		return Duration{Micros: v.us}, nil
	case isoDuration:
		return Duration{v.years, v.months, v.td.us}, nil
	}
	return Duration{}, nil
}

// isoPeriod is isodate's ISO8601_PERIOD_REGEX, less its "(?!\b)" after P, which only refuses a
// bare "P" (checked apart). Its final \n? is Python's $, which also matches before a final
// newline.
var isoPeriod = regexp.MustCompile(`^([+-])?P([0-9]+(?:[,.][0-9]+)?Y)?([0-9]+(?:[,.][0-9]+)?M)?([0-9]+(?:[,.][0-9]+)?W)?([0-9]+(?:[,.][0-9]+)?D)?(T([0-9]+(?:[,.][0-9]+)?H)?([0-9]+(?:[,.][0-9]+)?M)?([0-9]+(?:[,.][0-9]+)?S)?)?\n?$`)

// parseISODuration returns a timeDelta or, with years or months, an isoDuration, as
// isodate.parse_duration does.
func parseISODuration(s string) (Value, error) {
	m := isoPeriod.FindStringSubmatch(s)
	if m == nil || strings.TrimSuffix(strings.TrimLeft(s, "+-"), "\n") == "P" {
		if rest, ok := strings.CutPrefix(s, "P"); ok && !strings.Contains(rest, "T") {
			return nil, newError("ISO8601Error", "ISO 8601 time designator 'T' missing. Unable to parse datetime string %s", Repr(rest))
		}
		return nil, newError("ISO8601Error", "Unable to parse duration string %s", Repr(s))
	}
	num := func(g string) string {
		if g == "" {
			return "0"
		}
		return strings.ReplaceAll(g[:len(g)-1], ",", ".")
	}
	years, _ := strconv.ParseFloat(num(m[2]), 64)
	months, _ := strconv.ParseFloat(num(m[3]), 64)
	// isodate passes the other parts to timedelta as floats, seconds first as timedelta
	// takes them.
	var parts [4]float64
	for i, g := range []string{m[9], m[8], m[7], m[5]} {
		parts[i], _ = strconv.ParseFloat(num(g), 64)
	}
	weeks, _ := strconv.ParseFloat(num(m[4]), 64)
	total, err := pyTimedeltaMicros(parts[0], parts[1], parts[2], parts[3], weeks)
	if err != nil {
		return nil, err
	}
	us, err := timedeltaMicros(total)
	if err != nil {
		return nil, err
	}
	if m[1] == "-" {
		years, months, us = -years, -months, -us
	}
	if years == 0 && months == 0 {
		return timeDelta{us}, nil
	}
	return isoDuration{years: years + 0, months: months + 0, td: timeDelta{us}}, nil
}

// pyTimedeltaMicros is timedelta(seconds=, minutes=, hours=, days=, weeks=) of floats in
// microseconds, computed as CPython does: each whole part exactly, each fraction times its
// unit in floats, whose whole part is kept and whose remainder is summed, then rounded
// (half to even on the total) at the end. So PT1.0000005S is 1.000001 s: the float
// 1.0000005 lies just above the half.
func pyTimedeltaMicros(seconds, minutes, hours, days, weeks float64) (*big.Int, error) {
	total := new(big.Int)
	leftover := 0.0
	for _, c := range []struct {
		v    float64
		unit int64
	}{{seconds, usPerSecond}, {minutes, 60 * usPerSecond}, {hours, 3600 * usPerSecond}, {days, usPerDay}, {weeks, 7 * usPerDay}} {
		if c.v == 0 {
			continue
		}
		if math.IsInf(c.v, 0) {
			return nil, newError("OverflowError", "cannot convert float infinity to integer")
		}
		whole, frac := math.Modf(c.v)
		w, _ := bigFloat(whole).Int(nil)
		total.Add(total, w.Mul(w, big.NewInt(c.unit)))
		if frac == 0 {
			continue
		}
		whole, frac = math.Modf(float64(c.unit) * frac)
		total.Add(total, big.NewInt(int64(whole)))
		leftover += frac
	}
	if leftover != 0 {
		r := math.Round(leftover)
		if math.Abs(r-leftover) == 0.5 {
			odd := float64(total.Bit(0)) // Python's x & 1, which is the low bit of |x| too
			r = 2*math.Round((leftover+odd)*0.5) - odd
		}
		total.Add(total, big.NewInt(int64(r)))
	}
	return total, nil
}

// timedeltaMicros is timedelta(microseconds=us), for a parsed duration and
// the result of timedelta arithmetic: Python's OverflowError when the days
// do not fit a C int, then past 999999999 days. Below that, a timedelta
// longer than an int64 of microseconds (292,000 years) is kept as the
// longest one: added to any date, both leave the years 1 to 9999. The
// shortest int64 is not used, so that a timedelta can always be negated.
func timedeltaMicros(us *big.Int) (int64, error) {
	days := new(big.Int).Div(us, big.NewInt(usPerDay)) // Euclidean: floors, as Python's days
	if !days.IsInt64() || days.Int64() != int64(int32(days.Int64())) {
		return 0, newError("OverflowError", "Python int too large to convert to C int")
	}
	if days.CmpAbs(big.NewInt(999999999)) > 0 {
		return 0, newError("OverflowError", "days=%s; must have magnitude <= 999999999", days)
	}
	switch {
	case us.IsInt64() && us.Int64() != math.MinInt64:
		return us.Int64(), nil
	case us.Sign() > 0:
		return math.MaxInt64, nil
	}
	return math.MinInt64 + 1, nil
}

// newDelta is timedeltaMicros as a value, for the result of arithmetic.
func newDelta(us *big.Int) (Value, error) {
	v, err := timedeltaMicros(us)
	if err != nil {
		return nil, err
	}
	return timeDelta{v}, nil
}

// floatRatio is Python's float.as_integer_ratio(), which timedelta's
// multiplication and division by a float use.
func floatRatio(f float64) (*big.Rat, error) {
	switch {
	case math.IsNaN(f):
		return nil, valueErrorf("cannot convert NaN to integer ratio")
	case math.IsInf(f, 0):
		return nil, newError("OverflowError", "cannot convert Infinity to integer ratio")
	}
	return new(big.Rat).SetFloat64(f), nil
}

// divRound is Python's datetime._divide_and_round: a / b rounded half to
// even.
func divRound(a, b *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	// QuoRem truncates; Python's divmod floors first.
	if r.Sign() != 0 && r.Sign() != b.Sign() {
		q.Sub(q, big.NewInt(1))
		r.Add(r, b)
	}
	// r now has b's sign: past half when |2r| > |b|.
	c := new(big.Int).Lsh(r, 1).CmpAbs(b)
	if c > 0 || c == 0 && q.Bit(0) == 1 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// dateInRange is Python's check on a date's year after arithmetic.
func dateInRange(t time.Time) (date, error) {
	if y := t.Year(); y < 1 || y > 9999 {
		return date{}, newError("OverflowError", "date value out of range")
	}
	return dateOf(t), nil
}
