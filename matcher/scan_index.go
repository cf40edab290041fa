package matcher

import (
	"bytes"
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/hooklab/hooklab/internal/whatwg"
)

// The shared scan: an ingress matches every trigger's RequestFilter
// against one request, and each Match decodes the body as text
// (whatwg.BodyText, a UTF-8 pass) and validates all of it again. A Scan
// does that once per request: one validating pass over the body that
// evaluates the first filter as matchRaw does, notes whether a byte above
// ASCII occurs (when none does, the body is already its own text and no
// UTF-8 pass is needed) and records where each top-level member's key
// and value are. Every later filter looks its top-level keys up in that
// index (the last of a repeated key, as JSON.parse keeps) and reads only
// the values it names, with the same code Match uses on them.

// scanMembers is how many top-level members a Scan indexes. A body with
// more is validated once and then scanned per filter, as Match does.
const scanMembers = 32

// scanState is what a Scan knows of its body.
type scanState uint8

const (
	scanUnbuilt  scanState = iota
	scanInvalid            // the text is not JSON: no body filter matches
	scanObject             // an object whose members are all in mem
	scanOther              // a root that is not an object, at text[vs:ve]
	scanOverflow           // valid, but too many members (or too large) to index
)

// A Scan is what every RequestFilter matched against one request reads of
// its body, built once, by the first MatchScan that looks at the body (in
// the pass that evaluates that filter): whether the body is JSON, the text
// Node.js would parse (one or two leading BOMs dropped, invalid UTF-8
// replaced as the WHATWG decoder does), and the position of each
// top-level member's key and value (at most 32 members; past that every
// later filter scans the text as Match does).
//
// The zero Scan is ready to use. A Scan is for one request at a time: it
// remembers the body it was built for by address and length, and builds
// itself again when MatchScan is given a different body, but it cannot
// see a body changed in place; reuse one for another request only after
// setting it to the zero Scan. It is not safe for concurrent use. It is
// about 600 bytes, meant to be embedded by value in a per-request struct.
// Building it allocates only for a body that is not valid UTF-8 (its
// decoded text, which the Scan then refers to) or a first filter with
// more than 16 top-level keys; matching through it allocates only where
// Match does (a key or value with escapes on a filter's paths).
type Scan struct {
	body   []byte // the body it was built for, compared by identity
	text   []byte // whatwg.BodyText(body)
	state  scanState
	n      int    // members in mem
	esc    uint32 // bit j: the key of mem[j] has an escape
	vs, ve int32  // scanOther: the root value's span in text
	mem    [scanMembers]scanMember
}

// scanMember is one top-level member: text[ks:ke] is its key's string
// body (without quotes), text[vs:ve] its value.
type scanMember struct{ ks, ke, vs, ve int32 }

// MatchScan reports what Match reports for r, reading r's body through
// s: the first call with a body filter builds s, and every later call
// with the same body shares it. A nil s is Match.
func (f *RequestFilter) MatchScan(r Request, s *Scan) bool {
	return f.match(r, s, nil)
}

