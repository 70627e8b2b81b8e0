package declarative

import (
	"fmt"
	"strings"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// Paginators decide the next page (requesters/paginators in the CDK). The
// contract of a paginator:
//
//   - initialToken is the token of the first request (nil: none);
//   - next returns the token of the page after a response, or nil when the
//     stream slice is done; it receives the decoded first body element, the
//     response, the number of records and the last record of the page, and
//     the token that fetched the page;
//   - options is what the token and page size inject into a request, and
//     path the path a RequestPath token replaces the requester's with
//     ("" when none);
//   - paginators hold no per-read state: the retriever keeps the token.
type paginator interface {
	initialToken(v *vars) (value, error)
	next(pg *page, v *vars) (value, error)
	options(token value, v *vars) (requestOptions, error)
	path(token value, v *vars) (string, bool, error)
}

// page is what a paginator sees of a fetched page.
type page struct {
	resp       *response
	body       value // the first element the decoder yields
	size       int
	lastRecord value
	lastToken  value
}

// noPagination is NoPagination: a single page.
type noPagination struct{}

func (noPagination) initialToken(*vars) (value, error)            { return nil, nil }
func (noPagination) next(*page, *vars) (value, error)             { return nil, nil }
func (noPagination) options(value, *vars) (requestOptions, error) { return requestOptions{}, nil }
func (noPagination) path(value, *vars) (string, bool, error)      { return "", false, nil }

// defaultPaginator is DefaultPaginator.
type defaultPaginator struct {
	strategy   paginationStrategy
	sizeOption *requestOption
	tokenOpt   *requestOption // nil with tokenPath
	tokenPath  bool           // page_token_option is a RequestPath
	urlBase    *tmpl
}

func (p *defaultPaginator) initialToken(v *vars) (value, error) { return p.strategy.initialToken(v) }

func (p *defaultPaginator) next(pg *page, v *vars) (value, error) {
	tok, err := p.strategy.next(pg, v)
	if err != nil || !interpolation.Truthy(tok) {
		return nil, err
	}
	return tok, nil
}

func (p *defaultPaginator) options(token value, v *vars) (requestOptions, error) {
	var o requestOptions
	if p.tokenOpt != nil && token != nil {
		if err := p.tokenOpt.injectInto(&o, token, v); err != nil {
			return o, err
		}
	}
	if p.sizeOption != nil {
		size, ok, err := p.strategy.pageSize(v)
		if err != nil {
			return o, err
		}
		if ok && size != 0 {
			if err := p.sizeOption.injectInto(&o, size, v); err != nil {
				return o, err
			}
		}
	}
	return o, nil
}

func (p *defaultPaginator) path(token value, v *vars) (string, bool, error) {
	if !p.tokenPath || !interpolation.Truthy(token) {
		return "", false, nil
	}
	base, err := p.urlBase.evalStr(v)
	if err != nil {
		return "", false, err
	}
	return strings.ReplaceAll(interpolation.Str(token), base, ""), true, nil
}

// paginationStrategy is one of CursorPagination, PageIncrement and
// OffsetIncrement.
type paginationStrategy interface {
	initialToken(v *vars) (value, error)
	next(pg *page, v *vars) (value, error)
	pageSize(v *vars) (int64, bool, error)
}

// cursorPagination is CursorPagination: the next token is a template over
// the response, its headers (with "link" holding the parsed Link header),
// the last record and the page size.
type cursorPagination struct {
	cursorValue *tmpl
	stop        *tmpl
	size        int64
	hasSize     bool
}

func (c *cursorPagination) initialToken(*vars) (value, error) { return nil, nil }

func (c *cursorPagination) pageSize(*vars) (int64, bool, error) { return c.size, c.hasSize, nil }

func (c *cursorPagination) next(pg *page, v *vars) (value, error) {
	pv := v.with(func(x *vars) {
		x.set(interpolation.VarResponse, pg.body)
		x.set(interpolation.VarHeaders, pg.resp.headersWithLinks())
		x.set(interpolation.VarLastRecord, pg.lastRecord)
		x.set(interpolation.VarLastPageSize, int64(pg.size))
	})
	if c.stop != nil {
		stop, err := c.stop.evalBool(pv)
		if err != nil {
			return nil, err
		}
		if stop {
			return nil, nil
		}
	}
	tok, err := c.cursorValue.eval(pv)
	if err != nil {
		return nil, err
	}
	if !interpolation.Truthy(tok) {
		return nil, nil
	}
	return tok, nil
}

// offsetIncrement is OffsetIncrement.
type offsetIncrement struct {
	size        *tmpl // nil: no page size
	injectFirst bool
}

func (o *offsetIncrement) initialToken(*vars) (value, error) {
	if o.injectFirst {
		return int64(0), nil
	}
	return nil, nil
}

func (o *offsetIncrement) pageSize(v *vars) (int64, bool, error) { return intTemplate(o.size, v) }

func (o *offsetIncrement) next(pg *page, v *vars) (value, error) {
	if o.size != nil {
		val, err := o.size.eval(v.with(func(x *vars) { x.set(interpolation.VarResponse, pg.body) }))
		if err != nil {
			return nil, err
		}
		if lessThan(int64(pg.size), val) {
			return nil, nil
		}
	}
	if pg.size == 0 {
		return nil, nil
	}
	switch last := pg.lastToken.(type) {
	case nil:
		return int64(pg.size), nil
	case int64:
		return last + int64(pg.size), nil
	}
	return nil, fmt.Errorf("Last page token value %s for OffsetIncrement pagination strategy was not an integer", interpolation.Str(pg.lastToken))
}

// pageIncrement is PageIncrement. Its page size, when a template, is
// evaluated with the config (the CDK does it when building).
type pageIncrement struct {
	size        *tmpl
	startFrom   int64
	injectFirst bool
}

func (p *pageIncrement) initialToken(*vars) (value, error) {
	if p.injectFirst {
		return p.startFrom, nil
	}
	return nil, nil
}

func (p *pageIncrement) pageSize(v *vars) (int64, bool, error) { return intTemplate(p.size, v) }

// intTemplate evaluates a page size, which must be an int.
func intTemplate(t *tmpl, v *vars) (int64, bool, error) {
	if t == nil {
		return 0, false, nil
	}
	val, err := t.eval(v)
	if err != nil {
		return 0, false, err
	}
	n, ok := val.(int64)
	if !ok {
		return 0, false, fmt.Errorf("%s is of type %s. Expected <class 'int'>", interpolation.Str(val), pyTypeName(val))
	}
	return n, true, nil
}

func (p *pageIncrement) next(pg *page, v *vars) (value, error) {
	size, ok, err := p.pageSize(v)
	if err != nil {
		return nil, err
	}
	if (ok && size != 0 && int64(pg.size) < size) || pg.size == 0 {
		return nil, nil
	}
	switch last := pg.lastToken.(type) {
	case nil:
		return p.startFrom + 1, nil
	case int64:
		return last + 1, nil
	}
	return nil, fmt.Errorf("Last page token value %s for PageIncrement pagination strategy was not an integer", interpolation.Str(pg.lastToken))
}

// lessThan is Python's a < b for an int against a template's value.
func lessThan(a int64, b value) bool {
	switch b := b.(type) {
	case int64:
		return a < b
	case float64:
		return float64(a) < b
	case bool:
		if b {
			return a < 1
		}
		return a < 0
	}
	return false
}

// pyTypeName is Python's type(v) as printed: <class 'int'>.
func pyTypeName(v value) string {
	n := "NoneType"
	switch v.(type) {
	case bool:
		n = "bool"
	case int64:
		n = "int"
	case float64:
		n = "float"
	case string:
		n = "str"
	case []value:
		n = "list"
	case *dict:
		n = "dict"
	case interpolation.Tuple:
		n = "tuple"
	}
	return "<class '" + n + "'>"
}

// headersWithLinks is the headers dict a CursorPagination sees: the
// response headers plus "link", the parsed Link header (requests'
// response.links: rel → {"url": ..., "rel": ...}).
func (r *response) headersWithLinks() value {
	d := interpolation.NewDict(len(r.header) + 1)
	for k, v := range r.header {
		d.Set(k, strings.Join(v, ", "))
	}
	d.Set("link", parseLinks(r.header.Get("Link")))
	return d
}

// parseLinks parses a Link header as requests.utils.parse_header_links,
// keyed by rel (or url) as response.links does.
func parseLinks(h string) *dict {
	out := interpolation.NewDict(2)
	h = strings.TrimSpace(h)
	if h == "" {
		return out
	}
	for _, part := range splitLinks(h) {
		urlPart, params, _ := strings.Cut(part, ";")
		link := interpolation.NewDict(2)
		link.Set("url", strings.Trim(strings.TrimSpace(urlPart), "<> '\""))
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				continue
			}
			link.Set(strings.Trim(k, " '\""), strings.Trim(v, " '\""))
		}
		key, _ := link.Get("rel")
		if key == nil {
			key, _ = link.Get("url")
		}
		out.Set(interpolation.Str(key), link)
	}
	return out
}

// splitLinks splits a Link header on ", <" as requests does (re.split(", *<")).
func splitLinks(h string) []string {
	var out []string
	for {
		i := strings.Index(h, ",")
		for i >= 0 {
			j := i + 1
			for j < len(h) && h[j] == ' ' {
				j++
			}
			if j < len(h) && h[j] == '<' {
				break
			}
			next := strings.Index(h[i+1:], ",")
			if next < 0 {
				i = -1
			} else {
				i += 1 + next
			}
		}
		if i < 0 {
			out = append(out, h)
			return out
		}
		out = append(out, h[:i])
		h = strings.TrimLeft(h[i+1:], " ")
	}
}
