package matcher_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/hooklab/hooklab/internal/whatwg"
	"github.com/hooklab/hooklab/matcher"
)

var fuzzFilters = []string{
	`{}`, `{"a":[]}`, `{"name":["John"]}`, `{"age":[{"$gt":20},{"$lt":40}],"score":[{"$between":[90,110]}]}`,
	`{"a":{"b":["y"]}}`, `{"hobbies":[{"$includes":"reading"}],"x":[{"$not":1}]}`, `{"a":[{"$anythingBut":["x","y"]}]}`,
	`{"a":[{"$ignoreCaseEquals":"ǅ"}],"b":[{"$isNull":true}],"c":[{"$exists":false}]}`, `{"a":[{"$gt":1,"$lt":5}]}`,
	`{"a":["x",1]}`, `{"a":[{}]}`, `{"0":{"length":[3]}}`, `{"a":[true,false]}`, `{"a":[{"$endsWith":"\u00e9"},{"$startsWith":""}]}`,
}

var fuzzPayloads = []string{
	`null`, `{}`, `5`, `"abc"`, `[{"b":1}]`, `{"name":"John","age":30,"hobbies":["reading"],"a":{"b":"y"}}`,
	`{"a":[{"b":"x"},{"b":"y"}],"score":100}`, `{"a":"é","b":null}`, `{"a":-0,"b":1e21,"c":9007199254740993}`, `{"a":"x","a":"y"}`,
}

// FuzzParseEventFilter parses arbitrary bytes: never a panic; an error is
// a *ParseError; a filter that parses strictly parses the same with
// Compat, and its JSON form parses again to the same JSON.
func FuzzParseEventFilter(f *testing.F) {
	for _, s := range fuzzFilters {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := matcher.ParseEventFilter(data)
		if err != nil {
			var pe *matcher.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseEventFilter(%q) error %T is not a *ParseError", data, err)
			}
			if pe.Offset < 0 || pe.Offset > len(data) {
				t.Fatalf("ParseEventFilter(%q) offset %d outside the input", data, pe.Offset)
			}
			return
		}
		if _, err := matcher.ParseEventFilter(data, matcher.Compat()); err != nil {
			t.Fatalf("strict accepts but Compat rejects %q: %v", data, err)
		}
		out, _ := ef.MarshalJSON()
		again, err := matcher.ParseEventFilter(out)
		if err != nil {
			t.Fatalf("MarshalJSON of %q gave %s, which does not parse: %v", data, out, err)
		}
		out2, _ := again.MarshalJSON()
		if string(out) != string(out2) {
			t.Fatalf("MarshalJSON is not stable: %s then %s", out, out2)
		}
	})
}

// FuzzMatch matches arbitrary filters and payloads: never a panic, and
// the decoded-value and raw-bytes paths always agree, as do Match and
// Explain.
func FuzzMatch(f *testing.F) {
	for _, fl := range fuzzFilters {
		for _, p := range fuzzPayloads {
			f.Add([]byte(fl), []byte(p))
		}
	}
	f.Fuzz(func(t *testing.T, filter, payload []byte) {
		ef, err := matcher.ParseEventFilter(filter, matcher.Compat())
		if err != nil {
			return
		}
		raw, err := ef.MatchJSON(payload)
		if err != nil {
			if !errors.Is(err, matcher.ErrInvalidJSON) {
				t.Fatalf("MatchJSON error %v does not wrap ErrInvalidJSON", err)
			}
			return
		}
		var v any
		// The payload as JavaScript sees it: text, invalid UTF-8 replaced.
		if err := json.Unmarshal(whatwg.DecodeUTF8(payload), &v); err != nil {
			return // valid JSON encoding/json will not hold (a number beyond float64)
		}
		if got := ef.Match(v); got != raw {
			t.Fatalf("filter %s payload %s: Match = %v, MatchJSON = %v", filter, payload, got, raw)
		}
		if (ef.Explain(v) == nil) != raw {
			t.Fatalf("filter %s payload %s: Explain disagrees with Match (%v)", filter, payload, raw)
		}
	})
}

// FuzzRequestFilter parses arbitrary request filters and matches them
// against a request with an arbitrary URL and body.
func FuzzRequestFilter(f *testing.F) {
	f.Add([]byte(`{"method":["POST"],"headers":{"x-a":["b"]},"query":{"q":[{"$startsWith":"a"}]},"body":{"a":[1]}}`), "http://x/?q=a%zz&q=b+c", []byte(`{"a":1}`))
	f.Add([]byte(`{"header":{}}`), "/p?", []byte("\xef\xbb\xbf\xff"))
	f.Fuzz(func(t *testing.T, filter []byte, url string, body []byte) {
		rf, err := matcher.ParseRequestFilter(filter, matcher.Compat())
		if err != nil {
			return
		}
		req := matcher.Request{Method: "POST", URL: url, Header: http.Header{"X-A": {"b"}}, Body: body}
		if (rf.Explain(req) == nil) != rf.Match(req) {
			t.Fatalf("Explain disagrees with Match for %s", filter)
		}
	})
}
