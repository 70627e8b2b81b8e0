package faker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// streamNotFoundError reports a catalog naming a stream the faker does not
// have: the caller's to fix, so a config_error.
type streamNotFoundError struct {
	stream string
}

func (e *streamNotFoundError) Error() string {
	return fmt.Sprintf("source-faker has no stream %q (available: %v); fix the configured catalog", e.stream, streamNames)
}

// FailureType makes the TRACE ERROR a config_error (see kit.FailureType).
func (e *streamNotFoundError) FailureType() protocol.FailureType { return protocol.FailureConfig }

// configuredCatalog returns a configured catalog selecting the named
// streams (all of them when none is named) with the given sync mode, as a
// caller of read would build it.
func configuredCatalog(mode protocol.SyncMode, streams ...string) *protocol.ConfiguredCatalog {
	var cc protocol.ConfiguredCatalog
	for _, s := range catalog().Streams {
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
	return &cc
}

// chunkSize is how many records one rendering job covers: large enough that
// the hand-off between goroutines costs nothing, small enough that a few
// chunks per worker in flight stay a few MiB.
const chunkSize = 1024

type streamDef struct {
	name     string
	avgBytes int64 // for the ESTIMATE trace
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

// recordBox puts a RECORD message and its record in one allocation; a chunk
// allocates them all at once.
type recordBox struct {
	m protocol.Message
	r protocol.Record
}

// chunkBuf is the memory a chunk is rendered into, recycled from chunk to
// chunk.
type chunkBuf struct {
	data  []byte      // the records' data, back to back
	ends  []int       // where each record's data ends in data
	boxes []recordBox // the messages, when they can be reused
}

// renderChunk renders the records of ids c.from..c.to into c.buf and
// notes the updated_at of the last one. When fresh, whoever receives a
// record may keep it, so the messages and their data are then copied into
// memory of their own (copying the rendered bytes costs less than rendering
// into new memory, which the allocator would first zero); otherwise they
// live in c.buf until it is recycled.
func (s *streamDef) renderChunk(g *gen, c *chunk, fresh bool) {
	b := c.buf
	if b.data == nil {
		b.data = make([]byte, 0, chunkSize*(s.avgBytes+160)) // room for long values
	}
	b.data, b.ends = b.data[:0], b.ends[:0]
	for id := c.from; id <= c.to; id++ {
		b.data, c.upd = s.render(g, b.data, id)
		b.ends = append(b.ends, len(b.data))
	}
	ms := time.Now().UnixMilli()
	c.slabs = c.slabs[:0]
	if !fresh {
		if cap(b.boxes) < len(b.ends) {
			b.boxes = make([]recordBox, chunkSize)
		}
		boxes := b.boxes[:len(b.ends)]
		s.fill(boxes, b.data, 0, b.ends, ms)
		c.slabs = append(c.slabs, boxes)
		return
	}
	// Blocks of at most freshBlock bytes and slabs of at most boxSlab
	// messages are small objects to the allocator, much cheaper than large
	// ones; and a record kept alive keeps only its block alive.
	for first, start := 0, 0; first < len(b.ends); {
		last := first
		for last+1 < len(b.ends) && last+1-first < boxSlab && b.ends[last+1]-start <= freshBlock {
			last++
		}
		end := b.ends[last]
		data := append([]byte(nil), b.data[start:end]...) // no zeroing: append copies
		boxes := make([]recordBox, last-first+1)
		s.fill(boxes, data, start, b.ends[first:last+1], ms)
		c.slabs = append(c.slabs, boxes)
		first, start = last+1, end
	}
}

// Sizes of the memory given to records that their receiver may keep.
const (
	freshBlock = 32 << 10 // the largest small object of Go's allocator
	boxSlab    = 128      // 24 KiB of messages
)

// fill makes boxes the RECORD messages whose data are the pieces of data
// ending at ends (offsets from base, the offset of data[0]).
func (s *streamDef) fill(boxes []recordBox, data []byte, base int, ends []int, ms int64) {
	start := 0
	for i, end := range ends {
		end -= base
		box := &boxes[i]
		box.r.Stream, box.r.Data, box.r.EmittedAt = s.name, data[start:end:end], ms
		box.m.Type, box.m.Record = protocol.TypeRecord, &box.r
		start = end
	}
}

// read emits the messages of a read, for cfg as parseConfig returns it:
// a LOG saying what is read, then for each stream of the catalog, in the
// order products, users, purchases, its STREAM_STATUS and ESTIMATE traces,
// its records and a STATE after every cfg.recordsPerSlice records and at
// its end. cursors (from parseState) are honoured for streams the catalog
// reads incrementally.
func read(ctx context.Context, cfg config, cat *protocol.ConfiguredCatalog, cursors map[string]cursor, emit func(*protocol.Message) error) error {
	modes := map[string]protocol.SyncMode{}
	for _, cs := range cat.Streams {
		if streamDefs[cs.Stream.Name] == nil {
			return &streamNotFoundError{stream: cs.Stream.Name}
		}
		modes[cs.Stream.Name] = cs.SyncMode
	}
	seed := cfg.seed
	if seed == -1 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	// Serve's encoder is done with a record when emit returns: the
	// chunks' memory can then be recycled, which doubles the speed.
	out := messages{emit: emit, fresh: !kit.EmitCopies(emit)}
	out.log(fmt.Sprintf("source-faker %s: count %d, seed %d, records_per_slice %d, always_updated %t, parallelism %d",
		Version, cfg.count, seed, cfg.recordsPerSlice, cfg.alwaysUpdated, cfg.parallelism))
	for _, name := range streamNames {
		mode, ok := modes[name]
		if !ok {
			continue
		}
		cur, hasCursor := cursors[name]
		if mode != protocol.SyncIncremental {
			cur, hasCursor = cursor{}, false
		}
		if err := readStream(ctx, &out, cfg, uint64(seed), streamDefs[name], cur, hasCursor); err != nil {
			return err
		}
	}
	return out.err
}

func readStream(ctx context.Context, out *messages, cfg config, seed uint64, s *streamDef, cur cursor, hasCursor bool) error {
	g := &gen{seed: seed, nProducts: min(cfg.count, int64(len(products)))}
	from, to := int64(1), s.total(cfg.count)
	if cfg.alwaysUpdated {
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
	if out.err != nil {
		return out.err
	}

	st := &stateTracker{name: s.name, id: from - 1}
	if hasCursor && cur.UpdatedAt != "" {
		st.updated = string(protocol.AppendString(nil, cur.UpdatedAt))
	}
	rps := max(1, min(cfg.recordsPerSlice, n))
	err := produce(ctx, s, g, cfg.parallelism, out.fresh, from, to, rps, func(c *chunk) error {
		for _, slab := range c.slabs {
			for i := range slab {
				if err := out.emit(&slab[i].m); err != nil {
					return err
				}
			}
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
	updated string // quoted; "" when unknown
	pending int64  // records since the last STATE
}

func (st *stateTracker) advance(id, n, upd int64) {
	st.id = id
	st.pending += n
	st.updated = string(append(appendTime([]byte{'"'}, upd), '"'))
}

// chunk is one rendering job: the records of ids from..to.
type chunk struct {
	from, to  int64
	endsSlice bool // a STATE follows this chunk
	buf       *chunkBuf
	slabs     [][]recordBox // the records' messages, in id order
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
// fresh is renderChunk's: whether the messages may be kept by their
// receiver. A chunk's buffers are recycled once emit returns.
func produce(ctx context.Context, s *streamDef, g *gen, parallelism int, fresh bool, from, to, rps int64, emit func(*chunk) error) error {
	if parallelism <= 1 {
		var err error
		buf := &chunkBuf{}
		plan(from, to, rps, func(f, t int64, ends bool) bool {
			if err = ctx.Err(); err != nil {
				return false
			}
			c := &chunk{from: f, to: t, endsSlice: ends, buf: buf}
			s.renderChunk(g, c, fresh)
			err = emit(c)
			return err == nil
		})
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *chunk, parallelism)
	order := make(chan *chunk, 2*parallelism)
	free := make(chan *chunkBuf, 3*parallelism+2) // recycled buffers
	var wg sync.WaitGroup
	for range parallelism {
		wg.Go(func() {
			for c := range jobs {
				s.renderChunk(g, c, fresh)
				close(c.done)
			}
		})
	}
	go func() {
		defer close(order)
		defer close(jobs)
		plan(from, to, rps, func(f, t int64, ends bool) bool {
			var buf *chunkBuf
			select {
			case buf = <-free:
			default:
				buf = &chunkBuf{}
			}
			c := &chunk{from: f, to: t, endsSlice: ends, buf: buf, done: make(chan struct{})}
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

// messages emits the non-record messages of a read. It remembers the
// first error of emit so callers can check once.
type messages struct {
	emit  func(*protocol.Message) error
	fresh bool // emit may keep the messages: records get memory of their own
	err   error
}

func (o *messages) send(m *protocol.Message) error {
	if o.err == nil {
		o.err = o.emit(m)
	}
	return o.err
}

func nowMillis() float64 { return float64(time.Now().UnixMilli()) }

func (o *messages) log(msg string) {
	o.send(&protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: protocol.LevelInfo, Message: msg}})
}

func (o *messages) status(stream string, s protocol.StreamStatus) {
	o.send(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type: protocol.TraceStreamStatus, EmittedAt: nowMillis(),
		StreamStatus: &protocol.StreamStatusTrace{StreamDescriptor: protocol.StreamDescriptor{Name: stream}, Status: s},
	}})
}

func (o *messages) estimate(stream string, rows, bytes int64) {
	o.send(&protocol.Message{Type: protocol.TypeTrace, Trace: &protocol.Trace{
		Type: protocol.TraceEstimate, EmittedAt: nowMillis(),
		Estimate: &protocol.EstimateTrace{Name: stream, Type: protocol.EstimateStream, RowEstimate: &rows, ByteEstimate: &bytes},
	}})
}

// state emits a STREAM state for st covering the records since the last
// one: {"id": last id, "updated_at": its updated_at}.
func (o *messages) state(st *stateTracker) error {
	b := append(make([]byte, 0, 64), `{"id":`...)
	b = strconv.AppendInt(b, st.id, 10)
	if st.updated != "" {
		b = append(b, `,"updated_at":`...)
		b = append(b, st.updated...)
	}
	b = append(b, '}')
	count := float64(st.pending)
	st.pending = 0
	return o.send(&protocol.Message{Type: protocol.TypeState, State: &protocol.State{
		Type:        protocol.StateStream,
		Stream:      &protocol.StreamState{StreamDescriptor: protocol.StreamDescriptor{Name: st.name}, StreamState: b},
		SourceStats: &protocol.StateStats{RecordCount: &count},
	}})
}
