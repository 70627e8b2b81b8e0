package interpolation

import "math/rand/v2"

// The generator of TestJinjaOracle and FuzzJinjaOracle: random templates over the grammar the
// corpus uses, deterministic for a given source.

// genContext is the generator's context: values of every type under config, record, response
// and stream_slice.
const genContext = `{
 "config": {"s": "abc", "u": "h\u00e9llo \u2603", "e": "", "n": 5, "neg": -3, "z": 0,
   "big": 1180591620717411303424, "f": 2.5, "t": true, "fa": false, "none": null,
   "l": [1, "a", null, 2.5], "ln": [3, 1, 2], "ls": ["b", "a", "B"], "le": [],
   "d": {"a": 1, "b": [1, 2], "c": {"x": "y"}}, "de": {},
   "ld": [{"id": 1, "name": "x"}, {"id": 2, "name": "y"}, {"id": 3, "name": null}],
   "num_s": "42", "float_s": "1.5", "list_s": "[1, 2]", "ws": " 7 ", "csv": "a,b,,c",
   "date": "2024-01-02T03:04:05Z", "b64": "aGVsbG8=", "path": "v1/users", "upper": "ABC"},
 "record": {"id": 7, "name": "x", "updated_at": 1700000000, "tags": ["a", "b"], "score": 1.5,
   "flag": false, "nested": {"k": [1, {"v": "w"}]}, "none": null},
 "response": {"data": [{"id": 1}, {"id": 2}], "next": "https://x/?page=2", "has_more": true,
   "meta": {"cursor": null, "total": 12}, "count": 0},
 "stream_slice": {"start_time": "2024-01-01T00:00:00Z", "id": 3, "parent": {"id": "p1"}},
 "parameters": {"name": "users", "page_size": 50}
}`

var (
	genInts = []string{"0", "1", "-1", "2", "3", "7", "10", "255", "9223372036854775807",
		"9223372036854775808", "123456789012345678901234567890", "1_000", "0x1F", "0o17", "0b101", "007"}
	genFloats = []string{"0.1", "1.5", "-2.5", "1e16", "1e-5", "1e308", "2.675", "0.5", "3.0", "1E3",
		"1_0.5", "123456789.123456789", "0.0", "1e22", "5e-324", ".5", "1.", "2.5e+3"}
	genStrs = []string{"''", "'a'", "'abc'", "'h\u00e9llo'", "'\u2603'", "'42'", "'1.5'", "'[1, 2]'",
		`"{'a': 1}"`, "'True'", "'None'", "' 5 '", "'001'", "'1_000'", "'-3'", "'1e3'", "'a,b'",
		`'x\ny'`, `"it's"`, `'"q"'`, `'\u00e9'`, "'0x10'", "'(1,)'", "'()'", "'1j'", "'inf'",
		`"'s'"`, "'2024-01-01'", "'{}'", "'[]'", "'0'", "'0.0'", "'false'", "'False'", "'  '",
		"'-0'", "'+1'", "'1 + 2'", "'[1, [2, (3,)]]'", "'{1: 2}'", "'nan'", "'1e400'", "'\"\"\"x\"\"\"'",
		"'ABC'", "'a b c'", "'\\t'", "'%s-%s'", "'{}-{}'", "'{0}'", "'\U0001F600'", "'\\x41'"}
	genNames = []string{"True", "False", "None", "true", "false", "none"}
	genVars  = []string{"config.s", "config['u']", "config.e", "config.n", "config['neg']", "config.z",
		"config.big", "config.f", "config.t", "config.fa", "config.none", "config.l", "config.ln",
		"config.ls", "config.le", "config.d", "config.de", "config.ld", "config.num_s", "config.float_s",
		"config.list_s", "config.ws", "config.csv", "config.b64", "config.path", "config.upper",
		"config.nope", "config['nope']", "config.d.a", "config.d['b']", "config.d.c.x", "config.d.nope.x",
		"config.l[0]", "record.id", "record.tags", "record['score']", "record.flag", "record.nested.k[1].v",
		"record.none", "response.data", "response.meta.cursor", "response.meta.total", "response.count",
		"response.has_more", "response.next", "stream_slice.start_time", "stream_interval.id",
		"stream_partition.parent.id", "parameters.name", "parameters['page_size']", "stream_slice.nope",
		"next_page_token", "nope_var", "config.get('s')", "config.get('nope', 'dflt')", "record.get('id')"}
	genBinops  = []string{"+", "-", "*", "/", "//", "%", "**", "~"}
	genCompare = []string{"==", "!=", "<", "<=", ">", ">=", "in", "not in"}
	genFilters = []string{"length", "lower", "upper", "int", "float", "string", "default('x')",
		"d(0, true)", "join(',')", "join", "first", "last", "round", "round(1)", "round(1, 'floor')",
		"round(0, 'ceil')", "abs", "trim", "replace('a', 'b')", "tojson", "list", "sort", "sort(reverse=true)",
		"unique | list", "reverse | list", "capitalize", "title", "count", "sum", "min", "max", "wordcount",
		"urlencode", "center(9)", "hash", "hash('sha256')", "hash('md5', 'salt')", "base64encode",
		"base64decode", "regex_search('(\\\\d+)')", "regex_search('b(.)')", "items | list", "dictsort",
		"map('upper') | list", "map(attribute='id') | list", "select('odd') | list", "reject('none') | list",
		"selectattr('id', 'even') | list", "int(7)", "float(0.5)", "default(none, true)", "string | length",
		"e", "safe", "list | length", "first | default(1)", "sum(start=10)", "join('-', attribute='id')",
		"trim('a')", "format(1, 2)", "attr('a')", "unique(case_sensitive=true) | list", "lower | list"}
	genTests = []string{"defined", "undefined", "none", "number", "string", "mapping", "sequence",
		"iterable", "odd", "even", "divisibleby(3)", "true", "false", "boolean", "integer", "float",
		"lower", "upper", "in([1, 'a'])", "eq(1)", "sameas(none)", "callable", "ne 0", "gt(1)", "lt 3",
		"ge 2", "le(2)", "eq 'abc'", "in 'abcd'"}
	genMethods = []string{"upper()", "lower()", "strip()", "split(',')", "split()", "replace('a', 'b')",
		"startswith('a')", "endswith('c')", "find('b')", "count('a')", "zfill(5)", "title()", "isdigit()",
		"format(1)", "join(['x', 'y'])", "lstrip('a')", "capitalize()", "partition(',')", "get('a')",
		"get('nope', 0)", "keys() | list", "values() | list", "items() | list", "index(1)", "rsplit(',', 1)",
		"isalpha()", "rstrip()", "splitlines()", "swapcase()", "rjust(6, '*')", "isnumeric()",
		"removeprefix('a')", "encode()", "strip('a')", "get('b', [])[0]", "copy()"}
	genSlices = []string{"[0]", "[-1]", "[5]", "[-10]", "['a']", "[1:]", "[:-1]", "[::-1]", "[1:3:2]",
		"[::0]", "[10:]", "[:100]", "[-2:]", "['id']", "[0]['id']", "[true]", "[1.0]", "[none]", "[:]"}
)

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// genExpr returns a random expression of at most depth levels.
func genExpr(r *rand.Rand, depth int) string {
	if depth <= 0 || r.IntN(4) == 0 {
		return genAtom(r, depth)
	}
	sub := func() string { return genExpr(r, depth-1) }
	switch r.IntN(14) {
	case 0, 1:
		return sub() + " " + pick(r, genBinops) + " " + sub()
	case 2:
		return sub() + " " + pick(r, genCompare) + " " + sub()
	case 3:
		return sub() + " " + pick(r, []string{"and", "or"}) + " " + sub()
	case 4:
		return pick(r, []string{"not ", "-", "+", "not not "}) + sub()
	case 5:
		if r.IntN(5) == 0 {
			return sub() + " if " + sub()
		}
		return sub() + " if " + sub() + " else " + sub()
	case 6, 7:
		return "(" + sub() + ") | " + pick(r, genFilters)
	case 8:
		return "(" + sub() + ") is " + pick(r, []string{"", "not "}) + pick(r, genTests)
	case 9:
		return "(" + sub() + ")." + pick(r, genMethods)
	case 10:
		return "(" + sub() + ")" + pick(r, genSlices)
	case 11:
		return pick(r, []string{"max", "min"}) + "(" + sub() + ", " + sub() + ")"
	case 12:
		return pick(r, []string{"[", "("}) + sub() + ", " + sub() + pick(r, []string{"]", ")"})
	}
	return "{" + genAtom(r, 0) + ": " + sub() + "}"
}

