package declarative

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// contactsCSV is a contacts export of n rows (contact_id c-0, c-1, ...).
func contactsCSV(n int) string {
	var sb strings.Builder
	sb.WriteString("contact_id,email\n")
	for i := range n {
		fmt.Fprintf(&sb, "c-%d,user%d@example.com\n", i, i)
	}
	return sb.String()
}

// checkContacts fails unless records are the n of contactsCSV, each once,
// in order.
func checkContacts(t *testing.T, records []string, n int) {
	t.Helper()
	if len(records) != n {
		t.Errorf("%d records, want %d", len(records), n)
	}
	for i, r := range records {
		if want := fmt.Sprintf(`{"contact_id":"c-%d","email":"user%d@example.com"}`, i, i); r != want {
			t.Errorf("record %d is %s, want %s", i, r, want)
			return
		}
	}
}

// A download whose connection drops, or goes silent, in the middle of its
// body is sent again, and its records are read once: none were handed on
// before the body was whole (downloadSpool), and the retry's file holds
// nothing of the cut attempt. The first attempt sends half the body, rows
// enough that a reader handing records on as they arrive would have handed
// on thousands before the cut, and more than the spool's buffers hold.
func TestAsyncDownloadInterrupted(t *testing.T) {
	const rows = 20000
	plain := []byte(contactsCSV(rows))
	for _, c := range []struct {
		name  string
		body  []byte
		stall bool
	}{
		{"gzip, connection dropped", gzipped(t, string(plain)), false},
		{"plain, connection dropped", plain, false},
		{"gzip, server silent", gzipped(t, string(plain)), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			downloads := 0
			api := &exportAPI{statuses: []string{"ready"}, urls: []string{"https://x.example/c.gz"}, handlers: map[string]http.HandlerFunc{
				"/c.gz": func(w http.ResponseWriter, r *http.Request) {
					downloads++
					w.Header().Set("Content-Length", strconv.Itoa(len(c.body)))
					if downloads > 1 {
						w.Write(c.body)
						return
					}
					// Less than the Content-Length: the server closes the
					// connection, and the client reads an unexpected EOF.
					w.Write(c.body[:len(c.body)/2])
					if c.stall {
						w.(http.Flusher).Flush()
						select {
						case <-r.Context().Done():
						case <-time.After(5 * time.Second):
						}
					}
				}}}
			var records []string
			run := readContactsFunc(t, sendgridManifest(t), api, func(d []byte) { records = append(records, string(d)) }, withStallTimeout(200*time.Millisecond))
			if run.err != nil {
				t.Fatalf("Read: %v", run.err)
			}
			if downloads != 2 {
				t.Errorf("%d downloads, want 2 (the cut one retried)", downloads)
			}
			checkContacts(t, records, rows)
		})
	}
}

// A compressed download that is cut short or corrupt, the response ended
// cleanly, fails the stream without a retry and without a record (the
// connection is not at fault); gzip members after the first are left
// unread, as zlib leaves them.
func TestAsyncDownloadBadCompression(t *testing.T) {
	full := gzipped(t, contactsCSV(500))
	corrupt := bytes.Clone(full)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC-32
	for _, c := range []struct {
		name, err string
		body      []byte
	}{
		{"truncated", "decompressing the download: unexpected EOF", full[:len(full)/2]},
		{"bad checksum", "decompressing the download: gzip: invalid checksum", corrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			api := &exportAPI{statuses: []string{"ready"}, urls: []string{"https://x.example/c.gz"}, files: map[string][]byte{"/c.gz": c.body}}
			run := readContacts(t, api)
			if run.err == nil {
				t.Fatal("Read succeeded")
			}
			if tr := run.traces(); len(tr) == 0 || !strings.Contains(tr[0].InternalMessage, c.err) {
				t.Errorf("trace errors %+v, want one saying %q", tr, c.err)
			}
			if n := run.count("GET https://x.example/"); n != 1 || len(run.records) != 0 {
				t.Errorf("%d downloads and %d records, want one download and none", n, len(run.records))
			}
		})
	}
	second := append(gzipped(t, "contact_id,email\nc-0,user0@example.com\n"), gzipped(t, "c-1,user1@example.com\n")...)
	api := &exportAPI{statuses: []string{"ready"}, urls: []string{"https://x.example/c.gz"}, files: map[string][]byte{"/c.gz": second}}
	run := readContacts(t, api)
	if run.err != nil {
		t.Fatalf("two members: Read: %v", run.err)
	}
	checkContacts(t, run.records, 1)
}

