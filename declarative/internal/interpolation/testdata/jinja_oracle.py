#!/usr/bin/python3
"""The reference for jinja_oracle_test.go: templates evaluated the way the Airbyte CDK 6.31.1
evaluates them, with Debian's real Jinja2 3.1.2 and CPython.

It reproduces the CDK's pipeline, written anew from its documented behaviour: a sandboxed
Jinja2 environment holding the CDK's filters (hash, base64encode, base64decode, string,
regex_search) and macros (max, min and the date macros over a frozen clock), without the
range global; the undeclared-variable check; the render whose TypeError gives the source text
back; ast.literal_eval of the text, kept as a string where it fails or gives a type outside
valid_types; and the default evaluated when the text is empty or the render meets an
UndefinedError. The callers are JinjaInterpolation.eval itself, InterpolatedString (its
default is its own text) and InterpolatedBoolean (default "False", then the CDK's list of
false values).

Protocol: one JSON object a line on stdin, one answer a line on stdout, in order, flushed
after a case that carries "flush": true (as time_oracle.py).
  {"ctx": NAME, "value": {...}}                  defines a context (config and the other names)
  {"t": TEMPLATE, "ctx": NAME, "mode": MODE, "valid": ["str", ...]}
MODE is render (the Jinja render alone, after the undeclared-variable check), eval, string or
boolean. The answer is {"type": TYPE, "repr": REPR} (for render: the text as a str) or
{"error": {"type": CLASS, "message": MESSAGE}}.
"""
import ast
import base64
import builtins
import datetime
import functools
import hashlib
import json
import re
import sys
import warnings
import zoneinfo

import isodate
from dateutil import parser as dtparser
from jinja2 import meta
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment

sys.setrecursionlimit(3000)
# Jinja compiles (1)[1:] to Python code, which warns about it on stderr.
warnings.filterwarnings("ignore", category=SyntaxWarning)

# The clock of the date macros: the Go side sets the same instant.
NOW = datetime.datetime(2025, 1, 15, 12, 0, 0, tzinfo=datetime.timezone.utc)


def _utc(s):
    d = dtparser.isoparse(s)
    if not d.tzinfo:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.astimezone(datetime.timezone.utc)


def m_timestamp(dt):
    if isinstance(dt, (int, float)):
        return int(dt)
    return _utc(dt).timestamp()


def m_format_datetime(dt, format, input_format=None):
    if isinstance(dt, datetime.datetime):
        return dt.strftime(format)
    d = datetime.datetime.strptime(dt, input_format) if input_format else _utc(dt)
    if format == "%s":
        return str(int(d.timestamp()))
    return d.strftime(format)


def m_day_delta(num_days, format="%Y-%m-%dT%H:%M:%S.%f%z"):
    return (NOW + datetime.timedelta(days=num_days)).strftime(format)


def m_max(*args):
    return builtins.max(*args)


def m_min(*args):
    return builtins.min(*args)


MACROS = {
    "now_utc": lambda: NOW,
    "today_utc": lambda: NOW.date(),
    # pytz is not on the machine; zoneinfo names the same zones.
    "today_with_timezone": lambda timezone: NOW.astimezone(zoneinfo.ZoneInfo(timezone)).date(),
    "timestamp": m_timestamp,
    "max": m_max,
    "min": m_min,
    "day_delta": m_day_delta,
    "duration": isodate.parse_duration,
    "format_datetime": m_format_datetime,
}


def f_hash(value, hash_type="md5", salt=None):
    fn = getattr(hashlib, hash_type, None)
    if not fn:
        raise AttributeError("No hashing function named {hname}".format(hname=hash_type))
    h = fn()
    h.update(str(value).encode("utf-8"))
    if salt:
        h.update(str(salt).encode("utf-8"))
    return h.hexdigest()


def f_base64encode(value):
    return base64.b64encode(value.encode("utf-8")).decode()


def f_base64decode(value):
    return base64.b64decode(value.encode("utf-8")).decode()


def f_string(value):
    if isinstance(value, str):
        return value
    return '"""' + json.dumps(value) + '"""'


