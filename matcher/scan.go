package matcher

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// The raw-bytes matcher: one pass over the payload that validates all of
// it (accepting exactly what gjson.ValidBytes accepts, which is RFC 8259
// JSON without a UTF-8 check) and evaluates the filter on the objects the
// filter names while it goes. Values the filter does not name are skipped
// by the validator alone; strings, most of a webhook's bytes, are skipped
// eight bytes at a time. A key of a filter object is evaluated when the
// scanner reaches its value, and a repeated key overwrites the earlier
// result, so the last duplicate wins as in JSON.parse. Leaf values and
// anything unusual (a nested filter over a string, an array in an array)
// are evaluated by the same generic code the other paths use, on a gjson
// view of the value's bytes, so the semantics stay in one place.

const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// matchRaw validates data and reports whether it matches n. ok is false
// when data is not JSON; the caller builds the error.
func matchRaw(n *node, data []byte) (matched, ok bool) {
	i := skipWS(data, 0)
	if i < len(data) && data[i] == '{' {
		i, matched, ok = matchObject(data, i+1, n)
	} else {
		start := i
		i, ok = skipValue(data, i)
		if ok {
			// A root that is not an object: only the rare filter {} or a
			// filter reading "length" of a string or array cares.
			matched = matchNode(n, rvalOf(data[start:i]), nil, "")
		}
	}
	if !ok {
		return false, false
	}
	if skipWS(data, i) != len(data) {
		return false, false
	}
	return matched, true
}

// rvalOf views the bytes of one valid JSON value as an rval, without a
// copy; it must not outlive the match.
func rvalOf(b []byte) rval {
	return rval{gjson.Parse(unsafe.String(unsafe.SliceData(b), len(b)))}
}

// entryState is what the scan found for one entry of a filter object.
type entryState uint8

const (
	stUnseen entryState = iota
	stMatch
	stMismatch
)

// matchObject validates the object whose '{' is just before i and
// evaluates n on it, as matchNode does for an object.
func matchObject(d []byte, i int, n *node) (end int, matched, ok bool) {
	var buf [16]entryState
	var st []entryState
	if len(n.entries) <= len(buf) {
		st = buf[:len(n.entries)]
	} else {
		st = make([]entryState, len(n.entries))
	}
	i = skipWS(d, i)
	if i < len(d) && d[i] == '}' {
		return i + 1, finishObject(n, st), true
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return i, false, false
		}
		ks := i + 1
		if i, ok = scanString(d, ks); !ok {
			return i, false, false
		}
		idx := findEntry(n, d[ks:i-1])
		i = skipWS(d, i)
		if i >= len(d) || d[i] != ':' {
			return i, false, false
		}
		i = skipWS(d, i+1)
		if idx < 0 {
			if i, ok = skipValue(d, i); !ok {
				return i, false, false
			}
		} else {
			var m bool
			if i, m, ok = matchValue(d, i, &n.entries[idx]); !ok {
				return i, false, false
			}
			st[idx] = stMismatch
			if m {
				st[idx] = stMatch
			}
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return i, false, false
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case '}':
			return i + 1, finishObject(n, st), true
		default:
			return i, false, false
		}
	}
}

// finishObject evaluates the entries whose key was missing (undefined) and
// ANDs the results.
func finishObject(n *node, st []entryState) bool {
	for i := range st {
		switch st[i] {
		case stMismatch:
			return false
		case stUnseen:
			if !matchEntry(&n.entries[i], rval{}, nil, "") {
				return false
			}
		}
	}
	return true
}

// findEntry returns the index of the entry of n whose key is the JSON
// string body k, or -1. A body with an escape or a byte above ASCII that
// is not plain UTF-8 is decoded the way the gjson path decodes keys
// (jsText of gjson's unescaping).
func findEntry(n *node, k []byte) int {
	ks := unsafe.String(unsafe.SliceData(k), len(k))
	for i := range n.entries {
		if n.entries[i].key == ks && strings.IndexByte(ks, '\\') < 0 {
			// The entry's key is valid UTF-8 and k has no escape, so k is
			// its text. (Bytes equal to a key with a backslash in it are
			// an escape: the body a\b is "a" and U+0008, not a\b.)
			return i
		}
	}
	if len(n.entries) == 0 || isPlainASCII(k) || isPlainUTF8(k) {
		return -1
	}
	key := jsText(unquoteKey(k))
	for i := range n.entries {
		if n.entries[i].key == key {
			return i
		}
	}
	return -1
}

