package httpbody

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRead(t *testing.T) {
	if got, err := Read(strings.NewReader("abcd"), 4); err != nil || string(got) != "abcd" {
		t.Fatalf("at the limit: %q, %v", got, err)
	}
	_, err := Read(strings.NewReader("abcde"), 4)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 4 {
		t.Fatalf("past the limit: %v", err)
	}
	boom := errors.New("connection reset")
	if _, err := Read(iotest.ErrReader(boom), 4); !errors.Is(err, boom) {
		t.Fatalf("a failed read: %v", err)
	}
}
