// Package source runs an Airbyte source connector and gets data out of it:
// as a stream of records with no cache, or read into a cache.
//
// A [Source] is one connector (built by [New] from a name and
// connector options: how it runs, its config, its streams), its catalog and
// the streams selected to read. It embeds the *connector.Connector that
// runs it, so Spec, Check, Config, SetConfig and ValidateConfig are its
// methods. Nothing runs until a method needs the connector:
//
//	src, err := source.New(ctx, "source-faker",
//		connector.WithDockerImage(""), // goairbyte/source-faker:0.1.0, from the registry
//		connector.WithConfig(map[string]any{"count": 100}))
//	if err != nil { ... }
//	if err := src.Check(ctx); err != nil { ... } // *connector.CheckFailedError on a bad config
//	for rec, err := range src.Records(ctx, "users", source.Limit(10)) {
//		if err != nil { ... }
//		name, _ := rec.Get("name")
//		fmt.Println(name)
//	}
//
// The connector's answers are remembered: Spec runs spec once,
// [Source.DiscoveredCatalog] runs discover once per config. Records streams
// one stream in full refresh; breaking out of the loop stops the connector
// at once. Records keep their data as raw JSON until a field is asked for,
// which is what makes Records fast.
//
// [Source.Read] loads the selected streams into a cache (the Environment's
// default cache unless [UseCache] names one), incrementally: the state the
// cache committed last time goes back to the connector, for the streams
// read incrementally only (the Airbyte platform gives a stream read in full
// no state, and the Python CDK's resumable full-refresh streams read
// nothing when given their last one). A connector may send both kinds of
// state in one read, a GLOBAL state for its CDC streams and STREAM states
// for the others, as a version of Airbyte's bulk CDK does (the Airbyte
// platform fails such a sync): the cache keeps each for the streams it
// covers, and the next read is given the GLOBAL state first and the
// STREAM states of the other incremental streams, as the bulk CDK reads
// them ([cache.Cache.SourceState]). A stream the
// connector did not report complete, or whose lines did not parse, is an
// [*IncompleteStreamError]; states after such lines are not committed, so
// the next read asks again. An incremental stream whose records came with no
// state is warned of (the logger's Warn): the next read asks for it from the
// start, and an append table gets its records again. Overrides of the
// catalog's keys ([Source.SetPrimaryKey], [Source.SetCursorField]) apply to
// every read. A stream is read incrementally only with a cursor, its own or
// one set: a keyed stream without (a database source's table in standard
// mode) is read in full and merged by its key, as Airbyte's Java sources
// fail an incremental read without a cursor.
//
// A stream is named by its name. A name that streams of several namespaces
// share (a database source's table in two schemas) names none of them, and
// the error says so: each is named namespace.name, as
// [Source.AvailableStreams] lists it, in every call that takes a stream
// name. Its records and its cache table still go by its name alone, so a
// cache holds one of them at a time (see the cache package).
//
// Errors match the root package's sentinels: *connector.CheckFailedError,
// *connector.ConfigValidationError, *protocol.StreamNotFoundError,
// [*IncompleteStreamError], [*NoStreamsSelectedError],
// *executor.ConnectorError and the rest.
package source
