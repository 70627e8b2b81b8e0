package postgres

import "time"

// WatchLocksEvery has held locks watched every d (see lockCheckEvery),
// until restore is called: a test that must see the fence alone, with no
// watcher to stop the load first, sets it beyond its own length. Only
// tests that are not parallel may call it.
func WatchLocksEvery(d time.Duration) (restore func()) {
	was := lockCheckEvery
	lockCheckEvery = d
	return func() { lockCheckEvery = was }
}
