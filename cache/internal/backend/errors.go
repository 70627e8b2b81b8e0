package backend

import (
	"errors"
	"strings"
	"syscall"
)

// IsNoSpace reports whether err says that a device has no space left:
// ENOSPC from the operating system, or its message in a database's own
// error (DuckDB: "Could not write file …: No space left on device").
func IsNoSpace(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOSPC) || strings.Contains(strings.ToLower(err.Error()), syscall.ENOSPC.Error()))
}
