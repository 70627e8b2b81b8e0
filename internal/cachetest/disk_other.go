//go:build !linux

package cachetest

import "testing"

// SmallDisk skips t: mounting a small disk to fill is done on Linux only.
func SmallDisk(t *testing.T) string {
	t.Skip("a small disk to fill is mounted on Linux only")
	return ""
}
