package protocol

import "encoding/json"

// Type is the "type" of an [Message]: which one of its payload fields is set.
type Type string

// The message types of the Airbyte protocol.
const (
	TypeRecord             Type = "RECORD"
	TypeState              Type = "STATE"
	TypeLog                Type = "LOG"
	TypeSpec               Type = "SPEC"
	TypeConnectionStatus   Type = "CONNECTION_STATUS"
	TypeCatalog            Type = "CATALOG"
	TypeTrace              Type = "TRACE"
	TypeControl            Type = "CONTROL"
	TypeDestinationCatalog Type = "DESTINATION_CATALOG"
)

// known reports whether t is one of the protocol's message types.
func (t Type) known() bool {
	switch t {
	case TypeRecord, TypeState, TypeLog, TypeSpec, TypeConnectionStatus, TypeCatalog,
		TypeTrace, TypeControl, TypeDestinationCatalog:
		return true
	}
	return false
}

// Message is one line of the protocol: an AirbyteMessage. Exactly the payload
// field that matches Type is set.
type Message struct {
	// Type says which payload field below is set, one of the Type constants
	// (TypeRecord, TypeState, ...); empty when Unparsed is set.
	Type Type `json:"type"`
	// Log is set for TypeLog: a log line from the connector.
	Log *Log `json:"log,omitempty"`
	// Spec is set for TypeSpec: the connector's answer to spec.
	Spec *ConnectorSpecification `json:"spec,omitempty"`
	// ConnectionStatus is set for TypeConnectionStatus: the outcome of check.
	ConnectionStatus *ConnectionStatus `json:"connectionStatus,omitempty"`
	// Catalog is set for TypeCatalog: the streams discover found.
	Catalog *Catalog `json:"catalog,omitempty"`
	// Record is set for TypeRecord: one row of a stream.
	Record *Record `json:"record,omitempty"`
	// State is set for TypeState: a checkpoint covering the records emitted
	// before it.
	State *State `json:"state,omitempty"`
	// Trace is set for TypeTrace: an error, an estimate, a stream status or an
	// analytics event.
	Trace *Trace `json:"trace,omitempty"`
	// Control is set for TypeControl: a request to the platform, today only to
	// persist an updated config.
	Control *Control `json:"control,omitempty"`
	// DestinationCatalog is set for TypeDestinationCatalog: the operations a
	// destination offers.
	DestinationCatalog *DestinationCatalog `json:"destination_catalog,omitempty"`

	// Unparsed holds a line of connector output that is not a protocol
	// message (plain text, malformed JSON, an unknown type). Type is empty
	// then. The Decoder never fails on such lines; callers usually log them.
	Unparsed []byte `json:"-"`
	// Malformed is set on an Unparsed line that begins like a RECORD or a
	// STATE message but does not parse: a protocol error, not chatter.
	Malformed *MalformedLine `json:"-"`
	// Raw is the line the message was decoded from, kept only when it has
	// fields this package does not model (unknown top-level fields, or
	// unknown fields of a record), so that forwarding the message to a
	// destination keeps them. Raw is not updated when the message is.
	Raw []byte `json:"-"`
}

// MalformedLine describes a line of connector output that looks like a
// RECORD or STATE message and does not parse (nested beyond the decoder's
// depth, a raw control byte in a string, bytes after the JSON, ...).
type MalformedLine struct {
	// Type is the message type the line claims (RECORD or STATE).
	Type Type
	// Stream is the stream the line names, "" when it names none that can
	// be read.
	Stream string
	// Line is the line's number in the connector's output (1-based), 0
	// when the line was parsed on its own.
	Line int64
	// Err is why it does not parse.
	Err error
}

// isProtocol reports whether m is a protocol message rather than an
// unparsed line of connector output.
func (m *Message) isProtocol() bool { return m.Unparsed == nil && m.Type.known() }

