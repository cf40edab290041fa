package matcher

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/internal/whatwg"
)

// scanFilters are request filters that read a body in every way a Scan
// serves: top-level literals, operators on missing keys, nested objects,
// arrays, string properties, escaped and non-ASCII keys, the empty filter,
// and filters that do not read the body at all.
var scanFilters = []string{
	`{"body":{}}`,
	`{"body":{"action":["opened"]}}`,
	`{"body":{"action":["closed"]}}`,
	`{"headers":{"x-event":["push"]},"body":{"action":["opened"]}}`,
	`{"headers":{"x-event":["pull_request"]}}`,
	`{"method":["POST"]}`,
	`{"body":{"a":["y"]}}`,
	`{"body":{"a":["x"]}}`,
	`{"body":{"a":{"b":[2]}}}`,
	`{"body":{"a":{"b":["y"]}}}`,
	`{"body":{"a":[{"$exists":false}]}}`,
	`{"body":{"a":[{"$exists":true}],"b":[{"$isNull":true}]}}`,
	`{"body":{"a":[]}}`,
	`{"body":{"a":{}}}`,
	`{"body":{"a":{"length":[3]}}}`,
	`{"body":{"length":[2]}}`,
	`{"body":{"0":{"b":[1]}}}`,
	`{"body":{"é":["ü"]}}`,
	`{"body":{"\ufffd":[1]}}`,
	`{"body":{"a\\b":["x"]}}`,
	`{"body":{"ab":["x"]}}`,
	`{"body":{"a":["\ufffd"]}}`,
	`{"body":{"k32":[32]}}`,
	`{"body":{"k0":[0],"k31":[31]}}`,
	`{"body":{"k0":[{"$exists":false}]}}`,
	`{"body":{"n":[{"$gt":3}],"s":[{"$startsWith":"ab"}]}}`,
	`{"body":{"d":{"k":[1]}}}`,
}

