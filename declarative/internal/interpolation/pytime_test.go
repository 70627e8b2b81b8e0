package interpolation

import (
	"testing"
	"time"
)

// Cases TestTimeOracle found, each the smallest of its kind; the wants are CPython 3.11's,
// dateutil 2.8.2's and isodate 0.6.1's.

// A literal outside ASCII in a strptime format matches itself: it was quoted byte by byte,
// each byte read as a Latin-1 character, so '%Yé%m' matched nothing.
func TestStrptimeNonASCIILiteral(t *testing.T) {
	dt, err := strptime("1970é11", "%Yé%m")
	if err != nil || dt.t != time.Date(1970, 11, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("strptime('1970é11', '%%Yé%%m') = %v, %v; want 1970-11-01 00:00:00", dt.t, err)
	}
}

// isodate's pattern ends in $, which Python's re also matches before a final newline.
func TestDurationTrailingNewline(t *testing.T) {
	d, err := ParseDuration("P1D\n")
	if err != nil || d.Micros != usPerDay {
		t.Fatalf("ParseDuration(%q) = %+v, %v; want one day", "P1D\n", d, err)
	}
}

// isodate hands timedelta floats, and timedelta rounds their float value: 1.0000005 is a
// little above the half, so it goes up, where the decimal rounded half to even stays.
func TestDurationFloatRounding(t *testing.T) {
	for s, want := range map[string]int64{
		"PT1.0000005S":           1_000_001,
		"-PT0.0000015S":          -2,
		"P1.0000015DT1.0000015S": usPerDay + 1_129_601,
		"P0.5W":                  3*usPerDay + 43200*usPerSecond,
	} {
		d, err := ParseDuration(s)
		if err != nil || d.Micros != want {
			t.Errorf("ParseDuration(%q) = %d µs, %v; want %d", s, d.Micros, err, want)
		}
	}
}

// An aware datetime's timestamp() is timedelta.total_seconds(), microseconds / 10**6 rounded
// once; a naive one's is seconds + microseconds / 1e6 in floats. Dividing a float64 of the
// microseconds rounded twice past 2**53 µs.
func TestTimestampRounding(t *testing.T) {
	aware := dateTime{t: time.Date(3317, 1, 21, 18, 26, 56, 843517000, utcZone), aware: true}
	if got := Repr(aware.timestamp()); got != "42509039216.84351" {
		t.Errorf("aware timestamp() = %s, want 42509039216.84351", got)
	}
	naive := dateTime{t: time.Date(9357, 3, 11, 21, 5, 49, 172000, time.UTC)}
	if got, want := Repr(naive.timestamp()), "233117298349.00018"; got != want {
		t.Errorf("naive timestamp() = %s, want %s", got, want)
	}
	if got := FormatDatetime("%s_as_float", aware.t); got != "42509039216.84351" {
		t.Errorf("FormatDatetime(%%s_as_float) = %s, want 42509039216.84351", got)
	}
}

// dateutil builds an ISO week date by adding days to a date, which overflows past 9999.
func TestIsoparseWeekOverflow(t *testing.T) {
	_, err := isoparse("9999W534T18.126")
	if !isType(err, "OverflowError") {
		t.Fatalf("isoparse('9999W534T18.126'): %v; want OverflowError", err)
	}
}

// glibc's strftime, as Python's datetime.strftime reaches it: E and O only with the
// conversions that take them (else the directive is copied, padded and upper-cased like
// text), %P and %#p lower case whatever ^ says, widths for %t %n %Z and copied directives,
// %s padded with spaces and as a whole, a width narrower than the field's digits ignored,
// and %C unpadded.
func TestStrftimeGlibcDetails(t *testing.T) {
	dt := dateTime{t: time.Date(2024, 2, 9, 13, 4, 5, 0, time.UTC)}
	for _, c := range []struct{ format, want string }{
		{"%OF", "%OF"},
		{"%Ex", "02/09/24"},
		{"%-0Eh", "%-0Eh"},
		{"%^5Ek", "%^5EK"},
		{"%^P", "pm"},
		{"%^#p", "pm"},
		{"%9t", "        \t"},
		{"%09n", "00000000\n"},
		{"%11s", " 1707483845"},
		{"%10Z", "          "},
		{"%010Z", "0000000000"},
		{"%10z", ""},
		{"%1OI", "01"},
		{"%#1l", " 1"},
		{"%5q", "  %5q"},
		{"%-5", "  %-5"},
		{"%C", "20"},
	} {
		if got := strftime(dt, c.format); got != c.want {
			t.Errorf("strftime(%q) = %q, want %q", c.format, got, c.want)
		}
	}
	if got := strftime(dateTime{t: time.Date(965, 12, 31, 0, 0, 0, 0, time.UTC)}, "%C"); got != "9" {
		t.Errorf("strftime(965, %%C) = %q, want %q", got, "9")
	}
	if got := strftime(dateTime{t: time.Date(1969, 12, 31, 23, 59, 55, 0, time.UTC)}, "%011s"); got != "000000000-5" {
		t.Errorf("strftime(1969-12-31 23:59:55, %%011s) = %q, want %q", got, "000000000-5")
	}
}

