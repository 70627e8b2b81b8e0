package cache

import "bytes"

// Python's json.dumps writes a byte it could not decode as the escape of a
// lone UTF-16 surrogate, such as "\udcff". That is valid JSON syntax but
// no character: DuckDB's JSON reader gives up on the whole line, and
// PostgreSQL's jsonb refuses it. The cache treats it as it treats invalid
// UTF-8: as U+FFFD.

// replaceLoneSurrogates returns a copy of data with the escape of every
// surrogate that is not half of a high-low pair replaced by \ufffd (of the
// same length), or nil when data has none. data itself is never changed.
func replaceLoneSurrogates(data []byte) []byte {
	i := bytes.IndexByte(data, '\\')
	if i < 0 {
		return nil // the common case: nothing escaped at all
	}
	var out []byte
	for i < len(data) {
		if data[i] != '\\' {
			j := bytes.IndexByte(data[i:], '\\')
			if j < 0 {
				break
			}
			i += j
		}
		if i+1 >= len(data) || data[i+1] != 'u' {
			i += 2 // another escape: \" \\ \n …
			continue
		}
		r, ok := hex4(data, i+2)
		switch {
		case !ok || r < 0xd800 || r > 0xdfff:
			i += 6
			continue
		case r <= 0xdbff:
			if lo, ok := hex4(data, i+8); ok && i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' && lo >= 0xdc00 && lo <= 0xdfff {
				i += 12 // a pair: one character
				continue
			}
		}
		if out == nil {
			out = bytes.Clone(data)
		}
		copy(out[i:], `\ufffd`)
		i += 6
	}
	return out
}

// hex4 reads the four hex digits at data[i:], if there are four.
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
