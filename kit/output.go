package kit

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/x/goairbyte/internal/jsonscan"
	"github.com/x/goairbyte/internal/kitcore"
	"github.com/x/goairbyte/internal/masklease"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/secrets"
)

// Output buffering. A connector's stdout is a pipe read by the runner:
// writing each message on its own costs a system call per record, so
// messages are encoded into a buffer written out when it holds flushSize
// bytes. So that a message is never stuck there while the connector waits
// (on an API, on stdin, on a disk flush), the first message put into an
// empty buffer arms a timer that writes the buffer out flushDelay later.
const (
	// flushSize: one write fills four default Linux pipe buffers (64
	// KiB each); it is the buffer the faker had before the kit.
	flushSize = 256 << 10
	// flushDelay bounds how long an emitted message waits before it is on
	// the pipe. At full speed the buffer fills in well under this.
	flushDelay = 10 * time.Millisecond
	// maxKeptBuffer: a buffer grown past this by one huge message is
	// dropped after it is written.
	maxKeptBuffer = 4 << 20
)

// output encodes messages onto the connector's stdout. Its methods are
// safe for concurrent use (the flush timer runs beside the connector). It
// remembers the first write error: stdout is gone, nothing more is written.
type output struct {
	mu         sync.Mutex
	w          io.Writer
	buf        []byte
	err        error
	timer      *time.Timer
	armed      bool // the timer will flush
	traceError bool // a TRACE ERROR went out: do not report the failure twice
	records    recordEncoder
	// ends are the streams whose end (STREAM_STATUS COMPLETE or
	// INCOMPLETE) went out, so that a read that succeeds ends the others
	// (kitcore.Ends). Tracked here, in the encoder, not by a wrapper
	// around emit, which would hide the encoder from EmitCopies.
	ends kitcore.Ends
	// counts stamps sourceStats on a read's states (recordCounts).
	counts recordCounts
	// unmask ends the masking of the config's secret values (setSecrets)
	// in the text of LOG, TRACE and CONNECTION_STATUS messages and stderr
	// lines; nil until the config is read.
	unmask func()
}

// setSecrets masks values, the config's airbyte_secret values, in what
// the connector says from now on (not in its data: RECORD, STATE, CONTROL
// pass as emitted), as the Python CDK masks them: the runner of a program
// may be no goairbyte runner masking them for it. They are package
// secrets' to mask, in every form it knows, while the command runs
// (endMasking).
func (o *output) setSecrets(values []string) {
	if len(values) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unmask != nil {
		o.unmask()
	}
	o.unmask = masklease.Hold(values...)
}

// endMasking stops masking the config's secret values.
func (o *output) endMasking() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unmask != nil {
		o.unmask()
		o.unmask = nil
	}
}

// masked is text with the secret values masked.
func (o *output) masked(text string) string {
	o.mu.Lock()
	on := o.unmask != nil
	o.mu.Unlock()
	if !on {
		return text
	}
	return secrets.Mask(text)
}

// maskedMessage is m, or a copy of it whose text fields have the secret
// values masked when they hold any.
func (o *output) maskedMessage(m *protocol.Message) *protocol.Message {
	switch {
	case m.Log != nil:
		l := *m.Log
		l.Message, l.StackTrace = secrets.Mask(l.Message), secrets.Mask(l.StackTrace)
		if l != *m.Log {
			c := *m
			c.Log = &l
			return &c
		}
	case m.Trace != nil && m.Trace.Error != nil:
		e := *m.Trace.Error
		e.Message, e.InternalMessage, e.StackTrace = secrets.Mask(e.Message), secrets.Mask(e.InternalMessage), secrets.Mask(e.StackTrace)
		if e != *m.Trace.Error {
			c, t := *m, *m.Trace
			t.Error = &e
			c.Trace = &t
			return &c
		}
	case m.ConnectionStatus != nil:
		cs := *m.ConnectionStatus
		cs.Message = secrets.Mask(cs.Message)
		if cs != *m.ConnectionStatus {
			c := *m
			c.ConnectionStatus = &cs
			return &c
		}
	}
	return m
}

func newOutput(w io.Writer) *output {
	o := &output{w: w, buf: make([]byte, 0, flushSize+flushSize/4)}
	o.timer = time.AfterFunc(time.Hour, o.timedFlush)
	o.timer.Stop()
	return o
}