// _strptime reads the fields in the format's order, so of %I and %H the later sets the hour;
// and it refuses a bad directive while it builds the pattern, before re.compile sees a field
// given twice.
func TestStrptimeFieldOrder(t *testing.T) {
	for _, c := range []struct {
		s, format string
		hour      int
	}{{"2 14", "%I %H", 14}, {"14 2", "%H %I", 2}} {
		dt, err := strptime(c.s, c.format)
		if err != nil || dt.t.Hour() != c.hour {
			t.Errorf("strptime(%q, %q) = %v, %v; want hour %d", c.s, c.format, dt.t, err, c.hour)
		}
	}
	if _, err := strptime("x", "%S%S% "); !isType(err, "ValueError") {
		t.Errorf("strptime('x', '%%S%%S%% '): %v; want ValueError: '%%' is a bad directive", err)
	}
}

// DatetimeParser's epoch formats fail as datetime.fromtimestamp does: OverflowError past
// time_t, OSError where gmtime's year overflows a C int, ValueError outside the years 1 to
// 9999; and float() reads Unicode digits.
func TestParseDatetimeEpochErrors(t *testing.T) {
	for _, c := range []struct{ format, s, class string }{
		{"%s", "99999999999999999999", "OverflowError"},
		{"%s", "-67768040609740801", "OSError"},
		{"%s", "-67768040609740800", "ValueError"},
		{"%s_as_float", "1e300", "OverflowError"},
		{"%s_as_float", "9223372036854775807", "OSError"},
		{"%ms", "99999999999999999999", "OverflowError"},
	} {
		if _, err := ParseDatetime(c.format, c.s); !isType(err, c.class) {
			t.Errorf("ParseDatetime(%q, %q): %v; want %s", c.format, c.s, err, c.class)
		}
	}
	if got, err := ParseDatetime("%s_as_float", "١٢"); err != nil || got.Unix() != 12 {
		t.Errorf("ParseDatetime(%%s_as_float, '١٢') = %v, %v; want 12 s past the epoch", got, err)
	}
}

// _strptime's rules for %G and %V: %G is ignored beside a year unless %V is read, %V beside
// %U or %W, and %j is refused beside %G without a year; ISO year 0 does not exist.
func TestStrptimeISOWeek(t *testing.T) {
	for _, c := range []struct{ s, format, want string }{
		{"2017 2017", "%Y %G", "2017-01-01"},
		{"36-36", "%U-%V", "1900-01-01"},
		{"0001 01 1", "%G %V %u", "0001-01-01"},
		{"02-29 2024 01 4", "%m-%d %G %V %u", "1900-01-04"},
		{"2020 10 1 100", "%G %V %u %j", "ValueError"},
		{"0000 01 1", "%G %V %u", "ValueError"},
		{"9999 52 7", "%G %V %u", "ValueError"},
	} {
		dt, err := strptime(c.s, c.format)
		got := dt.t.Format("2006-01-02")
		if isType(err, "ValueError") {
			got = "ValueError"
		}
		if got != c.want {
			t.Errorf("strptime(%q, %q) = %s (%v), want %s", c.s, c.format, got, err, c.want)
		}
	}
}

// _str_to_datetime converts to UTC, which can leave the years 1 to 9999.
func TestStrToDatetimeOverflow(t *testing.T) {
	for _, s := range []string{"99991231x10-18", "0001-01-01T00:00+01:00"} {
		if dt, err := strToDatetime(s); !isType(err, "OverflowError") {
			t.Errorf("strToDatetime(%q) = %v, %v; want OverflowError", s, dt.t, err)
		}
	}
}

// _strptime's \d is Python's: any Unicode decimal digit, which int() then reads.
func TestStrptimeUnicodeDigits(t *testing.T) {
	dt, err := strptime("١10331T17", "%Y%m%dT%H")
	if err != nil || dt.t != time.Date(1103, 3, 1, 17, 0, 0, 0, time.UTC) {
		t.Errorf("strptime('١10331T17', '%%Y%%m%%dT%%H') = %v, %v; want 1103-03-01 17:00", dt.t, err)
	}
	if _, err := strptime("2024-01-02 ١٢", "%Y-%m-%d %f"); err == nil {
		t.Error("strptime read Unicode digits for the microseconds, which Python's [0-9] refuses")
	}
}

