// Package httpbody reads an HTTP response's body whole, within a bound: a
// server that is wrong or hostile, or a URL that points at something else
// than was meant, must not make the program read until memory runs out.
package httpbody

import (
	"fmt"
	"io"
)

// TooLargeError says that a body held more than the bound allowed.
type TooLargeError struct {
	// Limit is the bound, in bytes.
	Limit int64
}

// Error names the bound.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the response is larger than %d MiB, more than any answer expected here", e.Limit>>20)
}

// Read reads r to its end, or fails with a *TooLargeError once it holds
// more than limit bytes, or with the read's own error.
func Read(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return data, nil
}

// The bounds of the bodies goairbyte reads, each far above what a real
// answer holds.
const (
	// MaxManifest bounds a manifest.yaml or a components.zip: the largest
	// of the 372 real manifests in the shared corpus is 1.2 MB.
	MaxManifest = 64 << 20
	// MaxRegistry bounds a connector registry: Airbyte's lists some
	// hundreds of connectors, a few kilobytes each.
	MaxRegistry = 256 << 20
	// MaxAPIAnswer bounds one answer of the Airbyte or Fivetran API, whose
	// lists come in pages of at most a hundred objects.
	MaxAPIAnswer = 32 << 20
)
