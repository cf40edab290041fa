package matcher_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hooklab/hooklab/matcher"
)

type tdEventCase struct {
	name    string
	filter  string
	payload *string // JSON text; nil is undefined
	want    int8    // the reference document's result for the raw function: 1 true, -1 false, 0 unknown
}

func (c tdEventCase) describe() map[string]any {
	m := map[string]any{"filter": json.RawMessage(c.filter)}
	if c.name != "" {
		m["name"] = c.name
	}
	if c.payload == nil {
		m["payload"] = "undefined"
	} else if json.Valid([]byte(*c.payload)) {
		m["payload"] = json.RawMessage(*c.payload)
	} else {
		m["payload_text"] = *c.payload
	}
	return m
}

func tdStrPtr(s string) *string { return &s }

const (
	tdP1 = `{"name":"John","age":30,"isAdmin":false,"hobbies":["reading","swimming"],"address":{"street":"123 Main St","city":"Anytown","state":"CA","zip":"12345"}`
	tdP2 = `{"name":"Jane","age":25,"isAdmin":true,"hobbies":["running","yoga"],"address":{"street":"456 Elm St","city":"Othertown","state":"NY","zip":"67890"}`
)

// tdVec builds an explicit vector; payload "undefined" means undefined.
func tdVec(name, payload, filter string, want bool) tdEventCase {
	c := tdEventCase{name: name, filter: filter, want: -1}
	if want {
		c.want = 1
	}
	if payload != "undefined" {
		c.payload = tdStrPtr(payload)
	}
	return c
}