// emit encodes m and queues it for stdout; it is the emit function the
// connector gets. RECORDs take protocol.AppendRecord, which writes the data
// as it is; other messages are validated by protocol.AppendMessage.
func (o *output) emit(m *protocol.Message) error {
	if m == nil {
		return kitcore.ErrNilMessage
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	if m.Type == protocol.TypeRecord && m.Record != nil && m.Record.EmittedAt == 0 {
		// Stamped now, as the Python CDK stamps every record: 0 is a
		// record of 1970 to any runner. A copy: m is the connector's.
		stamped, rec := *m, *m.Record
		rec.EmittedAt = time.Now().UnixMilli()
		stamped.Record = &rec
		m = &stamped
	}
	if o.counts.on {
		switch {
		case m.Type == protocol.TypeRecord && m.Record != nil:
			o.counts.record(m.Record)
		case m.Type == protocol.TypeState && m.State != nil:
			m = o.counts.state(m)
		}
	}
	if o.unmask != nil && m.Type != protocol.TypeRecord {
		m = o.maskedMessage(m)
	}
	if m.Type == protocol.TypeRecord && m.Record != nil && onlyRecord(m) {
		o.buf = o.records.append(o.buf, m.Record)
	} else {
		if m.Type == protocol.TypeTrace {
			m = o.ends.Resolve(m)
		}
		b, err := protocol.AppendMessage(o.buf, m)
		if err != nil {
			return fmt.Errorf("kit: emitting a %s message: %w", m.Type, err)
		}
		o.buf = b
		if m.Type == protocol.TypeTrace {
			o.traceError = o.traceError || kitcore.IsTraceError(m)
			o.ends.Observe(m)
		}
	}
	if len(o.buf) >= flushSize {
		o.flushLocked()
	} else if !o.armed {
		o.armed = true
		o.timer.Reset(flushDelay)
	}
	return o.err
}

// recordEncoder writes a RECORD line exactly as protocol.AppendRecord does,
// faster for what connectors emit: runs of records of one stream with the
// same emitted_at. It keeps the line's head for the last stream and its
// tail for the last emitted_at (formatting the number was 40% of
// AppendRecord's time), so a record costs three appends.
type recordEncoder struct {
	stream string
	head   []byte // {"type":"RECORD","record":{"stream":"…","data":
	ms     int64
	tail   []byte // ,"emitted_at":…}}\n
}

func (e *recordEncoder) append(dst []byte, r *protocol.Record) []byte {
	if r.Namespace != "" || r.Meta != nil || r.FileReference != nil || len(r.Data) == 0 {
		return protocol.AppendRecord(dst, r)
	}
	if e.head == nil || r.Stream != e.stream {
		e.stream = r.Stream
		e.head = jsonscan.AppendString(append(e.head[:0], `{"type":"RECORD","record":{"stream":`...), r.Stream)
		e.head = append(e.head, `,"data":`...)
	}
	if e.tail == nil || r.EmittedAt != e.ms {
		e.ms = r.EmittedAt
		e.tail = strconv.AppendInt(append(e.tail[:0], `,"emitted_at":`...), r.EmittedAt, 10)
		e.tail = append(e.tail, "}}\n"...)
	}
	dst = append(dst, e.head...)
	dst = append(dst, r.Data...)
	return append(dst, e.tail...)
}

// onlyRecord reports whether a RECORD message carries nothing but its
// record, so that AppendRecord writes all of it.
func onlyRecord(m *protocol.Message) bool {
	return m.Log == nil && m.Spec == nil && m.ConnectionStatus == nil && m.Catalog == nil &&
		m.State == nil && m.Trace == nil && m.Control == nil && m.DestinationCatalog == nil && m.Unparsed == nil
}

func (o *output) timedFlush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.armed = false
	o.flushLocked()
}

// flush writes out what is buffered and returns the first write error.
func (o *output) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	return o.err
}

// tryFlush is flush unless a write is under way (stdout blocked): the last
// resort of an exit that cannot wait.
func (o *output) tryFlush() {
	if o.mu.TryLock() {
		o.flushLocked()
		o.mu.Unlock()
	}
}

func (o *output) flushLocked() {
	if o.err == nil && len(o.buf) > 0 {
		_, o.err = o.w.Write(o.buf)
	}
	if cap(o.buf) > maxKeptBuffer {
		o.buf = make([]byte, 0, flushSize+flushSize/4)
	}
	o.buf = o.buf[:0]
}

// close flushes and stops the timer.
func (o *output) close() error {
	o.timer.Stop()
	return o.flush()
}

// sawTraceError reports whether a TRACE ERROR was emitted.
func (o *output) sawTraceError() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.traceError
}

// failed returns the first write error.
func (o *output) failed() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// encoderCode is the code of every method value o.emit: what EmitCopies
// recognises.
var encoderCode = reflect.ValueOf((*output)(nil).emit).Pointer()

// EmitCopies reports whether emit is the encoder of Serve and Run, which is
// done with a message when it returns (it has been encoded): a connector
// may then reuse the Message, its Record and their buffers for the next
// message instead of allocating new ones. Any other emit (an in-process
// runner's, or a wrapper around Serve's) may keep what it is given, and a
// connector must not reuse anything it emitted there. Ignoring EmitCopies
// is always correct; it is worth asking only for a connector that emits
// many records fast.
func EmitCopies(emit func(*protocol.Message) error) bool {
	return emit != nil && reflect.ValueOf(emit).Pointer() == encoderCode
}
