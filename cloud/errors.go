package cloud

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels a *SyncError matches with errors.Is.
var (
	// ErrSyncFailed: the job ended failed.
	ErrSyncFailed = errors.New("sync failed")
	// ErrSyncCancelled: the job was cancelled.
	ErrSyncCancelled = errors.New("sync cancelled")
)

// SyncError is a sync job that ended failed or cancelled.
type SyncError struct {
	// JobID is Airbyte's id of the job that ended.
	JobID int64
	// ConnectionID is the id of the connection the job synced.
	ConnectionID string
	// Status is how the job ended: "failed" or "cancelled".
	Status JobStatus
	// Attempts is how many attempts the job made.
	Attempts int
	// Failures are the failure reasons of the last attempt (none when the
	// Configuration API could not be asked).
	Failures  []Failure
	detailErr error
}

// Error says which job ended how, and why when Airbyte said.
func (e *SyncError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cloud: sync job %d of connection %s %s", e.JobID, e.ConnectionID, e.Status)
	if e.Attempts > 0 {
		fmt.Fprintf(&b, " after %d attempt(s)", e.Attempts)
	}
	for i, f := range e.Failures {
		sep := ": "
		if i > 0 {
			sep = "; "
		}
		fmt.Fprintf(&b, "%s%s", sep, f.Message)
		if f.Type != "" || f.Origin != "" {
			fmt.Fprintf(&b, " (%s from %s)", f.Type, f.Origin)
		}
	}
	if len(e.Failures) == 0 && e.detailErr != nil {
		fmt.Fprintf(&b, " (its failure reason could not be read: %v)", e.detailErr)
	}
	return b.String()
}

// Is matches ErrSyncFailed or ErrSyncCancelled.
func (e *SyncError) Is(target error) bool {
	return (target == ErrSyncFailed && e.Status == JobFailed) ||
		(target == ErrSyncCancelled && e.Status == JobCancelled)
}
