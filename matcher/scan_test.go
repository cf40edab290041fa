package matcher

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// matchJSONGjson is the raw-bytes path before the scanner: gjson validates
// the whole document, then matchNode reads it through gjson. The scanner
// must agree with it on every input, error text included.
func (f *EventFilter) matchJSONGjson(data []byte) (bool, error) {
	r, err := parseRoot(data)
	if err != nil {
		return false, err
	}
	return matchNode(f.root, rval{r}, nil, ""), nil
}

// scanCases are payloads where a one-pass scanner could go wrong: the
// last duplicate wins, escapes and invalid UTF-8 in keys, a nested filter
// over arrays, strings and numbers, long strings across the 8-byte steps,
// and every kind of invalid JSON.
var scanCases = []struct {
	name, filter, payload string
}{
	{"last duplicate wins (match)", `{"a":["y"]}`, `{"a":"x","a":"y"}`},
	{"last duplicate wins (mismatch)", `{"a":["x"]}`, `{"a":"x","a":"y"}`},
	{"duplicate nested object", `{"a":{"b":[1]}}`, `{"a":{"b":1},"a":{"b":2}}`},
	{"duplicate key inside nested", `{"a":{"b":[2]}}`, `{"a":{"b":1,"b":2}}`},
	{"escaped key", `{"ab":["x"]}`, `{"a\u0062":"x"}`},
	{"raw key spelling a filter key with a backslash", `{"a\\b":["x"]}`, `{"a\b":"x"}`}, // the payload's key is "a\x08"
	{"escaped backslash key", `{"a\\b":["x"]}`, `{"a\\b":"x"}`},
	{"escaped value", `{"a":["\"q\""]}`, `{"a":"\"q\""}`},
	{"unicode escape value", `{"a":["é"]}`, `{"a":"\u00e9"}`},
	{"surrogate pair key", `{"😀":[1]}`, `{"\ud83d\ude00":1}`},
	{"lone surrogate key", `{"\ufffd":[1]}`, `{"\ud800":1}`},
	{"bad UTF-8 key (replaced)", "{\"\ufffd\":[1]}", "{\"\xff\":1}"},
	{"bad UTF-8 value (replaced)", "{\"a\":[\"\ufffd\"]}", "{\"a\":\"\xff\"}"},
	{"missing key undefined", `{"a":[{"$exists":false}]}`, `{"b":1}`},
	{"missing nested key", `{"a":{"b":[{"$exists":false}]}}`, `{}`},
	{"null is not undefined", `{"a":[{"$exists":true}]}`, `{"a":null}`},
	{"nested over array some", `{"a":{"b":["y"]}}`, `{"a":[{"b":"x"},5,"s",[1],{"b":"y"}]}`},
	{"nested over array none", `{"a":{"b":["z"]}}`, `{"a":[{"b":"x"},{"b":"y"}]}`},
	{"nested over empty array", `{"a":{}}`, `{"a":[]}`},
	{"nested over array of arrays", `{"a":{"length":[2]}}`, `{"a":[[1,2]]}`},
	{"nested over string length", `{"a":{"length":[3]}}`, `{"a":"abc"}`},
	{"nested over string index", `{"a":{"1":["b"]}}`, `{"a":"abc"}`},
	{"nested over number", `{"a":{"b":[1]}}`, `{"a":5}`},
	{"nested over null", `{"a":{}}`, `{"a":null}`},
	{"root array length", `{"length":[2]}`, `[1,2]`},
	{"root string", `{}`, `"x"`},
	{"root null", `{"a":[]}`, `null`},
	{"empty filter over object", `{}`, `{"a":1}`},
	{"empty list skips", `{"a":[]}`, `{"a":{"deep":[1,2,{"x":null}]}}`},
	{"numbers as JSON.parse", `{"a":[9007199254740992],"b":[0]}`, `{"a":9007199254740993,"b":-0}`},
	{"number exponent", `{"a":[{"$gt":1e20}]}`, `{"a":1E21}`},
	{"includes", `{"a":[{"$includes":"r"}]}`, `{"a":["q","r"]}`},
	{"string operators", `{"a":[{"$startsWith":"ab"},{"$endsWith":"yz"}],"b":[{"$startsWith":"x"}]}`, `{"a":"abcxyz","b":5}`},
	{"number operators", `{"a":[{"$gt":1},{"$lt":5},{"$gte":2},{"$lte":4},{"$between":[2,4]}],"b":[{"$gt":1}],"n":[{"$gt":1}]}`, `{"a":3,"b":"7","n":7}`},
	{"number operators fail", `{"a":[{"$gt":1},{"$lt":2}]}`, `{"a":3}`},
	{"whitespace everywhere", `{"a":{"b":[true]}}`, " \t\r\n{ \"a\" : { \"b\" : true } , \"c\" : [ 1 , 2 ] } \n"},
	{"long strings", `{"k":["` + strings.Repeat("é", 20) + `"]}`, `{"x":"` + strings.Repeat("abcdefg\\n", 9) + `","k":"` + strings.Repeat("é", 20) + `"}`},
	{"many entries", `{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1],"g":[1],"h":[1],"i":[1],"j":[1],"k":[1],"l":[1],"m":[1],"n":[1],"o":[1],"p":[1],"q":[1],"r":[{"$exists":false}]}`,
		`{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1}`},

	{"invalid: empty", `{}`, ``},
	{"invalid: trailing garbage", `{}`, `{} x`},
	{"invalid: two values", `{}`, `1 2`},
	{"invalid: trailing comma object", `{"a":[1]}`, `{"a":1,}`},
	{"invalid: trailing comma array", `{"a":{"b":[1]}}`, `{"a":[{"b":1},]}`},
	{"invalid: leading zero", `{"a":[1]}`, `{"a":01}`},
	{"invalid: bare minus", `{}`, `{"a":-}`},
	{"invalid: dot without digits", `{}`, `{"a":1.}`},
	{"invalid: exponent without digits", `{}`, `{"a":1e+}`},
	{"invalid: control char in string", `{}`, "{\"a\":\"x\ty\"}"},
	{"invalid: control char after 8 bytes", `{}`, "{\"a\":\"abcdefghijk\x01\"}"},
	{"invalid: bad escape", `{}`, `{"a":"\x"}`},
	{"invalid: short unicode escape", `{}`, `{"a":"\u12"}`},
	{"invalid: unterminated string", `{}`, `{"a":"abcdefghijklmnop`},
	{"invalid: unterminated in filtered key", `{"a":[1]}`, `{"a`},
	{"invalid: missing colon", `{"a":[1]}`, `{"a" 1}`},
	{"invalid: bad literal", `{}`, `{"a":tru}`},
	{"invalid: single quote", `{}`, `{'a':1}`},
	{"invalid: after a match", `{"a":["x"]}`, `{"a":"x","b":[1,}`},
	{"invalid: unclosed", `{"a":{"b":[1]}}`, `{"a":{"b":1}`},
	{"invalid: NaN", `{}`, `{"a":NaN}`},
}

