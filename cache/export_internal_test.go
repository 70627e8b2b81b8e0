package cache

import "time"

// ExportPageSize is exportPageSize, for the tests of package cache_test.
const ExportPageSize = exportPageSize

// SetClock makes f the clock of the raw ids' time part until the returned
// function restores the real one, for the tests of package cache_test. A
// test that calls it must not run in parallel.
func SetClock(f func() time.Time) (restore func()) {
	now = f
	return func() { now = time.Now }
}
