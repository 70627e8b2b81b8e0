package cachetest

import (
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// SmallDisk mounts a 4 MB tmpfs, open to every user, in a directory of t's
// and returns its path; it is unmounted when t ends. Without root it skips
// t, or fails it under GOAIRBYTE_REQUIRE_DOCKER=1 (see testenv.SmallDisk).
func SmallDisk(t *testing.T) string { return testenv.SmallDisk(t, "4m") }