// The download's temporary file is gone once the read ends, whether it
// succeeded or failed.
func TestAsyncDownloadFileRemoved(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	t.Setenv("AIRBYTE_TEMP_DIR", "")
	asyncDownloadLeavesNothing(t, dir)
}

// With PyAirbyte's AIRBYTE_TEMP_DIR set, the download's temporary file is
// made there, not in TMPDIR (here a path under a file, where nothing can be
// made), and is gone once the read ends.
func TestAsyncDownloadInAirbyteTempDir(t *testing.T) {
	dir, file := t.TempDir(), filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", filepath.Join(file, "tmp"))
	t.Setenv("AIRBYTE_TEMP_DIR", dir)
	asyncDownloadLeavesNothing(t, dir)
}

// asyncDownloadLeavesNothing reads a download in full and one cut short,
// and fails the test when either leaves a file in dir, the temp directory.
func asyncDownloadLeavesNothing(t *testing.T, dir string) {
	full := gzipped(t, contactsCSV(10))
	for _, body := range [][]byte{full, full[:len(full)-4]} {
		api := &exportAPI{statuses: []string{"ready"}, urls: []string{"https://x.example/c.gz"}, files: map[string][]byte{"/c.gz": body}}
		run := readContacts(t, api)
		if (run.err == nil) != (len(body) == len(full)) {
			t.Errorf("%d bytes: Read %v", len(body), run.err)
		}
		if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
			t.Errorf("%d bytes: left in the temp directory: %v %v", len(body), left, err)
		}
	}
}

// largeDownloadMB is the decompressed size of TestAsyncDownloadLarge's
// export, over the 512 MiB bound on a response;
// GOAIRBYTE_ASYNC_DOWNLOAD_MB sets another (e.g. 2000).
func largeDownloadMB(t *testing.T) int {
	if s := os.Getenv("GOAIRBYTE_ASYNC_DOWNLOAD_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("GOAIRBYTE_ASYNC_DOWNLOAD_MB=%q", s)
		}
		return n
	}
	return 600
}

// heapPeak samples the Go heap in use while a read runs.
type heapPeak struct {
	mu   sync.Mutex
	peak uint64
}

func (h *heapPeak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.mu.Lock()
	h.peak = max(h.peak, ms.HeapInuse)
	h.mu.Unlock()
}

// An export larger than the bound on a response is read whole, its
// records handed on as they are parsed from the spooled file, and the Go
// heap stays bounded whatever the export's size: the body was read into
// memory, so a download over 512 MiB failed ("a body larger than 512
// MiB"). The server writes the gzip CSV as it generates it, in stored
// blocks (no compression, cheap to write), so that the bytes sent are
// over the bound as the export is.
func TestAsyncDownloadLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("a download of hundreds of MB")
	}
	size := int64(largeDownloadMB(t)) << 20
	pad := strings.Repeat("0123456789abcdef", 256) // 4 KiB a row
	const header = "contact_id,email,notes\n"
	rowLen := int64(len(fmt.Sprintf("c-%09d,u%09d@example.com,%s\n", 0, 0, pad)))
	rows := int((size - int64(len(header)) + rowLen - 1) / rowLen)
	api := &exportAPI{statuses: []string{"ready"}, urls: []string{"https://x.example/big.csv.gz"}, timeout: 10 * time.Minute,
		handlers: map[string]http.HandlerFunc{"/big.csv.gz": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/gzip")
			zw, _ := gzip.NewWriterLevel(w, gzip.NoCompression)
			fmt.Fprint(zw, header)
			for i := range rows {
				if _, err := fmt.Fprintf(zw, "c-%09d,u%09d@example.com,%s\n", i, i, pad); err != nil {
					return
				}
			}
			zw.Close()
		}}}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	heap := &heapPeak{}
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				heap.sample()
			}
		}
	}()
	n, bad := 0, 0
	run := readContactsFunc(t, sendgridManifest(t), api, func(d []byte) {
		if !bytes.HasPrefix(d, fmt.Appendf(nil, `{"contact_id":"c-%09d","email":"u%09d@example.com","notes":"0123`, n, n)) {
			bad++
		}
		n++
		if n%1000 == 0 {
			heap.sample()
		}
	})
	close(done)
	<-sampled
	if run.err != nil {
		t.Fatalf("Read: %v", run.err)
	}
	if n != rows || bad != 0 {
		t.Errorf("%d records (%d out of order), want %d", n, bad, rows)
	}
	grew := int64(heap.peak) - int64(base.HeapInuse)
	t.Logf("%d MiB decompressed, %d records; heap in use %d MiB before, peak %d MiB", size>>20, n, base.HeapInuse>>20, heap.peak>>20)
	// Tens of MiB at most: the buffers, a row, and the garbage of the
	// records between two collections; the export is hundreds.
	if limit := int64(64 << 20); grew > limit {
		t.Errorf("the heap in use grew by %d MiB during the read, more than %d MiB", grew>>20, limit>>20)
	}
}

