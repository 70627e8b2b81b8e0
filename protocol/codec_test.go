package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/jsonscan"
	"github.com/x/goairbyte/internal/protocoltest"
)

// messageLines has one line of every message type, written the way Python
// connectors write them (spaces after separators), with blobs that must
// survive byte for byte.
var messageLines = map[string]string{
	"record":           `{"type": "RECORD", "record": {"namespace": "public", "stream": "users", "data": {"id": 1, "name": "Ann \u00e9", "nested": {"a": [1, 2.5e3, null, true]}}, "emitted_at": 1795269704637}}`,
	"record meta":      `{"type":"RECORD","record":{"stream":"big","data":{"blob":null},"emitted_at":1795269704637,"meta":{"changes":[{"field":"blob","change":"NULLED","reason":"SOURCE_RECORD_SIZE_LIMITATION"}]}}}`,
	"record file":      `{"type":"RECORD","record":{"stream":"files","data":{"path":"a.csv"},"emitted_at":1795269704637,"file_reference":{"staging_file_url":"/tmp/a.csv","source_file_relative_path":"a.csv","file_size_bytes":12}}}`,
	"state stream":     `{"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"seed": 0, "updated_at": "2026-11-21T14:01:44+00:00", "loop_offset": 10}}, "sourceStats": {"recordCount": 10.0}}}`,
	"state global":     `{"type": "STATE", "state": {"type": "GLOBAL", "global": {"shared_state": {"lsn" : 123456}, "stream_states": [{"stream_descriptor": {"name": "a", "namespace": "public"}, "stream_state": {"cursor": "2024-01-01"}}]}, "destinationStats": {"recordCount": 3.0}}}`,
	"state legacy":     `{"type": "STATE", "state": {"type": "LEGACY", "data": {"users": {"cursor":  42}}}}`,
	"state untyped":    `{"type": "STATE", "state": {"data": {"users": {"cursor": 42}}}}`,
	"log":              `{"type": "LOG", "log": {"level": "INFO", "message": "Starting syncing \"users\"\n", "stack_trace": "at x"}}`,
	"spec":             `{"type": "SPEC", "spec": {"documentationUrl": "https://docs.airbyte.com/integrations/sources/faker", "connectionSpecification": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": ["count"], "properties": {"count": {"type": "integer", "default": 1000}}}, "supportsIncremental": true, "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"], "advanced_auth": {"auth_flow_type": "oauth2.0", "predicate_key": ["credentials", "auth_type"], "predicate_value": "oauth", "oauth_config_specification": {"complete_oauth_output_specification": {"type": "object"}}}, "protocol_version": "0.5.0"}}`,
	"connection":       `{"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": "count: must be >= 1"}}`,
	"catalog":          `{"type": "CATALOG", "catalog": {"streams": [{"name": "users", "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}}}, "supported_sync_modes": ["full_refresh", "incremental"], "source_defined_cursor": true, "default_cursor_field": ["updated_at"], "source_defined_primary_key": [["id"]], "is_resumable": true}]}}`,
	"trace error":      `{"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1795269704629.728, "error": {"message": "bad config", "internal_message": "KeyError", "failure_type": "config_error", "stream_descriptor": {"name": "users"}}}}`,
	"trace estimate":   `{"type": "TRACE", "trace": {"type": "ESTIMATE", "emitted_at": 1795269704629, "estimate": {"type": "STREAM", "name": "users", "row_estimate": 25, "byte_estimate": 11250}}}`,
	"trace status":     `{"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1795269704637.356, "stream_status": {"stream_descriptor": {"name": "users"}, "status": "INCOMPLETE", "reasons": [{"type": "RATE_LIMITED", "rate_limited": {"quota_reset": 1795269709999}}]}}}`,
	"trace analytics":  `{"type": "TRACE", "trace": {"type": "ANALYTICS", "emitted_at": 1795269704637, "analytics": {"type": "nullified_fields", "value": "3"}}}`,
	"control":          `{"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG", "emitted_at": 1795269704637, "connectorConfig": {"config": {"refresh_token": "abc",  "count": 3}}}}`,
	"destination cat.": `{"type": "DESTINATION_CATALOG", "destination_catalog": {"operations": [{"object_name": "contacts", "sync_mode": "update", "json_schema": {"type": "object"}, "matching_keys": [["email"]]}]}}`,
}

