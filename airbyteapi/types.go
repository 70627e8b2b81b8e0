package airbyteapi

// The types below mirror the public API's JSON objects, field for field, for
// the parts this client uses.

// Workspace is an Airbyte workspace.
type Workspace struct {
	ID            string `json:"workspaceId"`
	Name          string `json:"name"`
	DataResidency string `json:"dataResidency,omitempty"`
}

// Definition is a connector definition (a source or destination type).
type Definition struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	DockerRepository string `json:"dockerRepository"`
	DockerImageTag   string `json:"dockerImageTag"`
	DocumentationURL string `json:"documentationUrl,omitempty"`
}

// Source is a configured source. Secret fields of Configuration come back
// masked as [Mask].
type Source struct {
	ID            string         `json:"sourceId"`
	Name          string         `json:"name"`
	SourceType    string         `json:"sourceType"`
	DefinitionID  string         `json:"definitionId"`
	WorkspaceID   string         `json:"workspaceId"`
	Configuration map[string]any `json:"configuration"`
	CreatedAt     int64          `json:"createdAt"`
}

// Destination is a configured destination. Secret fields of Configuration
// come back masked as [Mask].
type Destination struct {
	ID              string         `json:"destinationId"`
	Name            string         `json:"name"`
	DestinationType string         `json:"destinationType"`
	DefinitionID    string         `json:"definitionId"`
	WorkspaceID     string         `json:"workspaceId"`
	Configuration   map[string]any `json:"configuration"`
	CreatedAt       int64          `json:"createdAt"`
}

// Mask is what the server returns in place of a secret config value;
// sending it back in an update keeps the stored secret.
const Mask = "**********"

// ActorCreate is the body that creates a source or destination.
type ActorCreate struct {
	Name          string         `json:"name"`
	DefinitionID  string         `json:"definitionId,omitempty"`
	WorkspaceID   string         `json:"workspaceId"`
	Configuration map[string]any `json:"configuration"`
}

// ActorPatch is the body that updates a source or destination; nil fields
// stay as they are.
type ActorPatch struct {
	Name          *string        `json:"name,omitempty"`
	Configuration map[string]any `json:"configuration,omitempty"`
}

// Connection is a connection between a source and a destination.
type Connection struct {
	ID                  string               `json:"connectionId"`
	Name                string               `json:"name"`
	SourceID            string               `json:"sourceId"`
	DestinationID       string               `json:"destinationId"`
	WorkspaceID         string               `json:"workspaceId"`
	Status              string               `json:"status"`
	Schedule            Schedule             `json:"schedule"`
	NamespaceDefinition string               `json:"namespaceDefinition,omitempty"`
	NamespaceFormat     string               `json:"namespaceFormat,omitempty"`
	Prefix              string               `json:"prefix,omitempty"`
	Configurations      StreamConfigurations `json:"configurations"`
	CreatedAt           int64                `json:"createdAt"`
}

// Connection statuses.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// Schedule says when a connection syncs: "manual", or "cron" with a Quartz
// cron expression ("basic" is reported for schedules made in the UI).
type Schedule struct {
	ScheduleType   string `json:"scheduleType"`
	CronExpression string `json:"cronExpression,omitempty"`
	BasicTiming    string `json:"basicTiming,omitempty"`
}

// Schedule types.
const (
	ScheduleManual = "manual"
	ScheduleCron   = "cron"
)

// StreamConfigurations lists a connection's configured streams.
type StreamConfigurations struct {
	Streams []StreamConfiguration `json:"streams"`
}

// StreamConfiguration is one stream of a connection. SyncMode is one of
// Airbyte's: full_refresh_overwrite, full_refresh_append,
// incremental_append, incremental_deduped_history, ...
type StreamConfiguration struct {
	Name           string          `json:"name"`
	Namespace      string          `json:"namespace,omitempty"`
	SyncMode       string          `json:"syncMode,omitempty"`
	CursorField    []string        `json:"cursorField,omitempty"`
	PrimaryKey     [][]string      `json:"primaryKey,omitempty"`
	SelectedFields []SelectedField `json:"selectedFields,omitempty"`
}

// SelectedField is the path of one field a stream syncs.
type SelectedField struct {
	FieldPath []string `json:"fieldPath"`
}

// ConnectionCreate is the body that creates a connection.
type ConnectionCreate struct {
	Name                string                `json:"name,omitempty"`
	SourceID            string                `json:"sourceId"`
	DestinationID       string                `json:"destinationId"`
	Configurations      *StreamConfigurations `json:"configurations,omitempty"`
	Schedule            *Schedule             `json:"schedule,omitempty"`
	NamespaceDefinition string                `json:"namespaceDefinition,omitempty"`
	NamespaceFormat     string                `json:"namespaceFormat,omitempty"`
	Prefix              string                `json:"prefix,omitempty"`
	Status              string                `json:"status,omitempty"`
}

// ConnectionPatch is the body that updates a connection; nil fields stay
// as they are.
type ConnectionPatch struct {
	Name                *string               `json:"name,omitempty"`
	Configurations      *StreamConfigurations `json:"configurations,omitempty"`
	Schedule            *Schedule             `json:"schedule,omitempty"`
	NamespaceDefinition *string               `json:"namespaceDefinition,omitempty"`
	NamespaceFormat     *string               `json:"namespaceFormat,omitempty"`
	Prefix              *string               `json:"prefix,omitempty"`
	Status              *string               `json:"status,omitempty"`
}

// Job is a sync, reset, refresh or clear of a connection.
type Job struct {
	ID            int64     `json:"jobId"`
	Status        JobStatus `json:"status"`
	JobType       JobType   `json:"jobType"`
	StartTime     string    `json:"startTime"`
	ConnectionID  string    `json:"connectionId"`
	LastUpdatedAt string    `json:"lastUpdatedAt,omitempty"`
	Duration      string    `json:"duration,omitempty"`
	BytesSynced   int64     `json:"bytesSynced,omitempty"`
	RowsSynced    int64     `json:"rowsSynced,omitempty"`
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

// Terminal reports whether the job is over. A status this client does not
// know counts as still running.
func (s JobStatus) Terminal() bool {
	return s == JobSucceeded || s == JobFailed || s == JobCancelled
}

// JobFilter narrows ListJobs. Zero fields do not filter.
type JobFilter struct {
	ConnectionID string
	JobType      JobType
	Status       JobStatus
	// OrderBy is "field|ASC" or "field|DESC", such as "createdAt|DESC".
	OrderBy string
}

// Failure is why a job attempt failed, from the Configuration API.
type Failure struct {
	Origin   string `json:"failureOrigin,omitempty"` // source, destination, replication, ...
	Type     string `json:"failureType,omitempty"`   // config_error, system_error, ...
	Message  string `json:"externalMessage,omitempty"`
	Internal string `json:"internalMessage,omitempty"`
	Stream   string `json:"-"`
}

// Attempt is one try of a job, from the Configuration API.
type Attempt struct {
	ID       int64
	Status   string // running, failed or succeeded
	Records  int64
	Bytes    int64
	Failures []Failure
}
