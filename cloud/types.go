package cloud

import api "github.com/x/goairbyte/internal/airbyteapi"

// The Airbyte API's objects that the workspace's methods return. They
// mirror the API's JSON objects, field for field. Failure, Source and
// Destination are converted from the API client's types directly, so they
// must keep the same fields in the same order (the build fails otherwise);
// Job's status and type are this package's, so jobOf copies it field by
// field.

// Job is a sync job of a connection, as Wait returns it.
type Job struct {
	// ID is the job's number, what SyncResult.JobID holds.
	ID int64 `json:"jobId"`
	// Status is one of the Job* statuses; see JobStatus.Terminal.
	Status JobStatus `json:"status"`
	// JobType is one of the JobType* kinds.
	JobType JobType `json:"jobType"`
	// StartTime is when the job was created, an ISO 8601 UTC timestamp
	// such as "2023-03-25T01:30:50Z".
	StartTime string `json:"startTime"`
	// ConnectionID is the UUID of the connection the job runs on.
	ConnectionID string `json:"connectionId"`
	// LastUpdatedAt is when the job last changed, in the same format as
	// StartTime; empty when the server does not say.
	LastUpdatedAt string `json:"lastUpdatedAt,omitempty"`
	// Duration is how long the job ran, an ISO 8601 duration such as
	// "PT8H6M12S" (not a Go duration string); empty when not reported.
	Duration string `json:"duration,omitempty"`
	// BytesSynced is how many bytes the job moved; zero when not reported.
	BytesSynced int64 `json:"bytesSynced,omitempty"`
	// RowsSynced is how many records the job moved; zero when not
	// reported.
	RowsSynced int64 `json:"rowsSynced,omitempty"`
}

// jobOf is the API client's job as this package shows it.
func jobOf(j *api.Job) *Job {
	return &Job{
		ID:            j.ID,
		Status:        JobStatus(j.Status),
		JobType:       JobType(j.JobType),
		StartTime:     j.StartTime,
		ConnectionID:  j.ConnectionID,
		LastUpdatedAt: j.LastUpdatedAt,
		Duration:      j.Duration,
		BytesSynced:   j.BytesSynced,
		RowsSynced:    j.RowsSynced,
	}
}

// JobType is the kind of a job.
type JobType string

// Job types.
const (
	JobTypeSync    JobType = "sync"
	JobTypeReset   JobType = "reset"
	JobTypeRefresh JobType = "refresh"
	JobTypeClear   JobType = "clear"
)

// JobStatus is the state of a job. Only succeeded, failed and cancelled are
// terminal; incomplete means an attempt failed and another will follow.
type JobStatus string

// Job statuses.
const (
	JobPending    JobStatus = "pending"
	JobQueued     JobStatus = "queued"
	JobRunning    JobStatus = "running"
	JobIncomplete JobStatus = "incomplete"
	JobSucceeded  JobStatus = "succeeded"
	JobFailed     JobStatus = "failed"
	JobCancelled  JobStatus = "cancelled"
)

// Terminal reports whether the job is over. A status this package does
// not know counts as still running.
func (s JobStatus) Terminal() bool { return api.JobStatus(s).Terminal() }

// Failure is why a job attempt failed, as a SyncError reports it.
type Failure struct {
	// Origin is where the failure arose: "source", "destination",
	// "replication", ...
	Origin string `json:"failureOrigin,omitempty"`
	// Type is the kind of failure: "config_error", "system_error", ...
	Type string `json:"failureType,omitempty"`
	// Message explains the failure to the user.
	Message string `json:"externalMessage,omitempty"`
	// Internal is the technical detail meant for debugging, such as an
	// exception's message; often empty.
	Internal string `json:"internalMessage,omitempty"`
	// Stream is the name of the stream the failure concerns; empty when
	// it concerns no single stream.
	Stream string `json:"-"`
}

// failuresOf is the API client's failures as this package shows them.
func failuresOf(fs []api.Failure) []Failure {
	if fs == nil {
		return nil
	}
	out := make([]Failure, len(fs))
	for i, f := range fs {
		out[i] = Failure(f)
	}
	return out
}

// Source is a source of the workspace, as DeploySource created it. Secret
// fields of Configuration come back masked as "**********".
type Source struct {
	// ID is the source's UUID.
	ID string `json:"sourceId"`
	// Name is the source's display name.
	Name string `json:"name"`
	// SourceType is the connector's short type name, such as "postgres".
	SourceType string `json:"sourceType"`
	// DefinitionID is the UUID of the connector definition the source
	// runs.
	DefinitionID string `json:"definitionId"`
	// WorkspaceID is the UUID of the workspace the source belongs to.
	WorkspaceID string `json:"workspaceId"`
	// Configuration is the connector config, a JSON object that follows
	// the connector's spec; secret values read as "**********".
	Configuration map[string]any `json:"configuration"`
	// CreatedAt is when the source was created, in Unix seconds.
	CreatedAt int64 `json:"createdAt"`
}

// Destination is a destination of the workspace. Secret fields of
// Configuration come back masked as "**********".
type Destination struct {
	// ID is the destination's UUID.
	ID string `json:"destinationId"`
	// Name is the destination's display name.
	Name string `json:"name"`
	// DestinationType is the connector's short type name, such as "duckdb".
	DestinationType string `json:"destinationType"`
	// DefinitionID is the UUID of the connector definition the destination
	// runs.
	DefinitionID string `json:"definitionId"`
	// WorkspaceID is the UUID of the workspace the destination belongs to.
	WorkspaceID string `json:"workspaceId"`
	// Configuration is the connector config, a JSON object that follows
	// the connector's spec; secret values read as "**********".
	Configuration map[string]any `json:"configuration"`
	// CreatedAt is when the destination was created, in Unix seconds.
	CreatedAt int64 `json:"createdAt"`
}
