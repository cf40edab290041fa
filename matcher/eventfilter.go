package matcher

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// An EventFilter is a compiled Trigger.dev v2 EventFilter. It is immutable
// and safe for concurrent use; compile it once with ParseEventFilter and
// match many payloads.
type EventFilter struct {
	root *node
	dec  *dnode   // root's plan for decoded values
	doc  *docPlan // dec with hashed keys, for Documents
	src  string   // the filter as given, for String
}

// ParseEventFilter parses and validates a filter written as JSON, the way
// the reference's EventFilterSchema validates it, except where Compat is
// not given (see Compat). Errors are *ParseError values naming the JSON
// path inside the filter.
func ParseEventFilter(data []byte, opts ...Option) (*EventFilter, error) {
	root, err := parseRoot(data)
	if err != nil {
		return nil, err
	}
	p := &parser{o: buildOptions(opts)}
	n, err := p.node(root, "")
	if err != nil {
		return nil, err
	}
	dec := planDecoded(n)
	return &EventFilter{root: n, dec: dec, doc: planDocument(dec), src: string(bytes.TrimSpace(data))}, nil
}

// Match reports whether a decoded payload matches, as eventFilterMatches
// does. v is what encoding/json decodes into an any: map[string]any,
// []any, float64 (or json.Number), string, bool or nil. A nil payload is
// JSON null, which only the empty filter {} matches. Matching a decoded
// value does not allocate.
func (f *EventFilter) Match(v any) bool {
	if m, ok := v.(map[string]any); ok {
		return f.dec.match(m)
	}
	return matchNode(f.root, dval{v: v, defined: true}, nil, "")
}

// MatchJSON reports whether the JSON payload in data matches. It validates
// the whole document in one pass and evaluates the filter on the parts it
// names as it goes, without decoding the rest and without allocating
// (except for a key or value with escapes on the filter's paths). Invalid
// JSON is an error wrapping ErrInvalidJSON.
func (f *EventFilter) MatchJSON(data []byte) (bool, error) {
	matched, ok := matchRaw(f.root, data)
	if !ok {
		return false, invalidJSON(data)
	}
	return matched, nil
}

// Explain returns why a decoded payload does not match: every failing key
// with the rule and the value found. It returns nil when the payload
// matches.
func (f *EventFilter) Explain(v any) *Explanation {
	ex := &Explanation{}
	if matchNode(f.root, dval{v: v, defined: true}, ex, "") {
		return nil
	}
	return ex
}

// ExplainJSON is Explain for a JSON payload.
func (f *EventFilter) ExplainJSON(data []byte) (*Explanation, error) {
	r, err := parseRoot(data)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{}
	if matchNode(f.root, rval{r}, ex, "") {
		return nil, nil
	}
	return ex, nil
}

// String returns the filter as it was given.
func (f *EventFilter) String() string { return f.src }

// MarshalJSON returns the compiled filter as JSON: what the reference's
// schema would have parsed (with Compat, multi-operator objects narrowed).
func (f *EventFilter) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	f.root.writeJSON(&b)
	return []byte(b.String()), nil
}

func (n *node) writeJSON(b *strings.Builder) {
	b.WriteByte('{')
	for i, e := range n.entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(e.key))
		b.WriteByte(':')
		e.writeJSON(b)
	}
	b.WriteByte('}')
}

func (e *entry) writeJSON(b *strings.Builder) {
	if e.kind == eNested {
		e.nested.writeJSON(b)
		return
	}
	b.WriteString(e.wantJSON())
}

// wantJSON renders a pattern list.
func (e *entry) wantJSON() string {
	var parts []string
	switch e.kind {
	case eStrings:
		for _, s := range e.strs {
			parts = append(parts, jsonString(s))
		}
	case eNumbers:
		for _, n := range e.nums {
			parts = append(parts, jsNumber(n))
		}
	case eBools:
		for _, b := range e.blits {
			parts = append(parts, strconv.FormatBool(b))
		}
	case eContent:
		for _, o := range e.ops {
			parts = append(parts, o.literal)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// jsonString writes s as a JSON string (invalid UTF-8 becomes U+FFFD).
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(strings.ToValidUTF8(s, "\uFFFD")) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func jsNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// matchNode is eventFilterMatches(payload, filter). With ex set it keeps
// going after a failure and records every mismatch under path.
func matchNode[V accessor[V]](n *node, v V, ex *Explanation, path string) bool {
	switch v.kind() {
	case kUndefined, kNull:
		if len(n.entries) == 0 {
			return true
		}
		if ex != nil {
			ex.add(path, "object", "an object with "+n.keyList(), v.raw())
		}
		return false
	}
	if v.onePass() {
		return matchFields(n, v, ex, path)
	}
	ok := true
	for i := range n.entries {
		e := &n.entries[i]
		if !matchEntry(e, v.get(e.key), ex, path) {
			if ex == nil {
				return false
			}
			ok = false
		}
	}
	return ok
}

// matchFields is the rest of matchNode for values that read all of an
// object's fields in one pass (raw JSON).
func matchFields[V accessor[V]](n *node, v V, ex *Explanation, path string) bool {
	var buf [8]V
	var vals []V
	if len(n.entries) <= len(buf) {
		vals = buf[:len(n.entries)]
	} else {
		vals = make([]V, len(n.entries))
	}
	v.fields(n, vals)
	ok := true
	for i := range n.entries {
		if !matchEntry(&n.entries[i], vals[i], ex, path) {
			if ex == nil {
				return false
			}
			ok = false
		}
	}
	return ok
}

func (n *node) keyList() string {
	keys := make([]string, len(n.entries))
	for i, e := range n.entries {
		keys[i] = e.key
	}
	return strings.Join(keys, ", ")
}

// matchEntry matches one key's pattern against payload[key].
func matchEntry[V accessor[V]](e *entry, actual V, ex *Explanation, path string) bool {
	switch e.kind {
	case eSkip:
		return true
	case eStrings:
		if actual.kind() == kString {
			s := actual.str()
			for _, w := range e.strs {
				if s == w {
					return true
				}
			}
		}
	case eNumbers:
		if actual.kind() == kNumber {
			x := actual.num()
			for _, w := range e.nums {
				if x == w {
					return true
				}
			}
		}
	case eBools:
		if actual.kind() == kBool && e.bools[boolIndex(actual.boolean())] {
			return true
		}
	case eContent:
		ok := true
		for i := range e.ops {
			if !matchOp(&e.ops[i], actual) {
				if ex == nil {
					return false
				}
				ex.add(join(path, e.key), e.ops[i].literal, "", actual.raw())
				ok = false
			}
		}
		return ok
	case eNested:
		if actual.kind() == kArray {
			found := actual.some(e.nested)
			if !found && ex != nil {
				var b strings.Builder
				e.nested.writeJSON(&b)
				ex.add(join(path, e.key), "some", b.String(), actual.raw())
			}
			return found
		}
		if ex == nil {
			return matchNode(e.nested, actual, nil, "")
		}
		return matchNode(e.nested, actual, ex, join(path, e.key))
	}
	if ex != nil {
		ex.add(join(path, e.key), "one of", e.wantJSON(), actual.raw())
	}
	return false
}
