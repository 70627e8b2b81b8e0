// Package protocol is the Airbyte protocol in Go: the messages a connector
// writes to stdout and reads on stdin, one JSON object per line, and the
// catalogs, specs and states they carry (protocol release 0.18.0).
//
// # Messages
//
// A [Message] is one line. Its Type says which payload field is set: a
// RECORD has Record, a STATE has State, and so on. Opaque connector data is
// kept as [encoding/json.RawMessage] and never reinterpreted: a record's
// Data, a state's stream_state / shared_state / legacy data, a stream's
// json_schema, a spec's connectionSpecification. They round-trip byte for
// byte through the Decoder and the Encoder.
//
// # Reading connector output
//
// A [Decoder] turns a connector's stdout into messages:
//
//	dec := protocol.NewDecoder(stdout)
//	for {
//		m, err := dec.Decode()
//		if err == io.EOF {
//			break
//		} else if err != nil {
//			return err // the reader failed; connector output never fails
//		}
//		switch {
//		case m.Unparsed != nil:
//			log.Printf("connector said: %s", m.Unparsed)
//		case m.Type == protocol.TypeRecord:
//			batch.Add(m.Record.Stream, m.Record.Data)
//		case m.Type == protocol.TypeState:
//			flushAndCommit(m.State)
//		}
//	}
//
// Real connectors bend the protocol, and the Decoder bends with them: a line
// that is not a protocol message (plain text, broken JSON, an unknown type,
// a line over the size limit) comes back with Unparsed set and never ends
// the stream; unknown fields are ignored and "type" may come in any
// position; emitted_at may be fractional or in seconds and is normalised to
// milliseconds (see Record.UnmarshalJSON); a STATE without a type is LEGACY
// ([State.EffectiveType]). Lines may be up to 256 MiB long.
//
// RECORD lines, nearly all of a sync, take a fast path: a hand-written scan
// of the envelope that validates the JSON it keeps (grammar and UTF-8,
// because Data goes straight into databases) and copies Data once, without
// encoding/json. Every other line, and any record the scan is not sure
// about, goes through encoding/json; both paths give the same result.
// [ParseMessage] parses a single line the same way.
//
// # Writing messages
//
// An [Encoder] writes one message per line. [AppendRecord] and
// [AppendMessage] append a line to a byte slice for code that batches its
// own writes; AppendRecord is the allocation-free path for connectors that
// emit records.
package protocol
