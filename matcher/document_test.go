package matcher_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/matcher"
)

// checkDocument requires that ParseDocument accepts payload exactly when
// json.Valid does, and, where encoding/json decodes it, that the document
// holds the same value and MatchDocument answers what Match answers.
func checkDocument(t *testing.T, f *matcher.EventFilter, filter string, payload []byte) {
	t.Helper()
	d, err := matcher.ParseDocument(payload)
	if valid := json.Valid(payload); (err == nil) != valid {
		t.Fatalf("ParseDocument(%q) error %v; json.Valid = %v", payload, err, valid)
	}
	if err != nil {
		if !errors.Is(err, matcher.ErrInvalidJSON) {
			t.Fatalf("ParseDocument(%q) error %v does not wrap ErrInvalidJSON", payload, err)
		}
		return
	}
	var v any
	if json.Unmarshal(payload, &v) != nil {
		return // a number beyond float64: encoding/json refuses the document
	}
	if got := d.Value(); !reflect.DeepEqual(got, v) {
		t.Fatalf("ParseDocument(%q).Value() = %#v; encoding/json decodes %#v", payload, got, v)
	}
	if got, want := f.MatchDocument(d), f.Match(v); got != want {
		t.Fatalf("filter %s payload %s: MatchDocument = %v, Match = %v", filter, payload, got, want)
	}
}

// TestMatchDocumentAgreesWithMatch runs every filter/payload pair of the
// Trigger.dev differential corpus (explicit vectors, quirks and the
// generated cases, from the same seed) and the fuzz seeds through both
// paths.
func TestMatchDocumentAgreesWithMatch(t *testing.T) {
	cases := append(tdExplicitEventCases(), tdQuirkEventCases()...)
	g := newTDGen(tdSeed(t), 1)
	generated := 24000
	if testing.Short() {
		generated = 2000
	}
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
	for _, fl := range fuzzFilters {
		for _, p := range fuzzPayloads {
			cases = append(cases, tdEventCase{name: "fuzz-seed", filter: fl, payload: tdStrPtr(p)})
		}
	}
	pr, err := os.ReadFile(filepath.Join("testdata", "github-pull_request.json"))
	require.NoError(t, err)
	cases = append(cases, tdEventCase{name: "pull_request", filter: prFilter, payload: tdStrPtr(string(pr))})

	compared := 0
	for _, c := range cases {
		if c.payload == nil {
			continue // undefined is not a document
		}
		f, err := matcher.ParseEventFilter([]byte(c.filter), matcher.Compat())
		if err != nil {
			continue // the differential's schema-rejection cases
		}
		checkDocument(t, f, c.filter, []byte(*c.payload))
		compared++
	}
	t.Logf("%d pairs compared", compared)
	assert.Greater(t, compared, generated*9/10)
}

