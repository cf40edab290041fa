package matcher_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
)

type tdGen struct{ r *rand.Rand }

func newTDGen(seed, stream uint64) *tdGen {
	return &tdGen{rand.New(rand.NewPCG(seed, stream))}
}

func (g *tdGen) n(k int) int           { return g.r.IntN(k) }
func (g *tdGen) p(x float64) bool      { return g.r.Float64() < x }
func tdPick[T any](g *tdGen, xs []T) T { return xs[g.r.IntN(len(xs))] }

var (
	tdKeyPool = []string{
		"name", "age", "isAdmin", "hobbies", "address", "city", "tags", "score", "a", "b", "x",
		"confirmedAt", "items", "zip", "", "ключ", "0", "10", "ä", "A", "Name", "a.b", "$gt", "$exists",
	}
	tdStrPool = []string{
		"John", "john", "JOHN", "Jöhn", "Jo", "hn", "Joh", "ohn", "John ", " John", "", "é", "e\u0301", "E", "e",
		"É", "ß", "ss", "SS", "ẞ", "ǆ", "Ǆ", "ǅ", "İ", "i", "I", "ı", "istanbul", "İstanbul", "ISTANBUL",
		"σ", "ς", "Σ", "Ω", "ω", "д", "Д", "привет", "ПРИВЕТ", "ｊｏｈｎ", "ＪＯＨＮ", "30", "true", "null",
		"1", "1.0", "-0", "ﬀ", "ff", "\u212a", "k", "K", "\u212b", "Å", "å", "A\u030a", "😀", "Jo\u200bhn",
		"a\u0000b", "ab", "a\u00adb", "æ", "ae", "reading", "swimming", "main", "Main", "ⅷ", "viii", "①",
		"١", "co-op", "coop", "Ǉ", "ǉ", "ǈ", "ŉ", "ʼn", "Ⅸ", "ⅸ", "\ufeffJohn", "\u0130", "\u0131",
	}
	tdNumPool = []string{
		"0", "-0", "0.0", "1", "1.0", "1e0", "30", "30.0", "3e1", "-1", "0.1", "0.30000000000000004", "2",
		"10", "100", "-5", "1.5", "25", "90", "110", "1e21", "1000000000000000000000", "1e+21", "1E21",
		"9007199254740993", "9007199254740992", "9007199254740991", "12345678901234567890",
		"12345678901234567891", "12345678901234567000", "1e-7", "-1e308", "1.7976931348623157e308",
		"5e-324", "123456789012345678901234567890", "0.1000000000000000055511151231257827",
	}
	tdOperators = []string{
		"$endsWith", "$startsWith", "$ignoreCaseEquals", "$exists", "$isNull", "$anythingBut", "$gt",
		"$lt", "$gte", "$lte", "$between", "$includes", "$not",
	}
)

func (g *tdGen) str() string { return tdPick(g, tdStrPool) }
func (g *tdGen) num() tdNum  { return tdNum(tdPick(g, tdNumPool)) }

func (g *tdGen) scalar() any {
	switch x := g.n(100); {
	case x < 50:
		return g.str()
	case x < 85:
		return g.num()
	default:
		return g.p(0.5)
	}
}

// random returns any JSON value, shallow.
func (g *tdGen) random(depth int) any {
	switch x := g.n(100); {
	case x < 60:
		return g.scalar()
	case x < 70:
		return nil
	case x < 85 && depth < 3:
		n := g.n(4)
		a := make([]any, n)
		for i := range a {
			a[i] = g.random(depth + 1)
		}
		return a
	case depth < 3:
		o := tdObj{}
		for range g.n(3) {
			o = append(o, tdKV{tdPick(g, tdKeyPool), g.random(depth + 1)})
		}
		return o
	default:
		return g.scalar()
	}
}

// filter returns a schema-valid EventFilter. With multi, some content
// objects carry two operators (valid only under Compat / zod narrowing).
func (g *tdGen) filter(depth int, multi bool) tdObj {
	var n int
	switch x := g.n(100); {
	case x < 8:
		n = 0
	case x < 50:
		n = 1
	case x < 80:
		n = 2
	default:
		n = 3 + g.n(2)
	}
	f := tdObj{}
	seen := map[string]bool{}
	for range n {
		k := tdPick(g, tdKeyPool)
		if seen[k] {
			continue
		}
		seen[k] = true
		f = append(f, tdKV{k, g.pattern(depth, multi)})
	}
	return f
}

