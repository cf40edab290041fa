package matcher

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPlanDecodedMatchesGeneric checks each kind of check in the decoded
// plan (planDecoded) against the expected answer and against the generic
// matchNode, which is the definition, on values decoded into float64 and
// into json.Number.
func TestPlanDecodedMatchesGeneric(t *testing.T) {
	many := make([]string, stringSetMin+3)
	for i := range many {
		many[i] = `"s` + strings.Repeat("x", i) + `"`
	}
	set := `{"a":[` + strings.Join(many, ",") + `]}`
	cases := []struct {
		name, filter, payload string
		want                  bool
	}{
		{"one string", `{"a":["x"]}`, `{"a":"x"}`, true},
		{"one string, other", `{"a":["x"]}`, `{"a":"y"}`, false},
		{"one string, number", `{"a":["1"]}`, `{"a":1}`, false},
		{"few strings", `{"a":["opened","closed"]}`, `{"a":"closed"}`, true},
		{"few strings, none", `{"a":["opened","closed"]}`, `{"a":"open"}`, false},
		{"few strings, missing", `{"a":["opened","closed"]}`, `{}`, false},
		{"string set, in", set, `{"a":"sxxxxxxxxxxxx"}`, true},
		{"string set, out", set, `{"a":"sxxxxxxxxxxxxxxxxxxxx"}`, false},
		{"string set, not a string", set, `{"a":["sx"]}`, false},
		{"bools", `{"a":[false]}`, `{"a":false}`, true},
		{"bools, other", `{"a":[false]}`, `{"a":true}`, false},
		{"bools, both", `{"a":[true,false]}`, `{"a":true}`, true},
		{"bools, null", `{"a":[false]}`, `{"a":null}`, false},
		{"numbers", `{"a":[1,2.5]}`, `{"a":2.5}`, true},
		{"numbers, other", `{"a":[1,2.5]}`, `{"a":2}`, false},
		{"numbers, string", `{"a":[1]}`, `{"a":"1"}`, false},
		{"startsWith", `{"a":[{"$startsWith":"oct"}]}`, `{"a":"octocat"}`, true},
		{"startsWith, shorter", `{"a":[{"$startsWith":"oct"}]}`, `{"a":"oc"}`, false},
		{"startsWith, empty", `{"a":[{"$startsWith":""}]}`, `{"a":""}`, true},
		{"startsWith, number", `{"a":[{"$startsWith":"1"}]}`, `{"a":12}`, false},
		{"endsWith", `{"a":[{"$endsWith":"cat"}]}`, `{"a":"octocat"}`, true},
		{"endsWith, shorter", `{"a":[{"$endsWith":"cat"}]}`, `{"a":"at"}`, false},
		{"endsWith, other", `{"a":[{"$endsWith":"cat"}]}`, `{"a":"octodog"}`, false},
		{"endsWith, missing", `{"a":[{"$endsWith":""}]}`, `{}`, false},
		{"exists", `{"a":[{"$exists":true}]}`, `{"a":null}`, true},
		{"exists, missing", `{"a":[{"$exists":true}]}`, `{}`, false},
		{"not exists, missing", `{"a":[{"$exists":false}]}`, `{}`, true},
		{"not exists, present", `{"a":[{"$exists":false}]}`, `{"a":0}`, false},
		{"two operators", `{"a":[{"$gt":1},{"$lt":5}]}`, `{"a":3}`, true},
		{"two operators, one fails", `{"a":[{"$gt":1},{"$lt":5}]}`, `{"a":7}`, false},
		{"includes (the generic code)", `{"a":[{"$includes":"r"}]}`, `{"a":["q","r"]}`, true},
		{"anythingBut, missing key", `{"a":[{"$anythingBut":"x"}]}`, `{}`, true},
		{"anythingBut, equal", `{"a":[{"$anythingBut":"x"}]}`, `{"a":"x"}`, false},
		{"between", `{"a":[{"$between":[1,3]}]}`, `{"a":3}`, true},
		{"empty list, missing key", `{"a":[],"b":["x"]}`, `{"b":"x"}`, true},
		{"nested object", `{"a":{"b":["x"]}}`, `{"a":{"b":"x"}}`, true},
		{"nested object, mismatch", `{"a":{"b":["x"]}}`, `{"a":{"b":"y"}}`, false},
		{"nested over array, a later element", `{"a":{"b":["x"]}}`, `{"a":[1,"s",null,{"b":"y"},{"b":"x"}]}`, true},
		{"nested over array, none", `{"a":{"b":["x"]}}`, `{"a":[1,{"b":"y"}]}`, false},
		{"nested over array, a string's length", `{"a":{"length":[2]}}`, `{"a":[{"b":1},"ab"]}`, true},
		{"empty nested over empty array", `{"a":{}}`, `{"a":[]}`, false},
		{"empty nested over missing", `{"a":{}}`, `{}`, true},
		{"nested over string", `{"a":{"0":["a"]}}`, `{"a":"abc"}`, true},
		{"leaf checked though nested comes first", `{"a":{"b":["x"]},"c":["y"]}`, `{"a":{"b":"x"},"c":"z"}`, false},
		{"nested fails after leaves pass", `{"c":["y"],"a":{"b":["x"]}}`, `{"a":{"b":"q"},"c":"y"}`, false},
		{"deep", `{"a":{"b":{"c":[{"$exists":true}],"d":["e"]}},"f":[true]}`, `{"a":{"b":{"c":null,"d":"e"}},"f":true}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseEventFilter([]byte(c.filter))
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal([]byte(c.payload), &v); err != nil {
				t.Fatal(err)
			}
			d := json.NewDecoder(strings.NewReader(c.payload))
			d.UseNumber()
			var n any
			if err := d.Decode(&n); err != nil {
				t.Fatal(err)
			}
			for _, v := range []any{v, n} {
				if got := f.Match(v); got != c.want {
					t.Errorf("Match(%#v) = %v; want %v", v, got, c.want)
				}
				if gen := matchNode(f.root, dval{v: v, defined: true}, nil, ""); gen != c.want {
					t.Errorf("matchNode(%#v) = %v; want %v", v, gen, c.want)
				}
			}
		})
	}
}

// TestPlanDecodedOrder checks that the plan puts scalar checks before
// nested filters, keeps filter order within each group and drops the
// empty lists, while Explain still reports in filter order.
func TestPlanDecodedOrder(t *testing.T) {
	f, err := ParseEventFilter([]byte(`{"n1":{"x":[1]},"a":["x"],"skip":[],"n2":{"y":[2]},"b":[true]}`))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range f.dec.checks {
		keys = append(keys, c.key)
	}
	if got, want := strings.Join(keys, ","), "a,b,n1,n2"; got != want {
		t.Errorf("plan order = %s; want %s", got, want)
	}
	ex := f.Explain(map[string]any{"b": false})
	var paths []string
	for _, m := range ex.Mismatches {
		paths = append(paths, m.Path)
	}
	if got, want := strings.Join(paths, ","), "n1,a,n2,b"; got != want {
		t.Errorf("Explain paths = %s; want %s", got, want)
	}
}