// isodate hands the new year to datetime.replace, which takes a C int.
func TestDurationYearOverflow(t *testing.T) {
	start := time.Date(2024, 1, 31, 0, 0, 0, 0, utcZone)
	for s, class := range map[string]string{
		"P100000Y": "ValueError", "P2147481623Y": "ValueError", "P2147481624Y": "OverflowError",
		"P99999999999999999999Y": "OverflowError", "P1200000000M": "ValueError",
		"P30000000000M": "OverflowError", "-P2147485672Y": "ValueError", "-P2147485673Y": "OverflowError",
	} {
		d, err := ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.AddTo(start); !isType(err, class) {
			t.Errorf("2024-01-31 + %s: %v; want %s", s, err, class)
		}
	}
}

// Python replaces %f, %z and %Z before glibc reads the format, and glibc's directives can run
// into what Python put in; glibc reads # for %b before it finds an E bad.
func TestStrftimeTwoPasses(t *testing.T) {
	dt := dateTime{t: time.Date(2024, 2, 9, 13, 4, 5, 0, offsetZone(3600)), aware: true}
	for _, c := range []struct{ format, want string }{
		{"%E%Z", "%EUTC+01:00"},
		{"%1%Z", "05TC+01:00"},
		{"%_%%z%z", "%+0100"},
		{"%%f%%%z", "%f%+0100"},
		{"%1%f", ""},
		{"%#Eb", "%#EB"},
	} {
		if got := strftime(dt, c.format); got != c.want {
			t.Errorf("strftime(%q) = %q, want %q", c.format, got, c.want)
		}
	}
}

// A naive datetime's timestamp() reads the local time a day earlier too, which CPython cannot
// on 0001-01-01; format_datetime's '%s' of a strptime result is one.
func TestNaiveTimestampYearOne(t *testing.T) {
	v, err := macroFormatDatetime(nil, []Value{"0001-01-01", "%s", "%Y-%m-%d"}, nil)
	if !isType(err, "ValueError") {
		t.Errorf("format_datetime('0001-01-01', '%%s', '%%Y-%%m-%%d') = %v, %v; want ValueError", v, err)
	}
	v, err = macroFormatDatetime(nil, []Value{"0001-01-02", "%s", "%Y-%m-%d"}, nil)
	if err != nil || v != "-62135510400" {
		t.Errorf("format_datetime('0001-01-02', '%%s', '%%Y-%%m-%%d') = %v, %v; want -62135510400", v, err)
	}
}

// Python replaces each run of whitespace in a strptime format, as str.isspace() has it, by \s+.
func TestStrptimeUnicodeSpaceInFormat(t *testing.T) {
	for _, c := range []struct{ s, format string }{
		{" ", "\x1c"}, {"2024\u00a0\u3000 01", "%Y\u2003%m"}, {"2024 01", "%Y\x1c\x1d%m"},
	} {
		if _, err := strptime(c.s, c.format); err != nil {
			t.Errorf("strptime(%q, %q): %v; CPython reads it", c.s, c.format, err)
		}
	}
}

// dateutil's int() reads bytes, for which \x1c-\x1f are no whitespace.
func TestIsoparseBytesWhitespace(t *testing.T) {
	if dt, err := isoparse("0001\x1f10"); !isType(err, "ValueError") {
		t.Errorf("isoparse(%q) = %v, %v; want ValueError", "0001\x1f10", dt.t, err)
	}
}

// pytz.timezone takes UTC in any case and the old _plus_ and _minus_ spellings.
func TestTodayWithTimezonePytzNames(t *testing.T) {
	for src, want := range map[string]string{
		"{{ today_with_timezone('utc') }}":              "2025-01-15",
		"{{ today_with_timezone('Etc/GMT_minus_14') }}": "2025-01-16",
	} {
		v, err := mustCompile(src).Eval(testVars(t))
		if err != nil || Str(v) != want {
			t.Errorf("%s = %v, %v; want %s", src, v, err, want)
		}
	}
	if _, err := mustCompile("{{ today_with_timezone('Europe/Zürich') }}").Eval(testVars(t)); !isType(err, "UnknownTimeZoneError") {
		t.Errorf("today_with_timezone('Europe/Zürich'): %v; want UnknownTimeZoneError", err)
	}
}

// _strptime reads %z's seconds with int(z[5:7]), and names the timezone with what %Z matched.
func TestStrptimeOffsetDetails(t *testing.T) {
	if dt, err := strptime("+0100:30", "%z"); !isType(err, "ValueError") {
		t.Errorf("strptime('+0100:30', '%%z') = %v, %v; want ValueError", dt.t, err)
	}
	dt, err := strptime("+0100 gmt", "%z %Z")
	if err != nil || strftime(dt, "%Z") != "gmt" {
		t.Errorf("strptime('+0100 gmt', '%%z %%Z') = %v, %v; want tzname 'gmt'", dt.t, err)
	}
}
