package declarative

import (
	"bytes"
	"context"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// Extractors and the record selector turn a response into records
// (extractors in the CDK). The contract of an extractor: extract yields the
// records of one decoded response body in order; it does not modify the
// body. The record selector then filters, transforms and normalises each
// record, in that order, and owns the records it returns.
type extractor interface {
	extract(body value, v *vars) ([]value, error)
}

// decodeBody is the JsonDecoder: a list body yields its elements (an empty
// list yields one empty dict), anything else yields itself; an empty body
// yields one empty dict. A body that is not JSON is an error here (the CDK
// logs it and reads nothing, which hides broken responses).
func decodeBody(r *response) ([]value, error) {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return []value{interpolation.NewDict(0)}, nil
	}
	v, err := r.decode()
	if err != nil {
		return nil, &decodeError{Method: r.method, URL: r.maskedURL, Status: r.status, Err: err}
	}
	if l, ok := v.([]value); ok {
		if len(l) == 0 {
			return []value{interpolation.NewDict(0)}, nil
		}
		return l, nil
	}
	return []value{v}, nil
}

// dpathExtractor is DpathExtractor: the value at field_path (templates over
// the config; "*" matches every key or index) of each decoded body; a list
// yields its elements, a truthy value itself.
type dpathExtractor struct {
	path []*tmpl
}

func (e *dpathExtractor) extract(body value, v *vars) ([]value, error) {
	var extracted value
	if len(e.path) == 0 {
		extracted = body
	} else {
		keys := make([]string, len(e.path))
		glob := false
		for i, p := range e.path {
			k, err := p.evalStr(v)
			if err != nil {
				return nil, err
			}
			keys[i] = k
			glob = glob || k == "*"
		}
		if glob {
			var found []value
			globValues(body, keys, &found)
			extracted = found
		} else if got, ok := pathGet(body, keys); ok {
			extracted = got
		} else {
			extracted = []value{}
		}
	}
	switch x := extracted.(type) {
	case []value:
		return x, nil
	case nil:
		return nil, nil
	}
	if interpolation.Truthy(extracted) {
		return []value{extracted}, nil
	}
	return nil, nil
}

// globValues collects the values matching a path with "*" segments, in
// document order (dpath.values).
func globValues(v value, path []string, out *[]value) {
	if len(path) == 0 {
		*out = append(*out, v)
		return
	}
	head, rest := path[0], path[1:]
	switch c := v.(type) {
	case *dict:
		if head == "*" {
			for _, e := range c.All() {
				globValues(e, rest, out)
			}
			return
		}
		if next, ok := c.Get(head); ok {
			globValues(next, rest, out)
		}
	case []value:
		if head == "*" {
			for _, e := range c {
				globValues(e, rest, out)
			}
			return
		}
		if i, ok := listIndex(head, len(c)); ok {
			globValues(c[i], rest, out)
		}
	}
}

// recordFilter is RecordFilter: a boolean template over each record.
type recordFilter struct{ condition *tmpl }

// recordSelector is RecordSelector (with the stream's transformations).
type recordSelector struct {
	extractor       extractor
	filter          *recordFilter
	transformations []transformation
	normalize       *schemaNormalizer
}

// contextEvery is how many items (records, date windows, CSV rows) the
// engine's long loops go through between two looks at their context: a
// few milliseconds' work at most (a trivial record filter takes a third
// of a microsecond a record, a window formats two datetimes,
// BenchmarkResponseToFileCSV parses about 200,000 rows a second), and a
// look costs nanoseconds. A loop whose items a filter all drops emits
// nothing, and nothing else would notice a cancelled read until its end.
const contextEvery = 1024

// contextDone returns ctx's error at every contextEvery-th item of a loop
// (n counts them from 0), nil otherwise.
func contextDone(ctx context.Context, n int) error {
	if n%contextEvery != 0 {
		return nil
	}
	return ctx.Err()
}

// selectRecords extracts, filters, transforms and normalises the records
// of one response. keep, when set, is the client-side incremental filter,
// applied before the record filter's condition. Every recordContextCheck
// records, from the first, it returns ctx.Err() once ctx is done: a page
// of millions of records (the response bound is 512 MiB) takes seconds to
// go through, and nothing else looks at ctx when the filter drops them.
func (s *recordSelector) selectRecords(ctx context.Context, bodies []value, v *vars, keep func(*dict) (bool, error), selected func()) ([]*dict, error) {
	var out []*dict
	rv := *v
	n := 0
	for _, body := range bodies {
		recs, err := s.extractor.extract(body, v)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			if err := contextDone(ctx, n); err != nil {
				return nil, err
			}
			n++
			d, ok := rec.(*dict)
			if !ok {
				// The CDK only emits mappings as records.
				continue
			}
			if keep != nil {
				ok, err := keep(d)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			if s.filter != nil {
				rv.set(interpolation.VarRecord, d)
				keep, err := s.filter.condition.evalBool(&rv)
				if err != nil {
					return nil, err
				}
				if !keep {
					continue
				}
			}
			if selected != nil {
				selected()
			}
			for _, t := range s.transformations {
				if err := t.transform(d, v); err != nil {
					return nil, err
				}
			}
			if s.normalize != nil {
				s.normalize.apply(d)
			}
			out = append(out, d)
		}
	}
	return out, nil
}