// tdExplicitEventCases are the 34 upstream unit tests (§5.4) and the extra
// vectors (§5.6) of the reference document.
func tdExplicitEventCases() []tdEventCase {
	const (
		date = `"2020-01-01T00:00:00.000Z"`
	)
	P1 := tdP1 + "}"
	P2 := tdP2 + "}"
	return []tdEventCase{
		tdVec("5.4#1", "undefined", `{}`, true),
		tdVec("5.4#2", "undefined", `{"name":["John"]}`, false),
		tdVec("5.4#3", P1, `{"name":["John"]}`, true),
		tdVec("5.4#4", P1, `{"isAdmin":[false]}`, true),
		tdVec("5.4#5", P1, `{"age":[30]}`, true),
		tdVec("5.4#6", P1, `{"name":[{"$startsWith":"Jo"}]}`, true),
		tdVec("5.4#7", P1, `{"name":[{"$endsWith":"hn"}]}`, true),
		tdVec("5.4#8", P1, `{"name":[{"$startsWith":"Jo"},{"$endsWith":"hn"}]}`, true),
		tdVec("5.4#9", P1, `{"name":[{"$anythingBut":"Jane"}],"address":{"street":[{"$anythingBut":"456 Elm St"}]}}`, true),
		tdVec("5.4#10", P1, `{"name":[{"$anythingBut":["Jane","Joe"]}]}`, true),
		tdVec("5.4#11", P1, `{"name":[{"$exists":true}]}`, true),
		tdVec("5.4#12", P1, `{"foo":[{"$exists":false}]}`, true),
		tdVec("5.4#13", tdP1+`,"score":100}`, `{"age":[{"$gt":20},{"$lt":40}],"score":[{"$between":[90,110]}]}`, true),
		tdVec("5.4#14", P1, `{"hobbies":[{"$includes":"reading"}]}`, true),
		tdVec("5.4#15", P1, `{"hobbies":[{"$not":"gaming"}],"age":[{"$not":39}],"isAdmin":[{"$not":true}],"name":[{"$not":"Test"}]}`, true),
		tdVec("5.4#16", P1, `{"hobbies":[{"$not":"reading"}],"age":[{"$not":30}],"isAdmin":[{"$not":false}],"name":[{"$not":"John"}]}`, false),
		tdVec("5.4#17", P1, `{"name":[{"$ignoreCaseEquals":"john"}]}`, true),
		tdVec("5.4#18", tdP1+`,"confirmedAt":null}`, `{"confirmedAt":[{"$isNull":true}]}`, true),
		tdVec("5.4#19", tdP1+`,"confirmedAt":`+date+`}`, `{"confirmedAt":[{"$isNull":false}]}`, true),
		tdVec("5.4#20", P2, `{"name":["John"]}`, false),
		tdVec("5.4#21", P2, `{"age":["John"]}`, false),
		tdVec("5.4#22", P2, `{"isAdmin":[false]}`, false),
		tdVec("5.4#23", P2, `{"age":[30]}`, false),
		tdVec("5.4#24", P2, `{"name":[{"$startsWith":"Jo"}]}`, false),
		tdVec("5.4#25", P2, `{"name":[{"$startsWith":"Ja"},{"$endsWith":"hn"}]}`, false),
		tdVec("5.4#26", P2, `{"name":[{"$anythingBut":"Jane"}],"address":{"street":[{"$anythingBut":"456 Elm St"}]}}`, false),
		tdVec("5.4#27", P2, `{"name":[{"$anythingBut":["Jane","John"]}],"address":{"street":[{"$anythingBut":"456 Elm St"}]}}`, false),
		tdVec("5.4#28", P2, `{"foo":[{"$exists":true}]}`, false),
		tdVec("5.4#29", P2, `{"name":[{"$exists":false}]}`, false),
		tdVec("5.4#30", tdP2+`,"score":100}`, `{"age":[{"$gt":30}]}`, false),
		tdVec("5.4#31", P2, `{"hobbies":[{"$includes":"swimming"}]}`, false),
		tdVec("5.4#32", P2, `{"name":[{"$ignoreCaseEquals":"john"}]}`, false),
		tdVec("5.4#33", tdP2+`,"confirmedAt":`+date+`}`, `{"confirmedAt":[{"$isNull":true}]}`, false),
		tdVec("5.4#34", tdP2+`,"confirmedAt":null}`, `{"confirmedAt":[{"$isNull":false}]}`, false),

		tdVec("5.6#1", `{"a":1}`, `{}`, true),
		tdVec("5.6#2", `null`, `{}`, true),
		tdVec("5.6#3", `{}`, `{"a":[]}`, true),
		tdVec("5.6#4", `{"a":"y"}`, `{"a":["x","y"]}`, true),
		tdVec("5.6#5", `{"a":1}`, `{"a":["1"]}`, false),
		tdVec("5.6#6", `{"a":"1"}`, `{"a":[1]}`, false),
		tdVec("5.6#7", `{"a":["x","y"]}`, `{"a":["x"]}`, false),
		tdVec("5.6#8", `{"a":[1,2]}`, `{"a":[1]}`, false),
		tdVec("5.6#9", `{"a":null}`, `{"a":["null"]}`, false),
		tdVec("5.6#10", `{"a":"John"}`, `{"a":[{"$startsWith":"Jo"},{"$endsWith":"xx"}]}`, false),
		tdVec("5.6#11", `{"a":"zzz"}`, `{"a":["nope",{"$startsWith":"z"}]}`, true),
		tdVec("5.6#12", `{"a":null}`, `{"a":[{"$exists":true}]}`, true),
		tdVec("5.6#13", `{"a":null}`, `{"a":[{"$exists":false}]}`, false),
		tdVec("5.6#14", `{}`, `{"a":[{"$isNull":false}]}`, true),
		tdVec("5.6#15", `{}`, `{"a":[{"$isNull":true}]}`, false),
		tdVec("5.6#16", `{}`, `{"a":[{"$anythingBut":"x"}]}`, true),
		tdVec("5.6#17", `{"a":"z"}`, `{"a":[{"$anythingBut":["x","y"]}]}`, true),
		tdVec("5.6#18", `{"a":"abc"}`, `{"a":[{"$includes":"a"}]}`, false),
		tdVec("5.6#19", `{"a":[1,2]}`, `{"a":[{"$includes":2}]}`, true),
		tdVec("5.6#20", `{"a":5}`, `{"a":[{"$between":[10,1]}]}`, false),
		tdVec("5.6#21", `{"a":10}`, `{"a":[{"$between":[1,10]}]}`, true),
		tdVec("5.6#22", `{"a":"50"}`, `{"a":[{"$gt":1}]}`, false),
		tdVec("5.6#23", `{"a":null}`, `{"a":[{"$not":"x"}]}`, false),
		tdVec("5.6#24", `{}`, `{"a":[{"$not":"x"}]}`, false),
		tdVec("5.6#25", `{"a":["x"]}`, `{"a":[{"$not":"x"}]}`, false),
		tdVec("5.6#26", `{"a":"é"}`, `{"a":[{"$ignoreCaseEquals":"E"}]}`, false),
		tdVec("5.6#27", `{"a":"HELLO"}`, `{"a":[{"$ignoreCaseEquals":"hello"}]}`, true),
		tdVec("5.6#28", `{}`, `{"a":{"b":["x"]}}`, false),
		tdVec("5.6#29", `{}`, `{"a":{}}`, true),
		tdVec("5.6#30", `{"a":[{"b":"x"},{"b":"y"}]}`, `{"a":{"b":["y"]}}`, true),
		tdVec("5.6#31", `{"a":[{"b":"x"}]}`, `{"a":{"b":["y"]}}`, false),
		tdVec("5.6#32", `{"a":[]}`, `{"a":{}}`, false),
		tdVec("5.6#33", `{"a":"x"}`, `{"a":[{"$foo":1}]}`, true),
		tdVec("5.6#34", `{"a":"abc"}`, `{"a":[{"$endsWith":"c","$startsWith":"z"}]}`, true),
		tdVec("5.6#35", `{"a":false}`, `{"a":[false]}`, true),
		tdVec("5.6#36", `5`, `{"a":["x"]}`, false),

		// Number spelling and precision: JavaScript compares doubles.
		tdVec("num#1", `{"a":9007199254740993}`, `{"a":[9007199254740992]}`, true),
		tdVec("num#2", `{"a":12345678901234567891}`, `{"a":[12345678901234567890]}`, true),
		tdVec("num#3", `{"a":1e21}`, `{"a":[1000000000000000000000]}`, true),
		tdVec("num#4", `{"a":1.0}`, `{"a":[1]}`, true),
		tdVec("num#5", `{"a":-0}`, `{"a":[0]}`, true),
		tdVec("num#6", `{"a":-0}`, `{"a":[{"$not":0}]}`, false),
		tdVec("num#7", `{"a":[-0]}`, `{"a":[{"$includes":0}]}`, true),
		tdVec("num#8", `{"a":9007199254740993}`, `{"a":[{"$gt":9007199254740992}]}`, false),
		tdVec("num#9", `{"a":0.1000000000000000055511151231257827}`, `{"a":[0.1]}`, true),
		tdVec("num#10", `{"a":30}`, `{"a":[{"$anythingBut":["30"]}]}`, true),
		tdVec("num#11", `{"a":"30"}`, `{"a":[{"$anythingBut":[30]}]}`, true),
		// Collation (localeCompare, sensitivity "accent", ICU).
		tdVec("icu#1", `{"a":"ǆ"}`, `{"a":[{"$ignoreCaseEquals":"Ǆ"}]}`, true),
		tdVec("icu#2", `{"a":"ß"}`, `{"a":[{"$ignoreCaseEquals":"ss"}]}`, false),
		tdVec("icu#3", `{"a":"e\u0301"}`, `{"a":[{"$ignoreCaseEquals":"É"}]}`, true),
		tdVec("icu#4", `{"a":"ｊｏｈｎ"}`, `{"a":[{"$ignoreCaseEquals":"JOHN"}]}`, true),
		tdVec("icu#5", `{"a":"Jo\u200bhn"}`, `{"a":[{"$ignoreCaseEquals":"john"}]}`, true),
		tdVec("icu#6", `{"a":"İ"}`, `{"a":[{"$ignoreCaseEquals":"i"}]}`, false),
		tdVec("icu#7", `{"a":"ı"}`, `{"a":[{"$ignoreCaseEquals":"I"}]}`, false),
		tdVec("icu#8", `{"a":"ς"}`, `{"a":[{"$ignoreCaseEquals":"Σ"}]}`, true),
		tdVec("icu#9", `{"a":"\u212a"}`, `{"a":[{"$ignoreCaseEquals":"k"}]}`, true),
		tdVec("icu#10", `{"a":"ﬀ"}`, `{"a":[{"$ignoreCaseEquals":"FF"}]}`, true),
		tdVec("icu#11", `{"a":"æ"}`, `{"a":[{"$ignoreCaseEquals":"ae"}]}`, false),
		tdVec("icu#12", `{"a":"①"}`, `{"a":[{"$ignoreCaseEquals":"1"}]}`, true),
		tdVec("icu#13", `{"a":""}`, `{"a":[{"$ignoreCaseEquals":"\u00ad"}]}`, true),
		tdVec("icu#14", `{"a":"a\u0000b"}`, `{"a":[{"$ignoreCaseEquals":"AB"}]}`, true),
		// Strings are compared as UTF-16 in JavaScript, as code points or bytes in Go.
		tdVec("str#2", `{"a":"e\u0301"}`, `{"a":[{"$endsWith":"\u0301"}]}`, true),
		tdVec("str#3", `{"a":"é"}`, `{"a":["e\u0301"]}`, false),
		tdVec("str#4", `{"a":"x"}`, `{"a":[{"$startsWith":""},{"$endsWith":""}]}`, true),
		// Duplicate keys: JSON.parse keeps the last.
		tdVec("dup#1", `{"a":"x","a":"y"}`, `{"a":["y"]}`, true),
		tdVec("dup#2", `{"a":{"b":1},"a":{"c":2}}`, `{"a":{"b":[{"$exists":false}]}}`, true),
		tdVec("dup#3", `{"a":1}`, `{"a":["x"],"a":[1]}`, true),
		// Operator-like keys at filter level are plain keys.
		tdVec("key#1", `{"a":{"$gt":1}}`, `{"a":{"$gt":[1]}}`, true),
		tdVec("key#2", `{"a":{"$exists":true}}`, `{"a":{"$exists":[true]}}`, true),
		// Arrays: nested filters match some element; literal lists never unpack.
		tdVec("arr#1", `{"a":[[{"b":"x"}]]}`, `{"a":{"b":["x"]}}`, false),
		tdVec("arr#2", `{"a":[null,{"b":"x"}]}`, `{"a":{"b":["x"]}}`, true),
		tdVec("arr#3", `{"a":[{"b":[{"c":1}]}]}`, `{"a":{"b":{"c":[1]}}}`, true),
		tdVec("arr#4", `{"a":[1,null]}`, `{"a":{}}`, true),
		tdVec("arr#5", `[{"a":"x"}]`, `{"a":["x"]}`, false),
		tdVec("arr#6", `{"a":[]}`, `{"a":[{"$not":"x"}]}`, true),
		tdVec("arr#7", `{"a":[["x"]]}`, `{"a":[{"$includes":"x"}]}`, false),
	}
}