// members returns a JSON object of n members "k0":0, "k1":1, ...
func scanMembersBody(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// scanBodies are the bodies a shared scan could get wrong, by name.
var scanBodies = []struct {
	name, body string
	state      scanState // what the Scan must find
}{
	{"Object", `{"action":"opened","a":"x","n":4,"s":"abc"}`, scanObject},
	{"EmptyObject", `{}`, scanObject},
	{"Whitespace", " \t\r\n{ \"a\" : { \"b\" : 2 } , \"action\" : \"opened\" } \n", scanObject},
	{"DuplicateKeyLastWins", `{"a":"x","a":"y"}`, scanObject},
	{"DuplicateKeyFirstWinsNot", `{"a":"y","a":"x"}`, scanObject},
	{"DuplicateNestedObject", `{"a":{"b":1},"a":{"b":2}}`, scanObject},
	{"DuplicateInsideNested", `{"a":{"b":1,"b":2}}`, scanObject},
	{"NestedOverArray", `{"a":[{"b":"x"},5,"s",[1],{"b":"y"}]}`, scanObject},
	{"NestedOverString", `{"a":"abc"}`, scanObject},
	{"NullIsNotMissing", `{"a":null,"b":null}`, scanObject},
	{"EscapedKey", `{"a\u0062":"x"}`, scanObject},
	{"EscapedBackslashKey", `{"a\\b":"x"}`, scanObject},
	{"BackspaceEscapeKey", `{"a\b":"x"}`, scanObject},
	{"NonASCIIKeyAndValue", `{"é":"ü","a":"é"}`, scanObject},
	{"InvalidUTF8Key", "{\"\xff\":1}", scanObject},
	{"InvalidUTF8Value", "{\"a\":\"\xff\"}", scanObject},
	{"InvalidUTF8BeforeAQuote", "{\"a\":\"x\xc2\",\"action\":\"opened\"}", scanObject},
	{"TruncatedSequenceShiftsSpans", "{\"x\":\"\xf0\x90\x80\",\"action\":\"opened\",\"a\":\"\xed\xa0\x80\"}", scanObject},
	{"LoneSurrogateEscape", `{"a":"\ud800"}`, scanObject},
	{"OneBOM", "\xef\xbb\xbf{\"action\":\"opened\"}", scanObject},
	{"TwoBOMs", "\xef\xbb\xbf\xef\xbb\xbf{\"action\":\"opened\"}", scanObject},
	{"ThreeBOMs", "\xef\xbb\xbf\xef\xbb\xbf\xef\xbb\xbf{\"action\":\"opened\"}", scanInvalid},
	{"BOMAfterWhitespace", " \xef\xbb\xbf{}", scanInvalid},
	{"RootArray", `[{"b":1},2]`, scanOther},
	{"RootString", `"abc"`, scanOther},
	{"RootNull", `null`, scanOther},
	{"RootNumber", ` -0.5e3 `, scanOther},
	{"Members32", scanMembersBody(32), scanObject},
	{"Members33", scanMembersBody(33), scanOverflow},
	{"DuplicatePastTheIndex", strings.TrimSuffix(scanMembersBody(40), "}") + `,"k0":"late"}`, scanOverflow},
	{"DeepNesting", `{"d":` + strings.Repeat(`[{"k":`, 5000) + "1" + strings.Repeat("}]", 5000) + `,"action":"opened"}`, scanObject},
	{"DeepNestingUnclosed", `{"d":` + strings.Repeat(`[{"k":`, 5000) + "1" + strings.Repeat("}]", 4999) + `}`, scanInvalid},
	{"LongStrings", `{"x":"` + strings.Repeat("abcdefg\\n", 9) + `","a":"` + strings.Repeat("é", 20) + `","action":"opened"}`, scanObject},
	{"Empty", ``, scanInvalid},
	{"OnlyWhitespace", " \n", scanInvalid},
	{"TrailingGarbage", `{"action":"opened"} x`, scanInvalid},
	{"TrailingComma", `{"action":"opened",}`, scanInvalid},
	{"MissingColon", `{"action" "opened"}`, scanInvalid},
	{"UnterminatedKey", `{"act`, scanInvalid},
	{"InvalidAfterTheMatch", `{"action":"opened","b":[1,}`, scanInvalid},
	{"InvalidInsideAValue", `{"a":{"b":01}}`, scanInvalid},
	{"FormEncoded", `a=1&action=opened`, scanInvalid},
	{"InvalidUTF8OutsideStrings", "{\"a\":1\xff}", scanInvalid},
	{"ControlCharInKey", "{\"a\tb\":1}", scanInvalid},
}

// checkScan matches r against every filter in order through one Scan and
// requires Match's answer from each.
func checkScan(t *testing.T, filters []*RequestFilter, r Request) *Scan {
	t.Helper()
	var s Scan
	for _, f := range filters {
		if got, want := f.MatchScan(r, &s), f.Match(r); got != want {
			t.Errorf("MatchScan(%q) with filter %s = %v, want %v (Match)", r.Body, f, got, want)
		}
	}
	return &s
}

func parseScanFilters(t testing.TB, srcs []string) []*RequestFilter {
	t.Helper()
	fs := make([]*RequestFilter, len(srcs))
	for i, src := range srcs {
		f, err := ParseRequestFilter([]byte(src), Compat())
		if err != nil {
			t.Fatalf("ParseRequestFilter(%s) = %v", src, err)
		}
		fs[i] = f
	}
	return fs
}

// TestMatchScanEdgeCases matches every scan filter, in order and in
// reverse, through one Scan per body, and checks what the Scan found: its
// state, and that its text is whatwg.BodyText of the body.
func TestMatchScanEdgeCases(t *testing.T) {
	filters := parseScanFilters(t, scanFilters)
	reversed := make([]*RequestFilter, len(filters))
	for i, f := range filters {
		reversed[len(filters)-1-i] = f
	}
	for _, c := range scanBodies {
		t.Run(c.name, func(t *testing.T) {
			r := Request{Method: "POST", URL: "https://example.com/hook", Header: http.Header{"X-Event": {"push"}}, Body: []byte(c.body)}
			s := checkScan(t, filters, r)
			checkScan(t, reversed, r)
			if s.state != c.state {
				t.Errorf("Scan of %q: state = %d, want %d", c.body, s.state, c.state)
			}
			if s.state != scanInvalid && !bytes.Equal(s.text, whatwg.BodyText(r.Body)) {
				t.Errorf("Scan of %q: text = %q, want BodyText %q", c.body, s.text, whatwg.BodyText(r.Body))
			}
		})
	}
}

// TestMatchScanVerdicts pins the answers the edge cases hinge on, so that
// a change breaking Match and the Scan alike is seen too.
func TestMatchScanVerdicts(t *testing.T) {
	for _, c := range []struct {
		name, filter, body string
		want               bool
	}{
		{"LastDuplicateWins", `{"body":{"a":["y"]}}`, `{"a":"x","a":"y"}`, true},
		{"EarlierDuplicateLoses", `{"body":{"a":["x"]}}`, `{"a":"x","a":"y"}`, false},
		{"DuplicatePastTheIndexWins", `{"body":{"k0":["late"]}}`, strings.TrimSuffix(scanMembersBody(40), "}") + `,"k0":"late"}`, true},
		{"BOMsDropped", `{"body":{"action":["opened"]}}`, "\xef\xbb\xbf\xef\xbb\xbf{\"action\":\"opened\"}", true},
		{"ThirdBOMIsNotJSON", `{"body":{}}`, "\xef\xbb\xbf\xef\xbb\xbf\xef\xbb\xbf{}", false},
		{"InvalidUTF8Replaced", `{"body":{"a":["\ufffd"]}}`, "{\"a\":\"\xff\"}", true},
		{"TruncatedSequenceIsOneReplacement", `{"body":{"x":["\ufffd"],"action":["opened"]}}`, "{\"x\":\"\xf0\x90\x80\",\"action\":\"opened\"}", true},
		{"BackspaceEscapeIsNotBackslash", `{"body":{"a\\b":["x"]}}`, `{"a\b":"x"}`, false},
		{"EscapedBackslash", `{"body":{"a\\b":["x"]}}`, `{"a\\b":"x"}`, true},
		{"EscapedKey", `{"body":{"ab":["x"]}}`, `{"a\u0062":"x"}`, true},
		{"InvalidJSONNeverMatches", `{"body":{}}`, `{"a":1,}`, false},
		{"NoBodyFilterIgnoresInvalidJSON", `{"method":["POST"]}`, `{"a":1,}`, true},
		{"RootArrayLength", `{"body":{"length":[2]}}`, `[1,2]`, true},
		{"RootNullHasNoKeys", `{"body":{"a":[{"$exists":false}]}}`, `null`, false},
		{"StringLength", `{"body":{"a":{"length":[3]}}}`, `{"a":"abc"}`, true},
		{"NestedSome", `{"body":{"a":{"b":["y"]}}}`, `{"a":[{"b":"x"},{"b":"y"}]}`, true},
		{"Members33Last", `{"body":{"k32":[32]}}`, scanMembersBody(33), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := parseScanFilters(t, []string{c.filter})[0]
			r := Request{Method: "POST", URL: "https://example.com/hook", Body: []byte(c.body)}
			var s Scan
			if got := f.MatchScan(r, &s); got != c.want {
				t.Errorf("MatchScan(%q) with filter %s = %v, want %v", c.body, c.filter, got, c.want)
			}
			if got := f.Match(r); got != c.want {
				t.Errorf("Match(%q) with filter %s = %v, want %v", c.body, c.filter, got, c.want)
			}
		})
	}
}