// blobs returns the opaque raw fields of m, by name.
func blobs(m *Message) map[string][]byte {
	out := map[string][]byte{}
	if m.Record != nil {
		out["data"] = m.Record.Data
	}
	if s := m.State; s != nil {
		out["legacy"] = s.Data
		if s.Stream != nil {
			out["stream_state"] = s.Stream.StreamState
		}
		if s.Global != nil {
			out["shared_state"] = s.Global.SharedState
			for _, ss := range s.Global.StreamStates {
				out["global stream_state"] = ss.StreamState
			}
		}
	}
	if m.Spec != nil {
		out["connectionSpecification"] = m.Spec.ConnectionSpecification
	}
	if m.Catalog != nil {
		out["json_schema"] = m.Catalog.Streams[0].JSONSchema
	}
	if m.Control != nil {
		out["config"] = m.Control.ConnectorConfig.Config
	}
	return out
}

func TestRoundTripEveryMessageType(t *testing.T) {
	for name, line := range messageLines {
		t.Run(name, func(t *testing.T) {
			m := ParseMessage([]byte(line))
			if !m.isProtocol() {
				t.Fatalf("not parsed: %s", m.Unparsed)
			}
			for field, b := range blobs(m) {
				if len(b) > 0 && !strings.Contains(line, string(b)) {
					t.Errorf("%s changed on decode: %s", field, b)
				}
			}
			out, err := AppendMessage(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			if err := protocoltest.ValidateMessage(out); err != nil {
				t.Errorf("encoded message is not valid: %v\n%s", err, out)
			}
			if !bytes.HasSuffix(out, []byte("\n")) || bytes.Count(out, []byte("\n")) != 1 {
				t.Errorf("not one line: %q", out)
			}
			m2 := ParseMessage(out)
			if !reflect.DeepEqual(m, m2) {
				t.Errorf("round trip differs:\n%+v\n%+v\n%s", m, m2, out)
			}
			for field, b := range blobs(m) {
				if !bytes.Equal(b, blobs(m2)[field]) {
					t.Errorf("%s not byte for byte: %s != %s", field, b, blobs(m2)[field])
				}
			}
			// The Encoder writes the same line.
			var buf bytes.Buffer
			if err := NewEncoder(&buf).Encode(m); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), out) {
				t.Errorf("Encoder wrote %s, AppendMessage %s", buf.Bytes(), out)
			}
			// Apart from the blobs' whitespace, it is what encoding/json writes.
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(m); err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, out); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(compact.Bytes(), bytes.TrimSpace(want.Bytes())) {
				t.Errorf("encoding differs from encoding/json:\n%s\n%s", compact.Bytes(), want.Bytes())
			}
		})
	}
}

