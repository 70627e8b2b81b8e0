package executor

import (
	"bytes"
	"io"

	"github.com/x/goairbyte/protocol"
)

// Decoding runs in its own goroutine, a batch of messages ahead of the
// caller: reading and decoding the connector's output then overlaps with
// whatever the caller does with each message (writing it to a cache, most
// often), which on a machine with two cores nearly doubles a read's
// throughput. Messages stay valid after the decoder moves on (the protocol
// Decoder copies what they hold), and batches are handed over in order.

// maxBatch caps the messages of one batch; a batch is handed over earlier
// whenever the decoder would wait for more output, so batching never delays
// a message.
const maxBatch = 256

// decoding is the decoder goroutine and its hand-over channels.
type decoding struct {
	// batches carries decoded messages in output order; it is closed when
	// the output ends or the run stops, after which err is set.
	batches chan []*protocol.Message
	// err is what ended the output other than io.EOF; read it only after
	// batches is closed.
	err   error
	free  chan []*protocol.Message
	done  chan struct{}
	stop  <-chan struct{}
	batch []*protocol.Message
}

// startDecoding decodes out until it ends or stop is closed (the output is
// discarded, and about to be closed under the decoder).
func startDecoding(out io.Reader, stop <-chan struct{}) *decoding {
	d := &decoding{
		batches: make(chan []*protocol.Message, 4),
		free:    make(chan []*protocol.Message, 6),
		done:    make(chan struct{}),
		stop:    stop,
	}
	go d.run(out)
	return d
}

func (d *decoding) run(out io.Reader) {
	defer close(d.done)
	defer close(d.batches)
	dec := protocol.NewDecoder(flushingReader{&bomSkipper{r: out}, d})
	d.batch = d.newBatch()
	for {
		m, err := dec.Decode()
		if err != nil {
			if err != io.EOF {
				d.err = err
			}
			d.flush()
			return
		}
		d.batch = append(d.batch, m)
		if len(d.batch) == maxBatch && !d.flush() {
			return
		}
	}
}

// flush hands the current batch over; false means the run is stopping and
// nobody will take it.
func (d *decoding) flush() bool {
	if len(d.batch) == 0 {
		return true
	}
	select {
	case d.batches <- d.batch:
		d.batch = d.newBatch()
		return true
	case <-d.stop:
		return false
	}
}

func (d *decoding) newBatch() []*protocol.Message {
	select {
	case b := <-d.free:
		return b[:0]
	default:
		return make([]*protocol.Message, 0, maxBatch)
	}
}

// recycle gives a batch the caller is done with back to the decoder.
func (d *decoding) recycle(b []*protocol.Message) {
	select {
	case d.free <- b:
	default:
	}
}

// wait returns once the decoder goroutine has ended; the run must have been
// stopped or its output ended.
func (d *decoding) wait() { <-d.done }

// flushingReader hands over what has been decoded before each read of the
// connector's output, which may wait for the connector: a message is never
// held back while the decoder waits.
type flushingReader struct {
	r io.Reader
	d *decoding
}

func (f flushingReader) Read(b []byte) (int, error) {
	if !f.d.flush() {
		return 0, errStopped
	}
	return f.r.Read(b)
}

// errStopped ends the decoder of a run whose output is discarded.
var errStopped = stoppedError{}

type stoppedError struct{}

func (stoppedError) Error() string { return "connector stopped" }

// utf8BOM is the byte order mark that some writers put at the start of
// UTF-8 output (Python's utf-8-sig codec, .NET's UTF8Encoding preamble).
var utf8BOM = []byte("\xef\xbb\xbf")

// bomSkipper drops a UTF-8 byte order mark at the start of a connector's
// output, which would make its first message a line that does not parse.
type bomSkipper struct {
	r       io.Reader
	started bool   // the start has been looked at
	head    []byte // what was read looking for the mark, still to hand over
	err     error  // what ended that look, returned after head
}

func (s *bomSkipper) Read(b []byte) (int, error) {
	if !s.started {
		s.started = true
		var buf [3]byte
		n := 0
		for n < len(buf) && bytes.HasPrefix(utf8BOM, buf[:n]) {
			k, err := s.r.Read(buf[n:])
			n += k
			if err != nil {
				s.err = err
				break
			}
		}
		if !bytes.Equal(buf[:n], utf8BOM) {
			s.head = buf[:n:n]
		}
	}
	if len(s.head) > 0 {
		k := copy(b, s.head)
		s.head = s.head[k:]
		return k, nil
	}
	if s.err != nil {
		err := s.err
		s.err = nil
		return 0, err
	}
	return s.r.Read(b)
}