// TestParseDocumentValues covers what the corpus has little of: objects
// large enough for a hash table, repeated keys, escapes, invalid UTF-8,
// numbers at the edges of float64 and deep nesting.
func TestParseDocumentValues(t *testing.T) {
	var wide strings.Builder
	wide.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&wide, `"k%d":%d,`, i, i)
	}
	wide.WriteString(`"k7":"again","k\u0033":"escaped three"}`)
	cases := []struct {
		name, payload, filter string
		want                  bool
	}{
		{"WideObjectFindsKey", wide.String(), `{"k39":[39]}`, true},
		{"WideObjectLastDuplicateWins", wide.String(), `{"k7":["again"]}`, true},
		{"WideObjectEscapedKeyIsTheKey", wide.String(), `{"k3":["escaped three"]}`, true},
		{"WideObjectMissingKey", wide.String(), `{"k40":[{"$exists":false}]}`, true},
		{"SmallObjectLastDuplicateWins", `{"a":"x","a":"y"}`, `{"a":["y"]}`, true},
		{"SmallObjectLastOfManyDuplicatesWins", `{"a":"x","b":1,"a":"y","a":"z","b":2}`, `{"a":["z"],"b":[2]}`, true},
		{"EscapedString", `{"a":"tab\there \u00e9 \ud83d\ude00"}`, `{"a":["tab\there é 😀"]}`, true},
		{"LoneSurrogateIsReplacementChar", `{"a":"\ud800"}`, `{"a":["\ufffd"]}`, true},
		{"InvalidUTF8IsReplacementChar", "{\"a\":\"x\xffy\"}", `{"a":["x\ufffdy"]}`, true},
		{"NullIsDefined", `{"a":null}`, `{"a":[{"$exists":true}]}`, true},
		{"MissingIsUndefined", `{}`, `{"a":[{"$exists":true}]}`, false},
		{"NumberExact", `{"a":9007199254740993}`, `{"a":[9007199254740992]}`, true},
		{"NumberNegativeZero", `{"a":-0}`, `{"a":[0]}`, true},
		{"NumberExponent", `{"a":1.5e3}`, `{"a":[1500]}`, true},
		{"NestedInArray", `{"a":[{"b":1},{"b":2}]}`, `{"a":{"b":[2]}}`, true},
		{"NestedOverArrayIsSome", `{"a":[1,2,3]}`, `{"a":{"length":[3]}}`, false},
		{"StringLength", `{"a":"xyz"}`, `{"a":{"length":[3]}}`, true},
		{"StringIndex", `{"a":"xyz"}`, `{"a":{"1":["y"]}}`, true},
		{"Includes", `{"a":["x",2,true]}`, `{"a":[{"$includes":true}]}`, true},
		{"ScalarRoot", `"abc"`, `{"length":[3]}`, true},
		{"NullRoot", `null`, `{}`, true},
		{"DeepNesting", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), `{}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := matcher.ParseEventFilter([]byte(c.filter))
			require.NoError(t, err)
			d, err := matcher.ParseDocument([]byte(c.payload))
			require.NoError(t, err)
			assert.Equal(t, c.want, f.MatchDocument(d))
			checkDocument(t, f, c.filter, []byte(c.payload))
		})
	}
}

// TestParseDocumentRejectsWhatJSONValidRejects: invalid JSON is the error
// MatchJSON returns for it, and nesting beyond encoding/json's limit is
// refused as json.Valid refuses it.
func TestParseDocumentRejectsWhatJSONValidRejects(t *testing.T) {
	f, err := matcher.ParseEventFilter([]byte(`{}`))
	require.NoError(t, err)
	for _, p := range []string{
		``, ` `, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`,
		`{"a":+1}`, `{"a":tru}`, `{"a":nul}`, `{"a":"x}`, "{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":"\u12g4"}`,
		`{a:1}`, `{} {}`, `[}`, `{]`, `"\`, `nulls`, "\xef\xbb\xbf{}",
	} {
		_, err := matcher.ParseDocument([]byte(p))
		require.Error(t, err, "ParseDocument(%q)", p)
		assert.ErrorIs(t, err, matcher.ErrInvalidJSON)
		assert.False(t, json.Valid([]byte(p)), "json.Valid(%q)", p)
		_, rawErr := f.MatchJSON([]byte(p))
		require.Error(t, rawErr, "MatchJSON(%q)", p)
		assert.Equal(t, rawErr.Error(), err.Error(), "the error for %q", p)
	}
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	_, err = matcher.ParseDocument([]byte(deep))
	require.Error(t, err)
	assert.ErrorIs(t, err, matcher.ErrInvalidJSON)
	assert.Contains(t, err.Error(), "exceeded max depth")
	assert.False(t, json.Valid([]byte(deep)))
}

// TestMatchDocumentDoesNotAllocate: matching a parsed document with the
// common filter kinds does not allocate.
func TestMatchDocumentDoesNotAllocate(t *testing.T) {
	pr, err := os.ReadFile(filepath.Join("testdata", "github-pull_request.json"))
	require.NoError(t, err)
	f, err := matcher.ParseEventFilter([]byte(prFilter))
	require.NoError(t, err)
	d, err := matcher.ParseDocument(pr)
	require.NoError(t, err)
	require.True(t, f.MatchDocument(d))
	assert.Zero(t, testing.AllocsPerRun(100, func() { f.MatchDocument(d) }))
}

// FuzzDocument parses arbitrary bytes: never a panic; an error exactly
// when json.Valid is false; otherwise the value encoding/json decodes and
// MatchDocument agreeing with Match for each of the fuzz filters.
func FuzzDocument(f *testing.F) {
	for _, p := range fuzzPayloads {
		f.Add([]byte(p))
	}
	f.Add([]byte(`{"a":"\ud800\u00e9\n","b":[1e400,-0.5e-3],"a":{"b":"y"}}`))
	f.Add([]byte("{\"a\":\"\xa9\",\"k\\u0031\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k1\":9}"))
	var filters []*matcher.EventFilter
	var sources []string
	for _, fl := range append(fuzzFilters, prFilter) {
		if ef, err := matcher.ParseEventFilter([]byte(fl), matcher.Compat()); err == nil {
			filters, sources = append(filters, ef), append(sources, fl)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for i, ef := range filters {
			checkDocument(t, ef, sources[i], payload)
		}
	})
}

// TestZeroDocumentIsNull: a Document not made by ParseDocument is JSON
// null, not a panic.
func TestZeroDocumentIsNull(t *testing.T) {
	var d matcher.Document
	assert.Nil(t, d.Value())
	for filter, want := range map[string]bool{`{}`: true, `{"a":[{"$exists":false}]}`: false} {
		f, err := matcher.ParseEventFilter([]byte(filter))
		require.NoError(t, err)
		assert.Equal(t, want, f.MatchDocument(&d), filter)
		assert.Equal(t, f.Match(nil), f.MatchDocument(&d), filter)
	}
}
