package jobtime

import (
	"fmt"
	"testing"
	"time"
)

// FuzzParse checks that a job time written as Airbyte's servers write it,
// by Go's RFC 3339 (time.RFC3339Nano) or by Java's OffsetDateTime.toString,
// reads back as the same instant, for years 0000 to 9999 and offsets of
// whole minutes within Java's ±18:00 (the forms both print alike).
func FuzzParse(f *testing.F) {
	f.Add(int64(1717243200), uint32(0), int16(0))           // 2024-06-01T12:00Z, the form without seconds
	f.Add(int64(1717243230), uint32(500000000), int16(120)) // .500 as Java's .500
	f.Add(int64(1717243200), uint32(123456), int16(-330))   // micros, :00 seconds kept
	f.Add(int64(1717243200), uint32(1), int16(1080))        // nanos, +18:00
	f.Add(int64(-62167219200), uint32(0), int16(-1080))     // 0000-01-01
	f.Add(int64(253402300799), uint32(999999999), int16(0)) // 9999-12-31T23:59:59.999999999Z
	f.Fuzz(func(t *testing.T, sec int64, nsec uint32, offMinutes int16) {
		const first, last = -62167219200, 253402300799 // 0000-01-01, 9999-12-31 UTC
		span := int64(last - first + 1)
		sec = first + ((sec-first)%span+span)%span
		off := int(offMinutes) % (18*60 + 1)
		zone := time.FixedZone("", off*60)
		at := time.Unix(sec, int64(nsec%1e9)).In(zone)
		if at.Year() < 0 || at.Year() > 9999 {
			return // the offset moved it out of four-digit years
		}
		for _, s := range []string{at.Format(time.RFC3339Nano), javaOffsetDateTime(at)} {
			got, ok := Parse(s)
			if !ok {
				t.Fatalf("Parse(%q) failed", s)
			}
			if !got.Equal(at) {
				t.Fatalf("Parse(%q) = %v, want %v", s, got, at)
			}
		}
	})
}

// javaOffsetDateTime prints t as java.time.OffsetDateTime.toString does:
// seconds left out when they and the fraction are zero, the fraction in
// groups of three digits, the offset as Z or ±HH:MM.
func javaOffsetDateTime(t time.Time) string {
	s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
	if ns := t.Nanosecond(); t.Second() != 0 || ns != 0 {
		s += fmt.Sprintf(":%02d", t.Second())
		switch {
		case ns == 0:
		case ns%1e6 == 0:
			s += fmt.Sprintf(".%03d", ns/1e6)
		case ns%1e3 == 0:
			s += fmt.Sprintf(".%06d", ns/1e3)
		default:
			s += fmt.Sprintf(".%09d", ns)
		}
	}
	_, off := t.Zone()
	if off == 0 {
		return s + "Z"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return s + fmt.Sprintf("%c%02d:%02d", sign, off/3600, off/60%60)
}
