package matcher

// The decoded-value matcher's plan: a node compiled once more, at parse
// time, for what encoding/json produces. Match spends most of its time in
// the caller's map lookups, one per filter key and object level (the
// filter is already a trie: each key of an object is looked up once), so
// the plan keeps everything else small: one flat loop per object with the
// common checks written inline, no per-key call, no lookup at all for a
// key whose pattern is the empty list, and the cheap checks first.

// dkind is what a dcheck does with payload[key].
type dkind uint8

const (
	dGeneric    dkind = iota // the generic matchEntry (an entry kind the plan does not know)
	dString                  // one string: ===
	dStrings                 // a few strings: one of them
	dStringSet               // many strings: a set
	dBool                    // booleans: allow[false], allow[true]
	dNumbers                 // numbers, when the value is a float64
	dStartsWith              // one $startsWith
	dEndsWith                // one $endsWith
	dExists                  // one $exists: whether the value is defined
	dNested                  // a nested filter
	dContent                 // other content filters
)

// stringSetMin is the list length from which a map beats comparing each
// string.
const stringSetMin = 12

// dnode is a node's plan.
type dnode struct {
	checks []dcheck
}

// dcheck is one filter key's check.
type dcheck struct {
	key    string
	kind   dkind
	allow  [2]bool // dBool: [false allowed, true allowed]; dExists: allow[1] is the operand
	str    string  // dString, dStartsWith, dEndsWith
	strs   []string
	set    map[string]struct{}
	nested *dnode
	e      *entry // the compiled entry, for the general path
}

// planDecoded builds n's plan. Trigger.dev's eventFilterMatches is an AND
// of pure checks, so their order changes only how soon a mismatch is
// found: scalar checks go first, nested filters (more lookups) after, each
// group in filter order. Explain walks the node in filter order and is
// not affected.
func planDecoded(n *node) *dnode {
	d := &dnode{}
	for pass := 0; pass < 2; pass++ {
		for i := range n.entries {
			e := &n.entries[i]
			if e.kind == eSkip || (e.kind == eNested) != (pass == 1) {
				continue // the empty list passes whatever the value, without a lookup
			}
			d.checks = append(d.checks, planCheck(e))
		}
	}
	return d
}

func planCheck(e *entry) dcheck {
	c := dcheck{key: e.key, e: e}
	switch e.kind {
	case eStrings:
		switch {
		case len(e.strs) == 1:
			c.kind, c.str = dString, e.strs[0]
		case len(e.strs) < stringSetMin:
			c.kind, c.strs = dStrings, e.strs
		default:
			c.kind, c.set = dStringSet, make(map[string]struct{}, len(e.strs))
			for _, s := range e.strs {
				c.set[s] = struct{}{}
			}
		}
	case eBools:
		c.kind, c.allow = dBool, e.bools
	case eNumbers:
		c.kind = dNumbers
	case eContent:
		c.kind = dContent
		if len(e.ops) != 1 {
			break
		}
		switch o := &e.ops[0]; o.kind {
		case opStartsWith:
			c.kind, c.str = dStartsWith, o.str
		case opEndsWith:
			c.kind, c.str = dEndsWith, o.str
		case opExists:
			c.kind, c.allow[1] = dExists, o.b
		}
	case eNested:
		c.kind, c.nested = dNested, planDecoded(e.nested)
	}
	return c
}

// match is matchNode(n, dval{m, defined: true}, nil, "") for the node the
// plan was built from.
func (d *dnode) match(m map[string]any) bool {
	for i := range d.checks {
		c := &d.checks[i]
		x, defined := m[c.key]
		switch c.kind {
		case dString:
			if s, ok := x.(string); !ok || s != c.str {
				return false
			}
		case dStrings:
			s, ok := x.(string)
			if !ok || !oneOf(s, c.strs) {
				return false
			}
		case dStringSet:
			s, ok := x.(string)
			if !ok {
				return false
			}
			if _, in := c.set[s]; !in {
				return false
			}
		case dBool:
			if b, ok := x.(bool); !ok || !c.allow[boolIndex(b)] {
				return false
			}
		case dStartsWith:
			if s, ok := x.(string); !ok || len(s) < len(c.str) || s[:len(c.str)] != c.str {
				return false
			}
		case dEndsWith:
			if s, ok := x.(string); !ok || len(s) < len(c.str) || s[len(s)-len(c.str):] != c.str {
				return false
			}
		case dExists:
			// A Go value JSON cannot hold is undefined, as in dval.kind.
			if (dval{v: x, defined: defined}.kind() != kUndefined) != c.allow[1] {
				return false
			}
		case dNested:
			if t, ok := x.(map[string]any); ok {
				if !c.nested.match(t) {
					return false
				}
			} else if !c.matchNestedOther(x, defined) {
				return false
			}
		case dNumbers:
			if f, ok := x.(float64); ok {
				if !oneOfNumber(f, c.e.nums) {
					return false
				}
			} else if !matchEntry(c.e, dval{v: x, defined: defined}, nil, "") {
				return false
			}
		case dContent:
			if !matchDecodedContent(c.e, x, defined) {
				return false
			}
		default:
			if !matchEntry(c.e, dval{v: x, defined: defined}, nil, "") {
				return false
			}
		}
	}
	return true
}

// matchNestedOther is a nested filter's check for a value that is not an
// object: an array matches when some element does; anything else is the
// generic code's.
func (c *dcheck) matchNestedOther(x any, defined bool) bool {
	a, ok := x.([]any)
	if !ok {
		return matchEntry(c.e, dval{v: x, defined: defined}, nil, "")
	}
	for _, el := range a {
		if t, isMap := el.(map[string]any); isMap {
			if c.nested.match(t) {
				return true
			}
		} else if matchNode(c.e.nested, dval{v: el, defined: true}, nil, "") {
			return true
		}
	}
	return false
}

func oneOf(s string, list []string) bool {
	for _, w := range list {
		if s == w {
			return true
		}
	}
	return false
}

func oneOfNumber(f float64, list []float64) bool {
	for _, w := range list {
		if f == w {
			return true
		}
	}
	return false
}
