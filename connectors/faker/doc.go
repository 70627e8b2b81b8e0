// Package faker is a Go rewrite of Airbyte's source-faker: a source connector
// that generates realistic, deterministic fake data for three streams,
// products, users and purchases. It speaks the Airbyte protocol on stdio like
// any connector, so goairbyte's tests, examples and benchmarks can run a real
// connector process without Docker or Python, and it is fast enough (well
// over a million records per second) that it never hides the speed of what
// reads from it.
//
// # Using it
//
// [New] returns the connector, a kit.Source. The cmd/source-faker binary is
// kit.Serve(faker.New()) and accepts the canonical Airbyte command line:
//
//	source-faker spec
//	source-faker check --config config.json
//	source-faker discover --config config.json
//	source-faker read --config config.json --catalog catalog.json [--state state.json]
//
// In process, a runner calls its methods directly and gets each record as
// a *protocol.Message of its own, to keep as long as it likes.
//
// The config has the same options, defaults and meaning as Airbyte's
// source-faker ([Connector.Spec] returns the specification): count (users
// to generate, default 1000), seed (-1 for random), records_per_slice
// (records between two STATE messages), always_updated and parallelism.
//
// # What a read produces
//
// users has count records; products has min(count, 100) records (the 100
// cars of source-faker's list); purchases follows the users: in every block
// of ten users the seventh buys nothing and the ninth buys twice, so
// purchases has count records, or count-1 when count ends in 7 or 8, with
// ids contiguous from 1. Every value of a record is derived from the seed,
// the stream and the record's id alone, which is what makes the output the
// same byte for byte whatever parallelism is, and lets parallel workers
// render disjoint ranges of ids while the output order stays fixed.
//
// Each stream is incremental on the source-defined cursor updated_at with
// primary key id. The state of a stream is {"id": last id emitted,
// "updated_at": ...}. With always_updated true every read re-emits every
// record with a fresh updated_at; with always_updated false a read given a
// state emits only records with a higher id, so raising count emits just the
// new users and purchases.
//
// Records are rendered by appending bytes to large buffers (no encoding/json
// on the hot path): that is where the speed comes from. Served as a
// process, the buffers are recycled from chunk to chunk (kit.EmitCopies);
// in process, each chunk's records are copied into memory of their own.
package faker
