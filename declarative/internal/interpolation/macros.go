package interpolation

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // today_with_timezone needs the IANA database without relying on the system's
	"unicode/utf8"
)

// namespace is Jinja's namespace() object, the one mutable thing {% set ns.x = ... %} can change.
type namespace struct{ attrs *Dict }

// globals are the names a template reads when its context lacks them: the CDK's macros and
// Jinja's default globals less range, which the CDK removes.
var globals map[string]Value

func init() {
	globals = map[string]Value{}
	for name, fn := range map[string]func(f *frame, args []Value, kws []kwValue) (Value, error){
		"now_utc":             macroNowUTC,
		"today_utc":           macroTodayUTC,
		"today_with_timezone": macroTodayWithTimezone,
		"timestamp":           macroTimestamp,
		"max":                 func(f *frame, args []Value, kws []kwValue) (Value, error) { return minMax(f, "max", args, kws, 1) },
		"min":                 func(f *frame, args []Value, kws []kwValue) (Value, error) { return minMax(f, "min", args, kws, -1) },
		"day_delta":           macroDayDelta,
		"duration":            macroDuration,
		"format_datetime":     macroFormatDatetime,
		"dict": func(f *frame, args []Value, kws []kwValue) (Value, error) {
			d := NewDict(len(kws))
			if len(args) > 0 {
				return nil, typeErrorf("dict() positional arguments are not supported by this evaluator")
			}
			for _, k := range kws {
				d.Set(k.name, k.v)
			}
			return d, nil
		},
		"namespace": func(f *frame, args []Value, kws []kwValue) (Value, error) {
			ns := &namespace{attrs: NewDict(len(kws))}
			for _, a := range args {
				src, ok := a.(*Dict)
				if !ok {
					return nil, typeErrorf("'%s' object is not iterable", typeName(a))
				}
				for k, v := range src.All() {
					if err := ns.attrs.put(k, v); err != nil {
						return nil, err
					}
				}
			}
			for _, k := range kws {
				ns.attrs.Set(k.name, k.v)
			}
			return ns, nil
		},
	} {
		globals[name] = &callable{name: name, fn: fn}
	}
	// lipsum, cycler and joiner exist in Jinja's globals; they are known (so no "undeclared"
	// error) but calling them is not supported.
	for _, name := range []string{"lipsum", "cycler", "joiner"} {
		n := name
		globals[n] = &callable{name: n, fn: func(*frame, []Value, []kwValue) (Value, error) {
			return nil, newError("NotImplementedError", "%s() is not supported by this evaluator", n)
		}}
	}
}

// bindArgs maps positional and keyword arguments onto a Python function's parameters, with
// Python's TypeErrors. required is the number of parameters without a default.
func bindArgs(fn string, params []string, required int, args []Value, kws []kwValue) ([]Value, []bool, error) {
	out := make([]Value, len(params))
	given := make([]bool, len(params))
	if len(args) > len(params) {
		if required == len(params) {
			return nil, nil, typeErrorf("%s() takes %d positional argument%s but %d were given", fn, len(params), pluralS(len(params)), len(args))
		}
		return nil, nil, typeErrorf("%s() takes from %d to %d positional arguments but %d were given", fn, required, len(params), len(args))
	}
	for i, a := range args {
		out[i], given[i] = a, true
	}
	for _, k := range kws {
		i := -1
		for j, p := range params {
			if p == k.name {
				i = j
			}
		}
		if i < 0 {
			return nil, nil, typeErrorf("%s() got an unexpected keyword argument '%s'", fn, k.name)
		}
		if given[i] {
			return nil, nil, typeErrorf("%s() got multiple values for argument '%s'", fn, k.name)
		}
		out[i], given[i] = k.v, true
	}
	for i := range required {
		if !given[i] {
			return nil, nil, typeErrorf("%s() missing 1 required positional argument: '%s'", fn, params[i])
		}
	}
	return out, given, nil
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (f *frame) now() (time.Time, error) {
	if f.vars.Now == nil {
		return time.Time{}, newError("RuntimeError", "no clock: set Vars.Now to evaluate now_utc(), today_utc(), day_delta() or today_with_timezone()")
	}
	return f.vars.Now(), nil
}

func macroNowUTC(f *frame, args []Value, kws []kwValue) (Value, error) {
	if _, _, err := bindArgs("now_utc", nil, 0, args, kws); err != nil {
		return nil, err
	}
	now, err := f.now()
	if err != nil {
		return nil, err
	}
	return newAware(now.In(utcZone)), nil
}

func macroTodayUTC(f *frame, args []Value, kws []kwValue) (Value, error) {
	if _, _, err := bindArgs("today_utc", nil, 0, args, kws); err != nil {
		return nil, err
	}
	now, err := f.now()
	if err != nil {
		return nil, err
	}
	return dateOf(now.UTC()), nil
}

func macroTodayWithTimezone(f *frame, args []Value, kws []kwValue) (Value, error) {
	a, _, err := bindArgs("today_with_timezone", []string{"timezone"}, 1, args, kws)
	if err != nil {
		return nil, err
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, newError("UnknownTimeZoneError", "%s", Repr(a[0]))
	}
	loc, err := pytzTimezone(name)
	if err != nil {
		return nil, err
	}
	now, err := f.now()
	if err != nil {
		return nil, err
	}
	return dateOf(now.In(loc)), nil
}

// pytzTimezone is pytz.timezone(name) as far as the IANA database allows: UTC in any case,
// the old "_plus_" and "_minus_" spellings of Etc/GMT+5 and the like. pytz also matches the
// other names in any case, from its list of zones; LoadLocation only as written.
func pytzTimezone(name string) (*time.Location, error) {
	if strings.EqualFold(name, "UTC") {
		return utcZone, nil
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return nil, newError("UnknownTimeZoneError", "%s", Repr(name))
		}
	}
	name = strings.ReplaceAll(strings.ReplaceAll(name, "_plus_", "+"), "_minus_", "-")
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		return nil, newError("UnknownTimeZoneError", "%s", Repr(name))
	}
	return loc, nil
}

