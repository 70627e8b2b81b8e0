package airbyteapi

// The types below mirror the public API's JSON objects, field for field, for
// the parts this client uses.

// Workspace is an Airbyte workspace.
type Workspace struct {
	// ID is the workspace's UUID, what the workspaceID arguments of the
	// Client's methods take.
	ID string `json:"workspaceId"`
	// Name is the workspace's display name.
	Name string `json:"name"`
	// DataResidency is the region the workspace's data is processed in,
	// such as "auto"; informational only.
	DataResidency string `json:"dataResidency,omitempty"`
}

// Definition is a connector definition (a source or destination type).
type Definition struct {
	// ID is the definition's UUID, what ActorCreate.DefinitionID takes.
	ID string `json:"id"`
	// Name is the connector's display name, such as "Postgres".
	Name string `json:"name"`
	// DockerRepository is the connector's image without a tag, such as
	// "airbyte/source-faker"; FindDefinition matches on it.
	DockerRepository string `json:"dockerRepository"`
	// DockerImageTag is the image tag, that is the connector version the
	// workspace runs, such as "6.2.1".
	DockerImageTag string `json:"dockerImageTag"`
	// DocumentationURL links to the connector's documentation; empty when
	// the definition has none.
	DocumentationURL string `json:"documentationUrl,omitempty"`
}

// Source is a configured source. Secret fields of Configuration come back
// masked as [Mask].
type Source struct {
	// ID is the source's UUID.
	ID string `json:"sourceId"`
	// Name is the source's display name.
	Name string `json:"name"`
	// SourceType is the connector's short type name, such as "postgres".
	SourceType string `json:"sourceType"`
	// DefinitionID is the UUID of the connector definition the source
	// runs (a Definition's ID).
	DefinitionID string `json:"definitionId"`
	// WorkspaceID is the UUID of the workspace the source belongs to.
	WorkspaceID string `json:"workspaceId"`
	// Configuration is the connector config, a JSON object that follows
	// the definition's spec (SourceSpec); secret values read as Mask.
	Configuration map[string]any `json:"configuration"`
	// CreatedAt is when the source was created, in Unix seconds.
	CreatedAt int64 `json:"createdAt"`
}

// Destination is a configured destination. Secret fields of Configuration
// come back masked as [Mask].
type Destination struct {
	// ID is the destination's UUID.
	ID string `json:"destinationId"`
	// Name is the destination's display name.
	Name string `json:"name"`
	// DestinationType is the connector's short type name, such as "duckdb".
	DestinationType string `json:"destinationType"`
	// DefinitionID is the UUID of the connector definition the destination
	// runs (a Definition's ID).
	DefinitionID string `json:"definitionId"`
	// WorkspaceID is the UUID of the workspace the destination belongs to.
	WorkspaceID string `json:"workspaceId"`
	// Configuration is the connector config, a JSON object that follows
	// the definition's spec (DestinationSpec); secret values read as Mask.
	Configuration map[string]any `json:"configuration"`
	// CreatedAt is when the destination was created, in Unix seconds.
	CreatedAt int64 `json:"createdAt"`
}

// Mask is what the server returns in place of a secret config value;
// sending it back in an update keeps the stored secret.
const Mask = "**********"

// ActorCreate is the body that creates a source or destination.
type ActorCreate struct {
	// Name is the new source's or destination's name. After an ambiguous
	// failure the client looks for what it created by this name, so keep
	// it unique in the workspace.
	Name string `json:"name"`
	// DefinitionID is the UUID of the connector definition to run; when
	// empty, Configuration must name the connector in its sourceType or
	// destinationType key.
	DefinitionID string `json:"definitionId,omitempty"`
	// WorkspaceID is the UUID of the workspace to create it in.
	WorkspaceID string `json:"workspaceId"`
	// Configuration is the connector config, a JSON object that must
	// validate against the definition's spec (SourceSpec, DestinationSpec).
	Configuration map[string]any `json:"configuration"`
}

// ActorPatch is the body that updates a source or destination; nil fields
// stay as they are.
type ActorPatch struct {
	// Name is the new name; nil keeps the current one.
	Name *string `json:"name,omitempty"`
	// Configuration, when not nil, is merged into the stored config: its
	// fields replace the stored ones (objects field by field), fields it
	// leaves out keep their values, and a secret given as Mask keeps its
	// stored value. To remove a field, use ActorPut.
	Configuration map[string]any `json:"configuration,omitempty"`
}

