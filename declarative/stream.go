package declarative

import (
	"encoding/json"

	"github.com/x/goairbyte/declarative/interpolation"

	"github.com/x/goairbyte/declarative/manifest"
)

// stream is a built DeclarativeStream.
type stream struct {
	name        string
	path        string // JSONPath of the stream in the manifest
	primaryKey  [][]string
	schema      json.RawMessage
	retriever   *simpleRetriever
	router      partitionRouter // nil: a single partition
	cursor      *datetimeCursor // nil: full refresh only
	unsupported []manifest.Component
	// buildErr is why the stream could not be built; calls that need it
	// return it.
	buildErr error
	// synchronous is set when the CDK would not read the stream with its
	// concurrent engine (a template reads stream_state).
	synchronous bool
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
func (s *stream) sliceOptions(slice *streamSlice, cr *cursorRun) sliceOptions {
	return func(v *vars) (requestOptions, error) {
		var parts []requestOptions
		if s.router != nil {
			o, err := s.router.options(slice.partition, v)
			if err != nil {
				return o, err
			}
			parts = append(parts, o)
		}
		if cr != nil {
			o, err := s.cursor.options(slice.cursor, cr, v)
			if err != nil {
				return o, err
			}
			parts = append(parts, o)
		}
		return mergeOptions(parts...)
	}
}

// windowSlice is the slice of a partition within a date window.
func (r *cursorRun) windowSlice(partition *dict, w window) *streamSlice {
	c := interpolation.NewDict(2)
	c.Set(r.startKey, w.start)
	c.Set(r.endKey, w.end)
	return newSlice(partition, c)
}