// Record is an AirbyteRecordMessage: one row of a stream. Data is kept as raw
// JSON, byte for byte as the connector wrote it.
type Record struct {
	// Namespace is the stream's namespace (a database schema, say); "" when it
	// has none.
	Namespace string `json:"namespace,omitempty"`
	// Stream names the stream the row belongs to, as in the catalog.
	Stream string `json:"stream"`
	// Data is the row, a raw JSON object kept byte for byte; the Decoder only
	// replaces invalid UTF-8 with U+FFFD.
	Data json.RawMessage `json:"data"`
	// EmittedAt is when the source emitted the row, in epoch milliseconds; the
	// Decoder converts seconds and fractions. 0 means unknown.
	EmittedAt int64 `json:"emitted_at"`
	// Meta records changes made to the row during the sync; nil when there were
	// none.
	Meta *RecordMeta `json:"meta,omitempty"`
	// FileReference locates the file the row describes, for a file-based
	// stream; nil otherwise.
	FileReference *FileReference `json:"file_reference,omitempty"`
}

// RecordMeta is information about a record added mid-sync.
type RecordMeta struct {
	// Changes lists the fields that were altered during the sync, with what
	// happened and why.
	Changes []RecordMetaChange `json:"changes,omitempty"`
}

// Change is what happened to a field of a record.
type Change string

// The changes a record's field can undergo.
const (
	ChangeNulled    Change = "NULLED"
	ChangeTruncated Change = "TRUNCATED"
)

// ChangeReason says why a field of a record changed.
type ChangeReason string

// The reasons of AirbyteRecordMessageMetaChange.
const (
	ReasonSourceRecordSizeLimitation      ChangeReason = "SOURCE_RECORD_SIZE_LIMITATION"
	ReasonDestinationRecordSizeLimitation ChangeReason = "DESTINATION_RECORD_SIZE_LIMITATION"
	ReasonPlatformRecordSizeLimitation    ChangeReason = "PLATFORM_RECORD_SIZE_LIMITATION"
	ReasonSourceFieldSizeLimitation       ChangeReason = "SOURCE_FIELD_SIZE_LIMITATION"
	ReasonDestinationFieldSizeLimitation  ChangeReason = "DESTINATION_FIELD_SIZE_LIMITATION"
	ReasonPlatformFieldSizeLimitation     ChangeReason = "PLATFORM_FIELD_SIZE_LIMITATION"
	ReasonSourceSerializationError        ChangeReason = "SOURCE_SERIALIZATION_ERROR"
	ReasonDestinationSerializationError   ChangeReason = "DESTINATION_SERIALIZATION_ERROR"
	ReasonPlatformSerializationError      ChangeReason = "PLATFORM_SERIALIZATION_ERROR"
	ReasonSourceRetrievalError            ChangeReason = "SOURCE_RETRIEVAL_ERROR"
	ReasonDestinationTypecastError        ChangeReason = "DESTINATION_TYPECAST_ERROR"
)

// RecordMetaChange is one change to one field of a record.
type RecordMetaChange struct {
	// Field names the record's field that was altered.
	Field string `json:"field"`
	// Change is what was done to the field: ChangeNulled or ChangeTruncated.
	Change Change `json:"change"`
	// Reason is why, one of the Reason constants (e.g.
	// ReasonSourceFieldSizeLimitation).
	Reason ChangeReason `json:"reason"`
}

// FileReference points at the file a record of a file-based stream describes.
type FileReference struct {
	// StagingFileURL is the file's absolute path in the staging area, despite
	// the name a path rather than a URL.
	StagingFileURL string `json:"staging_file_url,omitempty"`
	// SourceFileRelativePath is the file's path in the source, relative to the
	// source's root.
	SourceFileRelativePath string `json:"source_file_relative_path,omitempty"`
	// FileSizeBytes is the file's size in bytes; nil when not reported.
	FileSizeBytes *int64 `json:"file_size_bytes,omitempty"`
}

// StateType is the kind of a STATE message.
type StateType string

// The state types. An absent type means LEGACY.
const (
	StateGlobal StateType = "GLOBAL"
	StateStream StateType = "STREAM"
	StateLegacy StateType = "LEGACY"
)

