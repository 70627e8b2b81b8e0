// Package interpolation evaluates the Jinja templates of Airbyte's low-code manifests exactly
// as the Python CDK 6.31.1 does: Jinja2 over Python values, then ast.literal_eval of the text.
//
// Every string of a manifest may be a template: "{{ config['start_date'] }}",
// "{{ response.get('next') }}", "{% if config.flag %}a{% else %}b{% endif %}". The CDK renders
// it with a sandboxed Jinja2 environment holding its macros (now_utc, today_utc,
// today_with_timezone, timestamp, max, min, day_delta, duration, format_datetime) and filters
// (hash, base64encode, base64decode, string, regex_search, and Jinja's own), then parses the
// rendered text back into a value with Python's ast.literal_eval: "5" becomes 5, "True" True,
// "[1, 2]" a list, while "2024-01-01" or "001" stay strings. This package is a purpose-built
// evaluator for that: templates are compiled once and evaluated without re-parsing, over a
// small Python-like value model.
//
// # Values
//
// A Value is a Go value standing for a Python one:
//
//	None      nil
//	bool      bool
//	int       int64 (*big.Int beyond 64 bits)
//	float     float64
//	str       string
//	list      []Value
//	tuple     Tuple
//	dict      *Dict (insertion-ordered, Python key equality)
//
// DecodeJSON reads a JSON document into values as Python's json.loads does (key order kept,
// integers stay ints, floats stay floats); EncodeJSON and AppendJSON write them back, compact,
// with Python's float spelling. FromGo converts ordinary Go data (a config decoded into
// map[string]any, a json.RawMessage). Copy deep-copies, Equal is Python's ==, Truthy is
// Python's bool(), Str and Repr are Python's str() and repr() (str(True) is "True", str(None)
// is "None", str(1.0) is "1.0", str of a dict is "{'a': 1}").
//
// During evaluation templates also meet datetimes, dates, timedeltas and isodate durations
// (now_utc() - duration('P1D')), with Python's arithmetic, comparison, strftime, isoformat and
// str(); none of them leaves the package, since every result goes through literal_eval.
//
// # Templates and their context
//
// Compile parses a template once. A Template is safe for concurrent use. Each evaluation gets
// a *Vars: the variables the CDK passes (config, parameters, stream_slice with its aliases
// stream_interval and stream_partition, stream_state, next_page_token, record, response,
// headers, last_record, last_page_size, ...) and the clock behind now_utc() and friends:
//
//	tmpl, err := interpolation.Compile("{{ record['updated_at'] >= stream_interval['start_time'] }}")
//	base := interpolation.Vars{Now: clock}
//	base.Set(interpolation.VarConfig, config)
//	base.Set(interpolation.VarParameters, parameters)
//	...
//	vs := base // per record: copy, set what changes
//	vs.Set(interpolation.VarRecord, record)
//	vs.Set(interpolation.VarStreamSlice, slice)
//	v, err := tmpl.Eval(&vs)
//
// Only the variables that are set exist: reading another fails as in the CDK ("Jinja macro
// has undeclared variables"), while one set to nil is None. Setting and copying Vars does not
// allocate. The evaluator never reads the system clock; Vars.Now must be set for templates
// that call the date macros.
//
// # The CDK's entry points
//
// Template.Render is the Jinja render alone. Template.Eval and EvalWith are the CDK's
// JinjaInterpolation.eval, with its rules: an empty text, or an undefined value used in an
// operation (an attribute of a missing key), gives the default (None unless given); a
// TypeError raised while rendering gives the template's source text back unchanged; the text
// is literal-evaluated and kept as a string when it is no literal or not of the valid types.
// String (InterpolatedString, whose default is itself and which remembers that it is a plain
// string), Boolean (InterpolatedBoolean: false only for "False", "false", "", "0", empty
// containers and the like, so None is true), Mapping (InterpolatedMapping) and NestedMapping
// (InterpolatedNestedMapping, which drops None values) mirror the CDK's wrappers.
//
// Errors are *Error values named after the Python exception the CDK raises (TypeError,
// ValueError, UndefinedError, TemplateSyntaxError, ...) with its message, and wrap ErrSyntax,
// ErrUndefined, ErrType or ErrEval. Nothing panics on any template or value.
//
// # Dates for the cursor
//
// ParseDatetime and FormatDatetime follow the CDK's DatetimeParser (%s, %s_as_float and %ms,
// then Python's strptime and strftime); ParseDuration reads ISO-8601 durations as isodate does,
// and Duration adds them to a time with Python's calendar arithmetic (Jan 31 + P1M is the last
// day of February).
package interpolation
