#!/usr/bin/env python3
"""Regenerates golden.json: templates evaluated the way the Airbyte CDK 6.31.1 evaluates them.

Run with a Python that has Jinja2 3.1 and python-dateutil:
    python3 golden.py ../../../../shared/manifests/corpus > golden.json
It imitates the CDK's JinjaInterpolation (sandboxed Jinja2, the CDK's macros and filters,
range removed, literal_eval of the output) with a frozen clock; isodate and pytz are replaced
by equivalents written here, as they are not installed on the development machines.
"""
import ast, base64, datetime, hashlib, json, re, sys, glob, os
from decimal import Decimal
import zoneinfo
import yaml
from dateutil import parser as dtparser
from jinja2 import meta
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment

NOW = datetime.datetime(2025, 1, 15, 12, 0, 0, tzinfo=datetime.timezone.utc)

class Duration:
    """The parts of isodate.Duration the templates can reach."""
    def __init__(self, years, months, tdelta):
        self.years, self.months, self.tdelta = years, months, tdelta
    def __str__(self):
        p = []
        if self.years:
            p.append("%d years" % self.years)
        if self.months:
            p.append(("%d month" if self.months <= 1 else "%d months") % self.months)
        p.append(str(self.tdelta))
        return ", ".join(p)
    def __neg__(self):
        return Duration(-self.years, -self.months, -self.tdelta)
    def __add__(self, other):
        if isinstance(other, (datetime.date, datetime.datetime)):
            m = other.month + int(self.months)
            carry, m = divmod(m - 1, 12)
            m += 1
            y = other.year + int(self.years) + carry
            import calendar
            d = min(other.day, calendar.monthrange(int(y), int(m))[1])
            return self.tdelta + other.replace(year=int(y), month=int(m), day=int(d))
        return NotImplemented
    __radd__ = __add__
    def __rsub__(self, other):
        return other + -self

PERIOD = re.compile(r"^(?P<sign>[+-])?P(?!\b)(?P<years>[0-9]+([,.][0-9]+)?Y)?(?P<months>[0-9]+([,.][0-9]+)?M)?"
                    r"(?P<weeks>[0-9]+([,.][0-9]+)?W)?(?P<days>[0-9]+([,.][0-9]+)?D)?((?P<separator>T)"
                    r"(?P<hours>[0-9]+([,.][0-9]+)?H)?(?P<minutes>[0-9]+([,.][0-9]+)?M)?(?P<seconds>[0-9]+([,.][0-9]+)?S)?)?$")

class ISO8601Error(ValueError):
    pass

def duration(datestring):
    m = PERIOD.match(datestring)
    if not m:
        raise ISO8601Error("Unable to parse duration string %r" % datestring)
    g = {k: (v or "0n") for k, v in m.groupdict().items() if k not in ("sign", "separator")}
    num = {k: (Decimal if k in ("years", "months") else float)(v[:-1].replace(",", ".")) for k, v in g.items()}
    td = datetime.timedelta(days=num["days"], hours=num["hours"], minutes=num["minutes"], seconds=num["seconds"], weeks=num["weeks"])
    if num["years"] == 0 and num["months"] == 0:
        return datetime.timedelta(0) - td if m.group("sign") == "-" else td
    d = Duration(num["years"], num["months"], td)
    return -d if m.group("sign") == "-" else d

def _to_utc(s):
    d = dtparser.isoparse(s)
    if not d.tzinfo:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.astimezone(datetime.timezone.utc)

def timestamp(dt):
    if isinstance(dt, (int, float)):
        return int(dt)
    return _to_utc(dt).timestamp()

def format_datetime(dt, format, input_format=None):
    if isinstance(dt, datetime.datetime):
        return dt.strftime(format)
    d = datetime.datetime.strptime(dt, input_format) if input_format else _to_utc(dt)
    if format == "%s":
        return str(int(d.timestamp()))
    return d.strftime(format)

MACROS = {
    "now_utc": lambda: NOW,
    "today_utc": lambda: NOW.date(),
    "today_with_timezone": lambda timezone: NOW.astimezone(zoneinfo.ZoneInfo(timezone)).date(),
    "timestamp": timestamp,
    "max": lambda *a: max(*a),
    "min": lambda *a: min(*a),
    "day_delta": lambda num_days, format="%Y-%m-%dT%H:%M:%S.%f%z": (NOW + datetime.timedelta(days=num_days)).strftime(format),
    "duration": duration,
    "format_datetime": format_datetime,
}

def f_hash(value, hash_type="md5", salt=None):
    fn = getattr(hashlib, hash_type, None)
    if not fn:
        raise AttributeError("No hashing function named {}".format(hash_type))
    h = fn()
    h.update(str(value).encode("utf-8"))
    if salt:
        h.update(str(salt).encode("utf-8"))
    return h.hexdigest()

