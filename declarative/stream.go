package declarative

import (
	"encoding/json"

	"github.com/x/goairbyte/declarative/internal/interpolation"

	"github.com/x/goairbyte/declarative/internal/manifest"
)

// stream is a built DeclarativeStream.
type stream struct {
	name        string
	path        string // JSONPath of the stream in the manifest
	primaryKey  [][]string
	schema      json.RawMessage
	retriever   *simpleRetriever
	async       *asyncRetriever // replaces retriever for an AsyncRetriever stream
	router      partitionRouter // nil: a single partition
	cursor      *datetimeCursor // nil: full refresh only
	unsupported []manifest.Component
	// buildErr is why the stream could not be built; calls that need it
	// return it.
	buildErr error
	// synchronous is set when the CDK would not read the stream with its
	// concurrent engine (a template reads stream_state).
	synchronous bool
	// templatesReadState is set when a template of the stream's own
	// components mentions stream_state (synchronous looks at fewer, as
	// the CDK's test): a parent's state is built for its templates only
	// then.
	templatesReadState bool
	// incremental is, for a StateDelegatingStream, the stream read in its
	// place when it has a state (the stream itself is its
	// full_refresh_stream).
	incremental *stream
}

// cursorFieldName is the cursor field for the catalog.
func (s *stream) cursorFieldName(v *vars) (string, error) {
	if s.cursor == nil {
		return "", nil
	}
	return s.cursor.cursorField.evalStr(v)
}

// sliceOptions returns what the stream's partition router and cursor
// inject into the requests of a slice.
func (s *stream) sliceOptions(slice *streamSlice) sliceOptions {
	return func(v *vars) (requestOptions, error) {
		var parts []requestOptions
		if s.router != nil {
			o, err := s.router.options(slice.partition, v)
			if err != nil {
				return o, err
			}
			parts = append(parts, o)
		}
		if s.cursor != nil && slice.window != nil {
			o, err := s.cursor.options(slice, v)
			if err != nil {
				return o, err
			}
			parts = append(parts, o)
		}
		return mergeOptions(parts...)
	}
}

// windowSlice is the slice of a partition within a date window, its
// bounds under the cursor's partition_field_start and _end.
func windowSlice(partition *dict, startKey, endKey string, w window) *streamSlice {
	c := interpolation.NewDict(2)
	c.Set(startKey, w.start)
	c.Set(endKey, w.end)
	s := newSlice(partition, c)
	s.window = &windowKeys{startKey, endKey}
	return s
}

// windowSlice is the slice of a partition within one of the run's windows.
func (r *cursorRun) windowSlice(partition *dict, w window) *streamSlice {
	return windowSlice(partition, r.startKey, r.endKey, w)
}

// windowSlice is the slice of a partition within one of the synchronous
// cursor's windows.
func (s *stream) windowSlice(l *legacyCursor, partition *dict, w window) *streamSlice {
	return windowSlice(partition, l.startKey, l.endKey, w)
}
