//go:build !linux

package testenv

import "testing"

// SmallDisk skips t (or fails it under GOAIRBYTE_REQUIRE_DOCKER=1): a
// small disk to fill is mounted on Linux only.
func SmallDisk(t testing.TB, size string) string {
	t.Helper()
	unavailable(t, RequireDockerEnv, "testenv: a small disk to fill is mounted on Linux only")
	return ""
}

// LeaveFree fails t: there is no small disk to fill off Linux.
func LeaveFree(t testing.TB, dir string, n int64) string {
	t.Helper()
	t.Fatal("testenv: LeaveFree works on Linux only")
	return ""
}