func macroTimestamp(f *frame, args []Value, kws []kwValue) (Value, error) {
	a, _, err := bindArgs("timestamp", []string{"dt"}, 1, args, kws)
	if err != nil {
		return nil, err
	}
	switch v := a[0].(type) {
	case bool:
		return boolToInt(v), nil
	case int64:
		return v, nil
	case float64:
		if math.IsInf(v, 0) {
			return nil, newError("OverflowError", "cannot convert float infinity to integer")
		}
		if math.IsNaN(v) {
			return nil, valueErrorf("cannot convert float NaN to integer")
		}
		return pyIntFromFloat(v), nil
	}
	dt, err := strToDatetime(a[0])
	if err != nil {
		return nil, err
	}
	return dt.timestamp(), nil
}

// pyIntFromFloat is Python's int(f) for a finite float.
func pyIntFromFloat(f float64) Value {
	t := math.Trunc(f)
	if t >= -9.2e18 && t <= 9.2e18 {
		return int64(t)
	}
	b, _ := bigFloat(t).Int(nil)
	return normInt(b)
}

// strToDatetime is the CDK's _str_to_datetime: dateutil's isoparse, UTC when naive, converted
// to UTC.
func strToDatetime(v Value) (dateTime, error) {
	if u, ok := v.(*undefined); ok {
		// dateutil first looks for a read attribute, which an undefined value refuses.
		return dateTime{}, u.fail()
	}
	s, ok := v.(string)
	if !ok {
		if _, isBytes := v.([]byte); !isBytes {
			return dateTime{}, typeErrorf("'%s' object has no attribute 'encode'", typeName(v))
		}
	}
	dt, err := isoparse(s)
	if err != nil {
		return dateTime{}, err
	}
	// astimezone can leave the years 1 to 9999: 9999-12-31T10:00-18:00 is 10000-01-01 UTC.
	u := dt.t.In(utcZone)
	if y := u.Year(); y < 1 || y > 9999 {
		return dateTime{}, newError("OverflowError", "date value out of range")
	}
	return newAware(u), nil
}

func minMax(f *frame, name string, args []Value, kws []kwValue, sign int) (Value, error) {
	if len(kws) > 0 {
		return nil, typeErrorf("%s() got an unexpected keyword argument '%s'", name, kws[0].name)
	}
	items := args
	if len(args) == 0 {
		return nil, typeErrorf("%s expected at least 1 argument, got 0", name)
	}
	if len(args) == 1 {
		var err error
		if items, err = iterate(args[0]); err != nil {
			return nil, err
		}
		if dv, ok := args[0].(dictView); ok {
			items = dv.items()
		}
		if len(items) == 0 {
			return nil, valueErrorf("%s() arg is an empty sequence", name)
		}
	}
	best := items[0]
	op := ">"
	if sign < 0 {
		op = "<"
	}
	for _, it := range items[1:] {
		better, err := f.compare(op, it, best)
		if err != nil {
			return nil, err
		}
		if better {
			best = it
		}
	}
	return best, nil
}