func (g *tdGen) pattern(depth int, multi bool) any {
	switch x := g.n(100); {
	case x < 7:
		return []any{}
	case x < 32:
		return g.literalList()
	case x < 78 || depth >= 3:
		n := 1 + g.n(3)
		l := make([]any, n)
		for i := range l {
			l[i] = g.contentObject(multi && g.p(0.1))
		}
		return l
	default:
		return g.filter(depth+1, multi)
	}
}

func (g *tdGen) literalList() []any {
	n := 1 + g.n(3)
	l := make([]any, n)
	kind := g.n(3)
	for i := range l {
		switch kind {
		case 0:
			l[i] = g.str()
		case 1:
			l[i] = g.num()
		default:
			l[i] = g.p(0.5)
		}
	}
	return l
}

func (g *tdGen) contentObject(multi bool) tdObj {
	op := tdPick(g, tdOperators)
	o := tdObj{{op, g.operand(op)}}
	if multi {
		op2 := tdPick(g, tdOperators)
		if op2 != op {
			kv := tdKV{op2, g.operand(op2)}
			if g.p(0.5) {
				o = append(o, kv)
			} else {
				o = tdObj{kv, o[0]}
			}
		}
	}
	return o
}

func (g *tdGen) operand(op string) any {
	switch op {
	case "$endsWith", "$startsWith", "$ignoreCaseEquals":
		if g.p(0.3) {
			return g.nearMiss(g.str())
		}
		return g.str()
	case "$exists", "$isNull":
		return g.p(0.5)
	case "$anythingBut":
		if g.p(0.5) {
			return g.scalar()
		}
		l := g.literalList()
		if g.p(0.1) {
			l = []any{}
		}
		return l
	case "$gt", "$lt", "$gte", "$lte":
		return g.num()
	case "$between":
		a, b := g.num(), g.num()
		if g.p(0.3) {
			b = g.numNear(a)
		}
		return []any{a, b}
	case "$includes", "$not":
		return g.scalar()
	}
	panic("unknown operator " + op)
}

// payload returns a value built to collide with f: most of its keys, with
// values equal to, or near misses of, what f asks for.
func (g *tdGen) payload(f tdObj, depth int) any {
	o := tdObj{}
	for _, kv := range f {
		if !g.p(0.85) {
			continue
		}
		if v := g.valueFor(kv.v, depth); v != tdOmit {
			o = append(o, tdKV{kv.k, v})
		}
	}
	for range g.n(3) {
		o = append(o, tdKV{tdPick(g, tdKeyPool), g.random(depth + 1)})
	}
	g.r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
	if len(o) > 0 && g.p(0.05) { // a duplicate key: JSON.parse keeps the last
		i := g.n(len(o))
		o = append(o[:i:i], append(tdObj{{o[i].k, g.random(depth + 1)}}, o[i:]...)...)
	}
	return o
}

func (g *tdGen) valueFor(pattern any, depth int) any {
	switch p := pattern.(type) {
	case []any:
		if len(p) == 0 {
			if g.p(0.3) {
				return tdOmit
			}
			return g.random(depth + 1)
		}
		item := tdPick(g, p)
		if o, ok := item.(tdObj); ok {
			kv := tdPick(g, o)
			return g.valueForOp(kv.k, kv.v)
		}
		if g.p(0.45) {
			return g.respell(item)
		}
		return g.confuse(item)
	case tdObj:
		switch x := g.n(100); {
		case x < 55:
			return g.payload(p, depth+1)
		case x < 75:
			n := g.n(4)
			a := make([]any, n)
			for i := range a {
				if g.p(0.7) {
					a[i] = g.payload(p, depth+1)
				} else {
					a[i] = g.random(depth + 1)
				}
			}
			return a
		case x < 83:
			return nil
		case x < 90:
			return tdOmit
		default:
			return g.random(depth + 1)
		}
	}
	return g.random(depth + 1)
}

