package matcher

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// The parse-once document: for a caller that matches many filters against
// one payload (an ingress with N triggers), the payload is parsed once
// into a flat array of nodes and every object gets a hash table of its
// keys, hashed once at parse time; a filter's keys are hashed once when
// it is compiled. A lookup is then a hash, a probe and one string
// comparison, with no map and no interface. Values are what
// encoding/json decodes the same bytes into (strings with U+FFFD for
// invalid UTF-8 and lone surrogates, numbers as float64), so MatchDocument
// answers exactly what Match answers on the decoded value.

// docMaxDepth is encoding/json's nesting limit: json.Valid rejects deeper
// documents, and so does ParseDocument.
const docMaxDepth = 10000

// docLinearMax is the member count up to which an object is searched
// linearly (comparing hashes) instead of through a table.
const docLinearMax = 8

// docSeed hashes object keys and filter keys alike.
var docSeed = maphash.MakeSeed()

func docHash(s string) uint64 { return maphash.String(docSeed, s) }

// A Document is a JSON payload parsed once, for matching many filters
// against it with MatchDocument. It is immutable and safe for concurrent
// use; it keeps its own copy of the payload, so the bytes given to
// ParseDocument may be reused. The zero Document is JSON null.
type Document struct {
	nodes []docNode
	mems  []docMember // every object's members, contiguous per object
	elems []int32     // every array's element node indices, contiguous per array
	table []docMember // open-addressed tables of the larger objects; val 0 (the root, never a member) is empty
}

// docNode is one JSON value.
type docNode struct {
	str  string  // kString
	num  float64 // kNumber
	lo   int32   // kArray: first index in elems; kObject: first index in mems
	n    int32   // kArray: elements; kObject: members
	tab  int32   // kObject with a table: first slot in table
	mask uint32  // kObject with a table: slots-1; 0 for a linear object
	k    kind
	b    bool // kBool
}

// docMember is one key of an object and the node of its value.
type docMember struct {
	key  string
	hash uint64
	val  int32
}

// ParseDocument parses a JSON payload once. It accepts exactly what
// json.Valid accepts (at most 10000 levels of nesting, as encoding/json);
// invalid JSON is an error wrapping ErrInvalidJSON, the same error
// MatchJSON returns for it. Parsing never panics and takes memory
// proportional to len(data).
func ParseDocument(data []byte) (*Document, error) {
	if len(data) > math.MaxInt32 {
		return nil, &ParseError{Msg: "document of " + strconv.Itoa(len(data)) + " bytes is larger than 2 GiB", Err: ErrInvalidJSON}
	}
	// Every value but a container's first follows a comma, so this bounds
	// the node count (commas inside strings only make it larger); each
	// value takes two bytes with its separator, which bounds it again.
	containers := bytes.Count(data, []byte{'{'}) + bytes.Count(data, []byte{'['})
	nodes := min(1+bytes.Count(data, []byte{','})+containers, len(data)/2+1)
	keys := min(bytes.Count(data, []byte{':'}), nodes)
	p := docParser{src: string(data), d: &Document{
		nodes: make([]docNode, 0, nodes),
		mems:  make([]docMember, 0, keys),
		elems: make([]int32, 0, len(data)/64),
		table: make([]docMember, 0, 2*keys),
	}}
	i := skipWSString(p.src, 0)
	i, ok := p.value(i, 0)
	if !ok || skipWSString(p.src, i) != len(p.src) {
		return nil, invalidJSON(data)
	}
	return p.d, nil
}

// docParser builds a Document. Members and elements of the containers
// being parsed wait on the scratch stacks until their container ends, so
// that each container's are contiguous.
type docParser struct {
	src   string
	d     *Document
	mems  []docMember
	elems []int32
}

