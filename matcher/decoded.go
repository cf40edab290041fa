package matcher

import "strings"

// The content filters of the decoded-value matcher (see decoded_plan.go
// for the rest): the operators whose answer needs only a string or a
// float64 are written out; anything else goes to the generic code, which
// stays the definition.

// matchDecodedContent is matchEntry(e, dval{x, defined}, nil, "") for an
// eContent entry.
func matchDecodedContent(e *entry, x any, defined bool) bool {
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
