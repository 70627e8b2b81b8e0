// Package kit is for writing Airbyte connectors in Go. A connector
// implements [Source] (Spec, Check, Discover, Read) or [Destination] (Spec,
// Check, Write) with plain protocol types, and its main is one line:
//
//	func main() { kit.Serve(myconnector.New()) }
//
// Serve (and connector.WithGoConnector) take any value, so a method with a
// signature of its own (Read taking the state parsed, say) is found out
// only when the connector runs, with an error naming the method and the
// signature wanted. Let the compiler check instead, with a line such as
// var _ kit.Source = (*Source)(nil) beside the connector's type.
//
// [Serve] owns everything that makes a program an Airbyte connector:
//
//   - the command line, in one place: spec | check --config C | discover
//     --config C | read --config C --catalog K [--state S] | write --config C
//     --catalog K, flags in any order as --flag value or --flag=value
//     (and the Python CDK's --debug, accepted and ignored); a wrong command
//     line exits 2 with a usage text that lists the commands
//     of the connector's kind;
//   - the config, read and validated against the spec's
//     connectionSpecification before check, discover, read and write
//     ([ValidateConfig]); check then answers FAILED naming the fields, the
//     others a TRACE ERROR with failure_type config_error;
//   - stdout: protocol messages only, through a buffered encoder (a record
//     costs no system call; nothing waits in the buffer more than 10 ms);
//   - failure: an error returned by the connector (or a panic of the
//     method, with its stack) becomes a line on stderr and a TRACE ERROR
//     (unless the connector emitted one itself) with exit code 1, and a
//     read or write whose connector emitted a TRACE ERROR exits 1 even
//     when Read or Write returns nil, as the Python CDK's reads and
//     Airbyte's destinations do; a failed
//     check is a CONNECTION_STATUS FAILED with exit code 0, as real
//     connectors do (one stopped by its cancelled context is a failure).
//     So a connector returns its errors and never calls os.Exit or
//     log.Fatal: run in process (connector.WithGoConnector), that ends
//     the program that runs it, with its own writes half done;
//   - secrets: the values of the config's fields the spec marks
//     airbyte_secret are masked (****) in the text of the LOG, TRACE and
//     CONNECTION_STATUS messages and the stderr lines Serve writes, as the
//     Python CDK masks them, whatever the connector's errors quote; data
//     (RECORD, STATE, CONTROL) is written as emitted;
//   - signals: SIGINT and SIGTERM cancel the context the connector was
//     given; what it emitted is flushed and it exits; one that does not
//     return within 5 s (blocked on a silent stdin, say) is ended anyway.
//     A destination has those 5 s to flush what it holds and echo the
//     states that covers (with a context of its own for the flush:
//     context.WithoutCancel); goairbyte waits 6 s before it kills a
//     cancelled write, in process as in a program.
//
// [Run] is the same without the process (arguments, stdin, stdout and
// stderr passed in, the exit code returned): what tests and wrappers call.
//
// # The emit function
//
// Read and Write hand their messages to emit, in order. emit is called from
// one goroutine at a time; when it returns an error (stdout is gone, the
// receiver stopped) the connector stops and returns that error. The
// receiver may keep the message and everything it points to: a runner in
// the same process (no encoding at all) gets the very *protocol.Message the
// connector made and may hold it in a batch. So a connector never reuses a
// Message, a Record or its Data after emitting it, unless [EmitCopies]
// says the emit at hand is Serve's encoder, which is done with a message
// when it returns. The interfaces use only standard and protocol types on
// purpose: a connector satisfies them without importing kit, and a runner
// calls the methods directly.
//
// A RECORD's Data must be one JSON object: Serve writes it as it is (not
// validated, for speed). Every other message is validated when encoded; one
// that cannot be is an error of emit. A RECORD whose EmittedAt is 0 is
// stamped with the time of its emit (epoch milliseconds), by Serve on what
// it writes (the connector's Record is left as it is) and by goairbyte's
// in-process runner, as the Python CDK stamps every record: a runner would
// otherwise take it for a record of 1 January 1970. A connector that emits
// many records fast may set EmittedAt itself, one value for a whole page.
//
// A read's STREAM and GLOBAL STATE messages without sourceStats get
// sourceStats.recordCount from Serve, as the Python CDK sets it: the
// records since the last state, counted as the Airbyte platform counts
// them to check it (a STREAM state, its stream's records since that
// stream's last state; a GLOBAL state, every stream's, the streams it
// lists counted again from 0); a mismatch can fail a platform sync. A
// connector that sets sourceStats itself keeps its own.
//
// A connector tells what it does in LOG messages (protocol.TypeLog), which a
// runner passes to its logger with every secret masked (Serve masks the
// config's secret fields itself too). Run by Serve as a program, what it
// writes on its stderr itself is kept too (goairbyte's runner logs each line and
// keeps it in the run's log file, masked). In process, though, os.Stderr is
// the program's own: what a connector writes there is neither captured nor
// masked, so a config or a token printed to it reaches the program's stderr
// as it is.
//
// # Telling a stream done
//
// A runner learns that a stream was read to its end from a TRACE
// STREAM_STATUS COMPLETE: without it, an empty full-refresh stream looks
// like one cut short, and goairbyte's cache keeps the table of the last
// read rather than replace it. A connector need not send one: when Read
// returns nil, every stream of the configured catalog that the connector
// did not end itself (with a COMPLETE, or an INCOMPLETE) gets a COMPLETE
// after the connector's last message, as the Python CDK ends every stream
// of a read that succeeds. Serve and goairbyte's in-process runner do it
// alike, each following the statuses that pass through its emit. A status
// without a namespace ends the streams of its name in every namespace.
// Serve writes a status that leaves out the namespace of the one
// configured stream of its name with that namespace: the Airbyte platform
// fails a sync on a COMPLETE for a stream its catalog does not have, by
// name and namespace.
//
// So a connector sends statuses only to say more: STARTED and RUNNING as a
// stream begins (progress), COMPLETE as each one ends when it reads
// several one after the other, INCOMPLETE for a stream it gave up on while
// the read as a whole succeeds (goairbyte's Read then keeps the table it
// would have replaced and reports the stream incomplete). Silence means
// done: a connector that skips a configured
// stream it does not know must return an error or end that stream
// INCOMPLETE, as the Python CDK does, or a runner replaces the stream's
// table with nothing. A Read that returns an error gets no COMPLETE, and no
// INCOMPLETE either: its TRACE ERROR and exit code 1 already say that
// every stream not ended may be partial, and goairbyte's Read then keeps
// every table it would replace, whatever the statuses. Nor does a read
// whose connector emitted a TRACE ERROR (runners take it for failed, as
// goairbyte's do), or whose context was cancelled (SIGINT, SIGTERM), even
// if Read returns nil: it may have stopped early.
//
// # Errors
//
// An error's failure type is chosen by [FailureType]: an error anywhere in
// the chain with a method FailureType() protocol.FailureType says which;
// [ConfigError] marks an error as the user's to fix (config_error), and so
// do [InvalidConfigError] and the errors of [ParseCatalog] and
// [ParseState]. Everything else is a system_error.
//
// # As a Docker image
//
// The Airbyte platform does not run a connector image's ENTRYPOINT: it
// replaces it with sh -c and a script that runs eval "$AIRBYTE_ENTRYPOINT
// read --config ...", with sleep and kill beside it, as a user that is not
// root (airbyte-platform, airbyte-workload-launcher's
// ContainerCommandFactory.kt and ConnectorPodFactory.kt). So an image for
// the platform needs a /bin/sh with those commands and the variable, or the
// job fails at once (no sh; exit 127 without AIRBYTE_ENTRYPOINT); Airbyte's
// connector images also carry the labels io.airbyte.name and
// io.airbyte.version. goairbyte, PyAirbyte and docker run use ENTRYPOINT.
// Built static (CGO_ENABLED=0), a kit connector needs nothing else:
//
//	FROM scratch
//	COPY busybox /bin/sh
//	COPY myconnector /myconnector
//	ENV AIRBYTE_ENTRYPOINT=/myconnector
//	LABEL io.airbyte.name=me/source-mine io.airbyte.version=0.1.0
//	ENTRYPOINT ["/myconnector"]
//
// with a statically linked busybox (Debian's busybox-static) in the build
// context, as goairbyte's own images in docker/ are built; FROM busybox or
// alpine with the binary copied in does as well.
//
// # Helpers
//
// [ParseCatalog] and [ParseState] read the catalog and state arguments the
// way Serve does (the state in all the forms runners use: an array of state
// messages, one message, AirbyteMessage-wrapped, LEGACY), and
// [StreamStates] gives each stream's state; an in-process runner uses them
// to prepare the same arguments.
package kit
