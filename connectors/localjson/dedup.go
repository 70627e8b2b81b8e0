package localjson

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/valyala/fastjson"
)

// noKey marks a line that has no primary key (kept as it is) and badLine a
// line that is not a record line (dropped: only a killed writer leaves such).
const (
	noKey   = -1
	badLine = -2
)

// dedup writes to out the lines of final followed by those of staging, keeping
// for each primary key only the last line, in the order the lines came. It
// reads the inputs twice so that memory holds one small entry per line and
// per key, never the lines themselves. out is fsynced; the caller renames it.
func dedup(final, staging, out string, primaryKey [][]string) (kept, dropped int64, err error) {
	inputs := []string{final, staging}

	// Pass 1: the key of every line, and the last line of each key.
	keyOf := []int32{}
	lastLine := []int64{}
	ids := map[string]int32{}
	var p fastjson.Parser
	var key []byte
	err = eachLine(inputs, func(line []byte) error {
		v, err := p.ParseBytes(line)
		if err != nil || v.Get("_airbyte_data") == nil {
			keyOf = append(keyOf, badLine)
			return nil
		}
		var ok bool
		key, ok = appendKey(key[:0], v.Get("_airbyte_data"), primaryKey)
		if !ok {
			keyOf = append(keyOf, noKey)
			return nil
		}
		id, seen := ids[string(key)]
		if !seen {
			id = int32(len(lastLine))
			ids[string(key)] = id
			lastLine = append(lastLine, 0)
		}
		lastLine[id] = int64(len(keyOf))
		keyOf = append(keyOf, id)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	ids = nil

	// Pass 2: copy the lines that are not superseded.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, writeBufferSize)
	var n int64
	err = eachLine(inputs, func(line []byte) error {
		i := n
		n++
		if i >= int64(len(keyOf)) {
			return fmt.Errorf("an input file grew while it was deduplicated")
		}
		switch k := keyOf[i]; {
		case k == badLine:
			return nil
		case k >= 0 && lastLine[k] != i:
			dropped++
			return nil
		}
		kept++
		if _, err := bw.Write(line); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("writing %s: %w", out, err)
	}
	return kept, dropped, f.Close()
}

// appendKey appends the primary key of a record's data: the JSON of each key
// field, separated by a NUL byte (which encoded JSON cannot contain). It
// reports false when a field is missing or null.
func appendKey(dst []byte, data *fastjson.Value, primaryKey [][]string) ([]byte, bool) {
	for i, path := range primaryKey {
		v := data.Get(path...)
		if v == nil || v.Type() == fastjson.TypeNull {
			return dst, false
		}
		if i > 0 {
			dst = append(dst, 0)
		}
		dst = v.MarshalTo(dst)
	}
	return dst, true
}

// eachLine calls fn with every line of the files in order (a missing file
// has no lines). The line is only valid during the call.
func eachLine(paths []string, fn func(line []byte) error) error {
	for _, path := range paths {
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		err = eachLineOf(f, fn)
		f.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
	}
	return nil
}

func eachLineOf(r io.Reader, fn func(line []byte) error) error {
	br := bufio.NewReaderSize(r, writeBufferSize)
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			line := frag[:len(frag)-1]
			if long != nil {
				line = append(long, line...)
				long = nil
			}
			if len(line) > 0 {
				if err := fn(line); err != nil {
					return err
				}
			}
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, frag...)
		case err == io.EOF:
			// A last line without a newline was cut short by a kill.
			return nil
		default:
			return err
		}
	}
}
