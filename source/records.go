package source

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"maps"
	"strings"
	"time"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/humanize"
	"github.com/x/goairbyte/protocol"
)

// RecordOption adjusts [Source.Records].
type RecordOption func(*recordSettings)

type recordSettings struct {
	normalise bool
	keepAll   bool
	limit     int
}

// NormaliseNames lower-cases field names, replaces every character other
// than a-z, 0-9 and _ by _ and puts a _ before a leading digit, as the
// caches name their columns (cache.NormalizeName).
func NormaliseNames() RecordOption { return func(r *recordSettings) { r.normalise = true } }

// KeepUndeclaredFields keeps fields the stream's JSON schema does not
// declare; by default Map and Get leave them out, as caches do. A stream
// whose schema declares no property keeps every field either way, as
// caches keep such a stream's records whole, unless the schema also says
// additionalProperties: false: then, as in the caches, it keeps none.
func KeepUndeclaredFields() RecordOption { return func(r *recordSettings) { r.keepAll = true } }

// Limit stops after n records (n <= 0: no limit). The connector is stopped
// as soon as the limit is reached.
func Limit(n int) RecordOption { return func(r *recordSettings) { r.limit = n } }

// Record is one record of a stream. Its data stays raw JSON until Get or
// Map needs it; then it is decoded once and kept in the Record (so the
// methods have pointer receivers: call them on a variable). Building a
// Record costs no allocation, which keeps Records fast. A Record is not
// safe for concurrent use.
type Record struct {
	rec   *protocol.Record
	shape *recordShape
	m     map[string]any
}

// recordShape is what every record of a stream shares: the declared fields
// and how names are treated.
type recordShape struct {
	normalise bool
	// declared holds the normalised names of the fields the schema
	// declares; nil means keep every field.
	declared map[string]bool
}

func newRecordShape(schema json.RawMessage, rs recordSettings) *recordShape {
	sh := &recordShape{normalise: rs.normalise}
	if rs.keepAll || catalogs.OpenSchema(schema) {
		return sh
	}
	var sc struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(schema, &sc) != nil {
		return sh // no schema to prune against
	}
	// A schema that declares no property and allows none
	// (additionalProperties: false) leaves nothing: declared is empty,
	// not nil.
	sh.declared = make(map[string]bool, len(sc.Properties))
	for k := range sc.Properties {
		sh.declared[normaliseName(k)] = true
	}
	return sh
}

// Stream is the name of the record's stream.
func (r *Record) Stream() string {
	if r.rec == nil {
		return ""
	}
	return r.rec.Stream
}

// EmittedAt is when the connector emitted the record, in UTC; the zero time
// when the connector did not say (emitted_at 0).
func (r *Record) EmittedAt() time.Time {
	if r.rec == nil || r.rec.EmittedAt == 0 {
		return time.Time{}
	}
	return time.UnixMilli(r.rec.EmittedAt).UTC()
}

// Raw is the record's data exactly as the connector wrote it, before any
// pruning or name normalisation.
func (r *Record) Raw() json.RawMessage {
	if r.rec == nil {
		return nil
	}
	return r.rec.Data
}

// Map returns the record's fields as a new map: JSON numbers that are
// integers as int64, others as float64; undeclared fields pruned and names
// normalised as the Records options say.
func (r *Record) Map() map[string]any {
	return maps.Clone(r.fields())
}

// Get returns a field's value, matching the name case-insensitively (and
// ignoring the difference between a name and its normalised form), as
// PyAirbyte's StreamRecord does.
func (r *Record) Get(field string) (any, bool) {
	m := r.fields()
	if v, ok := m[field]; ok {
		return v, true
	}
	want := normaliseName(field)
	for k, v := range m {
		if normaliseName(k) == want {
			return v, true
		}
	}
	return nil, false
}

// String returns the record's data as JSON.
func (r *Record) String() string { return string(r.Raw()) }

func (r *Record) fields() map[string]any {
	if r.rec == nil {
		return nil
	}
	if r.m != nil {
		return r.m
	}
	dec := json.NewDecoder(bytes.NewReader(r.rec.Data))
	dec.UseNumber()
	var raw map[string]any
	_ = dec.Decode(&raw) // the decoder only passes records whose data is an object
	m := make(map[string]any, len(raw))
	sh := r.shape
	for k, v := range raw {
		n := normaliseName(k)
		if sh.declared != nil && !sh.declared[n] {
			continue
		}
		if sh.normalise {
			k = n
		}
		m[k] = numbers(v)
	}
	r.m = m
	return m
}