// State is an AirbyteStateMessage. Blobs (stream_state, shared_state and the
// legacy data) are kept raw and round-trip byte for byte.
type State struct {
	// Type says which field holds the state: StateStream (Stream), StateGlobal
	// (Global) or StateLegacy (Data). Empty means LEGACY; see EffectiveType.
	Type StateType `json:"type,omitempty"`
	// Stream is one stream's state, set for StateStream.
	Stream *StreamState `json:"stream,omitempty"`
	// Global is the shared state plus each stream's own, set for StateGlobal.
	Global *GlobalState `json:"global,omitempty"`
	// Data is the deprecated LEGACY state, an opaque blob kept raw; nil for the
	// other types.
	Data json.RawMessage `json:"data,omitempty"`
	// SourceStats counts the records the source emitted before this state; nil
	// when not reported.
	SourceStats *StateStats `json:"sourceStats,omitempty"`
	// DestinationStats counts the records a destination took in before this
	// state, set when it echoes the state back; nil otherwise.
	DestinationStats *StateStats `json:"destinationStats,omitempty"`
}

// EffectiveType is the state's type with the protocol's default applied: a
// message without a type is LEGACY.
func (s *State) EffectiveType() StateType {
	if s.Type == "" {
		return StateLegacy
	}
	return s.Type
}

// StreamState is the state of one stream.
type StreamState struct {
	// StreamDescriptor names the stream the state belongs to.
	StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
	// StreamState is the stream's opaque state blob, kept raw; nil when absent.
	StreamState json.RawMessage `json:"stream_state,omitempty"`
}

// GlobalState is the state shared by all streams, plus each stream's own.
type GlobalState struct {
	// SharedState is the state common to all streams (a CDC log position, say),
	// kept raw; nil when absent.
	SharedState json.RawMessage `json:"shared_state,omitempty"`
	// StreamStates holds each stream's own state, next to the shared one.
	StreamStates []StreamState `json:"stream_states"`
}

// StreamDescriptor names a stream, optionally within a namespace.
type StreamDescriptor struct {
	// Name is the stream's name as the catalog gives it; required.
	Name string `json:"name"`
	// Namespace is the stream's namespace; "" when it has none.
	Namespace string `json:"namespace,omitempty"`
}

// StateStats counts the records a state message covers.
type StateStats struct {
	// RecordCount is how many records the state covers, for its stream or
	// globally: a whole number sent as a float. Nil when not reported.
	RecordCount *float64 `json:"recordCount,omitempty"`
	// RejectedRecordCount is how many records were rejected for this state, a
	// whole number sent as a float; nil when not reported.
	RejectedRecordCount *float64 `json:"rejectedRecordCount,omitempty"`
}

// Level is the level of a LOG message.
type Level string

// The log levels of the protocol.
const (
	LevelFatal Level = "FATAL"
	LevelError Level = "ERROR"
	LevelWarn  Level = "WARN"
	LevelInfo  Level = "INFO"
	LevelDebug Level = "DEBUG"
	LevelTrace Level = "TRACE"
)

// Log is an AirbyteLogMessage.
type Log struct {
	// Level is the severity, one of the Level constants.
	Level Level `json:"level"`
	// Message is the text of the log line.
	Message string `json:"message"`
	// StackTrace is the stack of the exception the line reports; "" when none.
	StackTrace string `json:"stack_trace,omitempty"`
}

// TraceType is the kind of a TRACE message.
type TraceType string

// The trace types.
const (
	TraceError        TraceType = "ERROR"
	TraceEstimate     TraceType = "ESTIMATE"
	TraceStreamStatus TraceType = "STREAM_STATUS"
	TraceAnalytics    TraceType = "ANALYTICS"
)

// Trace is an AirbyteTraceMessage. EmittedAt is in milliseconds.
type Trace struct {
	// Type says which payload is set: TraceError, TraceEstimate,
	// TraceStreamStatus or TraceAnalytics.
	Type TraceType `json:"type"`
	// EmittedAt is when the trace was emitted, in epoch milliseconds (the
	// Decoder converts seconds); a float64 because the protocol says number.
	EmittedAt float64 `json:"emitted_at"`
	// Error is set for TraceError: a failure of the connector or of one stream.
	Error *ErrorTrace `json:"error,omitempty"`
	// Estimate is set for TraceEstimate: how much data the sync is expected to
	// produce.
	Estimate *EstimateTrace `json:"estimate,omitempty"`
	// StreamStatus is set for TraceStreamStatus: where a stream is in the sync.
	StreamStatus *StreamStatusTrace `json:"stream_status,omitempty"`
	// Analytics is set for TraceAnalytics: a connector-specific usage event.
	Analytics *AnalyticsTrace `json:"analytics,omitempty"`
}