// matchBody reports whether body matches n, as matchRaw reports it for
// whatwg.BodyText(body). The first call for a body builds s, evaluating n
// in the same pass; later calls for the same body use the index.
func (s *Scan) matchBody(body []byte, n *node) bool {
	if s.state != scanUnbuilt && len(s.body) == len(body) && unsafe.SliceData(s.body) == unsafe.SliceData(body) {
		return s.match(n)
	}
	s.body = body
	text := bytes.TrimPrefix(body, utf8BOM)
	text = bytes.TrimPrefix(text, utf8BOM) // BodyText drops two
	state, high, matched := s.index(text, n)
	if state != scanInvalid && high {
		// A byte above ASCII: the text is the body only if the body is
		// valid UTF-8. Replacement keeps every ASCII byte, so the body's
		// validity as JSON stands; the spans are found again.
		if t := whatwg.DecodeUTF8(text); unsafe.SliceData(t) != unsafe.SliceData(text) || len(t) != len(text) {
			text = t
			state, _, matched = s.index(text, n)
		}
	}
	s.text, s.state = text, state
	return matched
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// index validates d as JSON, records its top-level members and reports
// whether d matches n (false for a nil n), as matchRaw does, in the same
// pass. high reports whether a byte above ASCII may occur in d; when it
// is false, d is valid UTF-8.
func (s *Scan) index(d []byte, n *node) (state scanState, high, matched bool) {
	s.n, s.esc = 0, 0
	i := skipWS(d, 0)
	if i >= len(d) || d[i] != '{' || len(d) > math.MaxInt32 {
		end, ok, high := skipValueHigh(d, i)
		if !ok || skipWS(d, end) != len(d) {
			return scanInvalid, false, false
		}
		if n != nil {
			matched = matchNode(n, rvalOf(d[i:end]), nil, "")
		}
		if d[i] == '{' || len(d) > math.MaxInt32 {
			return scanOverflow, high, matched // spans would not fit an int32
		}
		s.vs, s.ve = int32(i), int32(end)
		return scanOther, high, matched
	}
	// What the scan found for each entry of n, as matchObject keeps it.
	var buf [16]entryState
	var st []entryState
	if n != nil {
		if len(n.entries) <= len(buf) {
			st = buf[:len(n.entries)]
		} else {
			st = make([]entryState, len(n.entries))
		}
	}
	state = scanObject
	if i = skipWS(d, i+1); i < len(d) && d[i] == '}' {
		i++
	} else {
		for {
			if i >= len(d) || d[i] != '"' {
				return scanInvalid, false, false
			}
			ks := i + 1
			end, ok, h := scanStringHigh(d, ks)
			if !ok {
				return scanInvalid, false, false
			}
			high = high || h
			ke := end - 1
			if i = skipWS(d, end); i >= len(d) || d[i] != ':' {
				return scanInvalid, false, false
			}
			vs := skipWS(d, i+1)
			idx := -1
			if n != nil {
				idx = findEntry(n, d[ks:ke])
			}
			if idx < 0 {
				if end, ok, h = skipValueHigh(d, vs); !ok {
					return scanInvalid, false, false
				}
				high = high || h
			} else {
				var m bool
				if end, m, ok = matchValue(d, vs, &n.entries[idx]); !ok {
					return scanInvalid, false, false
				}
				high = high || hasHigh(d[vs:end])
				st[idx] = stMismatch
				if m {
					st[idx] = stMatch
				}
			}
			if s.n < len(s.mem) {
				if bytes.IndexByte(d[ks:ke], '\\') >= 0 {
					s.esc |= 1 << s.n
				}
				s.mem[s.n] = scanMember{int32(ks), int32(ke), int32(vs), int32(end)}
				s.n++
			} else {
				state = scanOverflow
			}
			if i = skipWS(d, end); i >= len(d) {
				return scanInvalid, false, false
			}
			if d[i] == '}' {
				i++
				break
			}
			if d[i] != ',' {
				return scanInvalid, false, false
			}
			i = skipWS(d, i+1)
		}
	}
	if skipWS(d, i) != len(d) {
		return scanInvalid, false, false
	}
	if n != nil {
		matched = finishObject(n, st)
	}
	return state, high, matched
}

// hasHigh reports whether a byte of b is above ASCII.
func hasHigh(b []byte) bool {
	var acc uint64
	for ; len(b) >= 32; b = b[32:] {
		acc |= binary.LittleEndian.Uint64(b) | binary.LittleEndian.Uint64(b[8:]) |
			binary.LittleEndian.Uint64(b[16:]) | binary.LittleEndian.Uint64(b[24:])
	}
	for ; len(b) >= 8; b = b[8:] {
		acc |= binary.LittleEndian.Uint64(b)
	}
	for _, c := range b {
		acc |= uint64(c)
	}
	return acc&swarHighs != 0
}

// match reports whether the scanned body matches n, as matchRaw reports
// it for the body's text.
func (s *Scan) match(n *node) bool {
	switch s.state {
	case scanInvalid:
		return false
	case scanOther:
		return matchNode(n, rvalOf(s.text[s.vs:s.ve]), nil, "")
	case scanOverflow:
		matched, _ := matchRaw(n, s.text)
		return matched
	}
	for i := range n.entries {
		e := &n.entries[i]
		j := s.member(e.key)
		if j < 0 {
			if !matchEntry(e, rval{}, nil, "") {
				return false
			}
			continue
		}
		if e.kind == eSkip {
			continue
		}
		if _, matched, _ := matchValue(s.text, int(s.mem[j].vs), e); !matched {
			return false
		}
	}
	return true
}

// member returns the index in mem of the last member whose key's text is
// key, or -1. A key without an escape is its own text (the text is valid
// UTF-8); one with an escape is decoded as findEntry decodes it.
func (s *Scan) member(key string) int {
	for j := s.n - 1; j >= 0; j-- {
		m := &s.mem[j]
		k := s.text[m.ks:m.ke]
		if s.esc>>j&1 == 0 {
			if string(k) == key {
				return j
			}
		} else if jsText(unquoteKey(k)) == key {
			return j
		}
	}
	return -1
}