func skipWSString(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// value parses the value at i (whitespace skipped) into a new node and
// returns the index after it.
func (p *docParser) value(i, depth int) (int, bool) {
	s := p.src
	if i >= len(s) {
		return i, false
	}
	switch c := s[i]; {
	case c == '{':
		return p.object(i+1, depth+1)
	case c == '[':
		return p.array(i+1, depth+1)
	case c == '"':
		str, end, ok := p.str(i)
		if !ok {
			return end, false
		}
		p.d.nodes = append(p.d.nodes, docNode{k: kString, str: str})
		return end, true
	case c == 't':
		if len(s)-i >= 4 && s[i:i+4] == "true" {
			p.d.nodes = append(p.d.nodes, docNode{k: kBool, b: true})
			return i + 4, true
		}
	case c == 'f':
		if len(s)-i >= 5 && s[i:i+5] == "false" {
			p.d.nodes = append(p.d.nodes, docNode{k: kBool})
			return i + 5, true
		}
	case c == 'n':
		if len(s)-i >= 4 && s[i:i+4] == "null" {
			p.d.nodes = append(p.d.nodes, docNode{k: kNull})
			return i + 4, true
		}
	case c == '-' || (c >= '0' && c <= '9'):
		f, end, ok := docNumber(s, i)
		if !ok {
			return end, false
		}
		p.d.nodes = append(p.d.nodes, docNode{k: kNumber, num: f})
		return end, true
	}
	return i, false
}

// docNumber validates the JSON number at i and converts it as
// encoding/json does (correctly rounded; beyond float64 it is ±Inf, as
// JSON.parse, where encoding/json refuses the document).
func docNumber(s string, i int) (float64, int, bool) {
	start := i
	if s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return 0, i, false
	}
	var mant uint64
	digits := 0
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			mant = mant*10 + uint64(s[i]-'0')
			digits++
			i++
		}
	} else {
		return 0, i, false
	}
	simple := true
	if i < len(s) && s[i] == '.' {
		simple = false
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return 0, i, false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		simple = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return 0, i, false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if simple && digits <= 15 { // exact in a float64
		f := float64(mant)
		if s[start] == '-' {
			f = -f
		}
		return f, i, true
	}
	return parseJSNumber(s[start:i]), i, true
}

// str validates the string literal at i (its opening quote) and returns
// its value as encoding/json decodes it: a slice of the source when it
// has no escapes and is valid UTF-8, a decoded copy otherwise.
func (p *docParser) str(i int) (string, int, bool) {
	s := p.src
	start := i
	i++
	plain := true
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			if plain {
				return s[start+1 : i], i + 1, true
			}
			var out string
			if json.Unmarshal([]byte(s[start:i+1]), &out) != nil {
				return "", i, false // not reached: the literal was validated
			}
			return out, i + 1, true
		case c < 0x20:
			return "", i, false
		case c == '\\':
			plain = false
			i++
			if i >= len(s) {
				return "", i, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(s)-i < 5 || !isHex4(s[i+1:i+5]) {
					return "", i, false
				}
				i += 5
			default:
				return "", i, false
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				plain = false // encoding/json writes U+FFFD for each bad byte
			}
			i += size
		default:
			i++
		}
	}
	return "", i, false
}

