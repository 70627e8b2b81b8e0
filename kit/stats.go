package kit

import "github.com/x/goairbyte/protocol"

// recordCounts counts a read's records per stream since the stream's last
// state, so that the STREAM and GLOBAL states a connector emits without
// sourceStats get sourceStats.recordCount, as the Python CDK sets it. The
// Airbyte platform counts the same way and compares (airbyte-platform,
// airbyte-container-orchestrator bookkeeping/ParallelStreamStatsTracker.kt
// and StateCheckSumCountEventHandler.kt): a STREAM state covers its
// stream's records since that stream's last state; a GLOBAL state, the
// records of every stream since its last state, and the streams it lists
// start again from 0. A count that differs is a checksum mismatch, which
// fails the sync where the platform's FailSyncOnInvalidChecksum flag is
// on; a state without it is not checked at all. LEGACY states are left as
// they are: the platform counts no records for them.
//
// Serve counts for the read command only: a destination's echoes are the
// source's states, with the source's counts.
type recordCounts struct {
	on     bool
	last   protocol.StreamDescriptor
	lastN  *int64 // the count of last: runs of one stream cost no lookup
	counts map[protocol.StreamDescriptor]*int64
}

// record counts r.
func (c *recordCounts) record(r *protocol.Record) {
	if c.lastN != nil && r.Stream == c.last.Name && r.Namespace == c.last.Namespace {
		*c.lastN++
		return
	}
	d := protocol.StreamDescriptor{Name: r.Stream, Namespace: r.Namespace}
	n := c.counts[d]
	if n == nil {
		if c.counts == nil {
			c.counts = map[protocol.StreamDescriptor]*int64{}
		}
		n = new(int64)
		c.counts[d] = n
	}
	c.last, c.lastN = d, n
	*n++
}

// state takes m, a STATE, as the end of the records it covers and returns
// it, or a copy with sourceStats.recordCount set when it is a STREAM or
// GLOBAL state without sourceStats (the connector's own are kept).
func (c *recordCounts) state(m *protocol.Message) *protocol.Message {
	st := m.State
	var n int64
	take := func(d protocol.StreamDescriptor) int64 {
		p := c.counts[d]
		if p == nil {
			return 0
		}
		v := *p
		*p = 0
		return v
	}
	switch {
	case st.Type == protocol.StateStream && st.Stream != nil:
		n = take(st.Stream.StreamDescriptor)
	case st.Type == protocol.StateGlobal && st.Global != nil:
		for _, p := range c.counts {
			n += *p
		}
		for _, s := range st.Global.StreamStates {
			take(s.StreamDescriptor)
		}
	default:
		return m
	}
	if st.SourceStats != nil {
		return m
	}
	f := float64(n)
	stamped, s := *m, *st
	s.SourceStats = &protocol.StateStats{RecordCount: &f}
	stamped.State = &s
	return &stamped
}
