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
	Type               Type                    `json:"type"`
	Log                *Log                    `json:"log,omitempty"`
	Spec               *ConnectorSpecification `json:"spec,omitempty"`
	ConnectionStatus   *ConnectionStatus       `json:"connectionStatus,omitempty"`
	Catalog            *Catalog                `json:"catalog,omitempty"`
	Record             *Record                 `json:"record,omitempty"`
	State              *State                  `json:"state,omitempty"`
	Trace              *Trace                  `json:"trace,omitempty"`
	Control            *Control                `json:"control,omitempty"`
	DestinationCatalog *DestinationCatalog     `json:"destination_catalog,omitempty"`

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

// IsProtocol reports whether m is a protocol message rather than an
// unparsed line of connector output.
func (m *Message) IsProtocol() bool { return m.Unparsed == nil && m.Type.known() }

// Record is an AirbyteRecordMessage: one row of a stream. Data is kept as raw
// JSON, byte for byte as the connector wrote it.
type Record struct {
	Namespace     string          `json:"namespace,omitempty"`
	Stream        string          `json:"stream"`
	Data          json.RawMessage `json:"data"`
	EmittedAt     int64           `json:"emitted_at"`
	Meta          *RecordMeta     `json:"meta,omitempty"`
	FileReference *FileReference  `json:"file_reference,omitempty"`
}

// RecordMeta is information about a record added mid-sync.
type RecordMeta struct {
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
	Field  string       `json:"field"`
	Change Change       `json:"change"`
	Reason ChangeReason `json:"reason"`
}

// FileReference points at the file a record of a file-based stream describes.
type FileReference struct {
	StagingFileURL         string `json:"staging_file_url,omitempty"`
	SourceFileRelativePath string `json:"source_file_relative_path,omitempty"`
	FileSizeBytes          *int64 `json:"file_size_bytes,omitempty"`
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
	Type             StateType       `json:"type,omitempty"`
	Stream           *StreamState    `json:"stream,omitempty"`
	Global           *GlobalState    `json:"global,omitempty"`
	Data             json.RawMessage `json:"data,omitempty"`
	SourceStats      *StateStats     `json:"sourceStats,omitempty"`
	DestinationStats *StateStats     `json:"destinationStats,omitempty"`
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
	StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
	StreamState      json.RawMessage  `json:"stream_state,omitempty"`
}

// GlobalState is the state shared by all streams, plus each stream's own.
type GlobalState struct {
	SharedState  json.RawMessage `json:"shared_state,omitempty"`
	StreamStates []StreamState   `json:"stream_states"`
}

// StreamDescriptor names a stream, optionally within a namespace.
type StreamDescriptor struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// StateStats counts the records a state message covers.
type StateStats struct {
	RecordCount         *float64 `json:"recordCount,omitempty"`
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
	Level      Level  `json:"level"`
	Message    string `json:"message"`
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
	Type         TraceType          `json:"type"`
	EmittedAt    float64            `json:"emitted_at"`
	Error        *ErrorTrace        `json:"error,omitempty"`
	Estimate     *EstimateTrace     `json:"estimate,omitempty"`
	StreamStatus *StreamStatusTrace `json:"stream_status,omitempty"`
	Analytics    *AnalyticsTrace    `json:"analytics,omitempty"`
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
	Message          string            `json:"message"`
	InternalMessage  string            `json:"internal_message,omitempty"`
	StackTrace       string            `json:"stack_trace,omitempty"`
	FailureType      FailureType       `json:"failure_type,omitempty"`
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
	Name         string       `json:"name"`
	Type         EstimateType `json:"type"`
	Namespace    string       `json:"namespace,omitempty"`
	RowEstimate  *int64       `json:"row_estimate,omitempty"`
	ByteEstimate *int64       `json:"byte_estimate,omitempty"`
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
	StreamDescriptor StreamDescriptor     `json:"stream_descriptor"`
	Status           StreamStatus         `json:"status"`
	Reasons          []StreamStatusReason `json:"reasons,omitempty"`
}

// StreamStatusReason says why a stream has its status.
type StreamStatusReason struct {
	Type        string             `json:"type"`
	RateLimited *RateLimitedReason `json:"rate_limited,omitempty"`
}

// RateLimitedReason tells when a rate-limited stream's quota resets.
type RateLimitedReason struct {
	QuotaReset *int64 `json:"quota_reset,omitempty"`
}

// AnalyticsTrace is an AirbyteAnalyticsTraceMessage.
type AnalyticsTrace struct {
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
}

// ControlType is the kind of a CONTROL message.
type ControlType string

// ControlConnectorConfig is the only control type: the connector updated its config.
const ControlConnectorConfig ControlType = "CONNECTOR_CONFIG"

// Control is an AirbyteControlMessage.
type Control struct {
	Type            ControlType                    `json:"type"`
	EmittedAt       float64                        `json:"emitted_at"`
	ConnectorConfig *ControlConnectorConfigMessage `json:"connectorConfig,omitempty"`
}

// ControlConnectorConfigMessage carries a connector's updated config.
type ControlConnectorConfigMessage struct {
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
	Status  ConnectionStatusValue `json:"status"`
	Message string                `json:"message,omitempty"`
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
	Streams []Stream `json:"streams"`
}