func genAtom(r *rand.Rand, depth int) string {
	switch r.IntN(12) {
	case 0, 1:
		return pick(r, genInts)
	case 2:
		return pick(r, genFloats)
	case 3, 4:
		return pick(r, genStrs)
	case 5:
		return pick(r, genNames)
	case 6:
		return pick(r, []string{"[]", "()", "{}", "(1,)", "[1, 2, 3]", "['b', 'a']", "{'a': 1, 'b': none}",
			"[1, 'a', none]", "(1, 2.5)", "{1: 'x', 'k': [2]}", "[[1, 2], [3]]", "[{'id': 2}, {'id': 1}]"})
	}
	return pick(r, genVars)
}

// genTemplate wraps expressions in one of the template forms the corpus uses.
func genTemplate(r *rand.Rand) string {
	e := func() string { return genExpr(r, 1+r.IntN(3)) }
	switch r.IntN(12) {
	case 0:
		return "pre-{{ " + e() + " }}-post"
	case 1:
		return "{{ " + e() + " }}{{ " + e() + " }}"
	case 2:
		return "{% if " + e() + " %}" + pick(r, []string{"A", "1", "[1]", ""}) + "{% else %}{{ " + e() + " }}{% endif %}"
	case 3:
		return "{% set x = " + e() + " %}{{ x }}"
	case 4:
		return "{% for i in " + e() + " %}{{ i }},{% endfor %}"
	case 5:
		return "{{ " + e() + " }} "
	}
	return "{{ " + e() + " }}"
}

// genCase is one generated case: a template, how the CDK evaluates it and in which context.
func genCase(r *rand.Rand) oracleCase {
	c := oracleCase{T: genTemplate(r), Ctx: "gen", Mode: "eval"}
	switch r.IntN(10) {
	case 0:
		c.Mode = "render"
	case 1:
		c.Mode = "string"
	case 2, 3:
		c.Mode = "boolean"
	case 4:
		c.Valid = []string{pick(r, []string{"str", "int", "float", "bool", "list", "dict"})}
		if r.IntN(2) == 0 {
			c.Valid = append(c.Valid, "str")
		}
	}
	return c
}