func isPlainASCII(k []byte) bool {
	for _, c := range k {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// isPlainUTF8 reports whether a string body has no escape and is valid
// UTF-8, so that its bytes are its text.
func isPlainUTF8(k []byte) bool {
	for _, c := range k {
		if c == '\\' {
			return false
		}
	}
	return utf8.Valid(k)
}

// unquoteKey decodes a string body with escapes as gjson does.
func unquoteKey(k []byte) string {
	q := make([]byte, 0, len(k)+2)
	q = append(q, '"')
	q = append(q, k...)
	q = append(q, '"')
	return gjson.ParseBytes(q).Str
}

// matchValue validates the value at i (after whitespace) and evaluates
// entry e on it, as matchEntry does.
func matchValue(d []byte, i int, e *entry) (end int, matched, ok bool) {
	start := i
	if e.kind == eNested && i < len(d) {
		switch d[i] {
		case '{':
			return matchObject(d, i+1, e.nested)
		case '[':
			return matchSome(d, i+1, e.nested)
		}
	}
	if i, ok = skipValue(d, i); !ok {
		return i, false, false
	}
	if e.kind == eSkip {
		return i, true, true
	}
	return i, matchEntry(e, rvalOf(d[start:i]), nil, ""), true
}

// matchSome validates the array whose '[' is just before i and reports
// whether an element matches n (Array.prototype.some, as rval.some).
func matchSome(d []byte, i int, n *node) (end int, found, ok bool) {
	i = skipWS(d, i)
	if i < len(d) && d[i] == ']' {
		return i + 1, false, true
	}
	for {
		if found {
			if i, ok = skipValue(d, i); !ok {
				return i, false, false
			}
		} else if i < len(d) && d[i] == '{' {
			if i, found, ok = matchObject(d, i+1, n); !ok {
				return i, false, false
			}
		} else {
			start := i
			if i, ok = skipValue(d, i); !ok {
				return i, false, false
			}
			found = matchNode(n, rvalOf(d[start:i]), nil, "")
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return i, false, false
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case ']':
			return i + 1, found, true
		default:
			return i, false, false
		}
	}
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(d []byte, i int) int {
	for i < len(d) && isWS(d[i]) {
		i++
	}
	return i
}

// skipValue validates the value starting at i, after optional
// whitespace, and returns the index after it.
func skipValue(d []byte, i int) (int, bool) {
	end, ok, _ := skipValueHigh(d, i)
	return end, ok
}

// skipValueHigh is skipValue that also reports whether a byte above ASCII
// may be in the value (high false: there is none, so the value is valid
// UTF-8). It keeps one bit per open container (set for an object) instead
// of recursing, so that Go's stack stays flat however deep a hostile
// payload nests.
func skipValueHigh(d []byte, i int) (end int, ok, high bool) {
	var small [4]uint64
	stack := small[:0]
	depth := 0
	var h bool
value:
	i = skipWS(d, i)
	if i >= len(d) {
		return i, false, false
	}
	switch c := d[i]; c {
	case '"':
		if i, ok, h = scanStringHigh(d, i+1); !ok {
			return i, false, false
		}
		high = high || h
	case '{', '[':
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == c+2 { // '}' or ']'
			i++
			break
		}
		if depth/64 == len(stack) {
			stack = append(stack, 0)
		}
		if c == '{' {
			stack[depth/64] |= 1 << (depth % 64)
			depth++
			goto key
		}
		stack[depth/64] &^= 1 << (depth % 64)
		depth++
		goto value
	case 't':
		if i, ok = skipLiteral(d, i, "true"); !ok {
			return i, false, false
		}
	case 'f':
		if i, ok = skipLiteral(d, i, "false"); !ok {
			return i, false, false
		}
	case 'n':
		if i, ok = skipLiteral(d, i, "null"); !ok {
			return i, false, false
		}
	default:
		if c != '-' && (c < '0' || c > '9') {
			return i, false, false
		}
		if i, ok = scanNumber(d, i); !ok {
			return i, false, false
		}
	}
after: // a value ends just before i
	if depth == 0 {
		return i, true, high
	}
	i = skipWS(d, i)
	if i >= len(d) {
		return i, false, false
	}
	if stack[(depth-1)/64]>>((depth-1)%64)&1 == 1 {
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
			goto key
		case '}':
			i++
			depth--
			goto after
		}
		return i, false, false
	}
	switch d[i] {
	case ',':
		i++
		goto value
	case ']':
		i++
		depth--
		goto after
	}
	return i, false, false
key: // at the opening quote of an object's key, after whitespace
	if i >= len(d) || d[i] != '"' {
		return i, false, false
	}
	if i, ok, h = scanStringHigh(d, i+1); !ok {
		return i, false, false
	}
	high = high || h
	i = skipWS(d, i)
	if i >= len(d) || d[i] != ':' {
		return i, false, false
	}
	i++
	goto value
}

func skipLiteral(d []byte, i int, lit string) (int, bool) {
	if len(d)-i >= len(lit) && string(d[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// scanString validates a string whose opening quote is just before i and
// returns the index after its closing quote.
func scanString(d []byte, i int) (int, bool) {
	end, ok, _ := scanStringHigh(d, i)
	return end, ok
}

// scanStringHigh is scanString that also reports whether a byte above
// ASCII may be in the string: high false means there is none (high true
// may also come from a byte just past the string, read in the same
// word). Eight bytes at a time it looks for a quote, a backslash or a
// control character; only those stop it. Like gjson.ValidBytes (and
// JSON.parse of text), it does not check UTF-8.
func scanStringHigh(d []byte, i int) (end int, ok, high bool) {
	var hi uint64
	for {
		for len(d)-i >= 16 {
			w1 := binary.LittleEndian.Uint64(d[i:])
			w2 := binary.LittleEndian.Uint64(d[i+8:])
			hi |= w1 | w2
			m1 := stringStops(w1)
			m2 := stringStops(w2)
			if m1|m2 != 0 {
				if m1 != 0 {
					i += bits.TrailingZeros64(m1) >> 3
				} else {
					i += 8 + bits.TrailingZeros64(m2)>>3
				}
				goto stop
			}
			i += 16
		}
		for len(d)-i >= 8 {
			w := binary.LittleEndian.Uint64(d[i:])
			hi |= w
			if m := stringStops(w); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
	stop:
		if i >= len(d) {
			return i, false, false
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1, true, hi&swarHighs != 0
		case c == '\\':
			i++
			if i >= len(d) {
				return i, false, false
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				for range 4 {
					i++
					if i >= len(d) || !ishex(d[i]) {
						return i, false, false
					}
				}
				i++
			default:
				return i, false, false
			}
		case c < 0x20:
			return i, false, false
		default:
			hi |= uint64(c)
			i++
		}
	}
}

// stringStops flags the high bit of each byte of w that is a quote, a
// backslash or a control character. The lowest flagged byte is a real
// one: a borrow only runs upwards from one.
func stringStops(w uint64) uint64 {
	q := w ^ (swarOnes * '"')
	b := w ^ (swarOnes * '\\')
	return (((q - swarOnes) &^ q) | ((b - swarOnes) &^ b) | ((w - swarOnes*0x20) &^ w)) & swarHighs
}

func ishex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber validates a JSON number starting at i.
func scanNumber(d []byte, i int) (int, bool) {
	if d[i] == '-' {
		i++
	}
	if i >= len(d) || d[i] < '0' || d[i] > '9' {
		return i, false
	}
	if d[i] == '0' {
		i++
	} else {
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return i, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return i, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	return i, true
}