func (g *tdGen) valueForOp(op string, operand any) any {
	if g.p(0.08) {
		return tdOmit
	}
	if g.p(0.05) {
		return nil
	}
	switch op {
	case "$endsWith", "$startsWith", "$ignoreCaseEquals":
		s, _ := operand.(string)
		switch x := g.n(100); {
		case x < 20:
			return s
		case x < 30:
			return g.str() + s
		case x < 40:
			return s + g.str()
		case x < 65:
			return g.nearMiss(s)
		case x < 80:
			return g.caseVariant(s)
		case x < 90:
			return g.confuse(s)
		default:
			return []any{s}
		}
	case "$exists", "$isNull":
		return g.random(tdDepth0)
	case "$anythingBut":
		if l, ok := operand.([]any); ok {
			if len(l) > 0 && g.p(0.6) {
				item := tdPick(g, l)
				if g.p(0.6) {
					return g.respell(item)
				}
				return g.confuse(item)
			}
			return g.scalar()
		}
		if g.p(0.5) {
			return g.respell(operand)
		}
		return g.confuse(operand)
	case "$gt", "$lt", "$gte", "$lte":
		n := operand.(tdNum)
		switch x := g.n(100); {
		case x < 75:
			return g.numNear(n)
		case x < 85:
			return string(n)
		default:
			return g.random(tdDepth0)
		}
	case "$between":
		b := operand.([]any)
		lo, hi := b[0].(tdNum), b[1].(tdNum)
		switch x := g.n(100); {
		case x < 35:
			return g.numNear(lo)
		case x < 70:
			return g.numNear(hi)
		case x < 85:
			a, _ := strconv.ParseFloat(string(lo), 64)
			c, _ := strconv.ParseFloat(string(hi), 64)
			return tdFmtNum(a/2 + c/2)
		case x < 92:
			return string(lo)
		default:
			return g.random(tdDepth0)
		}
	case "$includes", "$not":
		switch x := g.n(100); {
		case x < 30:
			return []any{g.scalar(), g.respell(operand)}
		case x < 45:
			return []any{g.confuse(operand)}
		case x < 52:
			return []any{}
		case x < 65:
			return g.respell(operand)
		case x < 80:
			return g.confuse(operand)
		case x < 85:
			return []any{[]any{operand}, tdObj{{"a", operand}}}
		default:
			return g.random(tdDepth0)
		}
	}
	return g.random(tdDepth0)
}

const tdDepth0 = 1

// respell returns the same value, possibly spelled differently (numbers).
func (g *tdGen) respell(v any) any {
	n, ok := v.(tdNum)
	if !ok || !g.p(0.5) {
		return v
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return v
	}
	switch g.n(4) {
	case 0:
		return tdNum(strconv.FormatFloat(f, 'e', -1, 64))
	case 1:
		if f == math.Trunc(f) && math.Abs(f) < 1e21 {
			return tdNum(strconv.FormatFloat(f, 'f', -1, 64) + ".0")
		}
		return v
	case 2:
		return tdFmtNum(f)
	default:
		return tdNum(strconv.FormatFloat(f, 'E', -1, 64))
	}
}

// confuse returns a value of another type, or a near miss.
func (g *tdGen) confuse(v any) any {
	switch v := v.(type) {
	case string:
		switch x := g.n(100); {
		case x < 55:
			return g.nearMiss(v)
		case x < 65:
			if json.Valid([]byte(v)) {
				var n json.Number
				if json.Unmarshal([]byte(v), &n) == nil {
					return tdNum(v)
				}
			}
			return g.num()
		case x < 72:
			return v == "true"
		case x < 80:
			return nil
		case x < 90:
			return []any{v}
		default:
			return tdObj{{v, v}}
		}
	case tdNum:
		switch x := g.n(100); {
		case x < 30:
			return string(v)
		case x < 60:
			return g.numNear(v)
		case x < 70:
			return nil
		case x < 80:
			return []any{v}
		case x < 90:
			return v != "0"
		default:
			return g.num()
		}
	case bool:
		switch g.n(5) {
		case 0:
			return !v
		case 1:
			return strconv.FormatBool(v)
		case 2:
			if v {
				return tdNum("1")
			}
			return tdNum("0")
		case 3:
			return nil
		default:
			return []any{v}
		}
	}
	return g.random(tdDepth0)
}

func tdFmtNum(f float64) tdNum {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "0"
	}
	return tdNum(strconv.FormatFloat(f, 'g', -1, 64))
}

func (g *tdGen) numNear(n tdNum) tdNum {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return n
	}
	switch g.n(12) {
	case 0, 1:
		return n
	case 2:
		return g.respell(n).(tdNum)
	case 3:
		return tdFmtNum(f + 1)
	case 4:
		return tdFmtNum(f - 1)
	case 5:
		return tdFmtNum(f + 0.5)
	case 6:
		return tdFmtNum(math.Nextafter(f, math.Inf(1)))
	case 7:
		return tdFmtNum(math.Nextafter(f, math.Inf(-1)))
	case 8:
		return tdFmtNum(-f)
	case 9:
		return "-0"
	case 10:
		if strings.ContainsAny(string(n), ".eE") || n == "0" || n == "-0" {
			return n
		}
		return n + "1" // a longer integer literal
	default:
		return g.num()
	}
}