func macroDayDelta(f *frame, args []Value, kws []kwValue) (Value, error) {
	a, given, err := bindArgs("day_delta", []string{"num_days", "format"}, 1, args, kws)
	if err != nil {
		return nil, err
	}
	format := "%Y-%m-%dT%H:%M:%S.%f%z"
	if given[1] {
		s, ok := a[1].(string)
		if !ok {
			return nil, typeErrorf("strftime() argument 1 must be str, not %s", typeName(a[1]))
		}
		format = s
	}
	days, err := timedeltaDays(a[0])
	if err != nil {
		return nil, err
	}
	now, err := f.now()
	if err != nil {
		return nil, err
	}
	dt := newAware(now.In(utcZone))
	if dt.t, err = addMicros(dt.t, days.us); err != nil {
		return nil, err
	}
	return strftime(dt, format), nil
}

// timedeltaDays is timedelta(days=v).
func timedeltaDays(v Value) (timeDelta, error) {
	switch x := v.(type) {
	case bool:
		return timeDelta{boolToInt(x) * usPerDay}, nil
	case int64:
		return timedeltaDaysBig(big.NewInt(x))
	case *big.Int:
		return timedeltaDaysBig(x)
	case float64:
		switch {
		case math.IsNaN(x):
			return timeDelta{}, valueErrorf("cannot convert float NaN to integer")
		case math.IsInf(x, 0):
			return timeDelta{}, newError("OverflowError", "cannot convert float infinity to integer")
		}
		// Exactly, as Python takes the whole days: a product past the
		// float range is a range error, not infinity.
		r := new(big.Rat).SetFloat64(x)
		v, err := timedeltaMicros(divRound(new(big.Int).Mul(r.Num(), big.NewInt(usPerDay)), r.Denom()))
		return timeDelta{v}, err
	}
	return timeDelta{}, typeErrorf("unsupported type for timedelta days component: %s", typeName(v))
}

// timedeltaDaysBig is timedelta(days=days) for an int.
func timedeltaDaysBig(days *big.Int) (timeDelta, error) {
	v, err := timedeltaMicros(new(big.Int).Mul(days, big.NewInt(usPerDay)))
	return timeDelta{v}, err
}

func macroDuration(f *frame, args []Value, kws []kwValue) (Value, error) {
	a, _, err := bindArgs("duration", []string{"datestring"}, 1, args, kws)
	if err != nil {
		return nil, err
	}
	s, ok := a[0].(string)
	if !ok {
		return nil, typeErrorf("Expecting a string %s", Repr(a[0]))
	}
	return parseISODuration(s)
}

func macroFormatDatetime(f *frame, args []Value, kws []kwValue) (Value, error) {
	a, given, err := bindArgs("format_datetime", []string{"dt", "format", "input_format"}, 2, args, kws)
	if err != nil {
		return nil, err
	}
	format, ok := a[1].(string)
	if dt, isDT := a[0].(dateTime); isDT {
		if !ok {
			return nil, typeErrorf("strftime() argument 1 must be str, not %s", typeName(a[1]))
		}
		return strftime(dt, format), nil
	}
	var dt dateTime
	if given[2] && Truthy(a[2]) {
		s, isStr := a[0].(string)
		in, inStr := a[2].(string)
		if !isStr || !inStr {
			return nil, typeErrorf("strptime() argument 0 must be str, not %s", typeName(a[0]))
		}
		if dt, err = strptime(s, in); err != nil {
			return nil, err
		}
	} else if dt, err = strToDatetime(a[0]); err != nil {
		return nil, err
	}
	if format == "%s" {
		if err := dt.timestampErr(); err != nil {
			return nil, err
		}
		return strconv.FormatInt(int64(math.Trunc(dt.timestamp())), 10), nil
	}
	if !ok {
		return nil, typeErrorf("strftime() argument 1 must be str, not %s", typeName(a[1]))
	}
	return strftime(dt, format), nil
}