func TestMatchJSONAgreesWithGjsonPath(t *testing.T) {
	for _, c := range scanCases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseEventFilter([]byte(c.filter), Compat())
			if err != nil {
				t.Fatal(err)
			}
			checkScanAgrees(t, f, []byte(c.payload))
			if strings.HasPrefix(c.name, "invalid") {
				if _, err := f.MatchJSON([]byte(c.payload)); !errors.Is(err, ErrInvalidJSON) {
					t.Fatalf("MatchJSON(%q) error = %v; want ErrInvalidJSON", c.payload, err)
				}
			}
		})
	}
}

// TestMatchDecodedAgreesWithGeneric checks Match's written-out decoded
// path against the generic matchNode on every scan case, decoded with
// encoding/json both into float64 and into json.Number, and on Go values
// encoding/json never produces.
func TestMatchDecodedAgreesWithGeneric(t *testing.T) {
	type odd struct{}
	extra := []any{
		map[string]any{"a": odd{}, "b": int64(3)},
		map[string]any{"a": []any{map[string]any{"b": json.Number("2")}}, "n": 7},
	}
	for _, c := range scanCases {
		f, err := ParseEventFilter([]byte(c.filter), Compat())
		if err != nil {
			t.Fatal(err)
		}
		var vals []any
		var v any
		if json.Unmarshal([]byte(c.payload), &v) == nil {
			vals = append(vals, v)
			d := json.NewDecoder(strings.NewReader(c.payload))
			d.UseNumber()
			var n any
			if d.Decode(&n) == nil {
				vals = append(vals, n)
			}
		}
		for _, v := range append(vals, extra...) {
			if got, want := f.Match(v), matchNode(f.root, dval{v: v, defined: true}, nil, ""); got != want {
				t.Errorf("%s: filter %s value %#v: Match = %v; matchNode = %v", c.name, c.filter, v, got, want)
			}
		}
	}
}

