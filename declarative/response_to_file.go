package declarative

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/internal/airbytedirs"
)

// downloadSpool is where a ResponseToFileExtractor download goes before a
// record is read from it, as the CDK 6.31.1 does: its _save_to_file writes
// the body, decompressed, to a temporary file, and _read_with_chunks then
// reads that file with pandas 100 rows at a time. Memory stays bounded
// whatever the export's size (buffers of a few tens of KiB, the
// decompressor's window, one row); the disk holds the decompressed export,
// as the CDK's working directory does. The engine's response size bound
// (maxResponseBody) does not apply: the CDK has none, and an export of
// several GB is what this extractor is for.
//
// The whole download is on disk before the first record is read, and that
// is what makes a retried download safe. The download request runs in the
// sender's retry loop (sender.do calls fill), as the CDK's send_request
// reads the whole body (stream=False, the JsonDecoder's default) within
// its retries: a connection that drops or goes silent in the middle of the
// body is a transport error, and the request is sent again, its file
// emptied first. Had records been handed on as the body arrived, those
// read before the cut would be handed on again by the retry, duplicated.
// So a download is all or nothing: every record once, or none and the
// error.
//
// What is not the connection's fault is kept in err and fails the stream
// without a retry (the server sent the response whole: a retry would bring
// the same bytes), and before any record is read: a compressed body that
// is cut short or corrupt, or a file that cannot be written. (A plain body
// whose server closes the connection early without a Content-Length or
// chunked framing cannot be told from a whole one, here or in the CDK.)
//
// The response cache is never in the way: only a SimpleRetriever's
// requester uses it, not an AsyncRetriever's.
//
// A successful download's body is on disk, not in the response: an error
// handler's predicate or error_message_contains sees it as a body that is
// not JSON ({} and no message). The CDK's sees the CSV text; no manifest
// of the corpus sets an error handler on a download_requester.
type downloadSpool struct {
	f *os.File
	// unlinked is set when the file's name was removed as soon as it was
	// created (it lives on while open): where the system allows it, a
	// process that is killed leaves no file behind.
	unlinked bool
	// err is why the last body could not be spooled, other than the
	// connection (see above).
	err error
}

// spoolBuffer is the size of the spool's read and write buffers.
const spoolBuffer = 64 << 10

// fill writes body to the spool, decompressed when it starts with a gzip
// or zlib header (zlib's MAX_WBITS|32 detection: the CDK tries it on the
// first chunk and falls back to the raw bytes), else without its NUL bytes
// (the CDK's _filter_null_bytes). Only the first gzip member is read: zlib
// leaves the rest as unused data. The spool is emptied first: fill is
// called once per attempt of the request. It returns only an error of
// body's own reads (a transport error, to retry); any other is kept in
// s.err.
func (s *downloadSpool) fill(body io.Reader) error {
	s.err = nil
	if err := s.reset(); err != nil {
		s.err = err
		return nil
	}
	src := &sourceReader{r: body}
	dst := &sinkWriter{w: s.f}
	w := bufio.NewWriterSize(dst, spoolBuffer)
	err := inflate(w, bufio.NewReaderSize(src, spoolBuffer))
	if err == nil {
		err = w.Flush()
	}
	switch {
	case src.err != nil:
		return src.err
	case dst.err != nil:
		s.err = fmt.Errorf("writing the download to a temporary file: %w", dst.err)
	case err != nil:
		s.err = fmt.Errorf("decompressing the download: %w", err)
	}
	return nil
}

// inflate copies the body from br to w, decompressed or without NUL bytes.
func inflate(w io.Writer, br *bufio.Reader) error {
	head, _ := br.Peek(2) // a read error is found again by the copy
	var zr io.Reader
	switch {
	case len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		gz.Multistream(false)
		zr = gz
	case len(head) == 2 && head[0]&0x0f == 8 && head[0]>>4 <= 7 && (uint(head[0])<<8|uint(head[1]))%31 == 0:
		z, err := zlib.NewReader(br)
		if err != nil {
			return err
		}
		zr = z
	default:
		return copyWithoutNUL(w, br)
	}
	_, err := io.Copy(w, zr)
	return err
}