// tdQuirkEventCases depend on JavaScript property access (prototype members,
// string and array properties) or on zod's handling of "__proto__". Their
// disagreements are logged, not failed: the port may choose to differ (§5.2
// rule 3).
func tdQuirkEventCases() []tdEventCase {
	q := func(name, payload, filter string) tdEventCase {
		c := tdEventCase{name: name, filter: filter}
		if payload != "undefined" {
			c.payload = tdStrPtr(payload)
		}
		return c
	}
	return []tdEventCase{
		q("quirk#string-length", `"abc"`, `{"length":[3]}`),
		q("quirk#nested-string-length", `{"a":"abc"}`, `{"a":{"length":[3]}}`),
		q("quirk#array-length", `[1,2]`, `{"length":[2]}`),
		q("quirk#array-index", `["x"]`, `{"0":["x"]}`),
		q("quirk#constructor", `{}`, `{"constructor":[{"$exists":true}]}`),
		q("quirk#toString", `{"a":{}}`, `{"a":{"toString":[{"$exists":true}]}}`),
		q("quirk#hasOwnProperty", `{}`, `{"hasOwnProperty":[{"$isNull":false},{"$not":"x"}]}`),
		q("quirk#proto-payload", `{}`, `{"__proto__":[{"$exists":true}]}`),
		q("quirk#proto-filter", `{"a":"x"}`, `{"__proto__":{"a":["y"]}}`),
		q("quirk#proto-own", `{"__proto__":"x"}`, `{"__proto__":["x"]}`),
		q("quirk#string-index", `{"a":"xyz"}`, `{"a":{"0":["x"]}}`),
		q("quirk#number-payload", `5`, `{"toFixed":[{"$exists":true}]}`),
		q("quirk#lone-surrogate", `{"a":"😀x"}`, `{"a":[{"$startsWith":"\ud83d"}]}`),
	}
}

