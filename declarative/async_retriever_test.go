package declarative

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/goairbyte/internal/replaytest"
	"github.com/x/goairbyte/protocol"
)

// exportAPI plays SendGrid's contacts export API as source-sendgrid's
// manifest uses it: POST /v3/marketing/contacts/exports starts an export,
// GET /v3/marketing/contacts/exports/{id} gives its status (the statuses
// in turn, the last one repeated), with urls once it is "ready", and each
// url serves its file.
type exportAPI struct {
	statuses []string
	urls     []string
	files    map[string][]byte // by url path
	// createStatus, when set, is the status of every creation.
	createStatus int
	// urlsApart serves the urls at .../{id}/urls, not in the poll.
	urlsApart bool
	// handlers serve files by url path, before files.
	handlers map[string]http.HandlerFunc
	// timeout is the client's, 10 s unless set.
	timeout time.Duration

	mu       sync.Mutex
	requests []string // method, original URL, Authorization
	exports  int
	polls    int
}

func (a *exportAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	orig := r.Header.Get("X-Replaytest-Url")
	a.requests = append(a.requests, strings.TrimSpace(r.Method+" "+orig+" "+r.Header.Get("Authorization")))
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "POST" && r.URL.Path == "/v3/marketing/contacts/exports":
		if a.createStatus != 0 {
			w.WriteHeader(a.createStatus)
			fmt.Fprint(w, `{"errors":[{"message":"refused"}]}`)
			return
		}
		a.exports++
		fmt.Fprintf(w, `{"id":"exp-%d","_metadata":{}}`, a.exports)
	case r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/urls"):
		json.NewEncoder(w).Encode(map[string]any{"urls": a.urls})
	case strings.HasSuffix(r.URL.Path, "/delete") || strings.HasSuffix(r.URL.Path, "/cancel"):
		fmt.Fprint(w, `{}`)
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v3/marketing/contacts/exports/"):
		s := a.statuses[min(a.polls, len(a.statuses)-1)]
		a.polls++
		body := map[string]any{"id": strings.TrimPrefix(r.URL.Path, "/v3/marketing/contacts/exports/"), "status": s}
		if s == "ready" && !a.urlsApart {
			body["urls"] = a.urls
		}
		json.NewEncoder(w).Encode(body)
	case r.Method == "GET" && a.handlers[r.URL.Path] != nil:
		a.handlers[r.URL.Path](w, r)
	case r.Method == "GET" && a.files[r.URL.Path] != nil:
		w.Header().Set("Content-Type", "binary/octet-stream")
		w.Write(a.files[r.URL.Path])
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"errors":[{"message":"not found"}]}`)
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// asyncRead is one read of the contacts stream.
type asyncRead struct {
	records  []string // the records' data, as JSON
	messages []*protocol.Message
	requests []string
	sleeps   []time.Duration
	err      error
}

func (r *asyncRead) traces() []*protocol.ErrorTrace { return traceErrors(r.messages) }

func (r *asyncRead) count(prefix string) int {
	n := 0
	for _, q := range r.requests {
		if strings.HasPrefix(q, prefix) {
			n++
		}
	}
	return n
}

func sendgridManifest(t *testing.T) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(sharedManifests(t), "corpus", "source-sendgrid", "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

const sendgridConfig = `{"api_key":"sg-key","start_date":"2020-01-01T00:00:00Z"}`

// readContacts reads source-sendgrid's contacts stream against api, with a
// clock that the polling waits move on.
func readContacts(t *testing.T, api *exportAPI) *asyncRead {
	t.Helper()
	return readContactsWith(t, sendgridManifest(t), api)
}

func readContactsWith(t *testing.T, manifest string, api *exportAPI) *asyncRead {
	t.Helper()
	var records []string
	run := readContactsFunc(t, manifest, api, func(data []byte) { records = append(records, string(data)) })
	run.records = records
	return run
}

// readContactsFunc is readContactsWith handing each record's data to
// onRecord rather than keeping it, the Source built with opts too.
func readContactsFunc(t *testing.T, manifest string, api *exportAPI, onRecord func([]byte), opts ...Option) *asyncRead {
	t.Helper()
	return readContactsCtx(context.Background(), t, manifest, api, onRecord, opts...)
}

// readContactsCtx is readContactsFunc with the read's context.
func readContactsCtx(ctx context.Context, t *testing.T, manifest string, api *exportAPI, onRecord func([]byte), opts ...Option) *asyncRead {
	t.Helper()
	srv := httptest.NewServer(api)
	defer srv.Close()
	run := &asyncRead{}
	var mu sync.Mutex
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	timeout := api.timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	src, err := New([]byte(manifest), append([]Option{
		WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}, Timeout: timeout}),
		WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }),
		withSleep(func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			run.sleeps = append(run.sleeps, d)
			now = now.Add(d)
			return ctx.Err()
		})}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	cat, err := src.Discover(context.Background(), json.RawMessage(sendgridConfig))
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	cc := &protocol.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		if s.Name == "contacts" {
			cc.Streams = append(cc.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncFullRefresh, DestinationSyncMode: protocol.DestinationOverwrite})
		}
	}
	if len(cc.Streams) != 1 {
		t.Fatalf("no contacts stream in the catalog")
	}
	run.err = src.Read(ctx, json.RawMessage(sendgridConfig), cc, nil, func(m *protocol.Message) error {
		if m.Record != nil {
			onRecord(m.Record.Data)
			return nil
		}
		run.messages = append(run.messages, m)
		return nil
	})
	api.mu.Lock()
	run.requests = append(run.requests, api.requests...)
	api.mu.Unlock()
	return run
}

const (
	exportCreate = "POST https://api.sendgrid.com/v3/marketing/contacts/exports Bearer sg-key"
	exportPoll   = "GET https://api.sendgrid.com/v3/marketing/contacts/exports/exp-1 Bearer sg-key"
)

func TestAsyncRetrieverCompletedAfterPolling(t *testing.T) {
	api := &exportAPI{
		statuses: []string{"pending", "pending", "ready"},
		urls:     []string{"https://exports.sendgrid.example/c1.csv.gz?sig=abc"},
		files: map[string][]byte{"/c1.csv.gz": gzipped(t, "CONTACT_ID,EMAIL,First_Name\n"+
			"c-1,a@example.com,Ann\nc-2,b@example.com,Bob\n")},
	}
	run := readContacts(t, api)
	if run.err != nil {
		t.Fatalf("Read: %v", run.err)
	}
	wantRecords := []string{
		`{"contact_id":"c-1","email":"a@example.com","first_name":"Ann"}`,
		`{"contact_id":"c-2","email":"b@example.com","first_name":"Bob"}`,
	}
	if strings.Join(run.records, "\n") != strings.Join(wantRecords, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(run.records, "\n"), strings.Join(wantRecords, "\n"))
	}
	// The download has no authenticator: a presigned URL.
	wantRequests := []string{exportCreate, exportPoll, exportPoll, exportPoll, "GET https://exports.sendgrid.example/c1.csv.gz?sig=abc"}
	if strings.Join(run.requests, "\n") != strings.Join(wantRequests, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(run.requests, "\n"), strings.Join(wantRequests, "\n"))
	}
	// A wait after each round of polls, the round that completed the job
	// included, as the CDK's loop waits before it finds nothing left.
	if len(run.sleeps) != 3 || run.sleeps[0] != 5*time.Second {
		t.Errorf("waits %v, want three of 5s", run.sleeps)
	}
	var tail []string
	for _, m := range run.messages {
		switch {
		case m.State != nil:
			tail = append(tail, "STATE "+string(m.State.Stream.StreamState))
		case m.Trace != nil && m.Trace.StreamStatus != nil:
			tail = append(tail, "STATUS "+string(m.Trace.StreamStatus.Status))
		}
	}
	want := `STATUS STARTED|STATUS RUNNING|STATE {"__ab_no_cursor_state_message":true}|STATUS COMPLETE`
	if strings.Join(tail, "|") != want {
		t.Errorf("states and statuses %s, want %s", strings.Join(tail, "|"), want)
	}
}

// failedJob checks a job the API ends with status: started again, three
// attempts in all, then the stream fails with the CDK's config error.
func failedJob(t *testing.T, status string) {
	api := &exportAPI{statuses: []string{"pending", status}}
	run := readContacts(t, api)
	if run.err == nil {
		t.Fatal("Read succeeded")
	}
	if n := run.count("POST "); n != 3 {
		t.Errorf("%d job creations, want 3 (the CDK's attempts): %v", n, run.requests)
	}
	if len(run.records) != 0 {
		t.Errorf("records %v", run.records)
	}
	tr := run.traces()
	if len(tr) == 0 || tr[0].StreamDescriptor == nil || tr[0].StreamDescriptor.Name != "contacts" || tr[0].FailureType != protocol.FailureConfig ||
		tr[0].Message != genericFailure || !strings.Contains(tr[0].InternalMessage, "At least one job could not be completed") {
		t.Errorf("trace errors %+v", tr)
	}
	last := run.messages[len(run.messages)-1]
	if st := run.messages[len(run.messages)-2]; st.Trace == nil || st.Trace.StreamStatus == nil || st.Trace.StreamStatus.Status != protocol.StatusIncomplete {
		t.Errorf("no INCOMPLETE status before the read's error: %+v", st)
	}
	if last.Trace == nil || last.Trace.Error == nil {
		t.Errorf("the read does not end with its TRACE ERROR: %+v", last)
	}
}

func TestAsyncRetrieverFailedJob(t *testing.T)  { failedJob(t, "failed") }
func TestAsyncRetrieverTimeoutJob(t *testing.T) { failedJob(t, "timeout") }
func TestAsyncRetrieverUnknownStatus(t *testing.T) {
	run := readContacts(t, &exportAPI{statuses: []string{"pending", "exploded"}})
	if run.err == nil {
		t.Fatal("Read succeeded")
	}
	if tr := run.traces(); len(tr) == 0 || !strings.Contains(tr[0].InternalMessage, "API status `exploded` is unknown") {
		t.Errorf("trace errors %+v", tr)
	}
}

// A job still running after 60 minutes of polls is timed out by the CDK's
// own timer, and started again like one the API timed out.
func TestAsyncRetrieverJobTimer(t *testing.T) {
	run := readContacts(t, &exportAPI{statuses: []string{"pending"}})
	if run.err == nil {
		t.Fatal("Read succeeded")
	}
	if n := run.count("POST "); n != 3 {
		t.Errorf("%d job creations, want 3", n)
	}
	// 60 minutes of 5 s waits: 720 polls see it running, the 721st is not
	// sent as the job has timed out (polls go on while elapsed <= 60 min).
	if n := run.count("GET "); n != 3*721 {
		t.Errorf("%d polls, want %d", n, 3*721)
	}
}

func TestAsyncRetrieverSeveralURLs(t *testing.T) {
	api := &exportAPI{
		statuses: []string{"ready"},
		urls:     []string{"https://exports.sendgrid.example/a.csv.gz", "https://exports.sendgrid.example/b.csv.gz"},
		files: map[string][]byte{
			"/a.csv.gz": gzipped(t, "contact_id,email\n1,one@x\n2,two@x\n"),
			"/b.csv.gz": gzipped(t, "contact_id,email\n3,three@x\n"),
		},
	}
	run := readContacts(t, api)
	if run.err != nil {
		t.Fatalf("Read: %v", run.err)
	}
	want := `{"contact_id":"1","email":"one@x"}|{"contact_id":"2","email":"two@x"}|{"contact_id":"3","email":"three@x"}`
	if got := strings.Join(run.records, "|"); got != want {
		t.Errorf("records %s, want %s", got, want)
	}
}

func TestAsyncRetrieverEmptyExport(t *testing.T) {
	for name, api := range map[string]*exportAPI{
		"no urls":     {statuses: []string{"ready"}, urls: []string{}},
		"empty file":  {statuses: []string{"ready"}, urls: []string{"https://x.example/e.gz"}, files: map[string][]byte{"/e.gz": gzipped(t, "")}},
		"header only": {statuses: []string{"ready"}, urls: []string{"https://x.example/h.gz"}, files: map[string][]byte{"/h.gz": gzipped(t, "contact_id,email\n")}},
		"empty body":  {statuses: []string{"ready"}, urls: []string{"https://x.example/z"}, files: map[string][]byte{"/z": {}}},
		"blank lines": {statuses: []string{"ready"}, urls: []string{"https://x.example/b"}, files: map[string][]byte{"/b": []byte("\n\n")}},
	} {
		t.Run(name, func(t *testing.T) {
			run := readContacts(t, api)
			if run.err != nil {
				t.Fatalf("Read: %v", run.err)
			}
			if len(run.records) != 0 {
				t.Errorf("records %v", run.records)
			}
		})
	}
}

// The CSV's values as pandas.read_csv(dtype=object) gives them: strings,
// None for the empty field (quoted or not) and for pandas' NA words.
func TestAsyncRetrieverCSVValues(t *testing.T) {
	csv := "Contact_ID,EMAIL,notes,,notes,phone_number\r\n" +
		"1,\"a,b@x\",\"line one\nline two\",x,,\"\"\r\n" +
		"2,NA,\"say \"\"hi\"\"\", ,null,None\r\n" +
		"\r\n" +
		"3, spaced ,n/a\r\n"
	api := &exportAPI{statuses: []string{"ready"}, urls: []string{"https://x.example/c.gz"}, files: map[string][]byte{"/c.gz": gzipped(t, csv)}}
	run := readContacts(t, api)
	if run.err != nil {
		t.Fatalf("Read: %v", run.err)
	}
	want := []string{
		`{"contact_id":"1","email":"a,b@x","notes":"line one\nline two","unnamed: 3":"x","notes.1":null,"phone_number":null}`,
		`{"contact_id":"2","email":null,"notes":"say \"hi\"","unnamed: 3":" ","notes.1":null,"phone_number":null}`,
		`{"contact_id":"3","email":" spaced ","notes":null,"unnamed: 3":null,"notes.1":null,"phone_number":null}`,
	}
	if got := strings.Join(run.records, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// A download that is not compressed is read as it is, its NUL bytes
// dropped, as the CDK falls back to the raw chunks.
func TestAsyncRetrieverPlainCSV(t *testing.T) {
	api := &exportAPI{statuses: []string{"ready"}, urls: []string{"https://x.example/p.csv"},
		files: map[string][]byte{"/p.csv": []byte("contact_id,email\n7,se\x00ven@x\n")}}
	run := readContacts(t, api)
	if run.err != nil {
		t.Fatalf("Read: %v", run.err)
	}
	if got, want := strings.Join(run.records, "|"), `{"contact_id":"7","email":"seven@x"}`; got != want {
		t.Errorf("records %s, want %s", got, want)
	}
}

// A creation the API refuses with a 400 (a system error) gives a failed
// job, retried; a 401 (a config error) ends the stream at once.
func TestAsyncRetrieverCreationErrors(t *testing.T) {
	run := readContacts(t, &exportAPI{statuses: []string{"ready"}, createStatus: 400})
	if run.err == nil {
		t.Fatal("Read succeeded")
	}
	if n := run.count("POST "); n != 3 {
		t.Errorf("400: %d job creations, want 3", n)
	}
	if n := run.count("GET "); n != 0 {
		t.Errorf("400: %d polls of jobs that did not start", n)
	}
	// One TRACE ERROR per failed creation, then the stream's, then the read's.
	if tr := run.traces(); len(tr) != 5 {
		t.Errorf("400: %d trace errors, want 5: %+v", len(tr), tr)
	}
	run = readContacts(t, &exportAPI{statuses: []string{"ready"}, createStatus: 401})
	if run.err == nil {
		t.Fatal("Read succeeded")
	}
	if n := run.count("POST "); n != 1 {
		t.Errorf("401: %d job creations, want 1", n)
	}
	var re *readError
	if !errors.As(run.err, &re) || len(re.Streams) != 1 || re.Streams[0].FailureType != protocol.FailureConfig {
		t.Errorf("401: read error %v", run.err)
	}
}

// The check of an AsyncRetriever stream waits for its first job and reads
// its first record.
func TestAsyncRetrieverCheck(t *testing.T) {
	text := strings.Replace(sendgridManifest(t), "  stream_names:\n    - bounces\n", "  stream_names:\n    - contacts\n", 1)
	for _, tc := range []struct {
		statuses []string
		ok       bool
	}{{[]string{"pending", "ready"}, true}, {[]string{"failed"}, false}} {
		api := &exportAPI{statuses: tc.statuses, urls: []string{"https://x.example/c.gz"}, files: map[string][]byte{"/c.gz": gzipped(t, "contact_id\n1\n2\n")}}
		srv := httptest.NewServer(api)
		src, err := New([]byte(text), WithHTTPClient(&http.Client{Transport: &replaytest.Transport{Target: mustURL(t, srv.URL)}}), withSleep(noSleep))
		if err != nil {
			t.Fatal(err)
		}
		err = src.Check(context.Background(), json.RawMessage(sendgridConfig))
		srv.Close()
		if (err == nil) != tc.ok {
			t.Errorf("statuses %v: check %v", tc.statuses, err)
		}
	}
}

// What of the AsyncRetriever is not built is refused before a request,
// never read without it.
func TestAsyncRetrieverRefusals(t *testing.T) {
	base := sendgridManifest(t)
	for field, insert := range map[string]string{
		"AsyncRetriever download_paginator":    "        download_paginator:\n          type: DefaultPaginator\n          pagination_strategy:\n            type: PageIncrement\n            page_size: 10\n",
		"AsyncRetriever partition_router":      "        partition_router:\n          type: ListPartitionRouter\n          values: [a, b]\n          cursor_field: x\n",
		"AsyncRetriever with incremental_sync": "",
	} {
		text := strings.Replace(base, "        type: AsyncRetriever\n", "        type: AsyncRetriever\n"+insert, 1)
		if insert == "" {
			text = strings.Replace(base, "      retriever:\n        type: AsyncRetriever\n",
				"      incremental_sync:\n        type: DatetimeBasedCursor\n        cursor_field: updated_at\n        datetime_format: \"%Y-%m-%dT%H:%M:%SZ\"\n        start_datetime: \"{{ config['start_date'] }}\"\n"+
					"      retriever:\n        type: AsyncRetriever\n", 1)
		}
		if text == base {
			t.Fatalf("%s: the manifest was not changed", field)
		}
		src, err := New([]byte(text))
		if err != nil {
			t.Fatalf("%s: New: %v", field, err)
		}
		cc := &protocol.ConfiguredCatalog{Streams: []protocol.ConfiguredStream{{Stream: protocol.Stream{Name: "contacts"}, SyncMode: protocol.SyncFullRefresh, DestinationSyncMode: protocol.DestinationOverwrite}}}
		err = src.Read(context.Background(), json.RawMessage(sendgridConfig), cc, nil, func(*protocol.Message) error { return nil })
		var ue *UnsupportedError
		if !errors.As(err, &ue) || len(ue.Components) != 1 || ue.Components[0].Type != field {
			t.Errorf("%s: Read gave %v", field, err)
		}
	}
}

// The optional requesters: the urls from a url_requester given the last
// poll, the job deleted once read, and aborted when the API times it out.
func TestAsyncRetrieverOptionalRequesters(t *testing.T) {
	requester := func(field, method, path string) string {
		return "        " + field + ":\n          type: HttpRequester\n          url_base: https://api.sendgrid.com\n          http_method: " + method +
			"\n          path: \"" + path + "\"\n          authenticator:\n            type: BearerAuthenticator\n            api_token: \"{{ config['api_key'] }}\"\n"
	}
	text := strings.Replace(sendgridManifest(t), "        type: AsyncRetriever\n", "        type: AsyncRetriever\n"+
		requester("url_requester", "GET", "/v3/marketing/contacts/exports/{{ stream_slice['polling_job_response'].json()['id'] }}/urls")+
		requester("delete_requester", "POST", "/v3/marketing/contacts/exports/{{ stream_slice['create_job_response'].json()['id'] }}/delete")+
		requester("abort_requester", "POST", "/v3/marketing/contacts/exports/{{ stream_slice['create_job_response'].json()['id'] }}/cancel"), 1)
	api := &exportAPI{statuses: []string{"ready"}, urlsApart: true, urls: []string{"https://x.example/c.gz"},
		files: map[string][]byte{"/c.gz": gzipped(t, "contact_id\n1\n")}}
	run := readContactsWith(t, text, api)
	if run.err != nil {
		t.Fatalf("Read: %v", run.err)
	}
	want := []string{exportCreate, exportPoll, "GET https://api.sendgrid.com/v3/marketing/contacts/exports/exp-1/urls Bearer sg-key", "GET https://x.example/c.gz",
		"POST https://api.sendgrid.com/v3/marketing/contacts/exports/exp-1/delete Bearer sg-key"}
	if got := strings.Join(run.requests, "\n"); got != strings.Join(want, "\n") || len(run.records) != 1 {
		t.Errorf("requests:\n%s\nwant:\n%s\nrecords %v", got, strings.Join(want, "\n"), run.records)
	}
	run = readContactsWith(t, text, &exportAPI{statuses: []string{"timeout"}})
	if run.err == nil {
		t.Fatal("Read succeeded")
	}
	if n := strings.Count(strings.Join(run.requests, "\n"), "/cancel "); n != 3 {
		t.Errorf("%d aborts, want 3 (one per timed-out attempt): %v", n, run.requests)
	}
}

// BenchmarkResponseToFileCSV reads a gzip CSV export of 100,000 contacts
// (10 columns) into records, as a contacts download is read: decompressed
// into the spool's file, then parsed from it.
func BenchmarkResponseToFileCSV(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("CONTACT_ID,EMAIL,FIRST_NAME,LAST_NAME,CITY,COUNTRY,POSTAL_CODE,PHONE_NUMBER,CREATED_AT,UPDATED_AT\n")
	const rows = 100000
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&sb, "c-%d,user%d@example.com,First %d,\"Last, %d\",City,US,%05d,,2024-01-01T00:00:00Z,2024-05-01T00:00:00Z\n", i, i, i, i, i%100000)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	io.WriteString(zw, sb.String())
	zw.Close()
	body := z.Bytes()
	b.SetBytes(int64(sb.Len()))
	spool := &downloadSpool{}
	defer spool.close()
	b.ResetTimer()
	for range b.N {
		n := 0
		if err := spool.fill(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
		if err := spool.records(context.Background(), func(*dict) error { n++; return nil }); err != nil || n != rows {
			b.Fatalf("%d records, %v", n, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "records/s")
}
