package executor

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// bomSkipper hands over the output whole but for a byte order mark at its
// start, however the output arrives.
func TestBOMSkipper(t *testing.T) {
	for _, in := range []string{"", "\xef", "\xef\xbb", "\xef\xbb\xbf", "\xef\xbb\xbf{}\n", "\xef\xbbx", "\xefx", "{}\n", "ab",
		"{}\n\xef\xbb\xbf{}\n"} {
		want := strings.TrimPrefix(in, "\xef\xbb\xbf")
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return strings.NewReader(in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
			"data+EOF": func() io.Reader { return iotest.DataErrReader(strings.NewReader(in)) },
		} {
			got, err := io.ReadAll(&bomSkipper{r: r()})
			if err != nil || !bytes.Equal(got, []byte(want)) {
				t.Errorf("%q read %s: got %q, %v; want %q", in, name, got, err, want)
			}
		}
	}
	// An error while looking for the mark comes after what was read.
	r := &bomSkipper{r: io.MultiReader(strings.NewReader("\xef"), iotest.ErrReader(io.ErrUnexpectedEOF))}
	got, err := io.ReadAll(r)
	if string(got) != "\xef" || err != io.ErrUnexpectedEOF {
		t.Errorf("got %q, %v", got, err)
	}
}
