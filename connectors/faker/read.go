package faker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/x/goairbyte/protocol"
)

// StreamNotFoundError reports a catalog naming a stream the faker does not
// have.
type StreamNotFoundError struct {
	Stream    string
	Available []string
}

// Error names the unknown stream and the available ones.
func (e *StreamNotFoundError) Error() string {
	return fmt.Sprintf("source-faker has no stream %q (available: %v); fix the configured catalog", e.Stream, e.Available)
}

// ConfiguredCatalog returns a configured catalog selecting the named streams
// (all of them when none is named) with the given sync mode, as a caller of
// read would build it.
func ConfiguredCatalog(mode protocol.SyncMode, streams ...string) protocol.ConfiguredCatalog {
	var cc protocol.ConfiguredCatalog
	for _, s := range Catalog().Streams {
		if len(streams) > 0 && !slices.Contains(streams, s.Name) {
			continue
		}
		dest := protocol.DestinationOverwrite
		if mode == protocol.SyncIncremental {
			dest = protocol.DestinationAppendDedup
		}
		cc.Streams = append(cc.Streams, protocol.ConfiguredStream{
			Stream: s, SyncMode: mode, CursorField: s.DefaultCursorField,
			DestinationSyncMode: dest, PrimaryKey: s.SourceDefinedPrimaryKey,
		})
	}
	return cc
}

// chunkSize is how many records one rendering job covers: large enough that
// the hand-off between goroutines costs nothing, small enough that a few
// chunks per worker in flight stay a few MiB.
const chunkSize = 1024

// The bufio buffer in front of the output; whole chunks bypass it.
const writeBuffer = 256 << 10

type streamDef struct {
	name     string
	prefix   []byte // the record line up to the data object
	avgBytes int64  // for the ESTIMATE trace
	total    func(count int64) int64
	render   func(g *gen, b []byte, id int64) ([]byte, int64)
}

var streamDefs = map[string]*streamDef{
	"products": {name: "products", avgBytes: 240,
		total:  func(c int64) int64 { return min(c, int64(len(products))) },
		render: (*gen).product},
	"users": {name: "users", avgBytes: 640,
		total:  func(c int64) int64 { return c },
		render: (*gen).user},
	"purchases": {name: "purchases", avgBytes: 360,
		total:  purchaseCount,
		render: (*gen).purchase},
}

func init() {
	for _, s := range streamDefs {
		s.prefix = []byte(`{"type":"RECORD","record":{"stream":"` + s.name + `","data":`)
	}
}

// chunkBytes is a buffer size that holds a chunk without growing.
func (s *streamDef) chunkBytes() int {
	return int(chunkSize * (s.avgBytes + 160)) // room for the envelope and long values
}

// renderChunk appends the record lines of ids from..to and returns the
// updated_at of the last one.
func (s *streamDef) renderChunk(g *gen, b []byte, from, to int64) ([]byte, int64) {
	ms := time.Now().UnixMilli()
	var upd int64
	for id := from; id <= to; id++ {
		b = append(b, s.prefix...)
		b, upd = s.render(g, b, id)
		b = append(b, `,"emitted_at":`...)
		b = strconv.AppendInt(b, ms, 10)
		b = append(b, "}}\n"...)
	}
	return b, upd
}

// Read writes the messages of a read to w, for cfg as ParseConfig returns
// it: for each stream of the catalog, in the order products, users,
// purchases, its STREAM_STATUS and ESTIMATE traces, its records and a STATE
// after every cfg.RecordsPerSlice records and at its end. state is the
// --state file's content (nil for none); it is honoured for streams the
// catalog reads incrementally. Errors are *StreamNotFoundError, *StateError,
// the context's or the writer's.
func Read(ctx context.Context, w io.Writer, cfg Config, catalog protocol.ConfiguredCatalog, state []byte) error {
	cursors, err := parseState(state)
	if err != nil {
		return err
	}
	modes := map[string]protocol.SyncMode{}
	for _, cs := range catalog.Streams {
		if streamDefs[cs.Stream.Name] == nil {
			return &StreamNotFoundError{Stream: cs.Stream.Name, Available: slices.Clone(streamNames)}
		}
		modes[cs.Stream.Name] = cs.SyncMode
	}
	seed := cfg.Seed
	if seed == -1 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	out := &output{w: w, buf: make([]byte, 0, writeBuffer)}
	out.log(fmt.Sprintf("source-faker %s: count %d, seed %d, records_per_slice %d, always_updated %t, parallelism %d",
		Version, cfg.Count, seed, cfg.RecordsPerSlice, cfg.AlwaysUpdated, cfg.Parallelism))
	for _, name := range streamNames {
		mode, ok := modes[name]
		if !ok {
			continue
		}
		cur, hasCursor := cursors[name]
		if mode != protocol.SyncIncremental {
			cur, hasCursor = cursor{}, false
		}
		if err := readStream(ctx, out, cfg, uint64(seed), streamDefs[name], cur, hasCursor); err != nil {
			return err
		}
	}
	return out.flush()
}

