// Package localjson is goairbyte's own "Local JSON" destination: Airbyte's
// destination-local-json, written in Go. [New] returns it as a
// kit.Destination, to call in process or to serve: the executable
// cmd/destination-local-json is kit.Serve(localjson.New()).
//
// # Commands
//
//	spec
//	check --config C
//	write --config C --catalog K      (messages on stdin)
//
// Flags may come in any order and as --flag value or --flag=value (package
// kit owns the command line). The config is {"destination_path":
// "/some/dir"}; the directory is created if needed.
//
// # Files
//
// Each configured stream is written to
// <destination_path>/_airbyte_raw_<stream>.jsonl, one line per record:
//
//	{"_airbyte_ab_id":"<ULID>","_airbyte_emitted_at":<ms>,"_airbyte_data":<data>}
//
// The id is a ULID (unique, ordered by time of writing). The data is copied
// byte for byte from the RECORD message; emitted_at is the record's (the time
// of writing when the record has none).
//
// Stream names never escape the directory: every byte of the name that is not
// an ASCII letter, digit, '_', '-' or '.' becomes '_' (so "a/b" and "../x"
// become "a_b" and ".._x"), and the result is cut at 200 bytes. Because the
// file name always starts with "_airbyte_raw_", no name can be "." or "..".
// The namespace is not part of the file name; two configured streams that map
// to the same file are a config error.
//
// Work files are hidden files next to the stream's file:
// ._airbyte_raw_<stream>.jsonl.tmp (overwrite), .staging (append_dedup) and
// .merge (the deduplicated result before it is renamed into place).
//
// # Sync modes
//
//   - append: records are appended to the stream's file.
//   - overwrite: records go to the .tmp file, which is renamed over the
//     stream's file only when the input ends (a successful sync). If the
//     process dies first, the old file is untouched; so it is when the input
//     ended the stream with a TRACE STREAM_STATUS INCOMPLETE (goairbyte's
//     Write sends one when its source left the stream incomplete), whose
//     records are then dropped and whose states are not echoed.
//   - append_dedup: records are appended to a durable .staging file. When the
//     input ends, the stream's file and the staging file are merged into one
//     line per primary key (the latest line wins; composite and nested keys
//     are supported; a record whose key is missing or null is kept as it is),
//     written to .merge, renamed over the stream's file, and the staging file
//     is removed. A staging file left by a killed sync is kept and merged by
//     the next sync of the stream, so nothing it holds is lost.
//
// # State and durability
//
// A STATE message is echoed on stdout, with destinationStats.recordCount set
// to the records received for its stream (for GLOBAL and LEGACY state: for all
// streams) since the previous state of that kind, only once every record
// before it is durable:
//
//   - for append and append_dedup streams the records are flushed to the
//     file they went to (whose directory entry was fsynced when the file was
//     opened); a goroutine beside the write loop fsyncs the file and then
//     echoes the state. It commits in groups: all states queued while one
//     fsync runs share the next, so frequent states cost one fsync per disk
//     round trip while decoding and writing go on;
//   - for overwrite streams the records become durable only at the final
//     rename, so their states (and, to keep states in order, every state after
//     them) are held back and echoed after the commit at the end of the input.
//
// Everything the write loop says on stdout goes through the same queue, so
// stdout keeps the order of the input: states come out in the order they
// came in, and a LOG about an input line follows every state before it that
// is not held back for the commit.
//
// So after a SIGKILL every echoed state is covered by data on disk. The
// guarantee is at least once, as in Airbyte: an append file (or a staging
// file) may hold records after the last echoed state; the source re-sends
// them when it resumes, so an append stream may then hold them twice. A line
// cut short by the kill is removed when the next sync opens the file.
//
// On cancellation (SIGTERM/SIGINT for the executable) nothing is committed:
// overwrite files are not replaced and staging files are left for the next
// sync, exactly as after a kill.
//
// # Other input
//
// RECORDs of a stream that is not in the configured catalog are skipped, as
// Airbyte's Python destination-local-json does; the first one of each such
// stream is reported with a LOG WARN and the totals at the end of the sync.
// Lines on stdin that are not protocol messages are reported with LOG WARN
// (the first ten, then a count) and never end the sync, except a line that
// claims to be a RECORD or a STATE and does not parse (cut short, longer than
// 256 MiB): the write fails there, as after a kill, rather than echo a later
// STATE that would confirm the record it held. LOG, TRACE and other messages
// on stdin are ignored.
package localjson
