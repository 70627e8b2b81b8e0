package interpolation

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzStrftime checks that strftime never panics and stays within Python's buffer, and
// keeps its fast path honest: the fields it formats itself (%Y %m %d %H %M %S) must read as
// the general glibc directives do, written with the 0 flag that turns the fast path off.
func FuzzStrftime(f *testing.F) {
	for _, s := range []string{
		"%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S %Z", "%a %b %e %-d %_H %^A %#p %10Y %j %U %W %G-W%V-%u",
		"%%Y %%%d %", "%c %x %X %D %F %r %R %T %s %C %y %g %I %l %k %P %n%t", "%Ey %Od %5%", "%99999999999999999999d",
	} {
		f.Add(s, int64(1704164645), int32(123456), int32(0), true)
	}
	f.Add("%Y%m%d", int64(-62135596800), int32(0), int32(-3600), false)
	f.Fuzz(func(t *testing.T, format string, unix int64, micros, offset int32, aware bool) {
		const minUnix, maxUnix = -62135596800, 253402300799 // years 1 to 9999
		unix = minUnix + (unix%(maxUnix-minUnix)+(maxUnix-minUnix))%(maxUnix-minUnix)
		micros = (micros%1_000_000 + 1_000_000) % 1_000_000
		offset %= 86400
		loc := utcZone
		if aware {
			loc = offsetZone(int(offset))
		}
		dt := dateTime{t: time.Unix(unix, int64(micros)*1000).In(loc), aware: aware}
		if y := dt.t.Year(); y < 1 || y > 9999 {
			return
		}
		got := strftime(dt, format)
		if n := utf8.RuneCountInString(got); n > pyStrftimeLimit(pyStrftimeExpand(dt, format)) {
			t.Fatalf("strftime(%v, %q) is %d characters, more than Python returns", dt.t, format, n)
		}
		// The same format with the fast path's directives written %0Y, %0m, ...
		// (a directive runs from % over flags, width and E or O to its conversion).
		var slow strings.Builder
		for i := 0; i < len(format); i++ {
			if format[i] != '%' || i+1 >= len(format) {
				slow.WriteByte(format[i])
				continue
			}
			j := i + 1
			for j < len(format) && strings.IndexByte("-_0^#", format[j]) >= 0 {
				j++
			}
			for j < len(format) && '0' <= format[j] && format[j] <= '9' {
				j++
			}
			if j < len(format) && (format[j] == 'E' || format[j] == 'O') {
				j++
			}
			if j >= len(format) {
				slow.WriteString(format[i:])
				break
			}
			c := format[j]
			if j == i+1 && strings.IndexByte("YmdHMS", c) >= 0 && !(c == 'Y' && dt.t.Year() < 1000) {
				slow.WriteString("%0")
				slow.WriteByte(c)
			} else {
				slow.WriteString(format[i : j+1])
			}
			i = j
		}
		if want := strftime(dt, slow.String()); got != want && pyStrftimeLimit(pyStrftimeExpand(dt, format)) == pyStrftimeLimit(pyStrftimeExpand(dt, slow.String())) {
			t.Fatalf("strftime(%v, %q) = %q, but %q gives %q", dt.t, format, got, slow.String(), want)
		}
	})
}
