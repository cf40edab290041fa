package matcher_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/matcher"
)

// tdSchemaGen produces filters that are valid, invalid, or valid only after
// zod's narrowing of multi-operator objects.
type tdSchemaGen struct {
	*tdGen
	multi bool // the filter holds an object with two or more keys in a content list
}

func (g *tdSchemaGen) invalidPattern() any {
	o := func(k string, v any) tdObj { return tdObj{{k, v}} }
	list := []func() any{
		func() any { return []any{g.str(), g.num()} },
		func() any { return []any{g.str(), true} },
		func() any { return []any{g.num(), false} },
		func() any { return []any{g.str(), nil} },
		func() any { return []any{nil} },
		func() any { return []any{g.str(), o("$startsWith", g.str())} },
		func() any { return []any{o("$gt", g.num()), g.num()} },
		func() any {
			return []any{o(tdPick(g.tdGen, []string{"$foo", "$Gt", "gt", "startsWith", "$in", "$eq", "$regex"}), g.scalar())}
		},
		func() any {
			return []any{o(tdPick(g.tdGen, []string{"$gt", "$lt", "$gte", "$lte"}), tdPick(g.tdGen, []any{"1", nil, true, []any{tdNum("1")}, tdObj{}}))}
		},
		func() any {
			return []any{o(tdPick(g.tdGen, []string{"$startsWith", "$endsWith", "$ignoreCaseEquals"}), tdPick(g.tdGen, []any{tdNum("1"), nil, true, []any{"a"}, tdObj{}}))}
		},
		func() any {
			return []any{o(tdPick(g.tdGen, []string{"$exists", "$isNull"}), tdPick(g.tdGen, []any{"true", tdNum("1"), nil, []any{true}, tdObj{}}))}
		},
		func() any {
			return []any{o(tdPick(g.tdGen, []string{"$includes", "$not"}), tdPick(g.tdGen, []any{nil, []any{tdNum("1")}, []any{}, tdObj{}, tdObj{{"a", "b"}}}))}
		},
		func() any {
			return []any{o("$anythingBut", tdPick(g.tdGen, []any{[]any{"a", tdNum("1")}, nil, []any{[]any{tdNum("1")}}, tdObj{}, []any{nil}, []any{true, "true"}}))}
		},
		func() any {
			return []any{o("$between", tdPick(g.tdGen, []any{
				[]any{g.num()}, []any{g.num(), g.num(), g.num()}, []any{"1", "2"}, []any{g.num(), nil},
				g.num(), []any{}, tdObj{}, nil, []any{[]any{tdNum("1")}, tdNum("2")},
			}))}
		},
		func() any { return []any{tdObj{}} },
		func() any { return []any{o("$gt", g.num()), tdObj{}} },
		func() any { return []any{[]any{g.str()}} },
		func() any { return []any{[]any{}} },
		func() any { return []any{o("$gt", g.num()), g.str()} },
		func() any { return nil },
		func() any { return g.scalar() },
		func() any { return []any{o("$gt", g.num()), nil} },
		func() any { return []any{tdObj{{"x", g.num()}}} },
	}
	return tdPick(g.tdGen, list)()
}

// multiObject returns a content object with two or more keys: operators
// with valid or invalid operands, unknown operators, or plain keys.
func (g *tdSchemaGen) multiObject() tdObj {
	g.multi = true
	n := 2 + g.n(2)
	o := tdObj{}
	seen := map[string]bool{}
	for len(o) < n {
		var kv tdKV
		switch x := g.n(100); {
		case x < 65:
			op := tdPick(g.tdGen, tdOperators)
			kv = tdKV{op, g.operand(op)}
		case x < 85:
			op := tdPick(g.tdGen, tdOperators)
			kv = tdKV{op, tdPick(g.tdGen, []any{nil, "1", tdNum("1"), true, []any{}, tdObj{}, []any{"a", tdNum("1")}})}
		case x < 93:
			kv = tdKV{tdPick(g.tdGen, []string{"$foo", "$in", "$eq"}), g.scalar()}
		default:
			kv = tdKV{tdPick(g.tdGen, []string{"x", "gt", "description"}), g.scalar()}
		}
		if seen[kv.k] {
			continue
		}
		seen[kv.k] = true
		o = append(o, kv)
	}
	return o
}