// FailureType classifies a TRACE ERROR.
type FailureType string

// The failure types.
const (
	FailureSystem    FailureType = "system_error"
	FailureConfig    FailureType = "config_error"
	FailureTransient FailureType = "transient_error"
)

// ErrorTrace is an AirbyteErrorTraceMessage.
type ErrorTrace struct {
	// Message explains the failure to the user; required.
	Message string `json:"message"`
	// InternalMessage is the underlying technical error, for developers; ""
	// when none.
	InternalMessage string `json:"internal_message,omitempty"`
	// StackTrace is the error's full stack trace; "" when none.
	StackTrace string `json:"stack_trace,omitempty"`
	// FailureType classifies the error: FailureSystem, FailureConfig or
	// FailureTransient; "" when not given.
	FailureType FailureType `json:"failure_type,omitempty"`
	// StreamDescriptor names the stream that failed; nil when the error is not
	// tied to one.
	StreamDescriptor *StreamDescriptor `json:"stream_descriptor,omitempty"`
}

// EstimateType says whether an estimate is for one stream or the whole sync.
type EstimateType string

// The estimate types.
const (
	EstimateStream EstimateType = "STREAM"
	EstimateSync   EstimateType = "SYNC"
)

// EstimateTrace is an AirbyteEstimateTraceMessage.
type EstimateTrace struct {
	// Name names the stream the estimate is for.
	Name string `json:"name"`
	// Type is EstimateStream for one stream, or EstimateSync for the whole sync
	// (sources that cannot attribute records to streams in advance).
	Type EstimateType `json:"type"`
	// Namespace is the stream's namespace; "" when it has none.
	Namespace string `json:"namespace,omitempty"`
	// RowEstimate is how many rows this sync is expected to emit; nil when not
	// estimated.
	RowEstimate *int64 `json:"row_estimate,omitempty"`
	// ByteEstimate is how many bytes this sync is expected to emit; nil when
	// not estimated.
	ByteEstimate *int64 `json:"byte_estimate,omitempty"`
}

// StreamStatus is the status of a stream within a sync.
type StreamStatus string

// The stream statuses.
const (
	StatusStarted    StreamStatus = "STARTED"
	StatusRunning    StreamStatus = "RUNNING"
	StatusComplete   StreamStatus = "COMPLETE"
	StatusIncomplete StreamStatus = "INCOMPLETE"
)

// StreamStatusTrace is an AirbyteStreamStatusTraceMessage.
type StreamStatusTrace struct {
	// StreamDescriptor names the stream whose status this is.
	StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
	// Status is where the stream is: StatusStarted, StatusRunning,
	// StatusComplete or StatusIncomplete.
	Status StreamStatus `json:"status"`
	// Reasons explain the status (rate limiting, say); empty when none are
	// given.
	Reasons []StreamStatusReason `json:"reasons,omitempty"`
}

// StreamStatusReason says why a stream has its status.
type StreamStatusReason struct {
	// Type is the kind of reason; the protocol defines only "RATE_LIMITED".
	Type string `json:"type"`
	// RateLimited details a RATE_LIMITED reason; nil otherwise.
	RateLimited *RateLimitedReason `json:"rate_limited,omitempty"`
}

// RateLimitedReason tells when a rate-limited stream's quota resets.
type RateLimitedReason struct {
	// QuotaReset is when the API quota resets, in epoch milliseconds; nil when
	// unknown.
	QuotaReset *int64 `json:"quota_reset,omitempty"`
}

// AnalyticsTrace is an AirbyteAnalyticsTraceMessage.
type AnalyticsTrace struct {
	// Type names the event, a fixed string shared by all connectors (e.g.
	// "mongodb-cluster-version").
	Type string `json:"type"`
	// Value is the event's optional payload, any string (numbers written as
	// text); "" when absent.
	Value string `json:"value,omitempty"`
}

