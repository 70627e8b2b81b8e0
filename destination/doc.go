// Package destination runs an Airbyte destination connector and writes
// records into it — from a source read into a cache first, or streamed
// straight from the source.
//
//	dst, err := destination.New(ctx, "destination-local-json", // in process, when the root package is imported
//		connector.WithConfig(map[string]any{"destination_path": "/tmp/out"}))
//	res, err := dst.Write(ctx, src)        // src is a *source.Source: read into the default cache, then written
//	res, err = dst.Write(ctx, readResult)  // or a *source.ReadResult already in a cache
//	res, err = dst.Write(ctx, src, destination.NoCache()) // or streamed with no cache at all
//
// A destination runs exactly as a source does: it embeds the same
// *connector.Connector (one option set, package connector's; Spec, Check,
// Config, ValidateConfig). Write takes any cached input (a
// *source.ReadResult) or readable one (a *source.Source): this package
// does not import package source.
//
// # Incremental writes
//
// The destination's own state — what it has confirmed — is kept in a state
// cache (by default the cache the records come from; with NoCache, the
// Environment's default cache) under the source's
// name, the destination's identity (its name and a fingerprint of its
// config without secrets, or [StateKey]) and the stream's name, apart from
// the source's state. The release before 18c7631 keyed it by the
// destination's bare name: a cache it wrote keeps its position for a
// Write given StateKey with that name (without it, the first Write sends
// every row again).
// A STATE message echoed by the destination is the only commit point: the
// stored state advances when, and only when, the destination echoes it. A
// destination that ends without echoing any of the states it was sent has
// confirmed none of its records: the Write fails with an
// *executor.ConnectorError whose Missing is STATE (ErrConnectorFailed).
// Echoes are stored by group commit: those that arrive while one commit
// runs are committed together, the latest per stream, so a destination
// that echoes a state after every record costs no transaction per record.
// When the Write's context is cancelled, the destination is stopped
// (SIGTERM, a grace period of 6 s, then SIGKILL; a kit destination has 5 s
// of it to flush what it holds and echo the states that covers) and its
// output is read to the end meanwhile: every state it echoed before it
// exited, those still in the pipe and those it wrote while stopping, is
// stored, for up to eight seconds after the cancellation; a commit still waiting then (for a state
// table another session holds locked) is cancelled too, and the Write says
// so. The next Write sends none of the records the destination confirmed
// (TestWriteCancelledKeepsEchoes). A kill -9 of this process drops the
// echoes not committed yet: the destination had confirmed their records,
// and the next Write sends them again (TestWriteKilled measures how many).
//
// From a cache, Write sends the rows the destination has not confirmed yet:
// each stream's rows come in _airbyte_raw_id order (ULIDs, increasing in
// arrival order), a STATE carrying the last row's id follows every
// 10,000 rows, and the echoed id is the stream's watermark. The records and
// states of a stream of a namespace carry it, as the source's did and as
// the catalog and the statuses do: Airbyte's destinations find a record's
// stream by namespace and name. Only an
// echo of a state the Write sent, after the last one echoed of its stream,
// moves it: a state the destination made up, one of a stream not written or
// one echoed out of order is ignored, with a warning. The next
// Write sends only rows after it — new rows and rows the cache's merge
// rewrote — for the append and merge strategies; replace and
// ForceFullRefresh send everything. PyAirbyte replays the whole table every
// time. A destination that dies mid-stream costs only what it had not
// confirmed: the next Write sends that again, and under merge
// (append_dedup) nothing ends up lost or duplicated.
//
// The configured catalog a destination gets carries, on each stream, what
// the Airbyte platform has sent since its refreshes came, and Airbyte's own
// destinations refuse a catalog without ("You must upgrade your platform
// version to use this connector version"): sync_id, the Write's start in
// milliseconds since 1970 (one more than the Write before, in the same
// process and millisecond), and the generations: an overwrite stream has
// generation_id and minimum_generation_id both the sync id, a new
// generation that alone is kept, as a full refresh is on the platform; the
// other modes generation 0 and minimum 0, every generation kept.
//
// Once every record and state is sent, each configured stream ends with a
// TRACE STREAM_STATUS COMPLETE, as the platform ends the streams of a sync
// whose source succeeded, before the destination's input ends: Airbyte's
// bulk-CDK destinations fail a sync without one per stream ("some streams
// did not receive a terminal stream status message"), and its
// typing-deduping ones replace an overwrite stream's table with the new
// generation only for a COMPLETE stream. With NoCache, a source that left
// a stream incomplete has every stream ended INCOMPLETE instead: the
// destination keeps its tables as they were and confirms what it wrote, and
// the Write fails. A Write that fails before its end sends no status, as
// the platform sends none after a failed source.
//
// With NoCache the source's messages are piped into the destination as they
// come; the echoed states are the source's own, and the next Write passes
// them back to the source as --state. Here too only an echo of a state the
// Write forwarded, after the last one echoed of its stream, is stored
// (compared without destinationStats, whatever the key order or spacing). As with a read into a cache, records
// and states of streams not asked for are left out, a state after a line
// that claimed to be a RECORD or STATE and did not parse is not passed on,
// and a stream the source left incomplete makes the Write fail (an
// *source.IncompleteStreamError) once the destination has ended; an
// incremental stream whose records came with no state is warned of, as Read
// warns of it: the next Write reads it from the start. A source
// that fails midway stops the destination as a cancelled Write does, before
// its input ends, so that a destination replacing a table never takes part
// of the records for all of them: the states it echoes while it stops are
// stored, and the records of those it was sent and did not echo are read
// and sent again by the next Write (in a run where the source failed after
// two states, the local-JSON destination had echoed one). From a cache, a read
// that fails ends the Write before the destination starts; what the read
// committed stays in the cache, and the next Write sends it.
//
// # Docker and local paths
//
// A destination in a container sees the host only where a directory is
// mounted. By PyAirbyte's convention, WithLocalMount(dir) mounts the host
// directory dir at /local in the container, so a config that says
// "destination_path": "/local/out" writes into dir/out on the host.
//
// A kill -9 of this program ends a Docker destination's input as its
// normal end does (the Docker engine closes the container's stdin when the
// attach connection drops), so the destination commits what it got: under
// replace (overwrite) it may replace its table with part of the records,
// until the next Write sends them all. On Linux a local destination is
// killed with the program (Pdeathsig) before it sees the end of its input,
// so the table it had stays.
//
// Feeding the destination's stdin and reading its stdout run concurrently
// through a pipe of bounded size, so a slow destination slows the feed down
// instead of growing memory, and no size of input can deadlock.
package destination
