package matcher

import (
	"strings"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// matchOp is contentFilterMatches(actual, op) for one compiled operator.
func matchOp[V accessor[V]](o *op, actual V) bool {
	k := actual.kind()
	switch o.kind {
	case opEndsWith:
		return k == kString && strings.HasSuffix(actual.str(), o.str)
	case opStartsWith:
		return k == kString && strings.HasPrefix(actual.str(), o.str)
	case opAnythingBut:
		return !equalScalar(actual, o.val) // a missing key is anything but v
	case opAnythingButList:
		for _, s := range o.list {
			if equalScalar(actual, s) {
				return false
			}
		}
		return true
	case opExists:
		return (k != kUndefined) == o.b // null exists
	case opGt:
		return k == kNumber && actual.num() > o.num
	case opLt:
		return k == kNumber && actual.num() < o.num
	case opGte:
		return k == kNumber && actual.num() >= o.num
	case opLte:
		return k == kNumber && actual.num() <= o.num
	case opBetween:
		return k == kNumber && actual.num() >= o.num && actual.num() <= o.hi
	case opIncludes:
		return k == kArray && actual.includes(o.val)
	case opIgnoreCaseEquals:
		return k == kString && ignoreCaseEquals(actual.str(), o.str)
	case opIsNull:
		return (k == kNull) == o.b // a missing key is not null
	case opNot:
		switch k {
		case kArray:
			return !actual.includes(o.val)
		case kNumber, kBool, kString:
			return !equalScalar(actual, o.val)
		}
		return false // null, undefined or an object fail $not
	}
	return true
}

// collators compare at ICU's "accent" sensitivity (secondary strength):
// case and width differences are ignored, accents are not. Collators are
// not safe for concurrent use, hence the pool.
var collators = sync.Pool{New: func() any { return collate.New(language.Und, collate.IgnoreCase, collate.IgnoreWidth) }}

// ignoreCaseEquals is a.localeCompare(b, undefined, {sensitivity:
// "accent"}) === 0 under Node's ICU root collation. Printable ASCII takes
// a fast path that needs no collator.
func ignoreCaseEquals(a, b string) bool {
	if printableASCII(a) && printableASCII(b) {
		return strings.EqualFold(a, b)
	}
	c := collators.Get().(*collate.Collator)
	eq := c.CompareString(a, b) == 0
	collators.Put(c)
	return eq
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