func TestMatchJSONPullRequestAgrees(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join("testdata", "github-pull_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, filter := range []string{
		`{"action":["opened","synchronize"],"pull_request":{"draft":[false],"base":{"ref":["main"]},"user":{"login":[{"$startsWith":"oct"}]}},"repository":{"private":[false]}}`,
		`{"pull_request":{"labels":{"name":["bug"]}}}`,
		`{"pull_request":{"requested_reviewers":{"login":[{"$exists":true}]}}}`,
		`{"sender":{"login":[{"$ignoreCaseEquals":"OCTOCAT"}]},"number":[{"$between":[1000,2000]}]}`,
	} {
		f, err := ParseEventFilter([]byte(filter))
		if err != nil {
			t.Fatal(err)
		}
		checkScanAgrees(t, f, payload)
		for _, cut := range []int{1, 100, len(payload) / 2, len(payload) - 1} {
			checkScanAgrees(t, f, payload[:cut])
		}
	}
}

// checkScanAgrees compares MatchJSON with the gjson path: the same answer,
// or the same error.
func checkScanAgrees(t *testing.T, f *EventFilter, payload []byte) {
	t.Helper()
	got, gotErr := f.MatchJSON(payload)
	want, wantErr := f.matchJSONGjson(payload)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("filter %s payload %q: MatchJSON error %v; the gjson path says %v", f, payload, gotErr, wantErr)
	}
	if gotErr != nil {
		var g, w *ParseError
		if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || *g != *w {
			t.Fatalf("payload %q: ParseError %+v; the gjson path gives %+v", payload, g, w)
		}
	}
	if got != want {
		t.Fatalf("filter %s payload %q: MatchJSON = %v; the gjson path says %v", f, payload, got, want)
	}
	if v := gjson.ValidBytes(payload); v != (gotErr == nil) {
		t.Fatalf("payload %q: gjson.ValidBytes = %v, MatchJSON error %v", payload, v, gotErr)
	}
}

// FuzzMatchJSONScan compares the one-pass scanner with the gjson path on
// arbitrary filters and bytes: the same answer, the same error.
func FuzzMatchJSONScan(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c.filter), []byte(c.payload))
	}
	f.Fuzz(func(t *testing.T, filter, payload []byte) {
		ef, err := ParseEventFilter(filter, Compat())
		if err != nil {
			return
		}
		checkScanAgrees(t, ef, payload)
	})
}

// TestMatchJSONDeepNestingKeepsStackFlat: a payload nesting 200,000 levels
// where the filter does not look is validated without recursion; with the
// goroutine stack limited to 1 MiB, a recursive validator dies of stack
// overflow.
func TestMatchJSONDeepNestingKeepsStackFlat(t *testing.T) {
	const depth = 200_000
	deep := strings.Repeat(`[{"k":`, depth) + "1" + strings.Repeat("}]", depth)
	cases := []struct {
		name, filter, payload string
		want                  bool
		wantErr               string
	}{
		{"under an unfiltered key", `{"b":[1]}`, `{"a":` + deep + `,"b":1}`, true, ""},
		{"as the root", `{}`, deep, true, ""},
		{"under a literal entry", `{"a":["x"]}`, `{"a":` + deep + `}`, false, ""},
		{"unclosed", `{"b":[1]}`, `{"a":` + deep[:len(deep)-1], false, "matcher: invalid character '{' exceeded max depth"}, // encoding/json's message, as before
	}
	old := debug.SetMaxStack(1 << 20)
	defer debug.SetMaxStack(old)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseEventFilter([]byte(c.filter))
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.MatchJSON([]byte(c.payload))
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("MatchJSON error = %v; want %s", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("MatchJSON = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}
