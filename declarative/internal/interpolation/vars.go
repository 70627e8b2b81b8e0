package interpolation

import (
	"sort"
	"strings"
	"time"
)

// Var names a variable of the CDK's interpolation context.
type Var uint8

// The variables the CDK's components pass to their templates. stream_interval and
// stream_partition are aliases of stream_slice, defined whenever stream_slice is.
const (
	VarConfig             Var = iota // config
	VarParameters                    // parameters: the component's $parameters
	VarStreamSlice                   // stream_slice (aliases stream_interval, stream_partition)
	VarStreamState                   // stream_state
	VarNextPageToken                 // next_page_token
	VarRecord                        // record
	VarResponse                      // response: the decoded response body
	VarHeaders                       // headers: the response headers
	VarLastRecord                    // last_record
	VarLastPageSize                  // last_page_size
	VarLastPageTokenValue            // last_page_token_value
	VarCreationResponse              // creation_response
	VarPollingResponse               // polling_response
	VarDownloadTarget                // download_target
	VarStreamName                    // stream_name
	numVars
)

var varNames = [numVars]string{
	"config", "parameters", "stream_slice", "stream_state", "next_page_token", "record", "response",
	"headers", "last_record", "last_page_size", "last_page_token_value", "creation_response",
	"polling_response", "download_target", "stream_name",
}

// varByName maps every name a template can read from the context to its slot; the aliases of
// stream_slice map to its slot.
var varByName = func() map[string]Var {
	m := map[string]Var{"stream_interval": VarStreamSlice, "stream_partition": VarStreamSlice}
	for i, n := range varNames {
		m[n] = Var(i)
	}
	return m
}()

// String returns the variable's name as templates spell it.
func (v Var) String() string {
	if v < numVars {
		return varNames[v]
	}
	return "Var(?)"
}

// Vars is the context of one evaluation: the variables the CDK passes as keyword arguments, and
// the clock. Only the variables that are set exist for the template: reading one that is not
// set fails as the CDK fails ("Jinja macro has undeclared variables"), while one set to nil is
// None. Vars is a plain value: keep one per component with the fixed variables (config,
// parameters, Now) and copy it per evaluation, setting the rest; neither copying nor Set
// allocates.
type Vars struct {
	// Now is the clock behind now_utc(), today_utc(), day_delta() and today_with_timezone().
	// The evaluator never reads the system clock: a template calling these fails when Now is nil.
	Now func() time.Time

	vals  [numVars]Value
	set   uint32
	extra []namedValue
}

type namedValue struct {
	name string
	v    Value
}

// Set defines the variable name with value v.
func (vs *Vars) Set(name Var, v Value) {
	if name < numVars {
		vs.vals[name] = v
		vs.set |= 1 << name
	}
}

// Unset removes the variable name from the context.
func (vs *Vars) Unset(name Var) {
	if name < numVars {
		vs.vals[name] = nil
		vs.set &^= 1 << name
	}
}

// Get returns the variable's value and whether it is set.
func (vs *Vars) Get(name Var) (Value, bool) {
	if name >= numVars || vs.set&(1<<name) == 0 {
		return nil, false
	}
	return vs.vals[name], true
}

// SetName defines a variable by its name, for the few keyword arguments the CDK passes that
// have no Var. Known names go to their Var. It allocates; prefer Set on hot paths.
func (vs *Vars) SetName(name string, v Value) {
	if k, ok := varByName[name]; ok && name != "stream_interval" && name != "stream_partition" {
		vs.Set(k, v)
		return
	}
	for i := range vs.extra {
		if vs.extra[i].name == name {
			vs.extra[i].v = v
			return
		}
	}
	vs.extra = append(append([]namedValue(nil), vs.extra...), namedValue{name, v})
}

func (vs *Vars) has(name string) bool {
	if k, ok := varByName[name]; ok && vs.set&(1<<k) != 0 {
		return true
	}
	for _, e := range vs.extra {
		if e.name == name {
			return true
		}
	}
	return false
}

// contextRepr prints the context as the CDK's error message does: config first, then the
// other variables, then the aliases.
func (vs *Vars) contextRepr() string {
	d := NewDict(int(numVars) + 2)
	for i := range numVars {
		if vs.set&(1<<i) != 0 {
			d.Set(varNames[i], vs.vals[i])
		}
	}
	for _, e := range vs.extra {
		d.Set(e.name, e.v)
	}
	if vs.set&(1<<VarStreamSlice) != 0 {
		d.Set("stream_interval", vs.vals[VarStreamSlice])
		d.Set("stream_partition", vs.vals[VarStreamSlice])
	}
	return Repr(d)
}

// undeclaredError is the CDK's ValueError for names neither in the context nor global.
func undeclaredError(missing []string, vs *Vars) error {
	sort.Strings(missing)
	q := make([]string, len(missing))
	for i, m := range missing {
		q[i] = Repr(m)
	}
	return valueErrorf("Jinja macro has undeclared variables: {%s}. Context: %s", strings.Join(q, ", "), vs.contextRepr())
}