func readStream(ctx context.Context, out *output, cfg Config, seed uint64, s *streamDef, cur cursor, hasCursor bool) error {
	g := &gen{seed: seed, nProducts: min(cfg.Count, int64(len(products)))}
	from, to := int64(1), s.total(cfg.Count)
	if cfg.AlwaysUpdated {
		// Fresh means later than anything emitted before, even within the
		// same second as the previous read.
		g.freshUnix = max(time.Now().Unix(), cur.updatedUnix()+1)
		g.fresh = appendTime([]byte{'"'}, g.freshUnix)
		g.fresh = append(g.fresh, '"')
	} else if hasCursor {
		from = cur.ID + 1
	}
	n := max(0, to-from+1)
	out.status(s.name, protocol.StatusStarted)
	out.estimate(s.name, n, n*s.avgBytes)
	out.status(s.name, protocol.StatusRunning)

	st := &stateTracker{name: s.name, id: from - 1}
	if hasCursor {
		if cur.UpdatedAt != "" {
			st.updated, _ = json.Marshal(cur.UpdatedAt)
		}
	}
	rps := max(1, min(cfg.RecordsPerSlice, n))
	err := produce(ctx, s, g, cfg.Parallelism, from, to, rps, func(c *chunk) error {
		if err := out.write(c.buf); err != nil {
			return err
		}
		st.advance(c.to, c.to-c.from+1, c.upd)
		if c.endsSlice {
			return out.state(st)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		// Nothing new: confirm the cursor so the caller still sees a state.
		if err := out.state(st); err != nil {
			return err
		}
	}
	out.status(s.name, protocol.StatusComplete)
	return out.err
}

// stateTracker is where a stream stands between two STATE messages.
type stateTracker struct {
	name    string
	id      int64
	updated []byte // quoted; nil when unknown
	pending int64  // records since the last STATE
}

func (st *stateTracker) advance(id, n, upd int64) {
	st.id = id
	st.pending += n
	st.updated = append(appendTime(append(st.updated[:0], '"'), upd), '"')
}

// chunk is one rendering job: the lines of ids from..to.
type chunk struct {
	from, to  int64
	endsSlice bool // a STATE follows this chunk
	buf       []byte
	upd       int64
	done      chan struct{}
}

// plan cuts from..to into chunks that never straddle a slice boundary, so
// each STATE falls between two chunks.
func plan(from, to, rps int64, yield func(from, to int64, endsSlice bool) bool) {
	for pos := from; pos <= to; {
		sliceEnd := from - 1 + ((pos-from)/rps+1)*rps
		end := min(pos+chunkSize-1, sliceEnd, to)
		if !yield(pos, end, end == sliceEnd || end == to) {
			return
		}
		pos = end + 1
	}
}

// produce renders from..to in chunks and hands them to emit in order. With
// parallelism > 1, workers render chunks concurrently while emit receives
// them strictly in id order; at most a few chunks per worker are in flight.
func produce(ctx context.Context, s *streamDef, g *gen, parallelism int, from, to, rps int64, emit func(*chunk) error) error {
	if parallelism <= 1 {
		c := &chunk{buf: make([]byte, 0, s.chunkBytes())}
		var err error
		plan(from, to, rps, func(f, t int64, ends bool) bool {
			if err = ctx.Err(); err != nil {
				return false
			}
			c.from, c.to, c.endsSlice = f, t, ends
			c.buf, c.upd = s.renderChunk(g, c.buf[:0], f, t)
			err = emit(c)
			return err == nil
		})
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *chunk, parallelism)
	order := make(chan *chunk, 2*parallelism)
	free := make(chan []byte, 3*parallelism+2) // recycled buffers
	var wg sync.WaitGroup
	for range parallelism {
		wg.Go(func() {
			for c := range jobs {
				c.buf, c.upd = s.renderChunk(g, c.buf, c.from, c.to)
				close(c.done)
			}
		})
	}
	go func() {
		defer close(order)
		defer close(jobs)
		plan(from, to, rps, func(f, t int64, ends bool) bool {
			var buf []byte
			select {
			case buf = <-free:
			default:
				buf = make([]byte, 0, s.chunkBytes())
			}
			c := &chunk{from: f, to: t, endsSlice: ends, buf: buf[:0], done: make(chan struct{})}
			// order first: the writer learns the sequence before workers
			// can finish out of it.
			select {
			case order <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- c:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	var err error
	for c := range order {
		if err != nil {
			continue // drain after a failure so the producer can exit
		}
		select {
		case <-c.done:
			err = emit(c)
			select {
			case free <- c.buf:
			default:
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			cancel()
		}
	}
	wg.Wait()
	if err == nil {
		// The producer stops quietly when the caller cancels; say so.
		err = ctx.Err()
	}
	return err
}

// output writes the non-record messages and passes record chunks through.
// It remembers the first write error so callers can check once.
type output struct {
	w   io.Writer
	buf []byte
	err error
}

func (o *output) flush() error {
	if o.err == nil && len(o.buf) > 0 {
		_, o.err = o.w.Write(o.buf)
	}
	o.buf = o.buf[:0]
	return o.err
}

func (o *output) write(p []byte) error {
	if len(o.buf)+len(p) > cap(o.buf) {
		if o.flush() != nil {
			return o.err
		}
		if len(p) >= cap(o.buf) {
			_, o.err = o.w.Write(p)
			return o.err
		}
	}
	o.buf = append(o.buf, p...)
	return o.err
}

func (o *output) message(m *protocol.Message) {
	b, err := json.Marshal(m)
	if err != nil {
		panic("faker: marshalling a protocol message: " + err.Error()) // our own types; cannot happen
	}
	_ = o.write(append(b, '\n'))
}

func nowMillis() float64 { return float64(time.Now().UnixMilli()) }

func (o *output) log(msg string) {
	o.message(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo, Message: msg}})
}

func (o *output) status(stream string, s protocol.StreamStatus) {
	o.message(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type: protocol.TraceStreamStatus, EmittedAt: nowMillis(),
		StreamStatus: &protocol.StreamStatusTrace{StreamDescriptor: protocol.StreamDescriptor{Name: stream}, Status: s},
	}})
}

func (o *output) estimate(stream string, rows, bytes int64) {
	o.message(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type: protocol.TraceEstimate, EmittedAt: nowMillis(),
		Estimate: &protocol.EstimateTrace{Name: stream, Type: protocol.EstimateStream, RowEstimate: &rows, ByteEstimate: &bytes},
	}})
}

// state writes a STREAM state for st covering the records since the last
// one. Written by hand: with records_per_slice 1 there is one per record.
func (o *output) state(st *stateTracker) error {
	b := append(o.scratch(), `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"`...)
	b = append(b, st.name...)
	b = append(b, `"},"stream_state":{"id":`...)
	b = strconv.AppendInt(b, st.id, 10)
	if st.updated != nil {
		b = append(b, `,"updated_at":`...)
		b = append(b, st.updated...)
	}
	b = append(b, `}},"sourceStats":{"recordCount":`...)
	b = strconv.AppendInt(b, st.pending, 10)
	b = append(b, "}}}\n"...)
	st.pending = 0
	o.buf = b
	if len(o.buf) > cap(o.buf)-1024 {
		return o.flush()
	}
	return o.err
}

// scratch makes room for one small message at the end of buf.
func (o *output) scratch() []byte {
	if cap(o.buf)-len(o.buf) < 1024 {
		_ = o.flush()
	}
	return o.buf
}