func TestQuirks(t *testing.T) {
	rec := func(t *testing.T, line string) *Record {
		t.Helper()
		m := ParseMessage([]byte(line))
		if m.Type != TypeRecord || m.Record == nil {
			t.Fatalf("not a record: %+v", m)
		}
		return m.Record
	}
	t.Run("unknown top-level and record fields", func(t *testing.T) {
		r := rec(t, `{"extra": {"x": [1, {"y": "z"}]}, "type": "RECORD", "record": {"x": 1, "stream": "s", "data": {"a": 1}, "emitted_at": 5000000000000, "y": [true]}, "z": null}`)
		if r.Stream != "s" || string(r.Data) != `{"a": 1}` || r.EmittedAt != 5000000000000 {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("type last", func(t *testing.T) {
		r := rec(t, `{"record": {"stream": "s", "data": {}, "emitted_at": 1795269704637}, "type": "RECORD"}`)
		if r.Stream != "s" || string(r.Data) != `{}` {
			t.Errorf("got %+v", r)
		}
		m := ParseMessage([]byte(`{"log": {"level": "WARN", "message": "m"}, "type": "LOG"}`))
		if m.Type != TypeLog || m.Log.Message != "m" {
			t.Errorf("got %+v", m)
		}
	})
	t.Run("emitted_at forms", func(t *testing.T) {
		for in, want := range map[string]int64{
			"1795269704629":      1795269704629,
			"1795269704629.728":  1795269704629,
			"1795269704":         1795269704000,
			"1795269704.5":       1795269704500,
			"1.795269704629e12":  1795269704629,
			"0":                  0,
			"-5":                 -5,
			"1e400":              0,
			"123456789012345678": 123456789012345678,
		} {
			r := rec(t, `{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":`+in+`}}`)
			if r.EmittedAt != want {
				t.Errorf("emitted_at %s: got %d, want %d", in, r.EmittedAt, want)
			}
		}
		m := ParseMessage([]byte(`{"type":"TRACE","trace":{"type":"ESTIMATE","emitted_at":1795269704.5,"estimate":{"type":"SYNC","name":"x"}}}`))
		if m.Trace == nil || m.Trace.EmittedAt != 1795269704500 {
			t.Errorf("trace emitted_at in seconds: %+v", m.Trace)
		}
	})
	t.Run("legacy state with and without type", func(t *testing.T) {
		for _, line := range []string{messageLines["state legacy"], messageLines["state untyped"]} {
			m := ParseMessage([]byte(line))
			if m.State == nil || m.State.EffectiveType() != StateLegacy || !bytes.Contains(m.State.Data, []byte("cursor")) {
				t.Errorf("%s: got %+v", line, m.State)
			}
		}
	})
	t.Run("not protocol messages", func(t *testing.T) {
		for _, line := range []string{
			`Starting source...`,
			`{"type": "RECORD"}`,
			`{"type": "RECORD", "record": {"stream": "s", "data": [1], "emitted_at": 1}}`,
			`{"type": "RECORD", "record": {"stream": "s", "data": {"a": 1,}, "emitted_at": 1}}`,
			`{"type": "RECORD", "record": {"stream": "s", "data": {"a": 1}, "emitted_at": 1}} trailing`,
			`{"type": "BANANA", "record": {"stream": "s", "data": {}, "emitted_at": 1}}`,
			`{"type": "STATE"}`,
			`[1, 2]`,
			`{"type": "LOG", "log": {"level": "INFO", "message": "cut off`,
		} {
			m := ParseMessage([]byte(line))
			if m.isProtocol() || string(m.Unparsed) != line {
				t.Errorf("%s: got %+v", line, m)
			}
		}
	})
}

// TestDecoderStream runs a connector-like mix through a Decoder: text lines,
// CONNECTION_STATUS in the middle of a read, duplicate states, "\r\n", blank
// lines and a last line without a newline.
func TestDecoderStream(t *testing.T) {
	in := "Starting read\r\n" +
		messageLines["record"] + "\n" +
		"\n" +
		messageLines["connection"] + "\r\n" +
		messageLines["state stream"] + "\n" +
		messageLines["state stream"] + "\n" +
		"Traceback (most recent call last):\n" +
		messageLines["record meta"] // no final newline
	dec := NewDecoder(strings.NewReader(in))
	var got []string
	var states []*State
	for {
		m, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Unparsed != nil {
			got = append(got, "text:"+string(m.Unparsed))
			if !bytes.Equal(dec.lastLine(), m.Unparsed) {
				t.Errorf("LastLine %q, want %q", dec.lastLine(), m.Unparsed)
			}
			continue
		}
		got = append(got, string(m.Type))
		if m.State != nil {
			states = append(states, m.State)
		}
	}
	want := []string{"text:Starting read", "RECORD", "CONNECTION_STATUS", "STATE", "STATE",
		"text:Traceback (most recent call last):", "RECORD"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if len(states) != 2 || !reflect.DeepEqual(states[0], states[1]) {
		t.Errorf("duplicate states not both delivered equal: %+v", states)
	}
	if dec.lines != 8 {
		t.Errorf("lines = %d, want 8", dec.lines)
	}
}

func TestDecoderLongLines(t *testing.T) {
	// A 70 MiB record, then a normal one.
	big := strings.Repeat("x", 70<<20)
	line := `{"type":"RECORD","record":{"stream":"big","data":{"blob":"` + big + `"},"emitted_at":1795269704637}}`
	dec := NewDecoder(strings.NewReader(line + "\n" + messageLines["record"] + "\n"))
	m, err := dec.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if m.Record == nil || len(m.Record.Data) != len(big)+len(`{"blob":""}`) {
		t.Fatalf("70 MiB record not decoded: unparsed %d bytes", len(m.Unparsed))
	}
	if m, err = dec.Decode(); err != nil || m.Record == nil || m.Record.Stream != "users" {
		t.Fatalf("line after the big one: %+v, %v", m, err)
	}

	// Over the limit: reported as unparsed with its head, the stream goes on;
	// a line that says it is a RECORD is a malformed one, which a reader
	// must not take for chatter: the record is lost.
	for _, tail := range []string{"\n", ""} {
		dec = NewDecoder(strings.NewReader(line + "\n" + messageLines["log"] + "\n" + line + tail))
		dec.setMaxLineSize(3 << 20)
		for i, want := range []Type{"", TypeLog, ""} {
			m, err := dec.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != want {
				t.Fatalf("message %d: type %q, want %q", i, m.Type, want)
			}
			if want == "" && (len(m.Unparsed) != unparsedHead || !bytes.HasPrefix([]byte(line), m.Unparsed)) {
				t.Errorf("message %d: unparsed head of %d bytes", i, len(m.Unparsed))
			}
			if bad := m.Malformed; want == "" && (bad == nil || bad.Type != TypeRecord || bad.Stream != "big" || bad.Line != int64(i+1) ||
				bad.Err == nil || !strings.Contains(bad.Err.Error(), "3 MiB")) {
				t.Errorf("message %d: Malformed %+v, want the RECORD of stream big on line %d, longer than 3 MiB", i, bad, i+1)
			}
		}
		if _, err := dec.Decode(); err != io.EOF {
			t.Errorf("want EOF, got %v", err)
		}
	}
}

// TestDecoderDataStaysValid checks that record data survives later Decode
// calls (the reader's buffer is reused) and cannot be clobbered by append.
func TestDecoderDataStaysValid(t *testing.T) {
	corpus := recordCorpus(t, "users")
	dec := NewDecoder(bytes.NewReader(corpus))
	var recs []*Record
	for {
		m, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m.Record)
	}
	sc := bufio.NewScanner(bytes.NewReader(corpus))
	for i := 0; sc.Scan(); i++ {
		want := ParseMessage(sc.Bytes()).Record
		if !reflect.DeepEqual(recs[i], want) {
			t.Fatalf("record %d changed: %s", i, recs[i].Data)
		}
	}
	_ = append(recs[0].Data, "clobber"...)
	if !bytes.Equal(recs[1].Data, ParseMessage(bytes.SplitN(corpus, []byte("\n"), 3)[1]).Record.Data) {
		t.Error("append to one record's data overwrote the next")
	}
}

// agreementCorpus is the sample read plus lines that probe the fast path's
// edges.
func agreementCorpus(t testing.TB) [][]byte {
	f, err := os.ReadFile("testdata/sample_count25_rps10.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(f), []byte("\n"))
	for _, l := range messageLines {
		lines = append(lines, []byte(l))
	}
	for _, l := range []string{
		`{"type":"RECORD","record":{"stream":"s\u00e9\"q","data":{"a":"\ud83d\ude00"},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","namespace":"n\tx","data":{},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"Stream":"S","stream":"s","data":{},"emitted_at":1}}`,
		`{"TYPE":"RECORD","record":{"stream":"s","data":{},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1},"state":{"data":{}}}`,
		`{"type":"RECORD","record":{"stream":"s","stream":"t","data":{},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"data":{"b":2},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":null,"data":{},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":"1795269704"}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":null}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1,"meta":null}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1,"meta":{"changes":"x"}}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1,"file_reference":{"file_size_bytes":1.5}}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"k":"\xff"},"emitted_at":1}}`,
		"{\"type\":\"RECORD\",\"record\":{\"\u212aey\":1,\"stream\":\"s\",\"data\":{},\"emitted_at\":1}}",
		"{\"type\":\"RECORD\",\"record\":{\"ſtream\":\"x\",\"stream\":\"s\",\"data\":{},\"emitted_at\":1}}",
		`{"type":"RECORD","record":{"stream":"s","data":{"n":[-0,0.5,1E+2,-1e-2]},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"n":01},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"n":1.},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"c":"a` + "\x01" + `"},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"e":"\x"},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"e":"\u12G4"},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"t":tru},"emitted_at":1}}`,
		`  {"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1}}  `,
		"\v{\"type\":\"RECORD\",\"record\":{\"stream\":\"s\",\"data\":{},\"emitted_at\":1}}",
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1e400}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1795269704629.728}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"a":[[[[[]]]]]},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `,"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1}}}`,
		`{}`, ``, `null`, `"RECORD"`,
	} {
		lines = append(lines, []byte(l))
	}
	return lines
}

// TestFastAndSlowPathsAgree checks that ParseMessage, whichever path it
// takes, gives what encoding/json gives, and that the fast path really
// takes the common records.
func TestFastAndSlowPathsAgree(t *testing.T) {
	fast := 0
	for _, line := range agreementCorpus(t) {
		got, want := ParseMessage(line), parseSlow(line)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%.200s:\nfast %+v\nslow %+v", line, got, want)
		}
		var fr fastRecord
		var p parser
		if scanRecordLine(line, &fr) && p.record(&fr) != nil {
			fast++
			if !json.Valid(line) {
				t.Errorf("fast path accepted invalid JSON: %s", line)
			}
		}
	}
	if fast < 50 {
		t.Errorf("fast path took only %d records", fast)
	}
}