// copyWithoutNUL copies r to w with its NUL bytes removed.
func copyWithoutNUL(w io.Writer, r io.Reader) error {
	buf := make([]byte, spoolBuffer)
	for {
		n, err := r.Read(buf)
		chunk := buf[:n]
		if bytes.IndexByte(chunk, 0) >= 0 {
			chunk = bytes.ReplaceAll(chunk, []byte{0}, nil)
		}
		if _, werr := w.Write(chunk); werr != nil {
			return werr
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// sourceReader keeps the first error other than io.EOF of its reader, to
// tell the connection's failures from the decompressor's.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// sinkWriter keeps the first error of its writer, to tell a file that
// cannot be written from a body that cannot be read.
type sinkWriter struct {
	w   io.Writer
	err error
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

// reset empties the spool, creating its file the first time.
func (s *downloadSpool) reset() error {
	if s.f == nil {
		f, err := airbytedirs.CreateTemp("goairbyte-download-*.csv")
		if err != nil {
			return fmt.Errorf("creating the download's temporary file: %w", err)
		}
		s.f = f
		s.unlinked = os.Remove(f.Name()) == nil
		return nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("emptying the download's temporary file: %w", err)
	}
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("emptying the download's temporary file: %w", err)
	}
	return nil
}

// records reads the spooled download as CSV (csvRecords).
func (s *downloadSpool) records(ctx context.Context, yield func(*dict) error) error {
	if s.err != nil {
		return s.err
	}
	if s.f == nil {
		return nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return csvError(err)
	}
	return csvRecords(ctx, s.f, yield)
}

// close removes the spool's file.
func (s *downloadSpool) close() {
	if s.f == nil {
		return
	}
	s.f.Close()
	if !s.unlinked {
		os.Remove(s.f.Name())
	}
	s.f = nil
}

// csvRecords is the ResponseToFileExtractor's reading of a spooled
// download (downloadSpool), read as CSV the way the CDK 6.31.1's
// pandas.read_csv(dialect="unix", dtype=object) call reads it:
//   - the text is UTF-8 (the CDK's default: the charset lookup reads a
//     lower-case "content-type" key of a dict requests fills with the
//     server's spelling, Content-Type for HTTP/1.1 servers);
//   - the first row names the columns; an empty name is "Unnamed: i", a
//     repeated one gets ".1", ".2"... (pandas' de-duplication);
//   - every value is a string, except pandas' default NA values (the empty
//     field, quoted or not, "NA", "null", "NaN", "N/A"...), which are
//     None; a short row's missing fields are None;
//   - blank lines are skipped; an empty body, or one with only a header,
//     has no records.
//
// Rows are tokenized as pandas' C tokenizer does (csv_tokenizer.go), one
// at a time from a buffered reader: memory holds one row, whatever the
// file's size. Differences: a row with more fields than the header is an
// error here (pandas fails on it too, unless every row has one field more,
// which it then reads as an index); a truncated compressed body is an
// error here (zlib hands the CDK the part before the cut).
//
// Every csvContextCheck rows, from the first, it returns ctx.Err() once
// ctx is done: rows that yield drops never reach what else looks at it.
func csvRecords(ctx context.Context, text io.Reader, yield func(*dict) error) error {
	br := bufio.NewReaderSize(text, spoolBuffer)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	rd := &pandasCSV{r: br}
	header, err := rd.next()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return csvError(err)
	}
	if err := validUTF8(header); err != nil {
		return err
	}
	cols := csvColumns(header)
	for n := 0; ; n++ {
		if err := contextDone(ctx, n); err != nil {
			return err
		}
		row, err := rd.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err)
		}
		if err := validUTF8(row); err != nil {
			return err
		}
		if len(row) > len(cols) {
			return fmt.Errorf("Error tokenizing data. C error: Expected %d fields in line %d, saw %d", len(cols), rd.line, len(row))
		}
		rec := interpolation.NewDict(len(cols))
		for i, c := range cols {
			var v value
			if i < len(row) && !pandasNA[row[i]] {
				v = row[i]
			}
			rec.Set(c, v)
		}
		if err := yield(rec); err != nil {
			return err
		}
	}
}

// csvError words a failure to read the spooled download.
func csvError(err error) error {
	return fmt.Errorf("reading the downloaded CSV: %w", err)
}

var errCSVNotUTF8 = errors.New("the downloaded CSV is not UTF-8")

// validUTF8 fails a row that is not UTF-8, as the CDK's reading of the
// file as text does.
func validUTF8(row []string) error {
	for _, f := range row {
		if !utf8.ValidString(f) {
			return errCSVNotUTF8
		}
	}
	return nil
}

// csvColumns names the columns as pandas does from a header row.
func csvColumns(header []string) []string {
	cols := make([]string, len(header))
	counts := map[string]int{}
	for i, c := range header {
		if c == "" {
			c = "Unnamed: " + strconv.Itoa(i)
		}
		cur := counts[c]
		for cur > 0 {
			counts[c] = cur + 1
			c = c + "." + strconv.Itoa(cur)
			cur = counts[c]
		}
		cols[i] = c
		counts[c] = cur + 1
	}
	return cols
}

// pandasNA are read_csv's default NA values (pandas 2.x, STR_NA_VALUES).
var pandasNA = map[string]bool{
	"": true, "#N/A": true, "#N/A N/A": true, "#NA": true, "-1.#IND": true, "-1.#QNAN": true,
	"-NaN": true, "-nan": true, "1.#IND": true, "1.#QNAN": true, "<NA>": true, "N/A": true,
	"NA": true, "NULL": true, "NaN": true, "None": true, "n/a": true, "nan": true, "null": true,
}
