package protocol

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/x/goairbyte/internal/jsonscan"
)

// The fast path decodes the one message that matters for throughput, RECORD,
// by scanning the envelope by hand and validating the rest. It handles the
// common shapes only; on anything else (another type, escaped keys, duplicate
// or case-folded field names, null values, invalid JSON) it gives up and the
// caller runs encoding/json on the line, so that both paths always agree.

// Field names that encoding/json would match case-insensitively; an unknown
// key that folds to one of them sends the line to the slow path.
var (
	messageKeys = []string{"type", "log", "spec", "connectionStatus", "catalog", "record",
		"state", "trace", "control", "destination_catalog"}
	recordKeys = []string{"namespace", "stream", "data", "emitted_at", "meta", "file_reference"}
)

// foldsToAny reports whether encoding/json could match key to one of names:
// an ASCII case-insensitive match, or any non-ASCII key (Unicode folding
// maps a few non-ASCII letters onto ASCII ones, e.g. the Kelvin sign).
func foldsToAny(key []byte, names []string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// fastRecord is what the envelope scan found; the caller turns it into a
// Message so that the allocation policy lives in one place.
type fastRecord struct {
	stream, namespace []byte // quoted JSON strings, escapes not yet resolved
	streamEsc, nsEsc  bool
	data              []byte
	emittedAt         int64
	meta, fileRef     []byte
	extra             bool // the line has keys this package does not model
}

// scanRecordLine scans a whole line that should be a RECORD message. ok is
// false whenever the slow path must decide.
func scanRecordLine(b []byte, fr *fastRecord) (ok bool) {
	i := jsonscan.SkipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = jsonscan.SkipWS(b, i+1)
	var seenType, seenRecord bool
	if i < len(b) && b[i] == '}' {
		return false
	}
	for {
		key, v, ok := jsonscan.ScanKey(b, i)
		if !ok {
			return false
		}
		switch string(key) {
		case "type":
			if seenType || v >= len(b) || b[v] != '"' {
				return false
			}
			end, escaped, ok := jsonscan.SkipString(b, v)
			if !ok || escaped || string(b[v+1:end-1]) != string(TypeRecord) {
				return false
			}
			seenType, i = true, end
		case "record":
			if seenRecord || v >= len(b) || b[v] != '{' {
				return false
			}
			if i = scanRecordObject(b, v, fr); i < 0 {
				return false
			}
			seenRecord = true
		default:
			if foldsToAny(key, messageKeys) {
				return false
			}
			if i = jsonscan.SkipValue(b, v, 1); i < 0 {
				return false
			}
			fr.extra = true
		}
		next, done, ok := jsonscan.AfterMember(b, i)
		if !ok {
			return false
		}
		if done {
			return seenType && seenRecord && jsonscan.SkipWS(b, next) == len(b)
		}
		i = next
	}
}

// scanRecordObject scans the record object at b[i] ('{') into fr and returns
// the index after it, or -1.
func scanRecordObject(b []byte, i int, fr *fastRecord) int {
	i = jsonscan.SkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return -1 // no data: let the slow path reject it
	}
	var seen uint8
	const (
		fStream = 1 << iota
		fNamespace
		fData
		fEmittedAt
		fMeta
		fFileRef
	)
	for {
		key, v, ok := jsonscan.ScanKey(b, i)
		if !ok || v >= len(b) {
			return -1
		}
		var f uint8
		switch string(key) {
		case "stream", "namespace":
			if b[v] != '"' {
				return -1
			}
			end, escaped, ok := jsonscan.SkipString(b, v)
			if !ok {
				return -1
			}
			if key[0] == 's' {
				f, fr.stream, fr.streamEsc = fStream, b[v:end], escaped
			} else {
				f, fr.namespace, fr.nsEsc = fNamespace, b[v:end], escaped
			}
			i = end
		case "data":
			if b[v] != '{' {
				return -1
			}
			if i = jsonscan.SkipNested(b, v, 2); i < 0 {
				return -1
			}
			f, fr.data = fData, b[v:i]
		case "emitted_at":
			if i = jsonscan.SkipNumber(b, v); i < 0 {
				return -1
			}
			ms, err := emittedAtMillis(b[v:i])
			if err != nil {
				return -1
			}
			f, fr.emittedAt = fEmittedAt, ms
		case "meta", "file_reference":
			if i = jsonscan.SkipValue(b, v, 2); i < 0 {
				return -1
			}
			if key[0] == 'm' {
				f, fr.meta = fMeta, b[v:i]
			} else {
				f, fr.fileRef = fFileRef, b[v:i]
			}
		default:
			if foldsToAny(key, recordKeys) {
				return -1
			}
			if i = jsonscan.SkipValue(b, v, 2); i < 0 {
				return -1
			}
			fr.extra = true
		}
		if seen&f != 0 {
			return -1 // duplicate field: encoding/json's rules decide
		}
		seen |= f
		next, done, ok := jsonscan.AfterMember(b, i)
		if !ok {
			return -1
		}
		if done {
			if seen&fData == 0 {
				return -1
			}
			return next
		}
		i = next
	}
}

// fastString turns a quoted JSON string into a Go string the way
// encoding/json would (skipString has already checked its UTF-8). intern may
// return a shared copy.
func fastString(quoted []byte, escaped bool, intern func([]byte) string) (string, bool) {
	if quoted == nil {
		return "", true // the field is absent
	}
	if escaped {
		// Rare: let encoding/json resolve the escapes.
		var s string
		if err := json.Unmarshal(quoted, &s); err != nil {
			return "", false
		}
		return s, true
	}
	return intern(quoted[1 : len(quoted)-1]), true
}