func TestAppendRecord(t *testing.T) {
	size := int64(12)
	for _, r := range []*Record{
		{Stream: "users", Data: json.RawMessage(`{"id": 1}`), EmittedAt: 1795269704637},
		{Namespace: "ns", Stream: "a\"b\\c\n\x01<>&\u2028é\xff", Data: json.RawMessage(`{}`), EmittedAt: -1},
		{Stream: "s", Data: json.RawMessage(`{"a":[1]}`), Meta: &RecordMeta{Changes: []RecordMetaChange{{Field: "a", Change: ChangeTruncated, Reason: ReasonSourceFieldSizeLimitation}}},
			FileReference: &FileReference{StagingFileURL: "/x", FileSizeBytes: &size}},
	} {
		line := AppendRecord([]byte("prefix"), r)
		if !bytes.HasPrefix(line, []byte("prefix")) {
			t.Fatal("AppendRecord dropped dst")
		}
		line = line[len("prefix"):]
		if err := protocoltest.ValidateMessage(line); err != nil {
			t.Errorf("%s: %v", line, err)
		}
		viaMessage, err := AppendMessage(nil, &Message{Type: TypeRecord, Record: r})
		if err != nil || !bytes.Equal(viaMessage, line) {
			t.Errorf("AppendMessage %s (%v) != AppendRecord %s", viaMessage, err, line)
		}
		back := ParseMessage(line).Record
		if back == nil || !bytes.Equal(back.Data, r.Data) || back.Namespace != r.Namespace ||
			back.Stream != strings.ToValidUTF8(r.Stream, "\uFFFD") || !reflect.DeepEqual(back.Meta, r.Meta) {
			t.Errorf("record did not come back: %+v", back)
		}
	}
}