// ActorPut is the body that replaces a source's or destination's name and
// config; both are required.
type ActorPut struct {
	// Name is the name, the current one to keep it.
	Name string `json:"name"`
	// Configuration is the whole connector config; a secret given as Mask
	// keeps its stored value.
	Configuration map[string]any `json:"configuration"`
}

// Connection is a connection between a source and a destination.
type Connection struct {
	// ID is the connection's UUID, what CreateJob and the other
	// connection methods take.
	ID string `json:"connectionId"`
	// Name is the connection's display name.
	Name string `json:"name"`
	// SourceID is the UUID of the source the connection reads from.
	SourceID string `json:"sourceId"`
	// DestinationID is the UUID of the destination it writes to.
	DestinationID string `json:"destinationId"`
	// WorkspaceID is the UUID of the workspace it belongs to.
	WorkspaceID string `json:"workspaceId"`
	// Status is StatusActive or StatusInactive (paused); the server may
	// also report "deprecated" or "locked".
	Status string `json:"status"`
	// Schedule says when the connection syncs by itself.
	Schedule Schedule `json:"schedule"`
	// NamespaceDefinition says where the destination writes the streams:
	// "source" (the source's namespace), "destination" (the destination's
	// default) or "custom_format" (NamespaceFormat).
	NamespaceDefinition string `json:"namespaceDefinition,omitempty"`
	// NamespaceFormat is the namespace template used with "custom_format";
	// ${SOURCE_NAMESPACE} in it stands for the stream's source namespace.
	NamespaceFormat string `json:"namespaceFormat,omitempty"`
	// Prefix is put before every stream's name in the destination, such
	// as "faker_"; empty for none.
	Prefix string `json:"prefix,omitempty"`
	// Configurations are the streams the connection syncs and how.
	Configurations StreamConfigurations `json:"configurations"`
	// CreatedAt is when the connection was created, in Unix seconds.
	CreatedAt int64 `json:"createdAt"`
}

// Connection statuses.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// Schedule says when a connection syncs: "manual", or "cron" with a Quartz
// cron expression ("basic" is reported for schedules made in the UI).
type Schedule struct {
	// ScheduleType is ScheduleManual or ScheduleCron; a connection read
	// back may also say "basic".
	ScheduleType string `json:"scheduleType"`
	// CronExpression is the Quartz expression (seconds first, such as
	// "0 0 * * * ?") of a ScheduleCron schedule; empty otherwise.
	CronExpression string `json:"cronExpression,omitempty"`
	// BasicTiming describes a "basic" schedule's interval as text. The
	// server fills it; requests leave it empty.
	BasicTiming string `json:"basicTiming,omitempty"`
}

// Schedule types.
const (
	ScheduleManual = "manual"
	ScheduleCron   = "cron"
)

// StreamConfigurations lists a connection's configured streams.
type StreamConfigurations struct {
	// Streams are the selected streams; a stream of the source that is not
	// listed is not synced.
	Streams []StreamConfiguration `json:"streams"`
}

// StreamConfiguration is one stream of a connection. SyncMode is one of
// Airbyte's: full_refresh_overwrite, full_refresh_append,
// incremental_append, incremental_deduped_history, ...
type StreamConfiguration struct {
	// Name is the stream's name in the source's catalog.
	Name string `json:"name"`
	// Namespace is the stream's namespace in the source; empty when the
	// source has none.
	Namespace string `json:"namespace,omitempty"`
	// SyncMode is how the stream is read and written (see above); empty
	// lets the server choose.
	SyncMode string `json:"syncMode,omitempty"`
	// CursorField is the path of the field whose growth marks new records
	// for the incremental modes; nil uses the source's default cursor.
	CursorField []string `json:"cursorField,omitempty"`
	// PrimaryKey lists the paths of the key's fields, one []string per
	// field; the deduped modes need it unless the source defines one.
	PrimaryKey [][]string `json:"primaryKey,omitempty"`
	// SelectedFields restricts the sync to these fields; nil syncs them
	// all.
	SelectedFields []SelectedField `json:"selectedFields,omitempty"`
}

