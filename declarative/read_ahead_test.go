package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/protocol"
)

// The concurrent read fetches a slice's next page while the records of the
// page before are emitted (read_ahead.go). These tests hold it to what a
// page-by-page read does: the same records in order, the same requests and
// no more, the same messages in the same order, and no goroutine left when
// the read stops early.

// aheadPageSize is the page size of the tests' OffsetIncrement paginator.
const aheadPageSize = 3

// aheadManifest reads "items" with offset pagination by aheadPageSize.
var aheadManifest = faultManifest(fmt.Sprintf(`
paginator:
  type: DefaultPaginator
  page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: offset}
  pagination_strategy: {type: OffsetIncrement, page_size: %d}
`, aheadPageSize), "", "")

// pagedItems serves total items {"id": n} by offset; page, when set, may
// answer a request instead (it returns false to let the page be served).
type pagedItems struct {
	total int
	page  func(offset, attempt int, w http.ResponseWriter) bool

	mu       sync.Mutex
	offsets  []int // of every request, in order
	attempts map[int]int
}

func (p *pagedItems) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	p.mu.Lock()
	p.offsets = append(p.offsets, off)
	if p.attempts == nil {
		p.attempts = map[int]int{}
	}
	p.attempts[off]++
	attempt := p.attempts[off]
	p.mu.Unlock()
	if p.page != nil && p.page(off, attempt, w) {
		return
	}
	var items []string
	for i := off; i < min(off+aheadPageSize, p.total); i++ {
		items = append(items, fmt.Sprintf(`{"id": %d}`, i))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data": [%s]}`, strings.Join(items, ", "))
}

func (p *pagedItems) requested() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.offsets...)
}

// readItems reads the "items" stream from srv, giving each message to emit;
// sleep replaces the wait between retries.
func readItems(t *testing.T, ctx context.Context, srv http.Handler, sleep func(context.Context, time.Duration) error, emit func(*protocol.Message) error) error {
	t.Helper()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	text := []byte(strings.ReplaceAll(string(aheadManifest), "https://api.example.com", hs.URL))
	if sleep == nil {
		sleep = noSleep
	}
	src, err := New(text, WithClock(func() time.Time { return time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC) }), withSleep(sleep))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := src.Discover(context.Background(), faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: cat.Streams[0], SyncMode: protocol.SyncFullRefresh}}}
	return src.Read(ctx, faultConfig, cc, nil, emit)
}

// recordID is a RECORD message's id, or -1 for another message.
func recordID(m *protocol.Message) int {
	if m.Type != protocol.TypeRecord {
		return -1
	}
	var rec struct{ ID int }
	if err := json.Unmarshal(m.Record.Data, &rec); err != nil {
		return -1
	}
	return rec.ID
}

// offsetsUpTo is the offsets of the pages a page-by-page read requests
// when the page at last is the last it requests.
func offsetsUpTo(last int) []int {
	var out []int
	for off := 0; off <= last; off += aheadPageSize {
		out = append(out, off)
	}
	return out
}

