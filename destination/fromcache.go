package destination

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"sync"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/internal/cachelink"
	"github.com/x/goairbyte/internal/jsonscan"
	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// cacheOps are what a Write from a cache needs of package cache beyond
// its public API: many streams' datasets and states in shared statements,
// and the destination's states stored in groups.
var cacheOps = cachelink.Get[*cache.Cache, *cache.Dataset, cache.StateKey]()

// cachedStream is one stream fed from a cache.
type cachedStream struct {
	cs    *protocol.ConfiguredStream
	ds    *cache.Dataset
	after string // the destination's watermark; "" sends every row
	// nothingNew: the stream's newest row is after's (or it has none),
	// so there is no row to send.
	nothingNew bool

	prog       *progress.Stream
	countReads bool // count rows taken from the cache as read, too
}

// writeFromCache feeds the destination the rows of res's cache it has not
// confirmed.
// Rows sent count as written on tr; with countReads also as read (a Write
// of a ReadResult, whose records no source read counted).
func (d *Destination) writeFromCache(ctx context.Context, res cachedSource, ws *writeSettings, out *WriteResult,
	tr *progress.Tracker, countReads bool) error {
	picked, err := pick(res.SourceName(), res.Catalog().Streams, ws.streams)
	if err != nil {
		return err
	}
	catalog, err := destCatalog(picked, ws.strategy, ws.syncID)
	if err != nil {
		return err
	}
	feeds, err := d.cachedStreams(ctx, res, catalog, ws, out, tr, countReads)
	if err != nil {
		return err
	}
	cw := &cacheWrite{d: d, feeds: feeds, streams: catalog.Streams, out: out, tr: tr, sentAt: map[string]map[string]int64{}, ignored: ignoredEchoes{d: d}}
	err = d.pipeline(ctx, catalog, out, cw.produce, cw.onEcho)
	cw.ignored.report()
	return err
}

// cachedStreams finds each stream of catalog in res's cache, with the
// watermark after which the destination has not confirmed its rows.
func (d *Destination) cachedStreams(ctx context.Context, res cachedSource, catalog *protocol.ConfiguredCatalog,
	ws *writeSettings, out *WriteResult, tr *progress.Tracker, countReads bool) ([]cachedStream, error) {
	// The streams' tables and their stored watermarks are read in
	// statements of many streams, not a few per stream (each about 1 ms
	// on DuckDB, most of a Write of many small streams).
	names := make([]string, len(catalog.Streams))
	var incremental []string // the streams whose watermark counts
	for i := range catalog.Streams {
		cs := &catalog.Streams[i]
		names[i] = cs.Stream.Name
		if out.State != nil && !ws.fullRefresh && cs.DestinationSyncMode != protocol.DestinationOverwrite {
			incremental = append(incremental, cs.Stream.Name)
		}
	}
	dss, err := cacheOps.Datasets(res.Cache(), ctx, names)
	if err != nil {
		return nil, err
	}
	var stored map[string]*protocol.State
	if len(incremental) > 0 {
		if stored, err = cacheOps.States(out.State.c, ctx, out.SourceName, out.DestinationKey, incremental); err != nil {
			return nil, fmt.Errorf("destination %s: reading its stored state: %w", d.Name(), err)
		}
	}
	feeds := make([]cachedStream, 0, len(catalog.Streams))
	for i := range catalog.Streams {
		cs := &catalog.Streams[i]
		f := cachedStream{cs: cs, ds: dss[i], prog: tr.Stream(cs.Stream.Name), countReads: countReads}
		if st := stored[cs.Stream.Name]; st != nil {
			f.after, _ = watermarkOf(st)
		}
		// A stream whose newest row is the one the destination confirmed
		// last (or that has none) has nothing to send: its rows are not
		// asked for.
		if last, known := cacheOps.LastRawID(f.ds); known && last == f.after {
			f.nothingNew = true
		}
		feeds = append(feeds, f)
	}
	return feeds, nil
}

// cacheWrite is one Write from a cache while the destination runs: produce
// sends the rows and states, and onEcho, on another goroutine, confirms
// what each echoed state covers. They share what was sent, under mu.
type cacheWrite struct {
	d     *Destination
	feeds []cachedStream
	// streams are the configured streams, ended by a status each.
	streams []protocol.ConfiguredStream
	out     *WriteResult
	tr      *progress.Tracker

	mu sync.Mutex
	// sentAt[stream][id] is how many rows of the stream had been sent when
	// the state carrying id was: what its echo confirms when the
	// destination gives no count of its own.
	sentAt  map[string]map[string]int64
	ignored ignoredEchoes
}

// produce writes every stream's rows and states to the destination's
// input, one stream after the other, and then a COMPLETE status for each
// (see endStreams).
func (cw *cacheWrite) produce(ctx context.Context, w *bufio.Writer) error {
	for _, f := range cw.feeds {
		name := f.cs.Stream.Name
		n, err := feedStream(ctx, f, w, func(id string, sent int64) {
			cw.stated(name, id, sent)
		})
		if n > 0 {
			cw.mu.Lock()
			cw.out.RecordsSent[name] = n
			cw.mu.Unlock()
		}
		if err != nil {
			return err
		}
	}
	return endStreams(w, cw.streams, protocol.StatusComplete)
}

