// Package testconnectors holds small misbehaving Airbyte connectors, one
// main package each, that reproduce the quirks of real third-party
// connectors (see DESIGN.md) so that the executors and sources can be tested
// against real processes:
//
//   - garbage: non-JSON lines, unknown types and fields on stdout between
//     records; echoes the config's "password" to stderr and a LOG message
//     (masking tests)
//   - stderrexit: exits 1 mid-stream with only plain text on stderr
//   - gocrash: a panic in a goroutine mid-stream: the Go runtime's panic
//     message and stack on stderr, exit 2
//   - checkfailed: check reports FAILED and exits 0
//   - traceerror: read reports a TRACE ERROR and exits 0
//   - seconds: emitted_at in seconds instead of milliseconds
//   - jsononly: refuses files not ending in .json, flags out of canonical
//     order, run files that are not private; echoes config and state back,
//     and TEST_ECHO_ENV and USE_STREAM_CAPABLE_STATE from its environment
//   - hang: starts a child, then both ignore SIGTERM and hang forever
//   - daemon: starts a child in a session of its own that holds stdout and
//     stderr open, then exits 0
//   - echo: read emits "count" records; write echoes its input messages
//     (RECORDs too), or all but the STATEs with "drop_states"
//   - twoway (a package, served by twoway/source-twoway): a source and a
//     destination whose config picks a misbehaviour, run both as a process
//     and in process to show that a kit connector behaves the same both
//     ways
//   - lastwords: emits a STATE, then 1,000 more once SIGTERM comes,
//     read or write (a destination echoing while it shuts down)
//   - leaky: prints its whole config to stderr and in LOG messages, then
//     fails with an error that quotes a secret (end-to-end masking tests)
//   - unstated (a package, run in process): two incremental streams, some
//     of which get no STATE after their records
//   - resumable (a package, run in process): a resumable full-refresh
//     stream that reads nothing when given its complete state, as the
//     Python CDK's, beside an incremental one; per-stream or GLOBAL states
//   - mixedstate (a package, run in process): a GLOBAL state for its CDC
//     stream and a STREAM state for its full-refresh stream in one read,
//     as a version of Airbyte's bulk CDK
//   - usercursor (a package, run in process): a keyed stream with no cursor
//     of its own that fails an incremental read without one, as the Java
//     CDK's database sources in standard mode
//
// They are written on package kit like our real connectors, so they answer
// the command line, validate their config and report failures the same
// way; where the kit would prevent a misbehaviour (garbage and leaky's
// non-JSON lines, stderrexit's exit without a TRACE, jsononly's strictness,
// hang's deafness to SIGTERM) the connector does it itself, around or
// instead of the kit. Package base has the well-behaved part they share;
// python/ is a stdlib-only Python connector package (console script
// source-pytest) for the venv executor.
package testconnectors