// ControlType is the kind of a CONTROL message.
type ControlType string

// ControlConnectorConfig is the only control type: the connector updated its config.
const ControlConnectorConfig ControlType = "CONNECTOR_CONFIG"

// Control is an AirbyteControlMessage.
type Control struct {
	// Type is the kind of control message; ControlConnectorConfig is the only
	// one.
	Type ControlType `json:"type"`
	// EmittedAt is when the message was emitted, in epoch milliseconds (the
	// Decoder converts seconds).
	EmittedAt float64 `json:"emitted_at"`
	// ConnectorConfig is set for ControlConnectorConfig: the config to persist.
	ConnectorConfig *ControlConnectorConfigMessage `json:"connectorConfig,omitempty"`
}

// ControlConnectorConfigMessage carries a connector's updated config.
type ControlConnectorConfigMessage struct {
	// Config is the connector's updated config, a raw JSON object to store in
	// place of the old one.
	Config json.RawMessage `json:"config"`
}

// ConnectionStatusValue is the outcome of a check.
type ConnectionStatusValue string

// The check outcomes.
const (
	StatusSucceeded ConnectionStatusValue = "SUCCEEDED"
	StatusFailed    ConnectionStatusValue = "FAILED"
)

// ConnectionStatus is an AirbyteConnectionStatus, the answer to check.
type ConnectionStatus struct {
	// Status is the check's outcome: StatusSucceeded or StatusFailed.
	Status ConnectionStatusValue `json:"status"`
	// Message tells the user why a check failed; often "" on success.
	Message string `json:"message,omitempty"`
}

// SyncMode is how a source reads a stream.
type SyncMode string

// The sync modes.
const (
	SyncFullRefresh SyncMode = "full_refresh"
	SyncIncremental SyncMode = "incremental"
)

// DestinationSyncMode is how a destination writes a stream.
type DestinationSyncMode string

// The destination sync modes.
const (
	DestinationAppend      DestinationSyncMode = "append"
	DestinationOverwrite   DestinationSyncMode = "overwrite"
	DestinationAppendDedup DestinationSyncMode = "append_dedup"
	DestinationUpdate      DestinationSyncMode = "update"
	DestinationSoftDelete  DestinationSyncMode = "soft_delete"
)

// Catalog is an AirbyteCatalog, the answer to discover.
type Catalog struct {
	// Streams lists every stream the source can read.
	Streams []Stream `json:"streams"`
}

// Stream is an AirbyteStream. JSONSchema is kept raw.
type Stream struct {
	// Name identifies the stream within its namespace (e.g. "users").
	Name string `json:"name"`
	// JSONSchema is the JSON Schema of the stream's records, kept raw.
	JSONSchema json.RawMessage `json:"json_schema"`
	// SupportedSyncModes lists the SyncMode values the stream can be read in,
	// at least one; see Supports.
	SupportedSyncModes []SyncMode `json:"supported_sync_modes"`
	// SourceDefinedCursor, when true, means the source chooses the cursor and
	// ignores a configured one; nil means not said.
	SourceDefinedCursor *bool `json:"source_defined_cursor,omitempty"`
	// DefaultCursorField is the field path the source suggests as the
	// incremental cursor; empty when the user must pick one.
	DefaultCursorField []string `json:"default_cursor_field,omitempty"`
	// SourceDefinedPrimaryKey is the primary key the source declares, one field
	// path per key column; empty when the user must pick one.
	SourceDefinedPrimaryKey [][]string `json:"source_defined_primary_key,omitempty"`
	// Namespace is the source's namespace for the stream (a database schema,
	// say); "" when none.
	Namespace string `json:"namespace,omitempty"`
	// IsResumable says whether an interrupted read can resume from state (true
	// for incremental streams); nil means false.
	IsResumable *bool `json:"is_resumable,omitempty"`
	// IsFileBased marks a stream whose records describe files (see
	// Record.FileReference); nil means false.
	IsFileBased *bool `json:"is_file_based,omitempty"`
}

