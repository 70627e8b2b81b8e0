package declarative

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/x/goairbyte/declarative/internal/interpolation"
)

// csvRecords is the ResponseToFileExtractor of the CDK 6.31.1: the body,
// gzip- or zlib-compressed or not, read as CSV the way its
// pandas.read_csv(dialect="unix", dtype=object) call reads it:
//   - a body whose start is not a gzip or zlib header is taken as it is,
//     with its NUL bytes removed (the CDK tries zlib's automatic header
//     detection on the first chunk and falls back to the raw bytes);
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
// Rows are tokenized as pandas' C tokenizer does (csv_tokenizer.go).
// Differences: a row with more fields than the header is an error here
// (pandas fails on it too, unless every row has one field more, which it
// then reads as an index); a truncated compressed body is an error here
// (zlib hands the CDK the part before the cut).
func csvRecords(body []byte, yield func(*dict) error) error {
	text, err := decompressed(body)
	if err != nil {
		return err
	}
	br := bufio.NewReader(text)
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
	for {
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

// csvError words a failure to read the download.
func csvError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, zlib.ErrChecksum) {
		return fmt.Errorf("decompressing the download: %w", err)
	}
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

// decompressed is the body inflated when it starts with a gzip or zlib
// header (zlib's MAX_WBITS|32 detection), else the body without NUL bytes.
func decompressed(body []byte) (io.Reader, error) {
	switch {
	case len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b:
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		// Only the first member: zlib leaves the rest as unused data.
		zr.Multistream(false)
		return zr, nil
	case len(body) >= 2 && body[0]&0x0f == 8 && body[0]>>4 <= 7 && (uint(body[0])<<8|uint(body[1]))%31 == 0:
		return zlib.NewReader(bytes.NewReader(body))
	}
	return bytes.NewReader(bytes.ReplaceAll(body, []byte{0}, nil)), nil
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
