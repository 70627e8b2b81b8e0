package declarative

import (
	"fmt"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
)

// Request options are the parts of a request that components other than
// the requester contribute: the paginator's token and page size, a
// partition router's partition value, a cursor's window bounds, an
// authenticator's key (requesters/request_options in the CDK).

// injectTarget is where a request option goes.
type injectTarget int

// The places of RequestOptionType.
const (
	injectParam injectTarget = iota
	injectHeader
	injectBodyData
	injectBodyJSON
)

var injectTargets = map[string]injectTarget{
	"request_parameter": injectParam, "header": injectHeader,
	"body_data": injectBodyData, "body_json": injectBodyJSON,
}

// requestOptions are the options one component adds to a request.
type requestOptions struct {
	params, headers, bodyData, bodyJSON []entry
	// bodyText is a request_body_data given as a string (sent as is).
	bodyText *string
}

// requestOption is the RequestOption component: a field name (a template
// over the config) and where to inject the value.
type requestOption struct {
	into  injectTarget
	field *tmpl
}

func (b *builder) requestOption(n *manifest.Map) (*requestOption, error) {
	if n == nil {
		return nil, nil
	}
	into, ok := injectTargets[n.String("inject_into")]
	if !ok {
		return nil, fmt.Errorf("unknown inject_into %q", n.String("inject_into"))
	}
	f, err := b.template(n, "field_name")
	if err != nil {
		return nil, err
	}
	return &requestOption{into: into, field: f}, nil
}

// injectInto adds value under the option's field name.
func (r *requestOption) injectInto(o *requestOptions, value value, v *vars) error {
	name, err := r.field.evalStr(v)
	if err != nil {
		return err
	}
	e := entry{name, value}
	switch r.into {
	case injectParam:
		o.params = append(o.params, e)
	case injectHeader:
		o.headers = append(o.headers, e)
	case injectBodyData:
		o.bodyData = append(o.bodyData, e)
	case injectBodyJSON:
		o.bodyJSON = append(o.bodyJSON, e)
	}
	return nil
}

// optionsProvider is the requester's InterpolatedRequestOptionsProvider:
// request_parameters, request_headers, request_body_data and
// request_body_json, each a mapping of templates or a single template
// string (the *Text fields; the body JSON's string is its root).
type optionsProvider struct {
	params, headers, bodyData             *tmplMapping
	paramsText, headersText, bodyDataText *tmpl
	bodyJSON                              *tmplNested
}

func (p *optionsProvider) options(v *vars) (requestOptions, error) {
	var o requestOptions
	var err error
	if p.paramsText != nil {
		// Parameters that are not a dict are none (get_request_params).
		if o.params, _, err = evalTextInput(p.paramsText, v); err != nil {
			return o, err
		}
	} else if o.params, err = p.params.evalNonNull(v); err != nil {
		return o, err
	}
	if p.headersText != nil {
		isDict := false
		if o.headers, isDict, err = evalTextInput(p.headersText, v); err != nil {
			return o, err
		}
		if !isDict {
			return o, errString("Request headers cannot be a string")
		}
	} else if o.headers, err = p.headers.evalNonNull(v); err != nil {
		return o, err
	}
	if p.bodyDataText != nil {
		val, err := p.bodyDataText.eval(v)
		if err != nil {
			return o, err
		}
		if d, ok := val.(*dict); ok {
			// A dict is a form, as the mapping would be.
			for _, e := range entries(d) {
				if e.val != nil {
					o.bodyData = append(o.bodyData, e)
				}
			}
		} else if s, ok := val.(string); !ok || s != "" {
			if !ok {
				s = interpolation.Str(val)
			}
			o.bodyText = &s
		}
	} else if o.bodyData, err = p.bodyData.evalNonNull(v); err != nil {
		return o, err
	}
	if p.bodyJSON != nil {
		val, err := p.bodyJSON.eval(v)
		if err != nil {
			return o, err
		}
		switch x := val.(type) {
		case *dict:
			for _, e := range entries(x) {
				if e.val != nil {
					o.bodyJSON = append(o.bodyJSON, e)
				}
			}
		case nil:
		case string:
			// A body JSON string's value (HttpRequester._request_body_json).
			return o, errString("Request body json cannot be a string")
		default:
			// The CDK fails too, on the value's missing keys(). The value
			// is left out: it may hold a secret of the config.
			return o, errString("Request body json must be a mapping")
		}
	}
	return o, nil
}

// evalTextInput evaluates a request input given as one template string
// (an InterpolatedString); its entries are those of the value when it is
// a dict, without the None values. A None value is no input; isDict is
// false for any other value.
func evalTextInput(t *tmpl, v *vars) (es []entry, isDict bool, err error) {
	val, err := t.eval(v)
	if err != nil || val == nil {
		return nil, val == nil, err
	}
	d, ok := val.(*dict)
	if !ok {
		return nil, false, nil
	}
	for _, e := range entries(d) {
		if e.val != nil {
			es = append(es, e)
		}
	}
	return es, true, nil
}

// usesStreamState reports whether an option template reads stream_state,
// which makes the CDK read the stream synchronously. As the CDK's
// request_options_contain_stream_state, it looks at the keys and string
// values of each mapping, not deeper into a nested JSON body.
func (p *optionsProvider) usesStreamState() bool {
	return p.params.mentions("stream_state") || p.headers.mentions("stream_state") ||
		p.paramsText.mentions("stream_state") || p.headersText.mentions("stream_state") ||
		p.bodyData.mentions("stream_state") || (p.bodyDataText != nil && p.bodyDataText.mentions("stream_state")) ||
		(p.bodyJSON != nil && p.bodyJSON.topMentions("stream_state"))
}

// mergeOptions combines the options of several components, refusing a key
// set twice (the CDK's combine_mappings).
func mergeOptions(parts ...requestOptions) (requestOptions, error) {
	var out requestOptions
	var err error
	var ps, hs, bd, bj [][]entry
	texts := 0
	for _, p := range parts {
		ps = append(ps, p.params)
		hs = append(hs, p.headers)
		bd = append(bd, p.bodyData)
		bj = append(bj, p.bodyJSON)
		if p.bodyText != nil {
			texts++
			out.bodyText = p.bodyText
		}
	}
	if out.params, err = combineMappings(ps...); err != nil {
		return out, err
	}
	if out.headers, err = combineMappings(hs...); err != nil {
		return out, err
	}
	if out.bodyData, err = combineMappings(bd...); err != nil {
		return out, err
	}
	if out.bodyJSON, err = combineMappings(bj...); err != nil {
		return out, err
	}
	if texts > 1 {
		return out, errString("Cannot combine multiple string options")
	}
	if texts == 1 && len(out.bodyData) > 0 {
		return out, errString("Cannot combine multiple options if one is a string")
	}
	return out, nil
}

// dictOf builds a dict from entries.
func dictOf(es []entry) *dict {
	d := interpolation.NewDict(len(es))
	for _, e := range es {
		d.Set(e.key, e.val)
	}
	return d
}