// ConfiguredCatalog is a ConfiguredAirbyteCatalog: the streams to read and how.
type ConfiguredCatalog struct {
	// Streams lists the streams to sync, each with its modes.
	Streams []ConfiguredStream `json:"streams"`
}

// ConfiguredStream is a ConfiguredAirbyteStream.
type ConfiguredStream struct {
	// Stream is the stream as discover described it.
	Stream Stream `json:"stream"`
	// SyncMode is how to read the stream: SyncFullRefresh or SyncIncremental.
	SyncMode SyncMode `json:"sync_mode"`
	// CursorField is the field path whose value tells new or changed records
	// apart; required for SyncIncremental, ignored otherwise.
	CursorField []string `json:"cursor_field,omitempty"`
	// DestinationSyncMode is how the destination writes the stream, one of the
	// DestinationSyncMode constants.
	DestinationSyncMode DestinationSyncMode `json:"destination_sync_mode"`
	// DestinationObjectName names the destination object to write the stream to
	// (see DestinationOperation.ObjectName); "" when not chosen.
	DestinationObjectName string `json:"destination_object_name,omitempty"`
	// PrimaryKey is the key, one field path per key column; required for
	// DestinationAppendDedup, ignored otherwise.
	PrimaryKey [][]string `json:"primary_key,omitempty"`
	// GenerationID is the stream's generation, which grows with each refresh
	// and may span syncs; nil when the platform does no refreshes.
	GenerationID *int64 `json:"generation_id,omitempty"`
	// MinimumGenerationID is the oldest generation to keep: the destination
	// deletes older data, nothing when 0; nil as for GenerationID.
	MinimumGenerationID *int64 `json:"minimum_generation_id,omitempty"`
	// SyncID identifies this sync, increasing from one sync to the next; nil as
	// for GenerationID.
	SyncID *int64 `json:"sync_id,omitempty"`
	// IncludeFiles asks a file-based stream to sync the files themselves too;
	// ignored for other streams.
	IncludeFiles *bool `json:"include_files,omitempty"`
}

// DestinationCatalog lists the operations a destination can perform.
type DestinationCatalog struct {
	// Operations lists what the destination can do, one entry per object and
	// sync mode.
	Operations []DestinationOperation `json:"operations"`
}

// DestinationOperation is one operation on a destination object.
type DestinationOperation struct {
	// ObjectName names the destination object (a table or an API entity, say)
	// the operation writes to.
	ObjectName string `json:"object_name"`
	// SyncMode is how the operation writes, one of the DestinationSyncMode
	// constants.
	SyncMode DestinationSyncMode `json:"sync_mode"`
	// JSONSchema is the JSON Schema of the records the object accepts, kept
	// raw.
	JSONSchema json.RawMessage `json:"json_schema"`
	// MatchingKeys lists the keys that can match a record in the object, each a
	// field path into nested data.
	MatchingKeys [][]string `json:"matching_keys,omitempty"`
}

// ConnectorSpecification is the answer to spec. ConnectionSpecification (the
// JSON schema of the connector's config) is kept raw.
type ConnectorSpecification struct {
	// DocumentationURL links to the connector's documentation; "" when none.
	DocumentationURL string `json:"documentationUrl,omitempty"`
	// ChangelogURL links to the connector's changelog; "" when none.
	ChangelogURL string `json:"changelogUrl,omitempty"`
	// ConnectionSpecification is the JSON Schema a config must satisfy, kept
	// raw; required.
	ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
	// SupportsIncremental is deprecated in favour of each stream's
	// SupportedSyncModes; nil when not said.
	SupportsIncremental *bool `json:"supportsIncremental,omitempty"`
	// SupportsNormalization says whether a destination offers normalization,
	// which needs SupportsDBT; nil means false.
	SupportsNormalization *bool `json:"supportsNormalization,omitempty"`
	// SupportsDBT says whether a destination can run dbt transformations; nil
	// means false.
	SupportsDBT *bool `json:"supportsDBT,omitempty"`
	// SupportedDestinationSyncModes lists the DestinationSyncMode values a
	// destination can write with; empty for a source.
	SupportedDestinationSyncModes []DestinationSyncMode `json:"supported_destination_sync_modes,omitempty"`
	// AuthSpecification is the deprecated OAuth description, superseded by
	// AdvancedAuth; nil when absent.
	AuthSpecification *AuthSpecification `json:"authSpecification,omitempty"`
	// AdvancedAuth describes an optional OAuth flow that fills parts of the
	// config for the user; nil when the connector has none.
	AdvancedAuth *AdvancedAuth `json:"advanced_auth,omitempty"`
	// ProtocolVersion is the Airbyte protocol version the connector speaks, a
	// SemVer string such as "0.2.0"; "" when not said.
	ProtocolVersion string `json:"protocol_version,omitempty"`
}

