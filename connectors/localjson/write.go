package localjson

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// writeBufferSize is the buffer of each stream's file: large, so that the
// hot path makes few write system calls.
const writeBufferSize = 1 << 20

// maxStemLen caps the sanitised stream name, keeping file names (with prefix
// and work-file suffixes) under the usual 255-byte limit.
const maxStemLen = 200

// maxUnparsedLogs is how many non-protocol input lines are logged one by
// one; the rest are only counted.
const maxUnparsedLogs = 10

// fileStem turns a stream name into the part of a file name after
// "_airbyte_raw_": bytes other than ASCII letters, digits, '_', '-' and '.'
// become '_', so that no name can reach outside the destination directory.
func fileStem(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			b[i] = '_'
		}
	}
	if len(b) > maxStemLen {
		b = b[:maxStemLen]
	}
	return string(b)
}

// stream is one configured stream being written.
type stream struct {
	name, namespace string
	mode            protocol.DestinationSyncMode
	primaryKey      [][]string

	final   string // <dir>/_airbyte_raw_<stem>.jsonl
	tmp     string // overwrite: the new file, renamed over final at the end
	staging string // append_dedup: the durable staging file
	merge   string // append_dedup: the merged result before its rename

	file  *os.File      // where this sync's records go
	w     *bufio.Writer // buffers file
	dirty bool          // records written since the last state covering them

	since int64 // records since this stream's last STREAM state
	total int64 // records this sync
	// incomplete: the input ended the stream with a STREAM_STATUS
	// INCOMPLETE (goairbyte's Write, as the Airbyte platform, ends each
	// stream with a status): an overwrite stream's file is then kept.
	incomplete bool
}

// descriptor identifies a stream by namespace and name.
type descriptor struct{ namespace, name string }

// writer is the state of one write command.
type writer struct {
	dir     string
	emit    func(*protocol.Message) error // after the syncer has stopped
	streams []*stream
	byDesc  map[descriptor]*stream
	byName  map[string][]*stream

	last *stream // the stream of the previous record: records come in runs

	syncer  *syncer             // echoes states once their records are fsynced
	pending []*protocol.Message // states held back until the commit at the end
	global  int64               // records since the last GLOBAL or LEGACY state

	entropy  *ulid.MonotonicEntropy
	skipped  map[string]int64 // records of streams not in the catalog
	unparsed int64            // input lines that are not protocol messages
}

// write runs the write command.
func write(ctx context.Context, c config, cat *protocol.ConfiguredCatalog, input iter.Seq2[*protocol.Message, error], emit func(*protocol.Message) error) error {
	w := &writer{
		dir:     c.DestinationPath,
		emit:    emit,
		byDesc:  map[descriptor]*stream{},
		byName:  map[string][]*stream{},
		skipped: map[string]int64{},
		// An increment of 1 keeps IDs unique and ordered within a
		// millisecond without reading entropy per record.
		entropy: ulid.Monotonic(rand.Reader, 1),
	}
	if err := w.plan(cat); err != nil {
		return err
	}
	if err := probe(w.dir); err != nil {
		return kit.ConfigError(err)
	}
	w.syncer = newSyncer(emit)
	defer w.closeFiles()
	if err := w.open(); err != nil {
		return err
	}
	if err := w.consume(ctx, input); err != nil {
		return err
	}
	return w.commit()
}

// plan checks the catalog and decides every stream's files.
func (w *writer) plan(cat *protocol.ConfiguredCatalog) error {
	stems := map[string]string{}
	for _, cs := range cat.Streams {
		s := &stream{name: cs.Stream.Name, namespace: cs.Stream.Namespace, mode: cs.DestinationSyncMode}
		if s.name == "" {
			return configErrorf("catalog: a stream has no name")
		}
		d := descriptor{s.namespace, s.name}
		if w.byDesc[d] != nil {
			return configErrorf("catalog: stream %q (namespace %q) is configured twice", s.name, s.namespace)
		}
		switch s.mode {
		case protocol.DestinationAppend, protocol.DestinationOverwrite:
		case protocol.DestinationAppendDedup:
			s.primaryKey = cs.PrimaryKey
			if len(s.primaryKey) == 0 {
				s.primaryKey = cs.Stream.SourceDefinedPrimaryKey
			}
			if len(s.primaryKey) == 0 {
				return configErrorf("catalog: stream %q uses append_dedup but has no primary key: set primary_key in the configured catalog", s.name)
			}
			for _, p := range s.primaryKey {
				if len(p) == 0 {
					return configErrorf("catalog: stream %q has an empty path in its primary_key", s.name)
				}
			}
		case "":
			return configErrorf("catalog: stream %q has no destination_sync_mode: use overwrite, append or append_dedup", s.name)
		default:
			return configErrorf("catalog: stream %q asks for destination_sync_mode %q, which this destination does not support: use overwrite, append or append_dedup", s.name, s.mode)
		}
		stem := fileStem(s.name)
		if other, ok := stems[stem]; ok {
			return configErrorf("catalog: streams %q and %q both map to the file _airbyte_raw_%s.jsonl: rename one of them", other, s.name, stem)
		}
		stems[stem] = s.name
		base := "_airbyte_raw_" + stem + ".jsonl"
		s.final = filepath.Join(w.dir, base)
		s.tmp = filepath.Join(w.dir, "."+base+".tmp")
		s.staging = filepath.Join(w.dir, "."+base+".staging")
		s.merge = filepath.Join(w.dir, "."+base+".merge")
		w.streams = append(w.streams, s)
		w.byDesc[d] = s
		w.byName[s.name] = append(w.byName[s.name], s)
	}
	return nil
}