// numbers turns json.Number values into int64 or float64, recursively.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// normaliseName is the caches' column naming (cache.NormalizeName): lower
// case, _ for every character other than a-z, 0-9 and _, and a _ before a
// leading digit. A name with no ASCII letter or digit, which has no column
// (the cache refuses its stream), is all _.
func normaliseName(name string) string {
	clean := name != "" && !(name[0] >= '0' && name[0] <= '9')
	for i := 0; clean && i < len(name); i++ {
		c := name[i]
		clean = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	if clean {
		return name
	}
	if n, err := cache.NormalizeName(name); err == nil {
		return n
	}
	return strings.Map(func(rune) rune { return '_' }, name)
}

// Records reads one stream in full, with no cache, and yields its records
// as they arrive. Breaking out of the loop, reaching the Limit or cancelling
// ctx stops the connector at once and removes what it left behind.
//
// The config is validated against the spec first. A connector failure is
// the last pair yielded. When the connector exits cleanly but announced the
// stream and never reported it COMPLETE (or reported INCOMPLETE), the last
// pair carries an *IncompleteStreamError; a connector that reports neither
// status nor state for the stream gets a warning in the log only, since
// older connectors never do.
func (s *Source) Records(ctx context.Context, stream string, opts ...RecordOption) iter.Seq2[Record, error] {
	var rs recordSettings
	for _, o := range opts {
		o(&rs)
	}
	return func(yield func(Record, error) bool) {
		// Each loop is one operation: discovering the catalog and reading
		// resolve each secret reference of the config once.
		ctx := core.WithOperation(ctx)
		catalog, err := s.ConfiguredCatalog(ctx, []string{stream}, FullRefresh())
		if err != nil {
			yield(Record{}, err)
			return
		}
		catJSON, err := json.Marshal(catalog)
		if err != nil {
			yield(Record{}, err)
			return
		}
		// The records go by the stream's name, whether stream is that or
		// its namespace.name.
		name := catalog.Streams[0].Stream.Name
		shape := newRecordShape(catalog.Streams[0].Stream.JSONSchema, rs)
		track := newStreamTracker(s.Name(), []string{name})
		n := 0
		for msg, err := range s.core.RunValidated(ctx, executor.Invocation{Verb: executor.VerbRead, Catalog: catJSON}) {
			if err != nil {
				yield(Record{}, err)
				return
			}
			if msg.Type == protocol.TypeRecord {
				if msg.Record.Stream != name {
					continue
				}
				if !yield(Record{rec: msg.Record, shape: shape}, nil) {
					return
				}
				if n++; rs.limit > 0 && n >= rs.limit {
					return
				}
				continue
			}
			track.observe(msg)
		}
		if err := ctx.Err(); err != nil {
			yield(Record{}, err)
			return
		}
		if err := track.finish(s.core.Logger()); err != nil {
			yield(Record{}, err)
		}
	}
}

// streamTracker follows the statuses and states a read reports for its
// streams, to tell a finished stream from one cut short.
type streamTracker struct {
	connector string
	streams   []string
	status    map[string]protocol.StreamStatus
	stated    map[string]bool // the streams a STREAM state was sent for
	// wholeStated: a GLOBAL or LEGACY state, which covers every stream,
	// was sent. A flag, not every stream marked in stated: a CDC source
	// sends one after each of thousands of tables.
	wholeStated bool
	// known are the streams, for finding a malformed line's.
	known map[string]bool
	// malformed counts the lines that claimed to be RECORD or STATE
	// messages of a stream ("" for none known) and did not parse.
	malformed map[string]int64
	tolerate  bool // TolerateMalformed
}

func newStreamTracker(connector string, streams []string) *streamTracker {
	known := make(map[string]bool, len(streams))
	for _, s := range streams {
		known[s] = true
	}
	return &streamTracker{connector: connector, streams: streams, known: known,
		status: map[string]protocol.StreamStatus{}, stated: map[string]bool{}, malformed: map[string]int64{}}
}

// guard passes msgs on, showing the tracker every message that is not a
// record (records are the hot path and tell it nothing). After a malformed
// RECORD or STATE line, and unless malformed lines are tolerated, the
// states that would cover what the line lost are held back: the stream's,
// or every state when the line names no stream the read knows. The cache
// then keeps the last good state, and the next read asks again.
func (t *streamTracker) guard(msgs iter.Seq2[*protocol.Message, error], log interface {
	Debug(msg string, args ...any)
}) iter.Seq2[*protocol.Message, error] {
	return func(yield func(*protocol.Message, error) bool) {
		for m, err := range msgs {
			if err == nil && m.Type != protocol.TypeRecord {
				t.observe(m)
				if m.Type == protocol.TypeState && m.State != nil && t.holdsBack(m.State) {
					log.Debug("a state after a malformed line is not committed", "connector", t.connector)
					continue
				}
			}
			if !yield(m, err) {
				return
			}
		}
	}
}

// holdsBack reports whether a state comes after a malformed line it might
// cover.
func (t *streamTracker) holdsBack(st *protocol.State) bool {
	if t.tolerate || len(t.malformed) == 0 {
		return false
	}
	if st.EffectiveType() != protocol.StateStream || st.Stream == nil || t.malformed[""] > 0 {
		return true
	}
	return t.malformed[st.Stream.StreamDescriptor.Name] > 0
}

// observe notes a STREAM_STATUS trace, a STATE message or a malformed
// line.
func (t *streamTracker) observe(msg *protocol.Message) {
	switch {
	case msg.Malformed != nil:
		name := msg.Malformed.Stream
		if !t.known[name] {
			name = ""
		}
		t.malformed[name]++
	case msg.Type == protocol.TypeTrace && msg.Trace != nil && msg.Trace.StreamStatus != nil:
		st := msg.Trace.StreamStatus
		t.status[st.StreamDescriptor.Name] = st.Status
	case msg.Type == protocol.TypeState && msg.State != nil:
		switch msg.State.EffectiveType() {
		case protocol.StateStream:
			if msg.State.Stream != nil {
				t.stated[msg.State.Stream.StreamDescriptor.Name] = true
			}
		default: // GLOBAL and LEGACY state covers every stream
			t.wholeStated = true
		}
	}
}

// streamStated reports whether a STATE covered stream s.
func (t *streamTracker) streamStated(s string) bool { return t.wholeStated || t.stated[s] }

// finish returns an *IncompleteStreamError for the first stream announced
// and not completed, and logs one warning for the streams nothing was said
// about.
func (t *streamTracker) finish(logger interface {
	Warn(msg string, args ...any)
}) error {
	var silent []string
	defer func() { warnSilent(logger, t.connector, silent) }()
	for _, s := range t.streams {
		st, ok := t.status[s]
		bad := t.malformed[s] + t.malformed[""]
		switch {
		case bad > 0 && !t.tolerate:
			return &IncompleteStreamError{Connector: t.connector, Stream: s, Status: string(st), Malformed: bad}
		case ok && st != protocol.StatusComplete:
			return &IncompleteStreamError{Connector: t.connector, Stream: s, Status: string(st)}
		case !ok && !t.streamStated(s):
			silent = append(silent, s)
		}
	}
	return nil
}

// maxWarnedStreams is how many streams a warning about many names before it
// counts the rest: a warning a stream was 3,000 lines for 3,000 streams.
const maxWarnedStreams = 10

// markDone tells a connector's author how a stream is told complete. The
// Python CDK and goairbyte's kit do it themselves, so the author who meets
// this wrote the connector without either.
const markDone = " (a connector marks a stream done with a STATE of it or a TRACE STREAM_STATUS COMPLETE" + doneByKits + ")"

// doneByKits says who marks streams done without the author's help.
const doneByKits = ", as the Python CDK and goairbyte's kit do for every stream of a read that succeeds"

// warnSilent warns, once, that the connector said nothing of these streams.
func warnSilent(logger interface {
	Warn(msg string, args ...any)
}, connector string, streams []string) {
	switch len(streams) {
	case 0:
	case 1:
		logger.Warn("the connector reported neither a status nor a state for the stream; it cannot be told complete"+markDone,
			"connector", connector, "stream", streams[0])
	default:
		logger.Warn("the connector reported neither a status nor a state for "+humanize.Int(int64(len(streams)))+" streams; they cannot be told complete"+markDone,
			"connector", connector, "streams", namedStreams(streams))
	}
}

// namedStreams lists streams for a warning: the first maxWarnedStreams,
// then how many more.
func namedStreams(streams []string) string {
	named := strings.Join(streams[:min(len(streams), maxWarnedStreams)], ", ")
	if more := len(streams) - maxWarnedStreams; more > 0 {
		named += " and " + humanize.Int(int64(more)) + " more"
	}
	return named
}

// warnUnstated warns, once, of the incremental streams of a read that
// succeeded whose records came with no state of them (nor a GLOBAL or
// LEGACY one): the cache keeps no position for them, so the next read
// asks for each from the start, and an append table gets its records
// again, silently. read counts the records read per stream.
func (t *streamTracker) warnUnstated(logger interface {
	Warn(msg string, args ...any)
}, catalog *protocol.ConfiguredCatalog, read map[string]int64) {
	var unstated []string
	for _, cs := range catalog.Streams {
		if s := cs.Stream.Name; cs.SyncMode == protocol.SyncIncremental && read[s] > 0 && !t.streamStated(s) {
			unstated = append(unstated, s)
		}
	}
	switch len(unstated) {
	case 0:
	case 1:
		logger.Warn("the connector sent records of an incremental stream and no state for it, so the next read asks for the stream from the start again, and an append table gets those records once more",
			"connector", t.connector, "stream", unstated[0])
	default:
		logger.Warn("the connector sent records of "+humanize.Int(int64(len(unstated)))+" incremental streams and no state for them, so the next read asks for them from the start again, and an append table gets those records once more",
			"connector", t.connector, "streams", namedStreams(unstated))
	}
}
