#!/usr/bin/python3
"""The reference for oracle_test.go: CPython's datetime, dateutil and isodate, called the way
the Airbyte CDK 6.31.1 calls them (DatetimeParser, _str_to_datetime, the datetime macros,
DatetimeBasedCursor's durations).

It reads one JSON object a line on stdin and writes one a line on stdout, in order:
{"ok": result} or {"err": "ExceptionClass", "msg": "message"}. A datetime travels as
[year, month, day, hour, minute, second, microsecond, offset seconds or null for naive].
Run it with TZ=UTC, as the CDK runs (strftime's %s and a naive datetime's timestamp() read
the local zone).
"""
import datetime
import json
import sys

import isodate
from dateutil import parser

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def to_dt(v):
    tz = None if v[7] is None else datetime.timezone(datetime.timedelta(seconds=v[7]))
    return datetime.datetime(*v[:7], tzinfo=tz)


def from_dt(dt):
    off = dt.utcoffset()
    if off is not None:
        # Whole seconds as an int; Python 3.7+ also allows microseconds, kept as a float.
        off = off.total_seconds() if off.microseconds else int(off.total_seconds())
    return [dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, off]


# DatetimeParser of datetime/datetime_parser.py.
def cdk_parse(date, fmt):
    if fmt == "%s":
        return datetime.datetime.fromtimestamp(int(date), tz=UTC)
    if fmt == "%s_as_float":
        return datetime.datetime.fromtimestamp(float(date), tz=UTC)
    if fmt == "%ms":
        return EPOCH + datetime.timedelta(milliseconds=int(date))
    dt = datetime.datetime.strptime(str(date), fmt)
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        return dt.replace(tzinfo=UTC)
    return dt


def cdk_format(dt, fmt):
    if fmt == "%s":
        return str(int(dt.timestamp()))
    if fmt == "%s_as_float":
        return str(float(dt.timestamp()))
    if fmt == "%ms":
        return str(int(dt.timestamp() * 1000))
    return dt.strftime(fmt)


# The macros of interpolation/macros.py (pytz.utc stands as timezone.utc: same offset and name).
def str_to_datetime(s):
    d = parser.isoparse(s)
    if not d.tzinfo:
        d = d.replace(tzinfo=UTC)
    return d.astimezone(UTC)


def format_datetime(dt, fmt, input_format=None):
    if isinstance(dt, datetime.datetime):
        return dt.strftime(fmt)
    d = datetime.datetime.strptime(dt, input_format) if input_format else str_to_datetime(dt)
    if fmt == "%s":
        return str(int(d.timestamp()))
    return d.strftime(fmt)


def duration(s):
    d = isodate.parse_duration(s)
    return {"str": str(d), "repr": repr(d)}


def dur_shift(s, dt):
    d = isodate.parse_duration(s)
    out = []
    for f in (lambda: dt + d, lambda: dt - d):
        try:
            out.append(from_dt(f()))
        except Exception as e:  # noqa: BLE001 - the class is the answer
            out.append(type(e).__name__)
    return out


OPS = {
    "strftime": lambda c: to_dt(c["dt"]).strftime(c.get("fmt", "")),
    "strptime": lambda c: from_dt(datetime.datetime.strptime(c.get("s", ""), c.get("fmt", ""))),
    "parse": lambda c: from_dt(cdk_parse(c.get("s", ""), c.get("fmt", ""))),
    "format": lambda c: cdk_format(to_dt(c["dt"]), c.get("fmt", "")),
    "str_to_datetime": lambda c: from_dt(str_to_datetime(c.get("s", ""))),
    "timestamp": lambda c: repr(str_to_datetime(c.get("s", "")).timestamp()),
    "format_datetime": lambda c: format_datetime(c.get("s", ""), c.get("fmt", ""), c.get("in")),
    "duration": lambda c: duration(c.get("s", "")),
    "dur_shift": lambda c: dur_shift(c.get("s", ""), to_dt(c["dt"])),
    "dt_str": lambda c: [str(to_dt(c["dt"])), to_dt(c["dt"]).isoformat(), repr(to_dt(c["dt"]).timestamp())],
    "td_str": lambda c: [str(datetime.timedelta(microseconds=c["us"])), repr(datetime.timedelta(microseconds=c["us"]))],
}


def main():
    out = sys.stdout
    for line in sys.stdin:
        c = json.loads(line)
        try:
            r = {"ok": OPS[c["op"]](c)}
        except Exception as e:  # noqa: BLE001 - the class is the answer
            r = {"err": type(e).__name__, "msg": str(e)}
        out.write(json.dumps(r) + "\n")
        out.flush() if c.get("flush") else None
    out.flush()


if __name__ == "__main__":
    main()
