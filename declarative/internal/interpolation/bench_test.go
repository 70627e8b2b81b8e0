package interpolation

import (
	"testing"
	"time"
)

// benchRecord is a typical ~300-byte record.
const benchRecord = `{"id":1234567,"email":"jane.doe@example.com","first_name":"Jane","last_name":"Doe","created_at":"2024-01-03T10:11:12Z","updated_at":"2024-02-05T08:09:10Z","status":"active","score":12.5,"tags":["a","b","c"],"address":{"city":"Paris","zip":"75001","country":"FR"},"opt_in":true,"notes":null}`

func benchVars(b *testing.B) Vars {
	vs := Vars{Now: func() time.Time { return testNow }}
	cfg, _ := DecodeJSON([]byte(`{"api_key": "secret-key", "start_date": "2024-01-01T00:00:00Z"}`))
	slice, _ := DecodeJSON([]byte(`{"start_time": "2024-02-01T00:00:00Z", "end_time": "2024-02-29T23:59:59Z"}`))
	vs.Set(VarConfig, cfg)
	vs.Set(VarParameters, NewDict(0))
	vs.Set(VarStreamSlice, slice)
	vs.Set(VarStreamState, NewDict(0))
	vs.Set(VarNextPageToken, nil)
	return vs
}

// BenchmarkRecordFilter is a RecordFilter's condition evaluated for one record, as the engine
// does per record: copy the component's Vars, set the record, evaluate.
func BenchmarkRecordFilter(b *testing.B) {
	filter, err := NewBoolean("{{ record['updated_at'] >= stream_interval['start_time'] }}")
	if err != nil {
		b.Fatal(err)
	}
	base := benchVars(b)
	record, _ := DecodeJSON([]byte(benchRecord))
	b.ReportAllocs()
	for b.Loop() {
		vs := base
		vs.Set(VarRecord, record)
		keep, err := filter.Eval(&vs)
		if err != nil || !keep {
			b.Fatal(keep, err)
		}
	}
}

// BenchmarkHeader is an interpolated header value.
func BenchmarkHeader(b *testing.B) {
	s, err := NewString("{{ config['api_key'] }}", "")
	if err != nil {
		b.Fatal(err)
	}
	base := benchVars(b)
	b.ReportAllocs()
	for b.Loop() {
		vs := base
		v, err := s.Eval(&vs)
		if err != nil || v != "secret-key" {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkJSONRecord decodes a ~300-byte record into the value model and encodes it back.
func BenchmarkJSONRecord(b *testing.B) {
	data := []byte(benchRecord)
	var out []byte
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := DecodeJSON(data)
		if err != nil {
			b.Fatal(err)
		}
		if out, err = AppendJSON(out[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile compiles a template of average complexity.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("{{ response.get('meta', {}).get('next_cursor') if response.get('has_more', False) else None }}"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDatetime parses a cursor value, as the cursor does for every record.
func BenchmarkParseDatetime(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDatetime("%Y-%m-%dT%H:%M:%S.%f%z", "2024-02-05T08:09:10.123456+0000"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormatDatetime formats a cursor value.
func BenchmarkFormatDatetime(b *testing.B) {
	t := time.Date(2024, 2, 5, 8, 9, 10, 123456000, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if s := FormatDatetime("%Y-%m-%dT%H:%M:%SZ", t); len(s) != 20 {
			b.Fatal(s)
		}
	}
}