// TestMatchScanRebuildsForAnotherBody: a Scan given another body (a fault
// that blanks the body, a profile that rewrites the request) answers for
// that body, and a copy of a built Scan does too.
func TestMatchScanRebuildsForAnotherBody(t *testing.T) {
	f := parseScanFilters(t, []string{`{"body":{"action":["opened"]}}`})[0]
	opened := Request{Method: "POST", Body: []byte(`{"action":"opened"}`)}
	closed := Request{Method: "POST", Body: []byte(`{"action":"closed"}`)}
	var s Scan
	for i, step := range []struct {
		r    Request
		want bool
	}{{opened, true}, {closed, false}, {Request{}, false}, {opened, true}, {Request{Body: opened.Body[:0]}, false}, {opened, true}} {
		if got := f.MatchScan(step.r, &s); got != step.want {
			t.Errorf("step %d: MatchScan(%q) = %v, want %v", i, step.r.Body, got, step.want)
		}
	}
	cp := s
	if f.MatchScan(Request{}, &cp) {
		t.Errorf("MatchScan(no body) on a copy of a Scan of %q = true, want false", opened.Body)
	}
	if !f.MatchScan(opened, &s) {
		t.Errorf("MatchScan(%q) after a copy was rebuilt = false, want true", opened.Body)
	}
}

