package matcher

import "strings"

// The decoded-value matcher without explanations: matchNode and
// matchEntry written out for what encoding/json produces, so that the
// common shapes (objects, arrays of objects, strings, float64 numbers,
// booleans) are type switches and map lookups with direct calls, where
// the generic code calls every accessor method through its dictionary.
// Anything else goes to the generic code, which stays the definition.

// matchDecoded is matchNode(n, dval{v, defined: true}, nil, "").
func matchDecoded(n *node, v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return matchNode(n, dval{v: v, defined: true}, nil, "")
	}
	for i := range n.entries {
		e := &n.entries[i]
		x, defined := m[e.key]
		if !matchDecodedEntry(e, x, defined) {
			return false
		}
	}
	return true
}

// matchDecodedEntry is matchEntry(e, dval{x, defined}, nil, "").
func matchDecodedEntry(e *entry, x any, defined bool) bool {
	switch e.kind {
	case eSkip:
		return true
	case eStrings:
		s, ok := x.(string)
		if !ok {
			return false
		}
		for _, w := range e.strs {
			if s == w {
				return true
			}
		}
		return false
	case eNumbers:
		if f, ok := x.(float64); ok {
			for _, w := range e.nums {
				if f == w {
					return true
				}
			}
			return false
		}
	case eBools:
		b, ok := x.(bool)
		return ok && e.bools[boolIndex(b)]
	case eContent:
		for i := range e.ops {
			ok, done := matchDecodedOp(&e.ops[i], x)
			if !done {
				return matchEntry(e, dval{v: x, defined: defined}, nil, "")
			}
			if !ok {
				return false
			}
		}
		return true
	case eNested:
		switch t := x.(type) {
		case map[string]any:
			return matchDecoded(e.nested, t)
		case []any:
			for _, el := range t {
				if matchDecoded(e.nested, el) {
					return true
				}
			}
			return false
		}
	}
	return matchEntry(e, dval{v: x, defined: defined}, nil, "")
}

// matchDecodedOp is matchOp(o, dval{x, defined}) for the operators whose
// answer needs only a string or a float64; done is false for the rest.
func matchDecodedOp(o *op, x any) (ok, done bool) {
	switch o.kind {
	case opStartsWith:
		s, isStr := x.(string)
		return isStr && strings.HasPrefix(s, o.str), true
	case opEndsWith:
		s, isStr := x.(string)
		return isStr && strings.HasSuffix(s, o.str), true
	case opGt, opLt, opGte, opLte, opBetween:
		f, isNum := x.(float64)
		if !isNum {
			return false, false
		}
		switch o.kind {
		case opGt:
			return f > o.num, true
		case opLt:
			return f < o.num, true
		case opGte:
			return f >= o.num, true
		case opLte:
			return f <= o.num, true
		}
		return f >= o.num && f <= o.hi, true
	}
	return false, false
}