var (
	tdAccentOf = map[rune][]string{
		'o': {"ö", "ó", "o\u0308"}, 'e': {"é", "è", "e\u0301"}, 'a': {"á", "å", "a\u030a"},
		'i': {"í", "ı", "i\u0307"}, 'n': {"ñ"}, 'u': {"ü"}, 'A': {"Å", "\u212b"}, 'E': {"É"},
		'J': {"Ĵ"}, 'K': {"\u212a"}, 's': {"ś", "ß"}, 'I': {"İ", "ı"},
	}
	tdDecomposed = [][2]string{
		{"é", "e\u0301"}, {"ö", "o\u0308"}, {"Å", "A\u030a"}, {"ñ", "n\u0303"}, {"É", "E\u0301"}, {"ß", "ss"},
		{"ǆ", "dž"}, {"İ", "I\u0307"}, {"Ǆ", "DŽ"}, {"\u212b", "Å"}, {"\u212a", "K"}, {"ς", "σ"},
	}
	tdInvisible = []string{"\u200b", "\u00ad", "\u0000", "\u200d", "\ufeff", "\u0301", " "}
)

// nearMiss returns a string that differs from s by case, accents, width,
// length, invisible characters or normalization.
func (g *tdGen) nearMiss(s string) string {
	rs := []rune(s)
	switch g.n(14) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToLower(s)
	case 2:
		if len(rs) > 0 {
			return string(rs[:len(rs)-1])
		}
		return "x"
	case 3:
		if len(rs) > 0 {
			return string(rs[1:])
		}
		return "X"
	case 4:
		return s + tdPick(g, []string{"x", " ", "s", "\u0301"})
	case 5, 6:
		for i, r := range rs {
			if alts, ok := tdAccentOf[r]; ok {
				return string(rs[:i]) + tdPick(g, alts) + string(rs[i+1:])
			}
		}
		return s + "é"
	case 7:
		return tdFullWidth(s)
	case 8:
		i := 0
		if len(rs) > 0 {
			i = g.n(len(rs) + 1)
		}
		return string(rs[:i]) + tdPick(g, tdInvisible) + string(rs[i:])
	case 9:
		d := tdPick(g, tdDecomposed)
		if strings.Contains(s, d[0]) {
			return strings.ReplaceAll(s, d[0], d[1])
		}
		if strings.Contains(s, d[1]) {
			return strings.ReplaceAll(s, d[1], d[0])
		}
		return s + d[g.n(2)]
	case 10:
		return g.caseVariant(s)
	case 11:
		return strings.NewReplacer("i", "ı", "I", "İ", "ı", "i", "İ", "I").Replace(s)
	case 12:
		return strings.ToTitle(s)
	default:
		return g.str()
	}
}

func (g *tdGen) caseVariant(s string) string {
	switch g.n(5) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToLower(s)
	case 2:
		rs := []rune(s)
		for i, r := range rs {
			if unicode.IsUpper(r) {
				rs[i] = unicode.ToLower(r)
			} else {
				rs[i] = unicode.ToUpper(r)
			}
		}
		return string(rs)
	case 3:
		return tdFullWidth(s)
	default:
		rs := []rune(s)
		if len(rs) > 0 {
			rs[0] = unicode.ToTitle(rs[0])
		}
		return string(rs)
	}
}

func tdFullWidth(s string) string {
	rs := []rune(s)
	for i, r := range rs {
		if r > 0x20 && r < 0x7f {
			rs[i] = r - 0x21 + 0xff01
		}
	}
	return string(rs)
}

// topPayload returns the payload text for f, or nil for undefined.
func (g *tdGen) topPayload(f tdObj) []byte {
	var v any
	switch x := g.n(100); {
	case x < 4:
		return nil
	case x < 8:
		v = nil
	case x < 10:
		v = g.scalar()
	case x < 12:
		v = []any{g.payload(f, 1), g.random(1)}
	default:
		v = g.payload(f, 0)
	}
	return tdEncodeJSON(v, g)
}

// --- event filter differential ----------------------------------------------