func TestAppendMessageErrors(t *testing.T) {
	for name, m := range map[string]*Message{
		"unparsed":       {Unparsed: []byte("x")},
		"bad data":       {Type: TypeRecord, Record: &Record{Stream: "s", Data: json.RawMessage(`{"a":}`)}},
		"bad blob":       {Type: TypeState, State: &State{Type: StateLegacy, Data: json.RawMessage(`{`)}},
		"infinite float": {Type: TypeTrace, Trace: &Trace{Type: TraceEstimate, EmittedAt: posInf()}},
		"no payload":     {Type: TypeLog},
		"no data":        {Type: TypeRecord, Record: &Record{Stream: "s"}},
		"unknown type":   {Type: "BANANA", Log: &Log{Level: LevelInfo, Message: "m"}},
	} {
		if out, err := AppendMessage([]byte("x"), m); err == nil || string(out) != "x" {
			t.Errorf("%s: got %q, %v", name, out, err)
		}
	}
}

func posInf() float64 { z := 0.0; return 1 / z }

func TestAppendMessageKeepsOneLinePerMessage(t *testing.T) {
	m := &Message{Type: TypeSpec, Spec: &ConnectorSpecification{
		ConnectionSpecification: json.RawMessage("{\n  \"type\": \"object\",\r\n  \"title\": \"a\\nb\"\n}"),
	}}
	line, err := AppendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(line, []byte("\n")); n != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("want exactly one trailing newline, got %d in %q", n, line)
	}
	back := ParseMessage(bytes.TrimSpace(line))
	if back.Spec == nil || string(back.Spec.ConnectionSpecification) != `{"type":"object","title":"a\nb"}` {
		t.Fatalf("spec did not survive: %+v", back)
	}
}

// TestFastPathDepthLimit: the data of a record sits two levels down, so a
// record whose data reaches encoding/json's depth limit must go to the slow
// path, which rejects the line, and both paths agree.
func TestFastPathDepthLimit(t *testing.T) {
	for _, extra := range []int{-1, 0, 1} {
		data := jsonscan.Nest(jsonscan.MaxDepth-2+extra, `{"k":`, `}`, `1`)
		line := []byte(`{"type":"RECORD","record":{"stream":"s","data":` + data + `,"emitted_at":1}}`)
		var fr fastRecord
		if got, want := scanRecordLine(line, &fr), json.Valid(line); got != want {
			t.Errorf("record data %d levels deep: fast path %v, encoding/json valid %v", jsonscan.MaxDepth-2+extra, got, want)
		}
	}
}