// A download whose rows the record filter all drops emits no record, so
// nothing but the parsing of the CSV (or the record selector, for a JSON
// download) can notice that the read was cancelled: it stops within
// contextEvery rows, not at the file's end. The filter asks the clock
// once a row (now_utc()), and the clock cancels the read at its
// cancelAt-th call, after the download was served (the calls before are
// the requests', a few).
func TestAsyncDownloadCancelledWhileFiltering(t *testing.T) {
	const rows, cancelAt = 100000, 1000
	selector := "        record_selector:\n          type: RecordSelector\n          extractor:\n            type: DpathExtractor\n            field_path: []\n        status_extractor:\n"
	filtered := strings.Replace(sendgridManifest(t), selector, strings.Replace(selector, "        status_extractor:\n",
		"          record_filter:\n            type: RecordFilter\n            condition: \"{{ now_utc().year == 1900 }}\"\n        status_extractor:\n", 1), 1)
	if !strings.Contains(filtered, "now_utc().year == 1900") {
		t.Fatal("no contacts selector to give a filter")
	}
	const toFile = "        download_extractor:\n          type: ResponseToFileExtractor\n"
	jsonManifest := strings.Replace(filtered, toFile, "        download_extractor:\n          type: DpathExtractor\n          field_path: []\n", 1)
	if jsonManifest == filtered {
		t.Fatal("no ResponseToFileExtractor to replace")
	}
	jsonBody := []byte("[")
	for i := range rows {
		if i > 0 {
			jsonBody = append(jsonBody, ',')
		}
		jsonBody = fmt.Appendf(jsonBody, `{"contact_id":"c-%d","email":"user%d@example.com"}`, i, i)
	}
	jsonBody = append(jsonBody, ']')
	for _, c := range []struct {
		name     string
		manifest string
		body     []byte
	}{
		{"CSV", filtered, []byte(contactsCSV(rows))},
		{"JSON", jsonManifest, jsonBody},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			calls, callsAtDownload := 0, -1
			api := &exportAPI{statuses: []string{"ready"}, urls: []string{"https://x.example/export"},
				handlers: map[string]http.HandlerFunc{"/export": func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					callsAtDownload = calls
					mu.Unlock()
					w.Write(c.body)
				}}}
			clock := WithClock(func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls == cancelAt {
					cancel()
				}
				return time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
			})
			records := 0
			run := readContactsCtx(ctx, t, c.manifest, api, func([]byte) { records++ }, clock)
			mu.Lock()
			defer mu.Unlock()
			if callsAtDownload < 0 || callsAtDownload >= cancelAt {
				t.Fatalf("the clock was called %d times before the download (-1: none), not fewer than %d", callsAtDownload, cancelAt)
			}
			if !errors.Is(run.err, context.Canceled) {
				t.Errorf("Read: %v, want the context's error", run.err)
			}
			if records != 0 {
				t.Errorf("%d records, want none (all filtered out)", records)
			}
			if after := calls - cancelAt; after > contextEvery {
				t.Errorf("%d rows of %d filtered after the read was cancelled, more than %d", after, rows, contextEvery)
			}
			t.Logf("%d clock calls before the download, %d in all, of %d rows", callsAtDownload, calls, rows)
		})
	}
}