def f_regex_search(value, regex):
    m = re.search(regex, value)
    if m and len(m.groups()) > 0:
        return m.group(1)
    return ""


class Env(SandboxedEnvironment):
    def is_safe_attribute(self, obj, attr, value):
        return attr == "_partition" or super().is_safe_attribute(obj, attr, value)


ENV = Env()
ENV.filters.update(hash=f_hash, base64encode=f_base64encode, base64decode=f_base64decode,
                   string=f_string, regex_search=f_regex_search)
ENV.globals.update(MACROS)
ENV.globals.pop("range", None)

FALSE_VALUES = ["False", "false", "{}", "[]", "()", "", "0", "0.0", {}, False, [], (), set()]
TYPES = {"str": str, "int": int, "float": float, "bool": bool, "NoneType": type(None),
         "list": list, "tuple": tuple, "dict": dict}


@functools.cache
def find_undeclared_variables(s):
    """JinjaInterpolation._find_undeclared_variables, cached as the CDK caches it."""
    return meta.find_undeclared_variables(ENV.parse(s))


@functools.cache
def compile_template(s):
    """JinjaInterpolation._compile."""
    return ENV.from_string(s)


def cdk_render(s, ctx):
    """JinjaInterpolation._eval."""
    try:
        undeclared = find_undeclared_variables(s)
        missing = {v for v in undeclared if v not in ctx}
        if missing:
            raise ValueError(f"Jinja macro has undeclared variables: {missing}. Context: {ctx}")
        return compile_template(s).render(ctx)
    except TypeError:
        return s


def literal(text, valid):
    try:
        v = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    if not valid or isinstance(v, valid):
        return v
    return text


def cdk_eval(s, ctx, default=None, valid=None):
    """JinjaInterpolation.eval."""
    for alias in ("stream_interval", "stream_partition"):
        if alias in ctx:
            raise ValueError(f"Found reserved keyword {alias} in interpolation context. "
                             "This is unexpected and indicative of a bug in the CDK.")
        if "stream_slice" in ctx:
            ctx[alias] = ctx["stream_slice"]
    try:
        out = cdk_render(s, ctx)
        if out:
            return literal(out, valid)
    except UndefinedError:
        pass
    return literal(cdk_render(default, ctx), valid)


def run(case, ctx):
    mode, s = case["mode"], case["t"]
    valid = tuple(TYPES[n] for n in case.get("valid") or ()) or None
    if mode == "render":
        for alias in ("stream_interval", "stream_partition"):
            if "stream_slice" in ctx:
                ctx[alias] = ctx["stream_slice"]
        missing = {v for v in find_undeclared_variables(s) if v not in ctx}
        if missing:
            raise ValueError(f"Jinja macro has undeclared variables: {missing}. Context: {ctx}")
        return compile_template(s).render(ctx)
    if mode == "eval":
        return cdk_eval(s, ctx, None, valid)
    if mode == "string":
        return cdk_eval(s, ctx, s, valid)
    if mode == "boolean":
        return cdk_eval(s, ctx, "False", valid) not in FALSE_VALUES
    raise SystemExit("unknown mode " + mode)


def answer(case, contexts):
    ctx = json.loads(contexts[case["ctx"]])  # a fresh copy: templates may mutate it
    try:
        v = run(case, ctx)
    except RecursionError:
        return {"error": {"type": "RecursionError", "message": ""}}
    except Exception as ex:  # every class the CDK lets through is an answer
        return {"error": {"type": type(ex).__name__, "message": str(ex)[:400]}}
    try:
        r = repr(v)
    except Exception as ex:
        return {"error": {"type": "repr:" + type(ex).__name__, "message": str(ex)[:400]}}
    return {"type": type(v).__name__, "repr": r}


def main():
    contexts = {}
    out = sys.stdout
    for line in sys.stdin:
        case = json.loads(line)
        if "value" in case:
            contexts[case["ctx"]] = json.dumps(case["value"])
            continue
        out.write(json.dumps(answer(case, contexts)) + "\n")
        out.flush() if case.get("flush") else None
    out.flush()


if __name__ == "__main__":
    main()