// Stream is an AirbyteStream. JSONSchema is kept raw.
type Stream struct {
	Name                    string          `json:"name"`
	JSONSchema              json.RawMessage `json:"json_schema"`
	SupportedSyncModes      []SyncMode      `json:"supported_sync_modes"`
	SourceDefinedCursor     *bool           `json:"source_defined_cursor,omitempty"`
	DefaultCursorField      []string        `json:"default_cursor_field,omitempty"`
	SourceDefinedPrimaryKey [][]string      `json:"source_defined_primary_key,omitempty"`
	Namespace               string          `json:"namespace,omitempty"`
	IsResumable             *bool           `json:"is_resumable,omitempty"`
	IsFileBased             *bool           `json:"is_file_based,omitempty"`
}

// Supports reports whether the stream supports the sync mode.
func (s *Stream) Supports(mode SyncMode) bool {
	for _, m := range s.SupportedSyncModes {
		if m == mode {
			return true
		}
	}
	return false
}

// ConfiguredCatalog is a ConfiguredAirbyteCatalog: the streams to read and how.
type ConfiguredCatalog struct {
	Streams []ConfiguredStream `json:"streams"`
}

// ConfiguredStream is a ConfiguredAirbyteStream.
type ConfiguredStream struct {
	Stream                Stream              `json:"stream"`
	SyncMode              SyncMode            `json:"sync_mode"`
	CursorField           []string            `json:"cursor_field,omitempty"`
	DestinationSyncMode   DestinationSyncMode `json:"destination_sync_mode"`
	DestinationObjectName string              `json:"destination_object_name,omitempty"`
	PrimaryKey            [][]string          `json:"primary_key,omitempty"`
	GenerationID          *int64              `json:"generation_id,omitempty"`
	MinimumGenerationID   *int64              `json:"minimum_generation_id,omitempty"`
	SyncID                *int64              `json:"sync_id,omitempty"`
	IncludeFiles          *bool               `json:"include_files,omitempty"`
}

// DestinationCatalog lists the operations a destination can perform.
type DestinationCatalog struct {
	Operations []DestinationOperation `json:"operations"`
}

// DestinationOperation is one operation on a destination object.
type DestinationOperation struct {
	ObjectName   string              `json:"object_name"`
	SyncMode     DestinationSyncMode `json:"sync_mode"`
	JSONSchema   json.RawMessage     `json:"json_schema"`
	MatchingKeys [][]string          `json:"matching_keys,omitempty"`
}

// ConnectorSpecification is the answer to spec. ConnectionSpecification (the
// JSON schema of the connector's config) is kept raw.
type ConnectorSpecification struct {
	DocumentationURL              string                `json:"documentationUrl,omitempty"`
	ChangelogURL                  string                `json:"changelogUrl,omitempty"`
	ConnectionSpecification       json.RawMessage       `json:"connectionSpecification"`
	SupportsIncremental           *bool                 `json:"supportsIncremental,omitempty"`
	SupportsNormalization         *bool                 `json:"supportsNormalization,omitempty"`
	SupportsDBT                   *bool                 `json:"supportsDBT,omitempty"`
	SupportedDestinationSyncModes []DestinationSyncMode `json:"supported_destination_sync_modes,omitempty"`
	AuthSpecification             *AuthSpecification    `json:"authSpecification,omitempty"`
	AdvancedAuth                  *AdvancedAuth         `json:"advanced_auth,omitempty"`
	ProtocolVersion               string                `json:"protocol_version,omitempty"`
}

// AuthSpecification is the deprecated OAuth description of a spec.
type AuthSpecification struct {
	AuthType            string               `json:"auth_type,omitempty"`
	OAuth2Specification *OAuth2Specification `json:"oauth2Specification,omitempty"`
}

// OAuth2Specification locates the OAuth parameters in a connector's config.
type OAuth2Specification struct {
	RootObject                []json.RawMessage `json:"rootObject,omitempty"`
	OAuthFlowInitParameters   [][]string        `json:"oauthFlowInitParameters,omitempty"`
	OAuthFlowOutputParameters [][]string        `json:"oauthFlowOutputParameters,omitempty"`
}

// AdvancedAuth describes an advanced (OAuth) authentication flow.
type AdvancedAuth struct {
	AuthFlowType             string                    `json:"auth_flow_type,omitempty"`
	PredicateKey             []string                  `json:"predicate_key,omitempty"`
	PredicateValue           string                    `json:"predicate_value,omitempty"`
	OAuthConfigSpecification *OAuthConfigSpecification `json:"oauth_config_specification,omitempty"`
}

// OAuthConfigSpecification holds the JSON-schema blobs of an OAuth flow,
// kept raw.
type OAuthConfigSpecification struct {
	OAuthUserInputFromConnectorConfigSpecification json.RawMessage `json:"oauth_user_input_from_connector_config_specification,omitempty"`
	OAuthConnectorInputSpecification               json.RawMessage `json:"oauth_connector_input_specification,omitempty"`
	CompleteOAuthOutputSpecification               json.RawMessage `json:"complete_oauth_output_specification,omitempty"`
	CompleteOAuthServerInputSpecification          json.RawMessage `json:"complete_oauth_server_input_specification,omitempty"`
	CompleteOAuthServerOutputSpecification         json.RawMessage `json:"complete_oauth_server_output_specification,omitempty"`
}