func isHex4(s string) bool {
	for j := 0; j < 4; j++ {
		c := s[j]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// object parses the members after '{' at i.
func (p *docParser) object(i, depth int) (int, bool) {
	if depth > docMaxDepth {
		return i, false
	}
	idx := len(p.d.nodes)
	p.d.nodes = append(p.d.nodes, docNode{k: kObject})
	base := len(p.mems)
	s := p.src
	i = skipWSString(s, i)
	if i < len(s) && s[i] == '}' {
		p.d.nodes[idx].lo = int32(len(p.d.mems))
		return i + 1, true
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return i, false
		}
		key, end, ok := p.str(i)
		if !ok {
			return end, false
		}
		i = skipWSString(s, end)
		if i >= len(s) || s[i] != ':' {
			return i, false
		}
		i = skipWSString(s, i+1)
		val := int32(len(p.d.nodes))
		if i, ok = p.value(i, depth); !ok {
			return i, false
		}
		p.mems = append(p.mems, docMember{key: key, hash: docHash(key), val: val})
		i = skipWSString(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipWSString(s, i+1)
			continue
		}
		if i < len(s) && s[i] == '}' {
			break
		}
		return i, false
	}
	p.d.finishObject(idx, p.mems[base:])
	p.mems = p.mems[:base]
	return i + 1, true
}

// finishObject stores an object's members and, for a larger object, its
// table; a repeated key's last value wins, as in encoding/json.
func (d *Document) finishObject(idx int, mems []docMember) {
	n := &d.nodes[idx]
	if len(mems) <= docLinearMax {
		// A small object keeps only the last of each repeated key, so a
		// lookup can stop at the first hit.
		kept := mems[:0]
		for j := range mems {
			dup := false
			for k := j + 1; k < len(mems) && !dup; k++ {
				dup = mems[k].hash == mems[j].hash && mems[k].key == mems[j].key
			}
			if !dup {
				kept = append(kept, mems[j]) // kept is never ahead of j
			}
		}
		mems = kept
	}
	n.lo, n.n = int32(len(d.mems)), int32(len(mems))
	d.mems = append(d.mems, mems...)
	if len(mems) <= docLinearMax {
		return
	}
	size := 16
	for size < len(mems)+len(mems)/2 { // at most two thirds full
		size *= 2
	}
	n.tab, n.mask = int32(len(d.table)), uint32(size-1)
	d.table = append(d.table, make([]docMember, size)...)
	t := d.table[n.tab:]
	for j := range mems {
		m := &mems[j]
		for s := uint32(m.hash) & n.mask; ; s = (s + 1) & n.mask {
			if t[s].val == 0 || (t[s].hash == m.hash && t[s].key == m.key) {
				t[s] = *m // a later duplicate replaces the earlier
				break
			}
		}
	}
}

// array parses the elements after '[' at i.
func (p *docParser) array(i, depth int) (int, bool) {
	if depth > docMaxDepth {
		return i, false
	}
	idx := len(p.d.nodes)
	p.d.nodes = append(p.d.nodes, docNode{k: kArray})
	base := len(p.elems)
	s := p.src
	i = skipWSString(s, i)
	if i < len(s) && s[i] == ']' {
		p.d.nodes[idx].lo = int32(len(p.d.elems))
		return i + 1, true
	}
	for {
		el := int32(len(p.d.nodes))
		var ok bool
		if i, ok = p.value(i, depth); !ok {
			return i, false
		}
		p.elems = append(p.elems, el)
		i = skipWSString(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipWSString(s, i+1)
			continue
		}
		if i < len(s) && s[i] == ']' {
			break
		}
		return i, false
	}
	n := &p.d.nodes[idx]
	n.lo, n.n = int32(len(p.d.elems)), int32(len(p.elems)-base)
	p.d.elems = append(p.d.elems, p.elems[base:]...)
	p.elems = p.elems[:base]
	return i + 1, true
}

// lookup returns the node of object o's member key (hashed h), or nil.
func (d *Document) lookup(o *docNode, h uint64, key string) *docNode {
	if o.mask == 0 {
		mems := d.mems[o.lo : o.lo+o.n]
		for j := range mems { // no repeated keys: finishObject kept the last
			if mems[j].hash == h && keyEq(mems[j].key, key) {
				return &d.nodes[mems[j].val]
			}
		}
		return nil
	}
	t := d.table[o.tab : o.tab+int32(o.mask)+1]
	for s := uint32(h) & o.mask; ; s = (s + 1) & o.mask {
		m := &t[s]
		if m.val == 0 {
			return nil
		}
		if m.hash == h && keyEq(m.key, key) {
			return &d.nodes[m.val]
		}
	}
}

// keyEq is a == b for keys of equal hash, inlined for the common key
// lengths 4 to 7: two overlapping loads, one from each end, instead of a
// call.
func keyEq(a, b string) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	if n == 0 {
		return true
	}
	pa, pb := unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b))
	if n >= 4 && n < 8 {
		return *(*uint32)(pa) == *(*uint32)(pb) &&
			*(*uint32)(unsafe.Add(pa, n-4)) == *(*uint32)(unsafe.Add(pb, n-4))
	}
	return a == b
}

// Value returns the document as encoding/json decodes it into an any.
func (d *Document) Value() any { return d.toAny(d.root()) }

// docNull is the zero Document's value.
var docNull = docNode{k: kNull}

func (d *Document) root() *docNode {
	if len(d.nodes) == 0 {
		return &docNull
	}
	return &d.nodes[0]
}

func (d *Document) toAny(n *docNode) any {
	switch n.k {
	case kBool:
		return n.b
	case kNumber:
		return n.num
	case kString:
		return n.str
	case kArray:
		a := make([]any, n.n)
		for j := range a {
			a[j] = d.toAny(&d.nodes[d.elems[n.lo+int32(j)]])
		}
		return a
	case kObject:
		m := make(map[string]any, n.n)
		for _, mem := range d.mems[n.lo : n.lo+n.n] {
			m[mem.key] = d.toAny(&d.nodes[mem.val])
		}
		return m
	}
	return nil
}

// docval is a value inside a Document for the generic matcher; a nil n
// is undefined.
type docval struct {
	d *Document
	n *docNode
}

func (v docval) kind() kind {
	if v.n == nil {
		return kUndefined
	}
	return v.n.k
}

func (v docval) str() string {
	if v.n == nil {
		return ""
	}
	return v.n.str
}

func (v docval) num() float64 {
	if v.n == nil {
		return 0
	}
	return v.n.num
}

func (v docval) boolean() bool { return v.n != nil && v.n.b }

