package localjson

import (
	"fmt"
	"os"
	"sync"

	"github.com/x/goairbyte/protocol"
)

// syncer echoes states once the files holding their records are fsynced. It
// runs beside the write loop, so that the loop keeps decoding and writing
// while the disk flushes, and it commits in groups: every state queued while
// an fsync ran is covered by the next one, so a sync with frequent states
// pays one fsync per disk round trip, not one per state. States come out in
// the order they were queued.
type syncer struct {
	emit  func(*protocol.Message) error
	queue chan syncItem
	done  chan struct{}

	mu  sync.Mutex
	err error
}

// syncItem is a message and the files whose fsync must precede its echo.
// The records it covers were already written to them (flushed from the
// streams' buffers) before it was queued.
type syncItem struct {
	msg   *protocol.Message
	files []*os.File
}

// syncerQueue bounds how far the write loop may run ahead of the disk.
const syncerQueue = 256

func newSyncer(emit func(*protocol.Message) error) *syncer {
	s := &syncer{emit: emit, queue: make(chan syncItem, syncerQueue), done: make(chan struct{})}
	go s.run(s.queue)
	return s
}

// enqueue hands a state to the syncer. It returns an earlier fsync or
// stdout failure, after which nothing more is echoed.
func (s *syncer) enqueue(it syncItem) error {
	if err := s.failed(); err != nil {
		return err
	}
	s.queue <- it
	return nil
}

// stop waits until every queued state is echoed (or the syncer failed) and
// returns the failure.
func (s *syncer) stop() error {
	if s.queue != nil {
		close(s.queue)
		s.queue = nil
	}
	<-s.done
	return s.failed()
}

func (s *syncer) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *syncer) run(queue <-chan syncItem) {
	defer close(s.done)
	for it := range queue {
		batch := []syncItem{it}
		for more := true; more; {
			select {
			case next, ok := <-queue:
				if ok {
					batch = append(batch, next)
				} else {
					more = false
				}
			default:
				more = false
			}
		}
		if err := s.commit(batch); err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			for range queue {
				// Drain so that enqueue never blocks; nothing more is echoed.
			}
			return
		}
	}
}

// commit fsyncs every file of the batch once, then echoes its states.
func (s *syncer) commit(batch []syncItem) error {
	synced := map[*os.File]bool{}
	for _, it := range batch {
		for _, f := range it.files {
			if synced[f] {
				continue
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("syncing %s: %w", f.Name(), err)
			}
			synced[f] = true
		}
	}
	for _, it := range batch {
		if err := s.emit(it.msg); err != nil {
			return err
		}
	}
	return nil
}