// open opens every stream's target file and makes the directory entries
// durable, so that a later fsync of a file is all a state needs.
func (w *writer) open() error {
	for _, s := range w.streams {
		var err error
		switch s.mode {
		case protocol.DestinationOverwrite:
			// A .tmp left by a killed sync was never committed: start afresh.
			s.file, err = os.OpenFile(s.tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		case protocol.DestinationAppend:
			s.file, err = openAppend(s.final)
			if err == nil {
				err = w.adoptStaging(s)
			}
		case protocol.DestinationAppendDedup:
			// Keep what a killed sync staged: it may be covered by echoed
			// states, and it is merged with this sync's records at the end.
			s.file, err = openAppend(s.staging)
		}
		if err != nil {
			return fmt.Errorf("stream %q: %w", s.name, err)
		}
		s.w = bufio.NewWriterSize(s.file, writeBufferSize)
	}
	return w.syncDir()
}

// adoptStaging appends to an append stream's file what a killed append_dedup
// sync of the same stream left staged, since those records may be covered by
// states that were echoed.
func (w *writer) adoptStaging(s *stream) error {
	st, err := openAppendExisting(s.staging)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(s.file, st); err != nil {
		return fmt.Errorf("adopting staged records from %s: %w", s.staging, err)
	}
	if err := s.file.Sync(); err != nil {
		return err
	}
	return os.Remove(s.staging)
}

// openAppend opens (creating it if needed) a file for appending, after
// cutting off a last line that a killed writer left unfinished: such bytes
// were never covered by a state.
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if err := trimPartialLine(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("repairing %s: %w", path, err)
	}
	return f, nil
}

// openAppendExisting is openAppend for a file that must already exist.
func openAppendExisting(path string) (*os.File, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return openAppend(path)
}

// trimPartialLine truncates f after its last newline.
func trimPartialLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				if keep := start + int64(i) + 1; keep < size {
					return f.Truncate(keep)
				}
				return nil
			}
		}
		end = start
	}
	if size > 0 {
		return f.Truncate(0)
	}
	return nil
}

// syncDir fsyncs the destination directory, making created, renamed and
// removed entries durable.
func (w *writer) syncDir() error {
	d, err := os.Open(w.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", w.dir, err)
	}
	return nil
}

// consume reads the input until it ends.
func (w *writer) consume(ctx context.Context, input iter.Seq2[*protocol.Message, error]) error {
	done := ctx.Done()
	for m, err := range input {
		select {
		case <-done:
			return cancelled(ctx)
		default:
		}
		if err != nil {
			return fmt.Errorf("reading the input: %w", err)
		}
		switch {
		case m.Record != nil && m.Type == protocol.TypeRecord:
			err = w.record(m.Record)
		case m.State != nil && m.Type == protocol.TypeState:
			err = w.state(m)
		case m.Type == protocol.TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil:
			w.streamStatus(m.Trace.StreamStatus)
		case m.Malformed != nil:
			err = malformedLine(m.Malformed)
		case m.Unparsed != nil:
			err = w.unparsedLine(m.Unparsed)
		}
		if err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return cancelled(ctx)
	}
	return nil
}

// streamStatus notes a stream the input ended INCOMPLETE. A stream with no
// status, or COMPLETE, commits as before: a runner that sends no statuses
// (goairbyte before them, a hand-fed input) ends its input only once all is
// sent.
func (w *writer) streamStatus(st *protocol.StreamStatusTrace) {
	if s := w.lookup(st.StreamDescriptor.Namespace, st.StreamDescriptor.Name); s != nil {
		s.incomplete = st.Status == protocol.StatusIncomplete
	}
}

// keeps reports whether s is an overwrite stream the input ended
// INCOMPLETE: its file stays as it was and this sync's records go.
func (s *stream) keeps() bool { return s.incomplete && s.mode == protocol.DestinationOverwrite }

