package matcher

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