func (v docval) get(key string) docval {
	if v.n == nil {
		return docval{}
	}
	switch v.n.k {
	case kObject:
		return docval{v.d, v.d.lookup(v.n, docHash(key), key)}
	case kArray:
		if key == "length" {
			return docval{v.d, &docNode{k: kNumber, num: float64(v.n.n)}}
		}
		if i, ok := arrayIndex(key); ok && i < int(v.n.n) {
			return docval{v.d, &v.d.nodes[v.d.elems[int(v.n.lo)+i]]}
		}
	case kString:
		return stringProperty(v.n.str, key, func(x any) docval {
			switch x := x.(type) {
			case float64:
				return docval{v.d, &docNode{k: kNumber, num: x}}
			case string:
				return docval{v.d, &docNode{k: kString, str: x}}
			}
			return docval{}
		})
	}
	return docval{}
}

func (v docval) onePass() bool { return false }

func (v docval) fields(n *node, out []docval) {
	for i := range n.entries {
		out[i] = v.get(n.entries[i].key)
	}
}

func (v docval) some(n *node) bool {
	if v.n == nil || v.n.k != kArray {
		return false
	}
	for _, el := range v.d.elems[v.n.lo : v.n.lo+v.n.n] {
		if matchNode(n, docval{v.d, &v.d.nodes[el]}, nil, "") {
			return true
		}
	}
	return false
}

func (v docval) includes(s scalar) bool {
	if v.n == nil || v.n.k != kArray {
		return false
	}
	for _, el := range v.d.elems[v.n.lo : v.n.lo+v.n.n] {
		if equalScalar(docval{v.d, &v.d.nodes[el]}, s) {
			return true
		}
	}
	return false
}

func (v docval) raw() string {
	if v.n == nil {
		return "undefined"
	}
	b, err := json.Marshal(v.d.toAny(v.n))
	if err != nil {
		return "?"
	}
	return string(b)
}

// docPlan is the decoded plan (dnode) with each key hashed for Document
// lookups.
type docPlan struct {
	checks []docCheck
}

// docCheck is a dcheck with its key's hash, the fields a lookup and the
// common checks read first.
type docCheck struct {
	hash   uint64
	key    string
	kind   dkind
	allow  [2]bool
	str    string
	nested *docPlan
	strs   []string
	set    map[string]struct{}
	e      *entry
}

func planDocument(d *dnode) *docPlan {
	p := &docPlan{checks: make([]docCheck, len(d.checks))}
	for i := range d.checks {
		c := &d.checks[i]
		p.checks[i] = docCheck{hash: docHash(c.key), key: c.key, kind: c.kind, allow: c.allow, str: c.str,
			strs: c.strs, set: c.set, e: c.e}
		if c.kind == dNested {
			p.checks[i].nested = planDocument(c.nested)
		}
	}
	return p
}

// MatchDocument reports whether a parsed document matches: exactly what
// Match reports for encoding/json's decoding of the same bytes. It does
// not allocate on the common paths; parse the payload once with
// ParseDocument and match every filter against it.
func (f *EventFilter) MatchDocument(d *Document) bool {
	root := d.root()
	if root.k == kObject {
		return f.doc.match(d, root)
	}
	return matchNode(f.root, docval{d, root}, nil, "")
}

// match is matchNode(n, docval{d, o}, nil, "") for the node the plan was
// built from, o an object.
func (p *docPlan) match(d *Document, o *docNode) bool {
	for i := range p.checks {
		c := &p.checks[i]
		x := d.lookup(o, c.hash, c.key)
		switch c.kind {
		case dString:
			if x == nil || x.k != kString || x.str != c.str {
				return false
			}
		case dStrings:
			if x == nil || x.k != kString || !oneOf(x.str, c.strs) {
				return false
			}
		case dStringSet:
			if x == nil || x.k != kString {
				return false
			}
			if _, in := c.set[x.str]; !in {
				return false
			}
		case dBool:
			if x == nil || x.k != kBool || !c.allow[boolIndex(x.b)] {
				return false
			}
		case dStartsWith:
			if x == nil || x.k != kString || len(x.str) < len(c.str) || x.str[:len(c.str)] != c.str {
				return false
			}
		case dEndsWith:
			if x == nil || x.k != kString || len(x.str) < len(c.str) || x.str[len(x.str)-len(c.str):] != c.str {
				return false
			}
		case dExists:
			if (x != nil) != c.allow[1] {
				return false
			}
		case dNested:
			if x != nil && x.k == kObject {
				if !c.nested.match(d, x) {
					return false
				}
			} else if !matchEntry(c.e, docval{d, x}, nil, "") {
				return false
			}
		case dNumbers:
			if x != nil && x.k == kNumber {
				if !oneOfNumber(x.num, c.e.nums) {
					return false
				}
			} else if !matchEntry(c.e, docval{d, x}, nil, "") {
				return false
			}
		default:
			if !matchEntry(c.e, docval{d, x}, nil, "") {
				return false
			}
		}
	}
	return true
}