func (g *tdSchemaGen) filter(depth int) any {
	if depth == 0 && g.p(0.03) {
		return tdPick(g.tdGen, []any{nil, []any{}, "x", tdNum("1"), true, []any{tdObj{}}})
	}
	n := g.n(4)
	f := tdObj{}
	for range n {
		k := tdPick(g.tdGen, tdKeyPool)
		var v any
		switch x := g.n(100); {
		case x < 22:
			v = g.invalidPattern()
		case x < 40:
			l := []any{}
			for range 1 + g.n(2) {
				if g.p(0.5) {
					l = append(l, g.multiObject())
				} else {
					l = append(l, g.contentObject(false))
				}
			}
			v = l
		case x < 55 && depth < 3:
			v = g.filter(depth + 1)
		default:
			v = g.pattern(depth, false)
		}
		f = append(f, tdKV{k, v})
	}
	if len(f) > 0 && g.p(0.02) { // duplicate key: JSON.parse keeps the last
		f = append(f, tdKV{f[0].k, g.pattern(depth, false)})
	}
	return f
}

// stringMatch returns a StringMatch (valid or not) for RequestFilter
// headers and query.
func (g *tdSchemaGen) stringMatch(valid bool) any {
	if valid {
		switch x := g.n(100); {
		case x < 40:
			l := []any{}
			for range g.n(3) {
				l = append(l, g.str())
			}
			return l
		case x < 85:
			l := []any{}
			for range 1 + g.n(2) {
				op := tdPick(g.tdGen, []string{"$endsWith", "$startsWith", "$ignoreCaseEquals"})
				l = append(l, tdObj{{op, g.str()}})
			}
			return l
		default:
			g.multi = true
			ops := []string{"$endsWith", "$startsWith", "$ignoreCaseEquals", "$gt", "$foo"}
			g.r.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
			o := tdObj{}
			for _, op := range ops[:2] {
				if op == "$gt" {
					o = append(o, tdKV{op, g.num()})
				} else {
					o = append(o, tdKV{op, g.str()})
				}
			}
			return []any{o}
		}
	}
	return tdPick(g.tdGen, []any{
		[]any{g.num()}, []any{true}, []any{tdObj{{"$gt", g.num()}}}, []any{tdObj{{"$exists", true}}},
		[]any{tdObj{{"$anythingBut", g.str()}}}, g.str(), tdObj{{"nested", []any{g.str()}}},
		[]any{g.str(), tdObj{{"$endsWith", g.str()}}}, nil, []any{nil}, []any{tdObj{}},
	})
}

type tdRequestSchemaCase struct {
	filter            []byte
	multi, unknownKey bool
	mixedCaseHeader   bool
}

var (
	tdMethods         = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	tdHeaderNamesPool = []string{
		"content-type", "x-github-event", "x-hub-signature-256", "user-agent", "x-custom", "accept",
		"set-cookie", "x-request-id", "",
	}
)

func (g *tdSchemaGen) requestFilter() tdRequestSchemaCase {
	g.multi = false
	c := tdRequestSchemaCase{}
	if g.p(0.03) {
		c.filter = tdEncodeJSON(tdPick(g.tdGen, []any{nil, []any{}, "x", tdNum("1")}), nil)
		return c
	}
	rf := tdObj{}
	if g.p(0.5) {
		if g.p(0.8) {
			l := []any{}
			for range g.n(4) {
				l = append(l, tdPick(g.tdGen, tdMethods))
			}
			rf = append(rf, tdKV{"method", l})
		} else {
			rf = append(rf, tdKV{"method", tdPick(g.tdGen, []any{
				[]any{"post"}, []any{"CONNECT"}, []any{"TRACE"}, "POST", []any{tdNum("1")}, nil, []any{"GET", "get"}, []any{"Patch"}, tdObj{},
			})})
		}
	}
	rec := func(header bool) any {
		if g.p(0.05) {
			return tdPick(g.tdGen, []any{nil, []any{}, "x", []any{tdObj{}}})
		}
		o := tdObj{}
		for range g.n(3) {
			k := tdPick(g.tdGen, tdHeaderNamesPool)
			if !header {
				k = tdPick(g.tdGen, []string{"a", "b", "hub.mode", "q", "A", ""})
			} else if g.p(0.15) {
				k = tdPick(g.tdGen, []string{"Content-Type", "X-GitHub-Event", "X-Custom", "ACCEPT"})
				c.mixedCaseHeader = true
			}
			o = append(o, tdKV{k, g.stringMatch(g.p(0.85))})
		}
		return o
	}
	if g.p(0.5) {
		rf = append(rf, tdKV{"headers", rec(true)})
	}
	if g.p(0.5) {
		rf = append(rf, tdKV{"query", rec(false)})
	}
	if g.p(0.5) {
		rf = append(rf, tdKV{"body", g.filter(0)})
	}
	if g.p(0.1) {
		c.unknownKey = true
		rf = append(rf, tdKV{tdPick(g.tdGen, []string{"header", "Method", "rawBody", "url", "params"}), g.random(1)})
	}
	g.r.Shuffle(len(rf), func(i, j int) { rf[i], rf[j] = rf[j], rf[i] })
	c.filter = tdEncodeJSON(rf, nil)
	c.multi = g.multi
	return c
}