// strftimeMethod is datetime.strftime and date.strftime (a date formats as its midnight).
func strftimeMethod(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
	a, _, err := bindArgs("strftime", []string{"format"}, 1, args, kws)
	if err != nil {
		return nil, err
	}
	s, ok := a[0].(string)
	if !ok {
		return nil, typeErrorf("strftime() argument 1 must be str, not %s", typeName(a[0]))
	}
	dt, isDT := recv.(dateTime)
	if !isDT {
		dt = dateTime{t: recv.(date).time()}
	}
	return strftime(dt, s), nil
}

var dateTimeMethods = map[string]method{
	"strftime": strftimeMethod,
	"isoformat": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		a, given, err := bindArgs("isoformat", []string{"sep", "timespec"}, 0, args, kws)
		if err != nil {
			return nil, err
		}
		sep := byte('T')
		if given[0] {
			s, ok := a[0].(string)
			if !ok || len(s) != 1 {
				return nil, typeErrorf("isoformat() argument 1 must be a unicode character, not %s", typeName(a[0]))
			}
			sep = s[0]
		}
		if given[1] && a[1] != "auto" {
			return nil, valueErrorf("isoformat timespec other than 'auto' is not supported by this evaluator")
		}
		return string(recv.(dateTime).appendISO(nil, sep)), nil
	},
	"timestamp": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if err := checkArgs("timestamp", args, kws, 0, 0); err != nil {
			return nil, err
		}
		dt := recv.(dateTime)
		return dt.timestamp(), dt.timestampErr()
	},
	"date": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		return dateOf(recv.(dateTime).t), checkArgs("date", args, kws, 0, 0)
	},
	"weekday": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		return int64((recv.(dateTime).t.Weekday() + 6) % 7), checkArgs("weekday", args, kws, 0, 0)
	},
	"isoweekday": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		return int64((recv.(dateTime).t.Weekday()+6)%7 + 1), checkArgs("isoweekday", args, kws, 0, 0)
	},
	"astimezone": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		if len(args)+len(kws) > 0 {
			return nil, typeErrorf("astimezone() with a tz argument is not supported by this evaluator")
		}
		dt := recv.(dateTime)
		if !dt.aware {
			return newAware(time.Date(dt.t.Year(), dt.t.Month(), dt.t.Day(), dt.t.Hour(), dt.t.Minute(), dt.t.Second(), dt.t.Nanosecond(), utcZone)), nil
		}
		return dt, nil
	},
	"replace": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		dt := recv.(dateTime)
		params := []string{"year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo"}
		a, given, err := bindArgs("replace", params, 0, args, kws)
		if err != nil {
			return nil, err
		}
		y, mo, d := dt.t.Date()
		h, mi, s := dt.t.Clock()
		vals := []int{y, int(mo), d, h, mi, s, dt.micro()}
		for i := range 7 {
			if given[i] {
				n, ok := a[i].(int64)
				if !ok {
					return nil, typeErrorf("'%s' object cannot be interpreted as an integer", typeName(a[i]))
				}
				vals[i] = int(n)
			}
		}
		loc, aware := dt.t.Location(), dt.aware
		if given[7] {
			if a[7] != nil {
				return nil, typeErrorf("tzinfo argument must be None or of a tzinfo subclass, not type '%s'", typeName(a[7]))
			}
			loc, aware = time.UTC, false
		}
		out, err := makeDateTime(vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6], loc)
		out.aware = aware
		return out, err
	},
	"utcoffset": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		dt := recv.(dateTime)
		if !dt.aware {
			return nil, checkArgs("utcoffset", args, kws, 0, 0)
		}
		return timeDelta{int64(dt.offset()) * usPerSecond}, checkArgs("utcoffset", args, kws, 0, 0)
	},
	"tzname": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		dt := recv.(dateTime)
		if !dt.aware {
			return nil, checkArgs("tzname", args, kws, 0, 0)
		}
		return dt.zoneName(), checkArgs("tzname", args, kws, 0, 0)
	},
}

var dateMethods = map[string]method{
	"strftime": strftimeMethod,
	"isoformat": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		return string(recv.(date).appendISO(nil)), checkArgs("isoformat", args, kws, 0, 0)
	},
	"weekday": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		return int64((recv.(date).time().Weekday() + 6) % 7), checkArgs("weekday", args, kws, 0, 0)
	},
	"isoweekday": func(_ *frame, recv Value, args []Value, kws []kwValue) (Value, error) {
		return int64((recv.(date).time().Weekday()+6)%7 + 1), checkArgs("isoweekday", args, kws, 0, 0)
	},
}
