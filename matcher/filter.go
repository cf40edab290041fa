package matcher

// The compiled form of an EventFilter. Everything here is immutable once
// parsed, so a filter is safe for concurrent use.

// entryKind says what a filter key's pattern is.
type entryKind uint8

const (
	eSkip    entryKind = iota // an empty list: the key always passes
	eStrings                  // a list of strings: OR, strict equality
	eNumbers                  // a list of numbers
	eBools                    // a list of booleans
	eContent                  // a list of content filters: AND
	eNested                   // a nested EventFilter
)

// node is one compiled EventFilter object.
type node struct {
	entries []entry
}

type entry struct {
	key    string
	kind   entryKind
	strs   []string
	nums   []float64
	bools  [2]bool // [false allowed, true allowed]
	blits  []bool  // the boolean literals as written, for MarshalJSON
	ops    []op
	nested *node
}

// opKind is a content operator.
type opKind uint8

const (
	opEndsWith opKind = iota
	opStartsWith
	opIgnoreCaseEquals
	opExists
	opIsNull
	opAnythingBut
	opAnythingButList
	opGt
	opLt
	opGte
	opLte
	opBetween
	opIncludes
	opNot
)

// opNames are the operators in the reference schema's union order, which
// is the order Compat narrows by.
var opNames = [...]string{
	opEndsWith: "$endsWith", opStartsWith: "$startsWith", opIgnoreCaseEquals: "$ignoreCaseEquals",
	opExists: "$exists", opIsNull: "$isNull", opAnythingBut: "$anythingBut", opAnythingButList: "$anythingBut",
	opGt: "$gt", opLt: "$lt", opGte: "$gte", opLte: "$lte", opBetween: "$between", opIncludes: "$includes", opNot: "$not",
}

// scalar is a string, number or boolean operand.
type scalar struct {
	k kind // kString, kNumber or kBool
	s string
	n float64
	b bool
}

type op struct {
	kind    opKind
	str     string  // $endsWith, $startsWith, $ignoreCaseEquals
	b       bool    // $exists, $isNull
	num     float64 // $gt, $lt, $gte, $lte; $between's low end
	hi      float64 // $between's high end
	val     scalar  // $anythingBut, $includes, $not
	list    []scalar
	literal string // the operator object as JSON, for explanations
}

// equalScalar is JavaScript's === between a payload value and a scalar
// operand (and includes(), which is SameValueZero: no NaN in JSON).
func equalScalar[V accessor[V]](v V, s scalar) bool {
	switch v.kind() {
	case kString:
		return s.k == kString && v.str() == s.s
	case kNumber:
		return s.k == kNumber && v.num() == s.n
	case kBool:
		return s.k == kBool && v.boolean() == s.b
	}
	return false
}