def f_string(value):
    return value if isinstance(value, str) else '"""%s"""' % json.dumps(value)

def f_regex_search(value, regex):
    m = re.search(regex, value)
    return m.group(1) if m and len(m.groups()) > 0 else ""

ENV = SandboxedEnvironment()
ENV.filters.update(hash=f_hash, string=f_string, regex_search=f_regex_search,
                   base64encode=lambda v: base64.b64encode(v.encode("utf-8")).decode(),
                   base64decode=lambda v: base64.b64decode(v.encode("utf-8")).decode())
ENV.globals.update(MACROS)
ENV.globals.pop("range")

def render(s, ctx):
    try:
        missing = {v for v in meta.find_undeclared_variables(ENV.parse(s)) if v not in ctx}
        if missing:
            raise ValueError(f"Jinja macro has undeclared variables: {missing}. Context: {ctx}")
        return ENV.from_string(s).render(ctx)
    except TypeError:
        return s

def literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text

def evaluate(s, ctx):
    try:
        out = render(s, ctx)
        if out:
            return out, literal(out)
    except UndefinedError:
        pass
    return None, None

def entry(s, ctx):
    e = {"template": s}
    try:
        rendered, value = evaluate(s, ctx)
    except Exception as ex:
        e["error"] = {"type": type(ex).__name__, "message": str(ex)[:300]}
        return e
    e["rendered"] = rendered
    e["type"] = type(value).__name__
    e["repr"] = repr(value)
    return e

CONTEXT = {
    "config": {"start_date": "2024-01-02T03:04:05Z", "end_date": "2024-03-31", "api_key": "k", "region": "eu",
               "domain_region": "EU", "environment": "Sandbox", "targets": ["a", "b"], "flag": True, "n": 5,
               "empty": "", "query": "a b&c", "page_size": 50, "is_sandbox": False, "lookback_window": 2,
               "start": "20240102", "project": "p", "access": "all-access", "subdomain": "acme", "account_id": 42,
               "credentials": {"auth_type": "OAuth2.0", "access_token": "t", "client_id": "c"},
               "survey_ids": [1, 2], "board_ids": [7], "ratio": 0.25, "none": None, "zero": 0,
               "nested": {"list": [{"k": "v"}]}, "unicode": "h\u00e9llo \u2603"},
    "parameters": {"name": "users", "page_size": 50, "path": "v1/users", "data_field": "data"},
    "stream_slice": {"start_time": "2024-01-01T00:00:00Z", "end_time": "2024-01-31T00:00:00Z", "id": 3,
                     "organization_id": "me", "key": "a::b::c", "parent_id": 12},
    "stream_state": {"updated_at": "2024-01-15T00:00:00Z", "prior_state": {"updated_at": 1700000000}},
    "next_page_token": {"next_page_token": 2},
    "record": {"id": 7, "email": "a@b.c", "updated_at": 1700000000, "name": "x", "type": "file",
               "modified_on": None, "created_on": "2024-01-01", "stats": {"impressions": 10}, "items": [{"name": "i"}],
               "datetime": {"date": "2024-01-02.5"}, "balance": 0, "total_row_count": 3, "status": "finished",
               "tags": ["a", "b"], "score": 1.5, "flag": False, "_id": "abc", "pos_id": "P1- x"},
    "response": {"next": "https://x/?page=2", "meta": {"cursor": {"next": None}, "next_page": 3},
                 "data": [{"id": 1}, {"id": 2}], "has_more": False, "pagination": {"current": 1, "next": "tok"},
                 "total": 2.5, "links": [{"rel": "next", "href": "https://x/2"}], "paging": {"next": None},
                 "error": {"message": "Too Many Requests", "code": 429}, "count": 0, "status": 405, "code": 300,
                 "items": [], "nextPageToken": "", "_links": {"more": None}},
    "headers": {"Link": "<https://x/?page=2>; rel=\"next\"", "link": {"next": {"url": "https://x/3"}},
                "X-Rate": "10"},
    "last_record": {"id": 9, "meta": {"page": {"after": "cur9"}}, "cursor": "c9"},
    "last_page_size": 2,
}

# The same names with other shapes: None and empty values, numbers where strings were, so
# that the corpus templates also take their undefined, None and TypeError paths.
CONTEXT_ODD = {
    "config": {"start_date": None, "end_date": "", "api_key": 12345, "region": None, "targets": [],
               "flag": "false", "n": "5", "page_size": None, "credentials": {}, "survey_ids": None,
               "start": "2024", "lookback_window": "2", "domain_region": "US", "environment": "Production"},
    "parameters": {},
    "stream_slice": {"start_time": 1704067200, "end_time": None, "id": None},
    "stream_state": {},
    "next_page_token": None,
    "record": {"id": "7", "updated_at": "2024-01-05T00:00:00Z", "email": None, "name": 5, "stats": None,
               "items": [], "tags": None, "modified_on": "", "created_on": None, "type": None},
    "response": {"data": None, "meta": None, "next": "", "has_more": "true", "pagination": {},
                 "links": None, "paging": None, "error": "x", "count": "1", "items": None},
    "headers": {},
    "last_record": None,
    "last_page_size": 0,
}