func TestTriggerDevEventFilterDifferential(t *testing.T) {
	dir := tdInteropDir(t)
	seed := tdSeed(t)
	explicit := tdExplicitEventCases()
	quirks := tdQuirkEventCases()
	g := newTDGen(seed, 1)
	const generated = 24000
	cases := make([]tdEventCase, 0, len(explicit)+len(quirks)+generated)
	cases = append(cases, explicit...)
	cases = append(cases, quirks...)
	for i := range generated {
		f := g.filter(0, g.p(0.3))
		if g.p(0.04) {
			f = tdObj{}
		}
		c := tdEventCase{name: fmt.Sprintf("gen#%d", i), filter: string(tdEncodeJSON(f, nil))}
		if p := g.topPayload(f); p != nil {
			c.payload = tdStrPtr(string(p))
		}
		cases = append(cases, c)
	}

	// One line per case (filter parsed by zod, as the platform does), plus the
	// raw function for the explicit vectors.
	var inputs []any
	rawIdx := map[int]int{}
	mainIdx := make([]int, len(cases))
	for i, c := range cases {
		mainIdx[i] = len(inputs)
		in := map[string]any{"op": "event", "filter": json.RawMessage(c.filter)}
		// Generated filters are schema-valid by construction, and zod's output
		// equals its input unless a content object has several keys, so only
		// those (and every 16th, as a check) pay for zod's slow parse.
		if !strings.HasPrefix(c.name, "gen#") || i%16 == 0 || tdFilterHasMultiObject(c.filter) {
			in["parse"] = true
		}
		if c.payload == nil {
			in["payload_undefined"] = true
		} else {
			in["payload_text"] = *c.payload
		}
		inputs = append(inputs, in)
		if c.want != 0 {
			raw := map[string]any{}
			for k, v := range in {
				raw[k] = v
			}
			delete(raw, "parse")
			rawIdx[i] = len(inputs)
			inputs = append(inputs, raw)
		}
	}
	start := time.Now()
	outs := tdRunNode(t, dir, inputs)
	t.Logf("node: %d lines in %v", len(outs), time.Since(start).Round(time.Millisecond))

	d := &tdDisagreements{name: "event filters"}
	var quirkNotes []string
	var bothInvalid, compared, matches, docChecked int
	for i, c := range cases {
		out := outs[mainIdx[i]]
		node := tdDecodeResult(t, out)
		if j, ok := rawIdx[i]; ok {
			raw := tdDecodeResult(t, outs[j])
			docChecked++
			if raw.Match == nil || *raw.Match != (c.want > 0) {
				d.add("reference-doc", tdMerge(c.describe(), map[string]any{"doc": c.want > 0, "node_raw": json.RawMessage(outs[j])}))
			}
		}
		isQuirk := strings.HasPrefix(c.name, "quirk#")
		report := func(kind string, extra map[string]any) {
			if isQuirk {
				b, _ := json.Marshal(tdMerge(c.describe(), extra))
				quirkNotes = append(quirkNotes, kind+" "+string(b))
				return
			}
			d.add(kind, tdMerge(c.describe(), extra))
		}
		if node.HarnessError != nil || node.Throw != nil {
			report("node-error", map[string]any{"node": json.RawMessage(out)})
			continue
		}
		f, perr := tdParseEvent(c.filter)
		switch {
		case perr != nil && node.Invalid:
			bothInvalid++
			continue
		case perr != nil:
			report("parse-rejects-valid", map[string]any{"go_error": perr.Error()})
			continue
		case node.Invalid:
			report("parse-accepts-invalid", map[string]any{})
			continue
		}
		if node.Match == nil {
			t.Fatalf("case %s: node output %s has no match", c.name, out)
		}
		want := *node.Match
		compared++
		if want {
			matches++
		}
		var v any
		var text []byte
		if c.payload != nil {
			text = []byte(*c.payload)
			if err := json.Unmarshal(text, &v); err != nil {
				t.Fatalf("case %s: generated payload does not decode: %v\n%s", c.name, err, text)
			}
		}
		var got bool
		if msg := tdCatch(func() { got = f.Match(v) }); msg != "" {
			report("Match-panic", map[string]any{"panic": msg})
		} else if got != want {
			report("Match", map[string]any{"node": want, "go": got})
		} else if msg := tdCatch(func() {
			if e := f.Explain(v); (e == nil) != got {
				extra := map[string]any{"match": got, "explain": nil}
				if e != nil {
					extra["explain"] = e.String()
				}
				report("Explain-inconsistent", extra)
			}
		}); msg != "" {
			report("Explain-panic", map[string]any{"panic": msg})
		}
		if c.payload != nil {
			var gotJSON bool
			var err error
			if msg := tdCatch(func() { gotJSON, err = f.MatchJSON(text) }); msg != "" {
				report("MatchJSON-panic", map[string]any{"panic": msg})
			} else if err != nil {
				report("MatchJSON-error", map[string]any{"node": want, "go_error": err.Error()})
			} else if gotJSON != want {
				report("MatchJSON", map[string]any{"node": want, "go": gotJSON})
			}
		}
	}
	t.Logf("%d cases (%d explicit vectors checked against the reference document too, %d JS-quirk cases, %d generated): "+
		"%d compared (%d matching in Node), %d rejected by both parsers",
		len(cases), docChecked, len(quirks), generated, compared, matches, bothInvalid)
	for _, n := range quirkNotes {
		t.Logf("JS quirk (not a failure): %s", n)
	}
	d.report(t, len(cases))
}

func tdParseEvent(filter string) (f *matcher.EventFilter, err error) {
	if msg := tdCatch(func() { f, err = matcher.ParseEventFilter([]byte(filter), matcher.Compat()) }); msg != "" {
		return nil, errors.New(msg)
	}
	return f, err
}

func tdMerge(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// --- schema differential ----------------------------------------------------
