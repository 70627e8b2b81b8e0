// Package duckfile tells a DuckDB database file from other files before
// DuckDB opens one: given an existing file of data it can read (JSON, CSV,
// Parquet), DuckDB opens that data in a database in memory, so a cache on
// records.csv would load, report its rows and keep nothing.
package duckfile

import (
	"fmt"
	"io"
	"os"
)

// magic is what every DuckDB database file holds at byte offset 8.
const magic = "DUCK"

// Check returns an error saying why path cannot be a DuckDB cache when it
// is an existing regular file that is not a DuckDB database: empty, or of
// another kind. A path that does not exist (the database is made there),
// a DuckDB file, or one that cannot be read (DuckDB's error then says why)
// is nil.
func Check(path string) error {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%s is empty, not a DuckDB database file: remove it, or name a file that does not exist, which is made", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	header := make([]byte, 8+len(magic))
	if _, err := io.ReadFull(f, header); err == nil && string(header[8:]) == magic {
		return nil
	}
	return fmt.Errorf("%s is not a DuckDB database file (DuckDB would read it as data, in memory, and keep nothing): name a DuckDB file, or one that does not exist, which is made", path)
}