def with_aliases(ctx):
    c = dict(ctx)
    c["stream_interval"] = c["stream_partition"] = c["stream_slice"]
    return c

def corpus_templates(root):
    found = set()
    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(k); walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str) and ("{{" in x or "{%" in x):
            found.add(x)
    for f in sorted(glob.glob(os.path.join(root, "*", "manifest.yaml"))):
        with open(f) as fh:
            walk(yaml.safe_load(fh))
    return sorted(found)

PROBES = [line for line in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "probes.txt")).read().split("\n") if line and not line.startswith("##")]

# DatetimeParser of the CDK, for the cursor's datetime_format and cursor_datetime_formats.
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

def dt_parse(date, format):
    if format == "%s":
        return datetime.datetime.fromtimestamp(int(date), tz=datetime.timezone.utc)
    if format == "%s_as_float":
        return datetime.datetime.fromtimestamp(float(date), tz=datetime.timezone.utc)
    if format == "%ms":
        return EPOCH + datetime.timedelta(milliseconds=int(date))
    d = datetime.datetime.strptime(str(date), format)
    if d.tzinfo is None or d.tzinfo.utcoffset(d) is None:
        return d.replace(tzinfo=datetime.timezone.utc)
    return d

def dt_format(d, format):
    if format == "%s":
        return str(int(d.timestamp()))
    if format == "%s_as_float":
        return str(float(d.timestamp()))
    if format == "%ms":
        return str(int(d.timestamp() * 1000))
    return d.strftime(format)

DT_FORMATS = ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S.%f%z", "%s", "%ms",
              "%s_as_float", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f+00:00",
              "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S+00:00", "%Y%m%d", "%d/%m/%Y %H:%M", "%d-%m-%Y",
              "%Y-%m", "%Y%m%dT%H", "modified_on:gt:%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.000Z",
              "%Y-%m-%dT%H:%M:%S+0000", "%Y-%m-%dT%H:%M:%S.%f", "%epoch_microseconds", "%b %d %Y %I:%M %p",
              "%A %j %U %W %y", "%G-W%V-%u"]
DT_INPUTS = ["2024-01-02T03:04:05Z", "2024-01-02", "2024-01-02T03:04:05.123456Z", "2024-01-02T03:04:05.5+02:00",
             "2024-01-02T03:04:05.123+0000", "1704164645", "1704164645123", "1704164645.25", "-1", "1_000",
             " 42 ", "2024-01-02T03:04:05+05:30", "2024-01-02 03:04:05", "2024-01-02 03:04:05.000001+00:00",
             "2024-01-02T03:04:05", "2024-01-02T03:04:05+00:00", "20240102", "02/01/2024 03:04", "02-01-2024",
             "2024-01", "20240102T03", "modified_on:gt:2024-01-02T03:04:05+0000", "2024-01-02T03:04:05.000Z",
             "2024-01-02T03:04:05+0000", "2024-01-02T03:04:05.7", "2024-1-2", "2024-02-30", "2024-01-02T03:04:05Zjunk",
             "Jan 02 2024 03:04 PM", "Tuesday 002 00 01 24", "2024-W01-2", "2024-01-02T03:04:05Z ", "x"]

def datetime_cases():
    cases = []
    for f in DT_FORMATS:
        for s in DT_INPUTS:
            e = {"format": f, "input": s}
            try:
                d = dt_parse(s, f)
                e["parsed"] = d.isoformat()
                e["formatted"] = dt_format(d, f)
            except Exception as ex:
                e["error"] = {"type": type(ex).__name__, "message": str(ex)}
            cases.append(e)
    return cases

if __name__ == "__main__":
    import copy
    out = {"now": NOW.isoformat(), "context": copy.deepcopy(CONTEXT), "cases": []}
    for s in corpus_templates(sys.argv[1]) + [p.replace("\\n", "\n") for p in PROBES]:
        out["cases"].append(entry(s, with_aliases(copy.deepcopy(CONTEXT))))
    out["context_odd"] = copy.deepcopy(CONTEXT_ODD)
    out["cases_odd"] = [entry(s, with_aliases(copy.deepcopy(CONTEXT_ODD))) for s in corpus_templates(sys.argv[1])]
    out["datetimes"] = datetime_cases()
    json.dump(out, sys.stdout, indent=0, ensure_ascii=False)
