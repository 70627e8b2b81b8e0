// Package servertest is what goairbyte's fake remote services share: an
// injectable clock, fault injection (error statuses, 429 with Retry-After,
// dropped connections, slow answers, before or after the request is acted
// on), and a record of the requests each route received.
package servertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock is a server's time: the real time plus an offset tests advance.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the server's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

// Advance moves the server's time forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Fault is a failure injected into matching requests.
type Fault struct {
	Method string // "" for any
	Path   string // a path below the API root ("/jobs"), matched by prefix; "" for any
	// Status answers with this status instead (500, 503, 429, ...).
	Status int
	// Echo puts the request's body into the message of the Status
	// answer, as servers' validation errors quote the values they refuse.
	Echo bool
	// RetryAfter goes with a 429.
	RetryAfter time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Truncate sends the answer's status, headers and first half, then
	// closes the connection: the body is cut off. Only the outermost
	// handler, Truncating, applies it, so that the answer was checked
	// against the API's description whole.
	Truncate bool
	// Delay holds the answer back this long.
	Delay time.Duration
	// Hold holds the request back, before it is acted on, until the
	// channel is closed: a test makes something happen meanwhile, where
	// a Delay would race with it.
	Hold <-chan struct{}
	// After acts on the request first and then fails the answer (with
	// Status or Drop): the client cannot know whether it was acted on.
	After bool
	// Times is how many requests it hits (0 means 1).
	Times int
}

// Faults is a queue of faults and the middleware that injects them.
type Faults struct {
	mu       sync.Mutex
	list     []*Fault
	prefixes []string
}

// NewFaults returns an empty queue for an API whose paths start with one
// of prefixes (stripped before a Fault's Path is matched).
func NewFaults(prefixes ...string) *Faults { return &Faults{prefixes: prefixes} }

// Inject adds a fault; faults apply in the order injected.
func (f *Faults) Inject(x Fault) {
	if x.Times == 0 {
		x.Times = 1
	}
	f.mu.Lock()
	f.list = append(f.list, &x)
	f.mu.Unlock()
}

func (f *Faults) take(r *http.Request, truncate bool) *Fault {
	p := r.URL.Path
	for _, pre := range f.prefixes {
		if strings.HasPrefix(p, pre+"/") {
			p = strings.TrimPrefix(p, pre)
			break
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.list {
		if x.Truncate == truncate && (x.Method == "" || x.Method == r.Method) && strings.HasPrefix(p, x.Path) {
			x.Times--
			if x.Times == 0 {
				f.list = append(f.list[:i], f.list[i+1:]...)
			}
			return x
		}
	}
	return nil
}

// Middleware injects the queued faults into next's traffic.
func (f *Faults) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := f.take(r, false)
		if x == nil {
			next.ServeHTTP(w, r)
			return
		}
		if x.Delay > 0 {
			select {
			case <-time.After(x.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if x.Hold != nil {
			select {
			case <-x.Hold:
			case <-r.Context().Done():
				return
			}
		}
		if x.After {
			next.ServeHTTP(httptest.NewRecorder(), r)
		}
		switch {
		case x.Drop:
			panic(http.ErrAbortHandler) // net/http closes the connection
		case x.Status != 0:
			if x.RetryAfter > 0 {
				w.Header().Set("Retry-After", fmt.Sprint(int(x.RetryAfter.Seconds())))
			}
			msg := "injected fault"
			if x.Echo {
				body, _ := io.ReadAll(r.Body)
				msg += ": the request was " + string(body)
			}
			WriteJSON(w, x.Status, map[string]string{"code": "InjectedFault", "message": msg})
		case !x.After:
			next.ServeHTTP(w, r)
		}
	})
}

// Truncating applies the queued Truncate faults to next's answers; it
// must be the server's outermost handler, so that what it cuts off is what
// the client would have received.
func (f *Faults) Truncating(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.take(r, true) == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		maps.Copy(w.Header(), rec.Header())
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2])
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // net/http closes the connection
	})
}

// Routes registers handlers on a mux under a prefix and counts and keeps
// what each route pattern received.
type Routes struct {
	Mux    *http.ServeMux
	Prefix string

	mu     sync.Mutex
	calls  map[string]int
	bodies map[string][][]byte
}

// NewRoutes returns routes under prefix on a new mux.
func NewRoutes(prefix string) *Routes {
	return &Routes{Mux: http.NewServeMux(), Prefix: prefix, calls: map[string]int{}, bodies: map[string][][]byte{}}
}

// Handle registers h for a pattern such as "GET /jobs/{id}" (below the
// prefix).
func (rt *Routes) Handle(pattern string, h http.HandlerFunc) {
	rt.handle(rt.Prefix, pattern, h)
}

// HandleAt registers h for a pattern below another prefix; it is counted
// under the pattern with that prefix.
func (rt *Routes) HandleAt(prefix, pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	rt.handle("", method+" "+prefix+path, h)
}

func (rt *Routes) handle(prefix, pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	rt.Mux.HandleFunc(method+" "+prefix+path, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rt.mu.Lock()
		rt.calls[pattern]++
		if len(body) > 0 {
			rt.bodies[pattern] = append(rt.bodies[pattern], body)
		}
		rt.mu.Unlock()
		h(w, r)
	})
}

// Calls returns how many requests a route pattern handled (after faults).
func (rt *Routes) Calls(pattern string) int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.calls[pattern]
}

// Total returns how many requests all routes handled.
func (rt *Routes) Total() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	n := 0
	for _, c := range rt.calls {
		n += c
	}
	return n
}

// Bodies returns the request bodies a route pattern received, oldest
// first.
func (rt *Routes) Bodies(pattern string) [][]byte {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([][]byte(nil), rt.bodies[pattern]...)
}

// WriteJSON answers with a JSON body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