func TestReadAheadKeepsOrderAndRequests(t *testing.T) {
	const total = 10 * aheadPageSize
	items := &pagedItems{total: total}
	var ids []int
	var kinds []string
	err := readItems(t, context.Background(), items, nil, func(m *protocol.Message) error {
		if id := recordID(m); id >= 0 {
			ids = append(ids, id)
			return nil
		}
		kinds = append(kinds, string(m.Type))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if id != i {
			t.Fatalf("record #%d has id %d: records out of order: %v", i, id, ids)
		}
	}
	if len(ids) != total {
		t.Fatalf("%d records, want %d", len(ids), total)
	}
	// Full pages up to the end, then the empty page that ends the slice:
	// the CDK sends no request after it.
	if got, want := fmt.Sprint(items.requested()), fmt.Sprint(offsetsUpTo(total)); got != want {
		t.Errorf("requests at offsets %s, want %s", got, want)
	}
	if got := strings.Join(kinds, " "); got != "TRACE TRACE STATE TRACE" {
		t.Errorf("messages other than records: %s, want STARTED, RUNNING, the final STATE, COMPLETE", got)
	}
}

// TestReadAheadHoldsRateLimitedStatus: the request of the second page is
// rate limited while the first page's records are still being emitted; its
// RATE_LIMITED status must come after them, where a page-by-page read
// emits it.
func TestReadAheadHoldsRateLimitedStatus(t *testing.T) {
	items := &pagedItems{total: 3 * aheadPageSize, page: func(offset, attempt int, w http.ResponseWriter) bool {
		if offset == aheadPageSize && attempt == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}}
	backingOff := make(chan struct{})
	var once sync.Once
	sleep := func(ctx context.Context, d time.Duration) error {
		// The fetch ahead has emitted (or held) its status.
		once.Do(func() { close(backingOff) })
		return ctx.Err()
	}
	var msgs []*protocol.Message
	err := readItems(t, context.Background(), items, sleep, func(m *protocol.Message) error {
		if recordID(m) == 0 {
			// Hold the first page's records until the second page's
			// request was rate limited and its status held. A fetch
			// that emits the status at once waits for this emit.
			for !closed(backingOff) {
				if emittingRateLimited() {
					t.Error("the RATE_LIMITED status of the page ahead is emitted before the records of the page before")
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		msgs = append(msgs, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, m := range msgs {
		switch {
		case recordID(m) >= 0:
			order = append(order, strconv.Itoa(recordID(m)))
		case m.Trace != nil && m.Trace.StreamStatus != nil && len(m.Trace.StreamStatus.Reasons) > 0:
			order = append(order, m.Trace.StreamStatus.Reasons[0].Type)
		}
	}
	if got, want := strings.Join(order, " "), "0 1 2 RATE_LIMITED 3 4 5 6 7 8"; got != want {
		t.Errorf("records and RATE_LIMITED in the order %s, want %s", got, want)
	}
}

// emittingRateLimited reports whether a goroutine is emitting a
// RATE_LIMITED status (waiting for the emit under way).
func emittingRateLimited() bool {
	for _, g := range strings.Split(allStacks(), "\n\n") {
		if strings.Contains(g, "(*readContext).rateLimited") && strings.Contains(g, "(*readContext).emit(") {
			return true
		}
	}
	return false
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestReadAheadUnencodableRecord: a record that does not encode fails the
// stream after the records before it, and no request follows its page.
func TestReadAheadUnencodableRecord(t *testing.T) {
	items := &pagedItems{total: 5 * aheadPageSize, page: func(offset, _ int, w http.ResponseWriter) bool {
		if offset == aheadPageSize {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"data": [{"id": 3}, {"id": 4, "v": NaN}, {"id": 5}]}`)
			return true
		}
		return false
	}}
	var ids []int
	var traced *protocol.ErrorTrace
	err := readItems(t, context.Background(), items, nil, func(m *protocol.Message) error {
		if id := recordID(m); id >= 0 {
			ids = append(ids, id)
		}
		if recordID(m) == aheadPageSize {
			// The failing page is being emitted: let the fetch ahead
			// either stop or request the page after it.
			for fetchingAhead() && !slices.Contains(items.requested(), 2*aheadPageSize) {
				time.Sleep(time.Millisecond)
			}
		}
		if m.Trace != nil && m.Trace.Error != nil && traced == nil {
			traced = m.Trace.Error
		}
		return nil
	})
	var re *readError
	if !errors.As(err, &re) {
		t.Fatalf("Read: %v, want a *readError", err)
	}
	if fmt.Sprint(ids) != "[0 1 2 3]" {
		t.Errorf("records %v, want those before the one that does not encode", ids)
	}
	if traced == nil || !strings.Contains(traced.InternalMessage, "a record does not encode as JSON") {
		t.Errorf("TRACE ERROR %+v, want the record's encoding error", traced)
	}
	if got, want := fmt.Sprint(items.requested()), fmt.Sprint(offsetsUpTo(aheadPageSize)); got != want {
		t.Errorf("requests at offsets %s, want %s: none after the failing page", got, want)
	}
}

// TestReadAheadStopsEarly: a caller that stops listening, or cancels, ends
// the read with at most the one page ahead requested, and no goroutine of
// the read left behind.
func TestReadAheadStopsEarly(t *testing.T) {
	errGone := errors.New("caller gone")
	const stopAt = aheadPageSize + 1 // a record of the second page
	for _, tc := range []struct {
		name string
		stop func(cancel context.CancelFunc) error
		want error
	}{
		{"emit fails", func(context.CancelFunc) error { return errGone }, errGone},
		{"context cancelled", func(cancel context.CancelFunc) error { cancel(); return nil }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := &pagedItems{total: 100 * aheadPageSize}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := readItems(t, ctx, items, nil, func(m *protocol.Message) error {
				if recordID(m) == stopAt {
					return tc.stop(cancel)
				}
				return nil
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read: %v, want %v", err, tc.want)
			}
			// The pages before the record, and the next one at most.
			got := items.requested()
			if want := offsetsUpTo(2 * aheadPageSize); len(got) > len(want) || fmt.Sprint(got) != fmt.Sprint(want[:len(got)]) {
				t.Errorf("requests at offsets %v, want a prefix of %v", got, want)
			}
			waitNoFetchAhead(t)
			if after := items.requested(); len(after) != len(got) {
				t.Errorf("requests after Read returned: %v", after[len(got):])
			}
		})
	}
}

// waitNoFetchAhead fails the test when a goroutine fetching ahead outlives
// the read: Read waits for it, so it is at most finishing its return.
func waitNoFetchAhead(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for fetchingAhead() {
		if time.Now().After(deadline) {
			t.Fatalf("a goroutine fetching ahead outlived the read:\n%s", allStacks())
		}
		runtime.Gosched()
	}
}

// fetchingAhead reports whether a goroutine fetching ahead runs (the
// package's tests do not run in parallel).
func fetchingAhead() bool { return strings.Contains(allStacks(), "(*pager).fetchAhead") }

func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// TestReadAheadGoroutineIsSeen pins the name the tests above find the
// fetching goroutine by: while the first page's records are emitted, the
// goroutine that fetches the next one runs. If it were renamed, the leak
// checks would pass vacuously; this test would fail instead.
func TestReadAheadGoroutineIsSeen(t *testing.T) {
	items := &pagedItems{total: 3 * aheadPageSize}
	seen := false
	err := readItems(t, context.Background(), items, nil, func(m *protocol.Message) error {
		if recordID(m) == 0 {
			seen = fetchingAhead()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Fatalf("no goroutine running (*pager).fetchAhead while the first page was emitted:\n%s", allStacks())
	}
}