// cancelled is the error of a write whose context ended first.
func cancelled(ctx context.Context) error {
	return fmt.Errorf("write cancelled before the input ended, nothing committed: %w", context.Cause(ctx))
}

// lookup finds the configured stream of a record: by namespace and name, or
// by name alone when that is unambiguous.
func (w *writer) lookup(namespace, name string) *stream {
	if s := w.last; s != nil && s.name == name && s.namespace == namespace {
		return s
	}
	s := w.byDesc[descriptor{namespace, name}]
	if s == nil {
		if c := w.byName[name]; len(c) == 1 {
			s = c[0]
		}
	}
	return s
}

// record writes one record line. This is the hot path: the line is built
// with appends straight into the stream's buffer, without encoding/json.
func (w *writer) record(r *protocol.Record) error {
	s := w.lookup(r.Namespace, r.Stream)
	if s == nil {
		return w.skip(r)
	}
	w.last = s
	now := time.Now()
	emitted := r.EmittedAt
	if emitted <= 0 {
		emitted = now.UnixMilli()
	}
	id, err := ulid.New(ulid.Timestamp(now), w.entropy)
	if err != nil {
		return fmt.Errorf("making a record id: %w", err)
	}
	b := s.w.AvailableBuffer()
	b = appendLine(b, id, emitted, r.Data)
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("stream %q: writing %s: %w", s.name, s.file.Name(), err)
	}
	s.dirty = true
	s.since++
	s.total++
	w.global++
	return nil
}

// appendLine appends one line of a stream's file.
func appendLine(b []byte, id ulid.ULID, emittedAt int64, data []byte) []byte {
	b = append(b, `{"_airbyte_ab_id":"`...)
	b = append(b, "0123456789ABCDEFGHJKMNPQRS"...) // placeholder of ulid.EncodedSize bytes
	_ = id.MarshalTextTo(b[len(b)-ulid.EncodedSize:])
	b = append(b, `","_airbyte_emitted_at":`...)
	b = strconv.AppendInt(b, emittedAt, 10)
	b = append(b, `,"_airbyte_data":`...)
	b = append(b, data...)
	return append(b, '}', '\n')
}

// skip drops a record of a stream that is not in the catalog.
func (w *writer) skip(r *protocol.Record) error {
	key := r.Stream
	if r.Namespace != "" {
		key = r.Namespace + "." + r.Stream
	}
	w.skipped[key]++
	if w.skipped[key] == 1 {
		return w.logInOrder(protocol.LevelWarn, "skipping records of stream %q: it is not in the configured catalog", key)
	}
	return nil
}

// logInOrder writes a LOG message during the write loop. It goes through the
// syncer's queue, so stdout keeps the order of the input: a warning about a
// line comes after every state echoed for the lines before it.
func (w *writer) logInOrder(level protocol.Level, format string, a ...any) error {
	return w.syncer.enqueue(syncItem{msg: logMessage(level, format, a...)})
}

// log emits a LOG message once the syncer has stopped.
func (w *writer) log(level protocol.Level, format string, a ...any) error {
	return w.emit(logMessage(level, format, a...))
}

func logMessage(level protocol.Level, format string, a ...any) *protocol.Message {
	return &protocol.Message{Type: protocol.TypeLog, Log: &protocol.Log{Level: level, Message: fmt.Sprintf(format, a...)}}
}

// malformedLine is the failure of a write at a line that claims to be a
// RECORD or a STATE and does not parse: a record lost (or a state that
// cannot be echoed), not chatter. The write stops there, so that no STATE
// after it confirms that record; the runner sends again what follows the
// last state echoed.
func malformedLine(m *protocol.MalformedLine) error {
	what := string(m.Type)
	if m.Stream != "" {
		what += fmt.Sprintf(" of stream %q", m.Stream)
	}
	return fmt.Errorf("input line %d claims to be a %s and does not parse (%v): stopping, so that no state after it confirms what it held", m.Line, what, m.Err)
}

// unparsedLine reports a line of input that is not a protocol message.
func (w *writer) unparsedLine(line []byte) error {
	w.unparsed++
	if w.unparsed > maxUnparsedLogs {
		return nil
	}
	if len(line) > 200 {
		line = append(line[:200:200], "..."...)
	}
	return w.logInOrder(protocol.LevelWarn, "ignoring input line that is not an Airbyte message: %s", line)
}

