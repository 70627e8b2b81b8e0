package protocol_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/x/goairbyte/protocol"
)

func ExampleDecoder() {
	out := strings.NewReader(`Starting sync
{"record": {"stream": "users", "data": {"id": 1}, "emitted_at": 1795269704}, "type": "RECORD"}
{"type": "STATE", "state": {"data": {"users": {"cursor": 1}}}}
`)
	dec := protocol.NewDecoder(out)
	for {
		m, err := dec.Decode()
		if err == io.EOF {
			break
		} else if err != nil {
			panic(err)
		}
		switch {
		case m.Unparsed != nil:
			fmt.Printf("log: %s\n", m.Unparsed)
		case m.Type == protocol.TypeRecord:
			fmt.Printf("record of %s at %d: %s\n", m.Record.Stream, m.Record.EmittedAt, m.Record.Data)
		case m.Type == protocol.TypeState:
			fmt.Printf("%s state: %s\n", m.State.EffectiveType(), m.State.Data)
		}
	}
	// Output:
	// log: Starting sync
	// record of users at 1795269704000: {"id": 1}
	// LEGACY state: {"users": {"cursor": 1}}
}

func ExampleAppendRecord() {
	var buf []byte
	for i := 1; i <= 2; i++ {
		buf = protocol.AppendRecord(buf, &protocol.Record{
			Stream:    "users",
			Data:      json.RawMessage(fmt.Sprintf(`{"id": %d}`, i)),
			EmittedAt: 1795269704637,
		})
	}
	os.Stdout.Write(buf)
	// Output:
	// {"type":"RECORD","record":{"stream":"users","data":{"id": 1},"emitted_at":1795269704637}}
	// {"type":"RECORD","record":{"stream":"users","data":{"id": 2},"emitted_at":1795269704637}}
}