// stated notes that the state carrying id was sent after sent rows of
// stream name.
func (cw *cacheWrite) stated(name, id string, sent int64) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.sentAt[name] == nil {
		cw.sentAt[name] = map[string]int64{}
	}
	cw.sentAt[name][id] = sent
	cw.out.RecordsSent[name] = sent
	cw.out.StatesSent++
}

// onEcho confirms the rows an echoed state covers and commits the state
// (sc nil: the Write keeps no state).
//
// An echo confirms the rows sent before the state it echoes, as far as
// this Write knows them: only a state this Write sent, after the last
// one confirmed of its stream, moves the watermark. A made-up or
// foreign one would skip rows the destination never got; an earlier
// one (out of order, or twice) would take back what a later echo
// confirmed. The destination's own destinationStats.recordCount is not
// used: a destination that echoes only some states counts the rows
// since the last state it was sent, not since its last echo.
func (cw *cacheWrite) onEcho(st *protocol.State, sc *stateCommitter) (bool, error) {
	id, ok := watermarkOf(st)
	name := stateStream(st)
	cw.mu.Lock()
	sent, wasSent := cw.sentAt[name][id]
	cw.mu.Unlock()
	if !ok || !wasSent {
		cw.ignored.add("the destination echoed a state Write did not send; ignored", name)
		return false, nil
	}
	out := cw.out
	before := out.RecordsConfirmed[name]
	if sent <= before {
		cw.ignored.add("the destination echoed a state after a later one of its stream; ignored", name)
		return false, nil
	}
	h := cw.tr.Stream(name)
	if sc != nil {
		if err := sc.add(cache.StateKey{Source: out.SourceName, Destination: out.DestinationKey, Stream: name}, st, h.StateCommitted); err != nil {
			return false, err
		}
	}
	out.RecordsConfirmed[name] = sent
	confirmDelta(h, before, sent)
	return true, nil
}

// feedStream writes the rows of one stream after its watermark as RECORD
// messages, with a STATE carrying the last row's id every stateInterval
// rows and after the last one. It returns the number of rows sent. The
// cache builds each RECORD line (Dataset.RecordLines), so the rows are
// copied, not decoded and re-encoded.
func feedStream(ctx context.Context, f cachedStream, w *bufio.Writer, stated func(id string, sent int64)) (int64, error) {
	stream := jsonscan.AppendString(nil, f.cs.Stream.Name)
	// A stream of a namespace has it on its records and states, as on its
	// statuses and in the catalog: the cache's lines name the stream only,
	// and Airbyte's destinations find a record's stream by namespace and
	// name (the bulk CDK fails on a stream its catalog lacks;
	// airbytehq/airbyte, airbyte-cdk/bulk/core/load DestinationCatalog.kt
	// getStream), as the platform sends them (its namespace mapper sets
	// both; airbyte-platform, workers/internal/NamespacingMapper.kt).
	var recordHead []byte
	if ns := f.cs.Stream.Namespace; ns != "" {
		recordHead = jsonscan.AppendString([]byte(`{"type":"RECORD","record":{"namespace":`), ns)
		recordHead = append(recordHead, ',')
		stream = jsonscan.AppendString(append(stream, `,"namespace":`...), ns)
	}
	var line []byte
	var n int64
	var id string
	state := func() error {
		line = append(line[:0], `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":`...)
		line = append(line, stream...)
		line = append(line, `},"stream_state":{"`+watermarkKey+`":`...)
		line = jsonscan.AppendString(line, id)
		line = append(line, "}}}}\n"...)
		stated(id, n)
		_, err := w.Write(line)
		return err
	}
	var rows iter.Seq2[cache.RecordLine, error] = func(func(cache.RecordLine, error) bool) {}
	if !f.nothingNew {
		rows = f.ds.After(f.after).RecordLines(ctx, fieldNames(f.cs.Stream.JSONSchema))
	}
	for r, err := range rows {
		if err != nil {
			return n, fmt.Errorf("reading stream %q from the cache: %w", f.cs.Stream.Name, err)
		}
		rec := r.Line
		if recordHead != nil && bytes.HasPrefix(rec, cacheRecordHead) {
			if _, err := w.Write(recordHead); err != nil {
				return n, err
			}
			rec = rec[len(cacheRecordHead):]
		}
		if _, err := w.Write(rec); err != nil {
			return n, err
		}
		if f.countReads {
			f.prog.Read(1, len(r.Data))
		}
		f.prog.Written(1)
		id = r.RawID
		n++
		if n%stateInterval == 0 {
			if err := state(); err != nil {
				return n, err
			}
		}
	}
	if n%stateInterval != 0 {
		if err := state(); err != nil {
			return n, err
		}
	}
	if f.countReads {
		// Its rows are all taken: its read rate ends here.
		f.prog.SetStatus(protocol.StatusComplete)
	}
	return n, nil
}

// cacheRecordHead is how each line of Dataset.RecordLines begins, the
// stream's name next.
var cacheRecordHead = []byte(`{"type":"RECORD","record":{`)

// fieldNames maps the column names of a stream's table back to the field
// names of its JSON schema, so records leave with the source's spelling.
func fieldNames(schema json.RawMessage) map[string]string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal(schema, &s)
	out := make(map[string]string, len(s.Properties))
	for f := range s.Properties {
		if n, err := cache.NormalizeName(f); err == nil {
			out[n] = f
		}
	}
	return out
}