// AuthSpecification is the deprecated OAuth description of a spec.
type AuthSpecification struct {
	// AuthType is the kind of flow; the protocol allows only "oauth2.0".
	AuthType string `json:"auth_type,omitempty"`
	// OAuth2Specification locates the OAuth parameters; set when the connector
	// supports OAuth.
	OAuth2Specification *OAuth2Specification `json:"oauth2Specification,omitempty"`
}

// OAuth2Specification locates the OAuth parameters in a connector's config.
type OAuth2Specification struct {
	// RootObject is the path to the config object holding the OAuth parameters:
	// strings name properties, numbers index a oneOf; empty for the top level.
	RootObject []json.RawMessage `json:"rootObject,omitempty"`
	// OAuthFlowInitParameters are the paths, under RootObject, of the fields
	// needed to obtain the first tokens (an app id and secret, say).
	OAuthFlowInitParameters [][]string `json:"oauthFlowInitParameters,omitempty"`
	// OAuthFlowOutputParameters are the paths, under RootObject, of the fields
	// a completed flow fills in, typically tokens.
	OAuthFlowOutputParameters [][]string `json:"oauthFlowOutputParameters,omitempty"`
}

// AdvancedAuth describes an advanced (OAuth) authentication flow.
type AdvancedAuth struct {
	// AuthFlowType is the kind of flow: "oauth2.0" or "oauth1.0".
	AuthFlowType string `json:"auth_flow_type,omitempty"`
	// PredicateKey is the path to the config field that decides whether the
	// flow applies; empty when there is no condition.
	PredicateKey []string `json:"predicate_key,omitempty"`
	// PredicateValue is the value the PredicateKey field must have for the flow
	// to apply.
	PredicateValue string `json:"predicate_value,omitempty"`
	// OAuthConfigSpecification describes the flow's inputs and outputs.
	OAuthConfigSpecification *OAuthConfigSpecification `json:"oauth_config_specification,omitempty"`
}

// OAuthConfigSpecification holds the JSON-schema blobs of an OAuth flow,
// kept raw.
type OAuthConfigSpecification struct {
	// OAuthUserInputFromConnectorConfigSpecification is the schema of the
	// config values the user enters that the flow also uses.
	OAuthUserInputFromConnectorConfigSpecification json.RawMessage `json:"oauth_user_input_from_connector_config_specification,omitempty"`
	// OAuthConnectorInputSpecification is the connector's own flow settings
	// (consent and token URL templates, scopes, key names), not a schema.
	OAuthConnectorInputSpecification json.RawMessage `json:"oauth_connector_input_specification,omitempty"`
	// CompleteOAuthOutputSpecification is the schema of the values the
	// provider's response yields (a refresh token, say) and their config paths.
	CompleteOAuthOutputSpecification json.RawMessage `json:"complete_oauth_output_specification,omitempty"`
	// CompleteOAuthServerInputSpecification is the schema of the settings
	// (client id and secret, say) an Airbyte admin provides.
	CompleteOAuthServerInputSpecification json.RawMessage `json:"complete_oauth_server_input_specification,omitempty"`
	// CompleteOAuthServerOutputSpecification is the part of the admin's
	// settings the connector itself needs, merged into its config at run time.
	CompleteOAuthServerOutputSpecification json.RawMessage `json:"complete_oauth_server_output_specification,omitempty"`
}