func TestTriggerDevSchemaDifferential(t *testing.T) {
	dir := tdInteropDir(t)
	seed := tdSeed(t)
	g := &tdSchemaGen{tdGen: newTDGen(seed, 2)}

	type evSchemaCase struct {
		filter []byte
		multi  bool
	}
	explicit := []string{
		`{}`, `null`, `[]`, `"x"`, `1`, `{"a":null}`, `{"a":"x"}`, `{"a":1}`, `{"a":true}`,
		`{"a":["x",1]}`, `{"a":["x",{"$startsWith":"y"}]}`, `{"a":[{"$foo":1}]}`, `{"a":[{}]}`,
		`{"a":[{"$gt":"1"}]}`, `{"a":[{"$between":[1]}]}`, `{"a":[{"$between":[1,2,3]}]}`,
		`{"a":[{"$between":["1","2"]}]}`, `{"a":[["x"]]}`, `{"a":{"b":{}}}`, `{"a":{"$gt":1}}`,
		`{"a":{"$gt":[1]}}`, `{"a":[{"$gt":1,"$lt":5}]}`, `{"a":[{"$anythingBut":"x","$ignoreCaseEquals":"X"}]}`,
		`{"a":[{"$endsWith":5,"$gt":1}]}`, `{"a":[{"$gt":"x","$lt":"y"}]}`, `{"a":[{"$foo":1,"$gt":1}]}`,
		`{"a":[{"$gt":1,"x":2}]}`, `{"a":[{"$not":"x","$includes":"y"}]}`, `{"a":[{"$anythingBut":[],"$exists":true}]}`,
		`{"a":[{"$anythingBut":["a",1],"$gt":1}]}`, `{"a":[{"$gt":1,"$gt":"x"}]}`, `{"a":[1],"a":["x",1]}`,
		`{"a":[{"$between":[1,2],"$includes":null}]}`, `{"a":[{"$exists":true,"$isNull":true}]}`,
		`{"a":[{"$includes":1,"$not":[1]}]}`, `{"a":[{"$lte":-0,"$gte":1e21}]}`, `{"":[]}`,
	}
	var cases []evSchemaCase
	for _, f := range explicit {
		var v any
		multi := false
		if json.Unmarshal([]byte(f), &v) == nil {
			multi = tdHasMultiObject(v)
		}
		cases = append(cases, evSchemaCase{[]byte(f), multi})
	}
	const generated = 4000
	for range generated {
		g.multi = false
		f := g.filter(0)
		cases = append(cases, evSchemaCase{tdEncodeJSON(f, nil), g.multi})
	}
	const reqGenerated = 3000
	var reqCases []tdRequestSchemaCase
	for _, f := range []string{
		`{}`, `{"method":[]}`, `{"method":["post"]}`, `{"method":"POST"}`, `{"method":null}`,
		`{"header":{"a":["x"]}}`, `{"headers":{"X-A":["b"]}}`, `{"headers":{"x-a":[1]}}`,
		`{"headers":{"x-a":[{"$gt":1}]}}`, `{"headers":{"x-a":{"b":["c"]}}}`, `{"query":{"a":[{"$startsWith":"a","$endsWith":"b"}]}}`,
		`{"query":{"a":[{"$startsWith":"a","$gt":1}]}}`, `{"body":{"a":[{"$gt":1,"$lt":2}]}}`, `{"body":null}`,
		`{"body":[]}`, `{"method":["GET"],"headers":{},"query":{},"body":{}}`,
	} {
		reqCases = append(reqCases, tdRequestSchemaCase{filter: []byte(f), multi: strings.Count(f, "$") > 1,
			unknownKey: strings.Contains(f, `"header"`), mixedCaseHeader: strings.Contains(f, `"X-A"`)})
	}
	for range reqGenerated {
		reqCases = append(reqCases, g.requestFilter())
	}

	var inputs []any
	for _, c := range cases {
		inputs = append(inputs, map[string]any{"op": "schema", "filter": json.RawMessage(c.filter)})
	}
	for _, c := range reqCases {
		inputs = append(inputs, map[string]any{"op": "request_schema", "filter": json.RawMessage(c.filter)})
	}
	outs := tdRunNode(t, dir, inputs)

	d := &tdDisagreements{name: "schemas"}
	var valid, strictExtra, narrowedCompared int
	for i, c := range cases {
		node := tdDecodeResult(t, outs[i])
		if node.Valid == nil {
			t.Fatalf("schema case %s: node output %s", c.filter, outs[i])
		}
		desc := map[string]any{"filter": json.RawMessage(c.filter), "zod_valid": *node.Valid}
		var f *matcher.EventFilter
		var errCompat, errStrict error
		if msg := tdCatch(func() { f, errCompat = matcher.ParseEventFilter(c.filter, matcher.Compat()) }); msg != "" {
			d.add("EventFilter-parse-panic", tdMerge(desc, map[string]any{"panic": msg}))
			continue
		}
		if msg := tdCatch(func() { _, errStrict = matcher.ParseEventFilter(c.filter) }); msg != "" {
			d.add("EventFilter-parse-panic", tdMerge(desc, map[string]any{"panic": msg, "strict": true}))
			continue
		}
		for _, err := range []error{errCompat, errStrict} {
			var pe *matcher.ParseError
			if err != nil && !errors.As(err, &pe) {
				d.add("EventFilter-error-type", tdMerge(desc, map[string]any{"go_error": fmt.Sprintf("%T %v", err, err)}))
			}
		}
		if (errCompat == nil) != *node.Valid {
			extra := map[string]any{}
			if errCompat != nil {
				extra["go_error"] = errCompat.Error()
			}
			d.add("EventFilter-Compat-validity", tdMerge(desc, extra))
			continue
		}
		if errCompat != nil {
			if errStrict == nil {
				d.add("EventFilter-strict-accepts-what-Compat-rejects", desc)
			}
			continue
		}
		valid++
		if errStrict != nil {
			strictExtra++
			if !c.multi {
				d.add("EventFilter-strict-extra-rejection", tdMerge(desc, map[string]any{"go_error": errStrict.Error()}))
			} else if !strings.Contains(strings.ToLower(errStrict.Error()), "operator") {
				d.add("EventFilter-strict-message", tdMerge(desc, map[string]any{"go_error": errStrict.Error()}))
			}
		}
		// The (narrowed) filter must equal zod's output.
		var got []byte
		var err error
		if msg := tdCatch(func() { got, err = f.MarshalJSON() }); msg != "" || err != nil {
			d.add("EventFilter-MarshalJSON-error", tdMerge(desc, map[string]any{"error": fmt.Sprint(msg, err)}))
			continue
		}
		narrowedCompared++
		if !tdJSONEqual(got, node.Parsed) {
			d.add("EventFilter-narrowed", tdMerge(desc, map[string]any{"zod_parsed": node.Parsed, "go_marshal": json.RawMessage(got)}))
		}
	}
	var reqValid, reqStrictExtra int
	for j, c := range reqCases {
		raw := outs[len(cases)+j]
		node := tdDecodeResult(t, raw)
		if node.Valid == nil {
			t.Fatalf("request schema case %s: node output %s", c.filter, raw)
		}
		desc := map[string]any{"request_filter": json.RawMessage(c.filter), "zod_valid": *node.Valid}
		var errCompat, errStrict error
		if msg := tdCatch(func() { _, errCompat = matcher.ParseRequestFilter(c.filter, matcher.Compat()) }); msg != "" {
			d.add("RequestFilter-parse-panic", tdMerge(desc, map[string]any{"panic": msg}))
			continue
		}
		if msg := tdCatch(func() { _, errStrict = matcher.ParseRequestFilter(c.filter) }); msg != "" {
			d.add("RequestFilter-parse-panic", tdMerge(desc, map[string]any{"panic": msg, "strict": true}))
			continue
		}
		if (errCompat == nil) != *node.Valid {
			extra := map[string]any{}
			if errCompat != nil {
				extra["go_error"] = errCompat.Error()
			}
			d.add("RequestFilter-Compat-validity", tdMerge(desc, extra))
			continue
		}
		if errCompat != nil {
			if errStrict == nil {
				d.add("RequestFilter-strict-accepts-what-Compat-rejects", desc)
			}
			continue
		}
		reqValid++
		if errStrict != nil {
			reqStrictExtra++
			if !c.multi && !c.unknownKey && !c.mixedCaseHeader {
				d.add("RequestFilter-strict-extra-rejection", tdMerge(desc, map[string]any{"go_error": errStrict.Error()}))
			}
		}
	}
	t.Logf("EventFilter: %d filters (%d explicit, %d generated), %d valid in zod and Compat, %d of those rejected without Compat (multi-operator), %d narrowed filters compared with zod's output",
		len(cases), len(explicit), generated, valid, strictExtra, narrowedCompared)
	t.Logf("RequestFilter: %d filters, %d valid, %d of those rejected without Compat", len(reqCases), reqValid, reqStrictExtra)
	d.report(t, len(cases)+len(reqCases))
}

// tdHasMultiObject reports whether v holds an array item that is an object
// with two or more keys.
func tdHasMultiObject(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			if tdHasMultiObject(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if o, ok := x.(map[string]any); ok && len(o) > 1 {
				return true
			}
		}
	}
	return false
}

func tdFilterHasMultiObject(filter string) bool {
	var v any
	return json.Unmarshal([]byte(filter), &v) == nil && tdHasMultiObject(v)
}

func tdJSONEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// --- request filter differential --------------------------------------------