// state handles a STATE message: it makes the records it covers durable and
// echoes it, or holds it back until the commit when they only become durable
// there (overwrite streams) or when an earlier state is held back.
func (w *writer) state(m *protocol.Message) error {
	st := m.State
	var covered []*stream
	var count int64
	if st.EffectiveType() == protocol.StateStream {
		if st.Stream == nil {
			return w.logInOrder(protocol.LevelWarn, "ignoring a STREAM state without a stream: it cannot be echoed")
		}
		d := st.Stream.StreamDescriptor
		if s := w.lookup(d.Namespace, d.Name); s != nil {
			covered = []*stream{s}
			count, s.since = s.since, 0
		}
	} else {
		covered = w.streams
		count, w.global = w.global, 0
	}
	hold := len(w.pending) > 0
	var files []*os.File
	for _, s := range covered {
		if s.mode == protocol.DestinationOverwrite {
			hold = true
			continue
		}
		if !s.dirty {
			// Its earlier records are covered by an earlier state, echoed
			// (in order) before this one.
			continue
		}
		if err := s.flush(); err != nil {
			return err
		}
		files = append(files, s.file)
	}
	n := float64(count)
	st.DestinationStats = &protocol.StateStats{RecordCount: &n}
	if hold {
		w.pending = append(w.pending, m)
		return nil
	}
	// The records are in the file now; the syncer fsyncs it, then echoes.
	return w.syncer.enqueue(syncItem{msg: m, files: files})
}

// flush writes the stream's buffer to its file.
func (s *stream) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("stream %q: writing %s: %w", s.name, s.file.Name(), err)
	}
	s.dirty = false
	return nil
}

// commit finishes a sync whose input ended: every stream's records become
// durable and visible in its file, then the held-back states are echoed.
func (w *writer) commit() error {
	if err := w.syncer.stop(); err != nil {
		return err
	}
	for _, s := range w.streams {
		if err := s.flush(); err != nil {
			return err
		}
		if err := s.file.Sync(); err != nil {
			return fmt.Errorf("stream %q: syncing %s: %w", s.name, s.file.Name(), err)
		}
		if err := s.file.Close(); err != nil {
			return err
		}
		s.file = nil
		switch {
		case s.keeps():
			// Part of the stream's records must not replace all of them.
			if err := os.Remove(s.tmp); err != nil {
				return err
			}
			if err := w.log(protocol.LevelWarn, "stream %q ended INCOMPLETE: its file is kept as it was, and the %d records of this sync are dropped", s.name, s.total); err != nil {
				return err
			}
		case s.mode == protocol.DestinationOverwrite:
			if err := os.Rename(s.tmp, s.final); err != nil {
				return fmt.Errorf("stream %q: replacing %s: %w", s.name, s.final, err)
			}
		case s.mode == protocol.DestinationAppendDedup:
			kept, dropped, err := dedup(s.final, s.staging, s.merge, s.primaryKey)
			if err != nil {
				return fmt.Errorf("stream %q: deduplicating: %w", s.name, err)
			}
			if err := os.Rename(s.merge, s.final); err != nil {
				return fmt.Errorf("stream %q: replacing %s: %w", s.name, s.final, err)
			}
			if dropped > 0 {
				if err := w.log(protocol.LevelInfo, "stream %q: %d records kept, %d superseded by a later record with the same primary key", s.name, kept, dropped); err != nil {
					return err
				}
			}
		}
	}
	if err := w.syncDir(); err != nil {
		return err
	}
	// Staged records are in the stream files now (and an overwrite
	// supersedes what a killed append_dedup sync had staged). Removing them
	// late is safe: merging a staging file twice gives the same result.
	for _, s := range w.streams {
		if s.mode != protocol.DestinationAppend && !s.keeps() {
			if err := os.Remove(s.staging); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	for _, m := range w.pending {
		if w.dropsState(m.State) {
			continue // its records were not kept: the runner sends them again
		}
		if err := w.emit(m); err != nil {
			return err
		}
	}
	w.pending = nil
	for name, n := range w.skipped {
		if err := w.log(protocol.LevelWarn, "skipped %d records of stream %q, which is not in the configured catalog", n, name); err != nil {
			return err
		}
	}
	if w.unparsed > maxUnparsedLogs {
		if err := w.log(protocol.LevelWarn, "ignored %d input lines that are not Airbyte messages", w.unparsed); err != nil {
			return err
		}
	}
	return nil
}

// dropsState reports whether a held-back state covers an overwrite stream
// whose records were dropped (see keeps): a STREAM state of one, or a
// GLOBAL or LEGACY state while any is.
func (w *writer) dropsState(st *protocol.State) bool {
	if st.EffectiveType() == protocol.StateStream {
		d := st.Stream.StreamDescriptor
		s := w.lookup(d.Namespace, d.Name)
		return s != nil && s.keeps()
	}
	return slices.ContainsFunc(w.streams, (*stream).keeps)
}

// closeFiles closes what is still open after a failed or cancelled sync,
// leaving every work file in place for the next sync to handle.
func (w *writer) closeFiles() {
	w.syncer.stop()
	for _, s := range w.streams {
		if s.file != nil {
			s.file.Close()
		}
	}
}