// TestMatchScanAgreesOnScanCases runs the raw scanner's corpus (and the
// pull_request payload's filters) as body filters, several filters per
// body through one Scan.
func TestMatchScanAgreesOnScanCases(t *testing.T) {
	var srcs []string
	for _, c := range scanCases {
		srcs = append(srcs, `{"body":`+c.filter+`}`)
	}
	filters := parseScanFilters(t, srcs)
	for _, c := range scanCases {
		r := Request{Method: "POST", Body: []byte(c.payload)}
		checkScan(t, filters, r)
		checkScan(t, filters, Request{Method: "POST", Body: append([]byte("\xef\xbb\xbf"), c.payload...)})
	}
}

// TestMatchScanGenerated matches random bodies built from a small
// vocabulary (the keys the filters read, duplicates, nesting, non-ASCII
// and invalid bytes, cuts that make them invalid) against every scan
// filter through one Scan each.
func TestMatchScanGenerated(t *testing.T) {
	filters := parseScanFilters(t, scanFilters)
	rng := rand.New(rand.NewPCG(14, 2))
	keys := []string{"action", "a", "b", "n", "s", "d", "k0", "k31", "é", "\\u00e9", "a\\\\b", "a\\b", "a\\u0062", "\xff", "length", "0"}
	vals := []string{`"opened"`, `"closed"`, `"x"`, `"y"`, `"abc"`, `"ü"`, `"\xff"`, `"\ufffd"`, `1`, `2`, `4`, `null`, `true`,
		`{"b":2}`, `{"b":"y","k":1}`, `[{"b":"y"}]`, `[]`, `{}`, `[1,[2,{"b":2}]]`}
	for i := range 3000 {
		var b strings.Builder
		if rng.IntN(8) == 0 {
			b.WriteString("\xef\xbb\xbf")
		}
		b.WriteByte('{')
		n := rng.IntN(40)
		if rng.IntN(4) != 0 {
			n = rng.IntN(6)
		}
		for j := range n {
			if j > 0 {
				b.WriteByte(',')
			}
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(3) == 0 {
				k = "k" + strconv.Itoa(rng.IntN(40))
			}
			b.WriteString(`"` + k + `":` + vals[rng.IntN(len(vals))])
		}
		b.WriteByte('}')
		body := []byte(b.String())
		if rng.IntN(10) == 0 {
			body = body[:rng.IntN(len(body)+1)]
		}
		r := Request{Method: "POST", URL: "https://example.com/hook?i=" + strconv.Itoa(i), Header: http.Header{"X-Event": {"push"}}, Body: body}
		checkScan(t, filters, r)
	}
}

// FuzzMatchScan matches arbitrary bodies against two arbitrary filters,
// in sequence through one Scan: each answer is Match's.
func FuzzMatchScan(f *testing.F) {
	for i, c := range scanCases {
		f.Add([]byte(`{"body":`+c.filter+`}`), []byte(scanFilters[i%len(scanFilters)]), []byte(c.payload))
	}
	for i, c := range scanBodies {
		if len(c.body) < 1000 {
			f.Add([]byte(scanFilters[i%len(scanFilters)]), []byte(scanFilters[(i+7)%len(scanFilters)]), []byte(c.body))
		}
	}
	f.Fuzz(func(t *testing.T, filter1, filter2, body []byte) {
		var filters []*RequestFilter
		for _, src := range [][]byte{filter1, filter2} {
			if rf, err := ParseRequestFilter(src, Compat()); err == nil {
				filters = append(filters, rf)
			}
		}
		checkScan(t, filters, Request{Method: "POST", URL: "https://example.com/hook", Header: http.Header{"X-Event": {"push"}}, Body: body})
	})
}

// TestMatchScanDoesNotAllocate: building a Scan of a valid UTF-8 body and
// matching filters through it allocates nothing.
func TestMatchScanDoesNotAllocate(t *testing.T) {
	filters := parseScanFilters(t, []string{`{"headers":{"x-event":["push"]},"body":{"action":["opened"]}}`, `{"body":{"action":["closed"],"a":{"b":[2]}}}`})
	r := Request{Method: "POST", Header: http.Header{"X-Event": {"push"}}, Body: []byte(`{"action":"opened","a":{"b":2},"t":"é"}`)}
	allocs := testing.AllocsPerRun(100, func() {
		var s Scan
		for _, f := range filters {
			f.MatchScan(r, &s)
		}
	})
	if allocs != 0 {
		t.Errorf("building a Scan and matching 2 filters: %v allocations, want 0", allocs)
	}
}