// SelectedField is the path of one field a stream syncs.
type SelectedField struct {
	// FieldPath names the field from the record's top level, one element
	// per nesting level: ["id"], or ["address", "city"] for a nested one.
	FieldPath []string `json:"fieldPath"`
}

// ConnectionCreate is the body that creates a connection.
type ConnectionCreate struct {
	// Name is the connection's name, optional. After an ambiguous failure
	// the connection is found again by source, destination and name.
	Name string `json:"name,omitempty"`
	// SourceID is the UUID of the source to read from.
	SourceID string `json:"sourceId"`
	// DestinationID is the UUID of the destination to write to.
	DestinationID string `json:"destinationId"`
	// Configurations selects the streams; nil selects every stream of the
	// source with the server's default settings.
	Configurations *StreamConfigurations `json:"configurations,omitempty"`
	// Schedule says when the connection syncs by itself; nil leaves it to
	// the server (manual).
	Schedule *Schedule `json:"schedule,omitempty"`
	// NamespaceDefinition is "source", "destination" or "custom_format"
	// (see Connection); empty means "destination".
	NamespaceDefinition string `json:"namespaceDefinition,omitempty"`
	// NamespaceFormat is the namespace template for "custom_format", with
	// ${SOURCE_NAMESPACE} standing for the stream's source namespace.
	NamespaceFormat string `json:"namespaceFormat,omitempty"`
	// Prefix is put before every stream's name in the destination; empty
	// for none.
	Prefix string `json:"prefix,omitempty"`
	// Status is StatusActive or StatusInactive; empty means active.
	Status string `json:"status,omitempty"`
}

// ConnectionPatch is the body that updates a connection; nil fields stay
// as they are.
type ConnectionPatch struct {
	// Name is the new name; nil keeps the current one.
	Name *string `json:"name,omitempty"`
	// Configurations, when not nil, replaces the stream selection: streams
	// it does not list stop syncing.
	Configurations *StreamConfigurations `json:"configurations,omitempty"`
	// Schedule is the new schedule; nil keeps the current one.
	Schedule *Schedule `json:"schedule,omitempty"`
	// NamespaceDefinition is "source", "destination" or "custom_format";
	// nil keeps the current one.
	NamespaceDefinition *string `json:"namespaceDefinition,omitempty"`
	// NamespaceFormat is the template for "custom_format"; nil keeps the
	// current one.
	NamespaceFormat *string `json:"namespaceFormat,omitempty"`
	// Prefix is the new table name prefix; nil keeps the current one, a
	// pointer to "" removes it.
	Prefix *string `json:"prefix,omitempty"`
	// Status is StatusActive or StatusInactive (pause); nil keeps it.
	Status *string `json:"status,omitempty"`
}

// Job is a sync, reset, refresh or clear of a connection.
type Job struct {
	// ID is the job's number, what Job, CancelJob and Attempts take.
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
	// ConnectionID keeps the jobs of this connection (a UUID).
	ConnectionID string
	// JobType keeps the jobs of this kind, one of the JobType* values;
	// without it Airbyte lists sync and reset jobs only.
	JobType JobType
	// Status keeps the jobs in this state, one of the Job* statuses.
	Status JobStatus
	// OrderBy is "field|ASC" or "field|DESC", such as "createdAt|DESC".
	OrderBy string
}

// Failure is why a job attempt failed, from the Configuration API.
type Failure struct {
	Origin string `json:"failureOrigin,omitempty"` // source, destination, replication, ...
	Type   string `json:"failureType,omitempty"`   // config_error, system_error, ...
	// Message explains the failure to the user.
	Message string `json:"externalMessage,omitempty"`
	// Internal is the technical detail meant for debugging, such as an
	// exception's message; often empty.
	Internal string `json:"internalMessage,omitempty"`
	// Stream is the name of the stream the failure concerns; empty when
	// it concerns no single stream.
	Stream string `json:"-"`
}

// Attempt is one try of a job, from the Configuration API.
type Attempt struct {
	// ID is the attempt's number within its job, counting from 0.
	ID     int64
	Status string // running, failed or succeeded
	// Records is how many records the attempt synced.
	Records int64
	// Bytes is how many bytes the attempt synced.
	Bytes int64
	// Failures are why the attempt failed; nil when it reports no
	// failure.
	Failures []Failure
}
