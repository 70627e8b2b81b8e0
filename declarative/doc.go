// Package declarative runs Airbyte's low-code (declarative) connectors
// natively: a manifest.yaml is loaded, validated and built once into Go
// components, which then answer spec, check, discover and read as the
// Python CDK 6.31.1 does, without Python or Docker. Manifests written for
// newer CDKs run too, unless they use what only those know (see below).
//
//	src, err := declarative.New(manifestYAML,
//		declarative.WithHTTPClient(client), // every request, OAuth and logins included
//		declarative.WithClock(time.Now),    // now_utc(), today_utc(), date windows
//	)
//	spec, err := src.Spec(ctx)
//	err = src.Check(ctx, config)            // nil: SUCCEEDED; an error: the CDK's FAILED message
//	catalog, err := src.Discover(ctx, config)
//	err = src.Read(ctx, config, configured, state, func(m *protocol.Message) error {
//		... // RECORD, STATE, TRACE (statuses, errors), as the CDK prints them
//		return nil // an error stops the read, and Read returns it
//	})
//
// A Source satisfies, structurally, the connector interface the connector
// kit serves and an in-process executor calls; records reach emit as
// protocol messages whose data was encoded once, never as text lines.
//
// # What runs natively
//
// The components of the corpus' eight main groups: DeclarativeStream,
// SimpleRetriever, HttpRequester (parameters, headers, form and JSON
// bodies, path templates), RecordSelector with DpathExtractor ("*"
// wildcards), RecordFilter and schema_normalization, InlineSchemaLoader;
// NoAuth, ApiKey, Bearer, BasicHttp, Selective, OAuth (refresh_token and
// client_credentials grants, and single-use refresh tokens rotated through
// the config with refresh_token_updater) and SessionToken authenticators;
// DefaultPaginator with CursorPagination, PageIncrement and
// OffsetIncrement (tokens in query, headers, bodies, path or next URL);
// ListPartitionRouter, SubstreamPartitionRouter (with
// incremental_dependency) and their cartesian product;
// DatetimeBasedCursor (windows, step and granularity, lookback, formats,
// is_data_feed, is_client_side_incremental; per partition on substreams);
// DefaultErrorHandler and CompositeErrorHandler with every action and the
// four backoff strategies; AddFields, RemoveFields, KeysToLower,
// KeysReplace, FlattenFields and DpathFlattenFields; AsyncRetriever
// (export jobs created, polled and downloaded, with ResponseToFileExtractor's
// CSV; async_retriever.go says what of it is built).
// Anything else (components.py, Custom* components, other decoders) is
// listed by New and refused with an *UnsupportedError before the first
// request, naming each component and its path.
//
// # Manifests of newer CDKs
//
// Airbyte's registry publishes manifests written for newer CDKs (version
// 6.4x, 7.x) and runs them, whatever their version, on images of newer CDKs
// (in February 2026, 490 of its 497 manifest-only connectors, 391 of them
// on CDK 7). New loads a manifest of any version from 0.29 on and runs it
// with CDK 6.31.1's behaviour for all that CDK 6.31.1 knows. What only
// newer CDKs know (29 component types and 41 fields CDK 7.28.2 added,
// listed in internal/manifest/newer.go; each changes what is requested,
// read or emitted: the one field left out only names a stream) is refused,
// named with its path: a field the 6.31.1 schema still validates
// (transform_before_filtering) leaves Spec working and makes the calls that
// would use it return an *UnsupportedError; a component type
// (QueryProperties, ...) or a field the 6.31.1 schema
// cannot do without makes New return one. A field no CDK knows is ignored,
// as both CDKs ignore it, and so is a newer field that a $parameters entry
// filled, as CDK 6.31.1 ignores it. Of CDK 7.28.2's additions the engine
// runs, as CDK 7.28.2 does (validated against its schema's definitions):
//
//   - an HttpRequester's url (where it has no url_base) and a requester
//     without path, built as HttpRequester._get_url builds them: url_base,
//     else url, kept as it is when the path is empty, else given a slash
//     and joined to the path;
//   - a spec's config_normalization_rules (spec/spec.py), when a config is
//     given (Check, Discover, Read; never Spec): the config_migrations'
//     ConfigAddFields, ConfigRemapField and ConfigRemoveFields change a
//     shallow copy of the config, which is reported in a CONTROL
//     CONNECTOR_CONFIG message (Read's and CheckEmit's emit; Discover has
//     none) when it then differs from the config, compared as Python
//     compares them: a field added inside an object the config already has
//     changes both, and is not reported; the transformations change what
//     every component sees, unreported; the validations (a DpathValidator
//     with ValidateAdheresToSchema, messages worded as jsonschema 4.25
//     words them for type, required, enum, const, lengths, bounds and
//     pattern) run on the transformed config before any request: a failure
//     fails Check with "Encountered an error while discovering streams.
//     Error: ..." and is Discover's and Read's error (in the CDK an
//     uncaught exception, a system_error TRACE). A PredicateValidator there
//     fails every call, as in CDK 7.28.2, whose Spec passes it an argument
//     it does not take. Custom (Python) transformations and strategies are
//     refused by every call that takes a config. Package kit and the
//     connector core check a config against the spec before the engine
//     gets it, so before its migrations (CDK 7.28.2 checks the migrated,
//     transformed config);
//   - a StateDelegatingStream among the manifest's streams
//     (create_state_delegating_stream): Check and Discover see its
//     full_refresh_stream; Read reads its incremental_stream when the state
//     given has a non-empty state for the stream, whatever its sync mode,
//     else its full_refresh_stream. Its api_retention_period, and a
//     StateDelegatingStream read as a parent, are refused;
//   - the manifest's api_budget (streams/call_rate.py, HttpAPIBudget over
//     pyrate-limiter 3.1.1's in-memory bucket), a fresh one for each Check,
//     Discover and Read, its limits and weights evaluated over the
//     transformed config: before each request a requester sends (each
//     attempt, parents and session logins included; not a response from
//     the parent cache, nor an OAuth refresh) the first policy matching it
//     (HttpRequestRegexMatcher: method, url_base, url_path_pattern searched
//     in the path, params, headers; a policy without matchers matches all)
//     takes a call of the request's weight. A MovingWindowCallRatePolicy
//     counts, for each rate, the calls from now less the interval to now,
//     both ends included; with none left it sleeps until the oldest call of
//     the full window leaves it and tries again (up to 99,999 times), so a
//     request that finds 2 calls a second spent at t waits 1 s, then 0 s,
//     then goes. A FixedWindowCallRatePolicy allows call_limit calls until
//     its reset time (10 days after the call starts, until a response
//     says otherwise), then opens the next window one period after it;
//     with none left it sleeps until the reset. An
//     UnlimitedCallRatePolicy never waits. After each response the
//     ratelimit_remaining_header (or a status among
//     status_codes_for_ratelimit_hit, default 429, as none left) and the
//     ratelimit_reset_header (epoch seconds) update the matching policy: a
//     fixed window takes a lower count of calls left and any other reset
//     time; a moving window told that none is left, without a reset, counts
//     one call more when it holds fewer than its shortest rate's limit. A
//     weight above the lowest limit, or a header int() cannot read, fails
//     the request. The waits use WithClock's clock and sleep as long as
//     they say: a read that spends its budget takes as long as the API
//     allows. Each wait of a second or more is logged at INFO (WithLogger)
//     with its policy and length, as each retry is.
//
// Of those 497 manifests (the monorepo of 28 February 2026), 427 build,
// discover with a config made from their spec and refuse nothing (425
// before config_normalization_rules, StateDelegatingStream and api_budget
// ran, 352 when every manifest above version 6.31 was refused; CDK 6.31.1
// itself fails 38 on its schema and refuses the 75 others whose version is
// above 6.31). Of the 70 others, 55 need Python components, 9 components
// or fields of 6.31.1 the engine does not build (4 with newer parts too),
// 5 newer parts alone (CheckStream's dynamic_streams_check_configs with
// HttpRequester's request_body: source-criteo-marketing, source-feishu; a
// RequestOption's field_path without field_name: source-gong,
// source-stigg; AsyncRetriever's download_target_extractor with
// GzipDecoder: source-sendgrid), and source-ticktick has a template that
// does not parse ("{{ config.authorization.client_secret) }}", which CDK
// 7.28.2 fails on too). The newer parts most used, in connectors:
// AsyncRetriever's download_target_extractor 5, a RequestOption's
// field_path 4, AddFields' condition 4, then others in 1 to 3 each. Of the
// 17 connectors with an api_budget, source-cin7 now builds clean; of the 10
// with config_normalization_rules, source-youtube-data; the others need
// Python components or parts the engine does not build. Of the 4 with a
// StateDelegatingStream, source-hubspot, source-monday and
// source-zendesk-support need Python components, and source-stripe reads
// one as a parent and sets its api_retention_period.
//
// Where CDK 7 does otherwise than 6.31.1 with what both know, the engine
// does as 6.31.1 does: a url_base with an empty path gets a slash (CDK 7
// sends url_base as it is), a parent stream's responses are cached even
// with use_cache: false, a RequestOption with field_name and field_path
// injects the field_name (CDK 7 refuses the pair), and body_json options
// of two components under one key fail the request (CDK 7 merges them
// when their values are equal), and an is_data_feed stream emits the
// records of its last page that are older than the window (CDK 7.28.2
// filters them out).
//
// # Two engines, as in the CDK
//
// The CDK's ConcurrentDeclarativeSource reads most streams concurrently,
// and falls back to its older synchronous engine for an incremental stream
// whose templates read stream_state. So does Read: concurrent streams
// first (partitions and date windows on a pool of workers), then the
// synchronous ones, one after the other, window by window, each window's
// requests seeing the state the previous ones reached. The synchronous
// DatetimeBasedCursor also runs where the CDK still runs it: to read the
// parents of a substream, to pick a check's first slice, and behind
// is_data_feed and is_client_side_incremental.
//
// # Token rotation
//
// An OAuthAuthenticator with refresh_token_updater keeps its tokens in the
// config. When the access token has expired, the engine refreshes it with
// the config's refresh token, writes the new tokens and expiry date into
// the config and reports the whole config: a CONTROL CONNECTOR_CONFIG
// message during Read, the emit function given CheckEmit during Check.
// The caller must store it: the old refresh token no longer works.
//
// # The CDK's behaviour, kept
//
// Requests are encoded as Python's requests library encodes them (query
// strings, JSON bodies, URL joining, and each part of a URL escaped and
// normalised as urllib3's parse_url does, so that "a[0]", "%c3%a9" and
// "100%" go out as "a%5B0%5D", "%C3%A9" and "100%25"); a URL's user
// information is not sent, but becomes the Basic auth of an OAuth token
// request, as in the CDK; a host name that is not ASCII is refused, where
// the CDK would IDNA-encode it; templates are evaluated by package
// interpolation with the CDK's literal_eval rules; states are the CDK's
// (per stream, per partition where it keeps them,
// {"__ab_no_cursor_state_message": true} for full refresh), emitted after
// each window or partition and at the end of each stream, never before the
// records they cover; responses of parent streams are cached per call as
// the CDK's requests-cache does. Streams and partitions are read
// concurrently up to the manifest's concurrency_level (default 2); records
// of one partition keep their order. A partition of the concurrent read
// fetches its next page while the records of the page before are emitted
// (read_ahead.go): the requests, their order and the messages stay those
// of a read page by page. A request to retry waits what the first backoff
// strategy that answers says and, as the CDK's user_defined_backoff_handler
// does, one second more; each retry is logged at INFO (URL masked), as the
// CDK's backoff handlers log theirs. An OAuth token request is retried as
// the CDK retries it: an answer 429 or 5xx for up to five minutes, a
// connection error or another status not at all.
//
// # Where the engine differs from the CDK
//
// Where the CDK 6.31.1 crashes, hangs or does what no API expects, the
// engine does otherwise, on purpose:
//
//   - A response to retry whose wait no backoff strategy gives (none is
//     declared, or every declared one answers nothing) waits its
//     Retry-After header, in seconds or as an HTTP date. The CDK never
//     reads that header: HttpClient._handle_error_resolution finds no
//     user-defined backoff and raises DefaultBackoffException or
//     RateLimitBackoffException, whose handlers wait 1 s, 2 s, 4 s ...
//     (backoff.expo), however long the API asked to wait. Without the
//     header the engine waits as the CDK does; a strategy that answers
//     wins over the header in both.
//   - A state of the concurrent CDK's form, {"state_type": "date-range",
//     "slices": [...]}, is read as the CDK reads it (the slices are the
//     windows already read; the state written back is its "legacy" keys
//     and the cursor field), except where the CDK fails on it: a slice's
//     most_recent_cursor_value is parsed like its start and end (the CDK
//     leaves it a string and fails formatting or comparing it as a
//     datetime), and a state without slices is read as no state (the CDK
//     raises "Expected at least one slice").
//   - A parent read with incremental_dependency that has partitions of its
//     own and no incremental_sync keeps no state: the child's parent_state
//     holds {} for it, and each read reads all of it. The CDK gives such a
//     parent a per-partition resumable full refresh cursor, which marks
//     each partition {"__ab_full_refresh_sync_complete": true}, and its
//     next read skips every partition so marked, so the child never again
//     sees the records of an older partition. (A partitioned parent with
//     incremental_sync keeps the state the CDK's
//     PerPartitionWithGlobalCursor keeps, its own parents' included, and
//     is read in the CDK's order: a partition once its router has
//     produced the next one.)
//   - A state is read in more forms than the CDK's entrypoint reads: the
//     legacy {"stream name": state} object and a LEGACY message's data, a
//     GLOBAL message whose shared_state is ignored (the CDK raises a
//     ValueError for any shared_state, even {}), and GLOBAL and STREAM
//     messages mixed in one list. A per-partition state's negative
//     lookback_window is not applied (the CDK moves each new partition's
//     cursor forward by it, past records not yet read). As in the CDK, a
//     stream read concurrently int()s it (a float or a numeric string
//     becomes whole seconds, a bool 0 or 1, null or another string fails
//     the read) and a partitioned parent's takes a float or a bool as
//     timedelta does; one that moves the cursor out of the years 1 to
//     9999 fails the stream, as the CDK's OverflowError does.
//   - A record whose cursor value the cursor's formats refuse with
//     another error than ValueError (int() of a list or an object under
//     "%s" or "%ms", a timestamp out of range: the errors the CDK's
//     parse_timestamp lets through) fails its stream. The CDK's
//     ConcurrentCursor.observe, which passes over a ValueError (a value no
//     format reads; a null or missing one, which never reaches the
//     formats) with a warning, once, raises these in the main thread of
//     its concurrent read, which ends the whole read.
//   - A cursor logs its first 10 warnings of the CDK's (one for each
//     partition its limit drops), then one line saying it leaves the
//     others out. The CDK logs them all: for a parent of 100,000
//     partitions, 90,000 lines.
//
// # Components and their contracts
//
// Each role has a small interface whose contract is written beside it:
// authenticator (auth.go), paginator and paginationStrategy
// (paginators.go), errorHandler and backoffStrategy (error_handlers.go),
// extractor and the record selector (extractors.go), transformation
// (transformations.go), partitionRouter (partition_routers.go), the
// datetime cursor (incremental.go, perpartition.go). The builder
// (build.go) makes them from the manifest once; read.go runs a read.
//
// # Errors and secrets
//
// A manifest the engine cannot run is an *UnsupportedError (it wraps
// ErrUnsupported) listing the components, which errors.As finds also
// behind the errors of a source run through goairbyte.GetSource (a
// Check's, a Read's); every other failure (a request
// the error handler failed, with the manifest's message, a body that is
// not JSON, a paginator repeating a page, a token refresh, a failed check
// or stream) is an error whose message is the CDK's, and a failed read has
// emitted its TRACE ERRORs, with their failure types, before Read returns
// it. A response that sends nothing for 10 minutes, before its headers or
// within its body, is given up on and retried like a dropped connection
// (the CDK sets no timeout and would wait for ever); one larger than
// 512 MiB once decompressed fails its request, except an AsyncRetriever's
// CSV download, written to a temporary file whole and then parsed from it
// in bounded memory, as the CDK does. The config's airbyte_secret
// values and the tokens the connector obtains never appear in an error, a
// log line or a TRACE message.
//
// # Hostile manifests
//
// A manifest is code: run one you did not write as you would run a
// program. The engine bounds what it can without changing what real
// manifests do. A redirect follows the client's CheckRedirect (else ten at
// most) through its transport; one to another origin (scheme, host or
// port) drops every header the manifest set but Accept, Accept-Encoding,
// Accept-Language, Content-Type and User-Agent, so that an API's 302 to
// another host receives no X-Api-Key, where the CDK (and net/http) drop
// only Authorization and cookies. A template's evaluation makes at most
// 64 MiB of text, runs at most 1,048,576 iterations of its for loops, and
// makes or reads at most 1 GiB in all; past that it fails with a
// MemoryError, within seconds, where Jinja would fill the memory or run for
// days (nested loops over [0]*1000 rendered 1 GB; a list holding another
// a million times over printed as terabytes). YAML aliases and references
// that repeat each other stop at 2,000,000 values. A URL of a scheme
// net/http does not send (file://) fails its request at once as a
// config_error, as the CDK fails requests' InvalidSchema. Egress (which
// hosts and addresses a request may reach) is the client's to decide: give
// one with WithHTTPClient. The library reads no DEPLOYMENT_MODE: the
// command cmd/source-declarative-manifest, which the Airbyte platform
// runs, does, and with cloud gives the engine a client that keeps to
// public HTTPS endpoints as the CDK's entrypoint does on Airbyte Cloud;
// a request such a client refuses fails the read at once as the CDK's
// config_error.
package declarative
