package matcher_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/matcher"
)

// eventCase is one payload/filter pair and the reference's answer.
type eventCase struct {
	name    string
	payload string // JSON; "undefined" for no payload
	filter  string
	want    bool
}

// checkEventCase matches through every path (decoded value, raw bytes and
// parsed Document)
// and requires the reference's answer from each, and an Explanation
// exactly when there is no match.
func checkEventCase(t *testing.T, c eventCase, opts ...matcher.Option) {
	t.Helper()
	f, err := matcher.ParseEventFilter([]byte(c.filter), opts...)
	require.NoError(t, err, "filter %s", c.filter)
	var v any
	raw := []byte(c.payload)
	if c.payload == "undefined" {
		raw = []byte("null") // undefined and null behave alike at the top
	} else {
		require.NoError(t, json.Unmarshal(raw, &v))
	}
	assert.Equal(t, c.want, f.Match(v), "Match(%s, %s)", c.payload, c.filter)
	got, err := f.MatchJSON(raw)
	require.NoError(t, err)
	assert.Equal(t, c.want, got, "MatchJSON(%s, %s)", c.payload, c.filter)
	if c.payload != "undefined" {
		d, err := matcher.ParseDocument(raw)
		require.NoError(t, err)
		assert.Equal(t, c.want, f.MatchDocument(d), "MatchDocument(%s, %s)", c.payload, c.filter)
	}
	ex := f.Explain(v)
	if c.want {
		assert.Nil(t, ex, "Explain of a match")
	} else if assert.NotNil(t, ex, "Explain of a mismatch") {
		assert.NotEmpty(t, ex.Mismatches)
	}
}

const (
	p1 = `{"name":"John","age":30,"isAdmin":false,"hobbies":["reading","swimming"],"address":{"street":"123 Main St","city":"Anytown","state":"CA","zip":"12345"}}`
	p2 = `{"name":"Jane","age":25,"isAdmin":true,"hobbies":["running","yoga"],"address":{"street":"456 Elm St","city":"Othertown","state":"NY","zip":"67890"}}`
	// The same with the fields some upstream cases add.
	p1Score      = `{"name":"John","age":30,"isAdmin":false,"score":100,"hobbies":["reading","swimming"],"address":{"street":"123 Main St","city":"Anytown","state":"CA","zip":"12345"}}`
	p1NullDate   = `{"name":"John","age":30,"isAdmin":false,"confirmedAt":null,"hobbies":["reading","swimming"],"address":{"street":"123 Main St","city":"Anytown","state":"CA","zip":"12345"}}`
	p1Date       = `{"name":"John","age":30,"isAdmin":false,"confirmedAt":"2020-01-01T00:00:00.000Z","hobbies":["reading","swimming"],"address":{"street":"123 Main St","city":"Anytown","state":"CA","zip":"12345"}}`
	p2Score      = `{"name":"Jane","age":25,"isAdmin":true,"score":100,"hobbies":["running","yoga"],"address":{"street":"456 Elm St","city":"San Francisco","state":"NY","zip":"67890","latitude":37.7749,"longitude":-122.4194}}`
	p2NullDate   = `{"name":"Jane","age":25,"isAdmin":true,"confirmedAt":null,"hobbies":["running","yoga"],"address":{"street":"456 Elm St","city":"Othertown","state":"NY","zip":"67890"}}`
	p2WithADate  = `{"name":"Jane","age":25,"isAdmin":true,"confirmedAt":"2020-01-01T00:00:00.000Z","hobbies":["running","yoga"],"address":{"street":"456 Elm St","city":"Othertown","state":"NY","zip":"67890"}}`
	p2NotAnAdmin = p2
)

// TestUpstreamEventFilterMatches holds the 34 cases of
// packages/core/test/eventFilterMatches.test.ts (reference §5.4).
func TestUpstreamEventFilterMatches(t *testing.T) {
	cases := []eventCase{
		{"01UndefinedPayloadEmptyFilter", "undefined", `{}`, true},
		{"02UndefinedPayloadNonEmptyFilter", "undefined", `{"name":["John"]}`, false},
		{"03StringLiteral", p1, `{"name":["John"]}`, true},
		{"04BooleanLiteral", p1, `{"isAdmin":[false]}`, true},
		{"05NumberLiteral", p1, `{"age":[30]}`, true},
		{"06StartsWith", p1, `{"name":[{"$startsWith":"Jo"}]}`, true},
		{"07EndsWith", p1, `{"name":[{"$endsWith":"hn"}]}`, true},
		{"08StartsWithAndEndsWith", p1, `{"name":[{"$startsWith":"Jo"},{"$endsWith":"hn"}]}`, true},
		{"09AnythingButScalarNested", p1, `{"name":[{"$anythingBut":"Jane"}],"address":{"street":[{"$anythingBut":"456 Elm St"}]}}`, true},
		{"10AnythingButList", p1, `{"name":[{"$anythingBut":["Jane","Joe"]}]}`, true},
		{"11ExistsTrue", p1, `{"name":[{"$exists":true}]}`, true},
		{"12ExistsFalse", p1, `{"foo":[{"$exists":false}]}`, true},
		{"13GtLtBetween", p1Score, `{"age":[{"$gt":20},{"$lt":40}],"score":[{"$between":[90,110]}]}`, true},
		{"14Includes", p1, `{"hobbies":[{"$includes":"reading"}]}`, true},
		{"15NotHolds", p1, `{"hobbies":[{"$not":"gaming"}],"age":[{"$not":39}],"isAdmin":[{"$not":true}],"name":[{"$not":"Test"}]}`, true},
		{"16NotFails", p1, `{"hobbies":[{"$not":"reading"}],"age":[{"$not":30}],"isAdmin":[{"$not":false}],"name":[{"$not":"John"}]}`, false},
		{"17IgnoreCaseEquals", p1, `{"name":[{"$ignoreCaseEquals":"john"}]}`, true},
		{"18IsNullTrue", p1NullDate, `{"confirmedAt":[{"$isNull":true}]}`, true},
		{"19IsNullFalse", p1Date, `{"confirmedAt":[{"$isNull":false}]}`, true},
		{"20StringLiteralMiss", p2, `{"name":["John"]}`, false},
		{"21WrongTypeLiteral", p2, `{"age":["John"]}`, false},
		{"22BooleanLiteralMiss", p2, `{"isAdmin":[false]}`, false},
		{"23NumberLiteralMiss", p2, `{"age":[30]}`, false},
		{"24StartsWithMiss", p2, `{"name":[{"$startsWith":"Jo"}]}`, false},
		{"25OperatorListIsAnd", p2, `{"name":[{"$startsWith":"Ja"},{"$endsWith":"hn"}]}`, false},
		{"26AnythingButScalarMiss", p2, `{"name":[{"$anythingBut":"Jane"}],"address":{"street":[{"$anythingBut":"456 Elm St"}]}}`, false},
		{"27AnythingButListMiss", p2, `{"name":[{"$anythingBut":["Jane","John"]}],"address":{"street":[{"$anythingBut":"456 Elm St"}]}}`, false},
		{"28ExistsTrueMiss", p2, `{"foo":[{"$exists":true}]}`, false},
		{"29ExistsFalseMiss", p2, `{"name":[{"$exists":false}]}`, false},
		{"30GtMiss", p2Score, `{"age":[{"$gt":30}]}`, false},
		{"31IncludesMiss", p2, `{"hobbies":[{"$includes":"swimming"}]}`, false},
		{"32IgnoreCaseEqualsMiss", p2, `{"name":[{"$ignoreCaseEquals":"john"}]}`, false},
		{"33IsNullTrueMiss", p2WithADate, `{"confirmedAt":[{"$isNull":true}]}`, false},
		{"34IsNullFalseMiss", p2NullDate, `{"confirmedAt":[{"$isNull":false}]}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkEventCase(t, c) })
	}
	_ = p2NotAnAdmin
}

// TestReferenceEventFilterVectors holds the extra vectors of reference §5.6
// (results of the v2 function), plus the number and array rules of §5.2.
func TestReferenceEventFilterVectors(t *testing.T) {
	cases := []eventCase{
		{"EmptyFilterMatchesObject", `{"a":1}`, `{}`, true},
		{"EmptyFilterMatchesNull", `null`, `{}`, true},
		{"EmptyListSkipsMissingKey", `{}`, `{"a":[]}`, true},
		{"LiteralListIsOr", `{"a":"y"}`, `{"a":["x","y"]}`, true},
		{"NumberNeverEqualsString", `{"a":1}`, `{"a":["1"]}`, false},
		{"StringNeverEqualsNumber", `{"a":"1"}`, `{"a":[1]}`, false},
		{"LiteralListDoesNotUnpackPayloadArray", `{"a":["x","y"]}`, `{"a":["x"]}`, false},
		{"NumberListDoesNotUnpackPayloadArray", `{"a":[1,2]}`, `{"a":[1]}`, false},
		{"NullIsNotTheStringNull", `{"a":null}`, `{"a":["null"]}`, false},
		{"OperatorListIsAnd", `{"a":"John"}`, `{"a":[{"$startsWith":"Jo"},{"$endsWith":"xx"}]}`, false},
		{"NullExists", `{"a":null}`, `{"a":[{"$exists":true}]}`, true},
		{"NullIsNotAbsent", `{"a":null}`, `{"a":[{"$exists":false}]}`, false},
		{"MissingKeyIsNotNull", `{}`, `{"a":[{"$isNull":false}]}`, true},
		{"MissingKeyIsNull", `{}`, `{"a":[{"$isNull":true}]}`, false},
		{"MissingKeyIsAnythingBut", `{}`, `{"a":[{"$anythingBut":"x"}]}`, true},
		{"AnythingButListOfOthers", `{"a":"z"}`, `{"a":[{"$anythingBut":["x","y"]}]}`, true},
		{"IncludesIsNotSubstring", `{"a":"abc"}`, `{"a":[{"$includes":"a"}]}`, false},
		{"IncludesArrayElement", `{"a":[1,2]}`, `{"a":[{"$includes":2}]}`, true},
		{"BetweenReversedNeverMatches", `{"a":5}`, `{"a":[{"$between":[10,1]}]}`, false},
		{"BetweenIsInclusive", `{"a":10}`, `{"a":[{"$between":[1,10]}]}`, true},
		{"GtWantsANumberNotANumericString", `{"a":"50"}`, `{"a":[{"$gt":1}]}`, false},
		{"NotFailsOnNull", `{"a":null}`, `{"a":[{"$not":"x"}]}`, false},
		{"NotFailsOnMissingKey", `{}`, `{"a":[{"$not":"x"}]}`, false},
		{"NotOnArrayIsNotIncludes", `{"a":["x"]}`, `{"a":[{"$not":"x"}]}`, false},
		{"IgnoreCaseEqualsIsAccentSensitive", `{"a":"é"}`, `{"a":[{"$ignoreCaseEquals":"E"}]}`, false},
		{"IgnoreCaseEqualsIgnoresCase", `{"a":"HELLO"}`, `{"a":[{"$ignoreCaseEquals":"hello"}]}`, true},
		{"NestedFilterOnMissingKey", `{}`, `{"a":{"b":["x"]}}`, false},
		{"EmptyNestedFilterOnMissingKey", `{}`, `{"a":{}}`, true},
		{"NestedFilterSomeElement", `{"a":[{"b":"x"},{"b":"y"}]}`, `{"a":{"b":["y"]}}`, true},
		{"NestedFilterNoElement", `{"a":[{"b":"x"}]}`, `{"a":{"b":["y"]}}`, false},
		{"EmptyNestedFilterOnEmptyArray", `{"a":[]}`, `{"a":{}}`, false},
		{"FalseLiteral", `{"a":false}`, `{"a":[false]}`, true},
		{"ScalarPayloadHasNoKeys", `5`, `{"a":["x"]}`, false},
		// §5.2: numbers compare as float64, as JSON.parse reads them.
		{"OnePointZeroEqualsOne", `{"a":1.0}`, `{"a":[1]}`, true},
		{"LargeIntegersRoundAlike", `{"a":9007199254740993}`, `{"a":[9007199254740992]}`, true},
		{"LargeIntegersStillDiffer", `{"a":9007199254740994}`, `{"a":[9007199254740992]}`, false},
		{"ExponentForms", `{"a":1e21}`, `{"a":[1000000000000000000000]}`, true},
		{"NegativeZeroEqualsZero", `{"a":-0}`, `{"a":[0]}`, true},
		// JavaScript property access on non-objects.
		{"StringLengthProperty", `{"a":"héllo😀"}`, `{"a":{"length":[7]}}`, true},
		{"StringIndexProperty", `{"a":"abc"}`, `{"a":{"1":["b"]}}`, true},
		{"TopLevelArrayIndex", `[{"b":1}]`, `{"0":{"b":[1]}}`, true},
		{"NestedArrayOfArrays", `{"a":[[{"b":1}]]}`, `{"a":{"b":[1]}}`, false},
		{"DuplicateKeysLastWins", `{"a":"x","a":"y"}`, `{"a":["y"]}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkEventCase(t, c) })
	}
}

func TestHugeNumberIsInfinityAsInJSONParse(t *testing.T) {
	// encoding/json refuses 1e400, so only the raw path can see it.
	f, err := matcher.ParseEventFilter([]byte(`{"a":[{"$gt":1.7976931348623157e308}]}`))
	require.NoError(t, err)
	got, err := f.MatchJSON([]byte(`{"a":1e400}`))
	require.NoError(t, err)
	assert.True(t, got)
}

func TestParseEventFilterErrorsNameThePath(t *testing.T) {
	cases := []struct {
		name, filter, path, msg string
		offset                  int
	}{
		{"MixedLiteralList", `{"age":[30,"30"]}`, "age[1]", "a string in a list of numbers", 11},
		{"LiteralMixedWithOperator", `{"a":["x",{"$startsWith":"y"}]}`, "a[1]", "literals and operators cannot be mixed", 10},
		{"OperatorMixedWithLiteral", `{"a":[{"$startsWith":"y"},"x"]}`, "a[1]", "literals and operators cannot be mixed", 26},
		{"UnknownOperator", `{"a":[{"$regex":"y"}]}`, "a[0]", "unknown operator $regex", 7},
		{"BetweenOneNumber", `{"body":{"address":{"city":[{"$gt":1},{"$between":[1]}]}}}`, "body.address.city[1]", "$between wants [number, number], got a list", 50},
		{"BetweenStrings", `{"a":[{"$between":["1","2"]}]}`, "a[0]", "$between wants [number, number]", 18},
		{"StartsWithNumber", `{"a":[{"$startsWith":1}]}`, "a[0]", "$startsWith wants a string, got a number", 21},
		{"ExistsString", `{"a":[{"$exists":"yes"}]}`, "a[0]", "$exists wants true or false", 17},
		{"AnythingButMixedList", `{"a":[{"$anythingBut":["x",1]}]}`, "a[0]", "$anythingBut wants", 22},
		{"TwoOperators", `{"a":[{"$gt":1,"$lt":5}]}`, "a[0]", "2 operators ($gt, $lt) in one object: the reference keeps only $gt", 6},
		{"EmptyOperatorObject", `{"a":[{}]}`, "a[0]", "empty operator object {}", 6},
		{"NonOperatorKey", `{"a":[{"$gt":1,"note":"x"}]}`, "a[0]", `"note" is not an operator`, 15},
		{"NullValue", `{"a":null}`, "a", "got null", 5},
		{"ScalarValue", `{"a":{"b":"x"}}`, "a.b", "got a string", 10},
		{"ListOfLists", `{"a":[["x"]]}`, "a[0]", "a list is not allowed", 6},
		{"RootNotAnObject", `["x"]`, "", "want an object", 0},
		{"InvalidJSON", `{"a":[}`, "", "invalid character", 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := matcher.ParseEventFilter([]byte(c.filter))
			var pe *matcher.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.path, pe.Path)
			assert.Contains(t, pe.Msg, c.msg)
			assert.Equal(t, c.offset, pe.Offset, "offset")
			if c.path != "" {
				assert.Contains(t, err.Error(), "matcher: "+c.path+": ")
			}
		})
	}
	t.Run("InvalidJSONWrapsErrInvalidJSON", func(t *testing.T) {
		_, err := matcher.ParseEventFilter([]byte(`{`))
		assert.ErrorIs(t, err, matcher.ErrInvalidJSON)
	})
}

func TestCompatNarrowsLikeTheReferenceSchema(t *testing.T) {
	cases := []struct{ name, filter, want string }{
		{"GtBeforeLt", `{"a":[{"$gt":1,"$lt":5}]}`, `{"a":[{"$gt":1}]}`},
		{"UnionOrderNotKeyOrder", `{"a":[{"$not":"x","$endsWith":"c"}]}`, `{"a":[{"$endsWith":"c"}]}`},
		{"WrongTypeSkipsToNextMember", `{"a":[{"$gt":"x","$lt":5}]}`, `{"a":[{"$lt":5}]}`},
		{"OtherKeysDropped", `{"a":[{"$gt":1,"note":"x"}]}`, `{"a":[{"$gt":1}]}`},
		{"AnythingButListIsItsOwnMember", `{"a":[{"$anythingBut":["x"],"$gte":2}]}`, `{"a":[{"$anythingBut":["x"]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := matcher.ParseEventFilter([]byte(c.filter), matcher.Compat())
			require.NoError(t, err)
			got, err := f.MarshalJSON()
			require.NoError(t, err)
			assert.JSONEq(t, c.want, string(got))
		})
	}
	t.Run("StillRejectsWhatTheSchemaRejects", func(t *testing.T) {
		_, err := matcher.ParseEventFilter([]byte(`{"a":[{"$gt":"x"}]}`), matcher.Compat())
		assert.Error(t, err)
		_, err = matcher.ParseEventFilter([]byte(`{"a":["x",1]}`), matcher.Compat())
		assert.Error(t, err)
	})
}

func TestExplainSaysPathRuleAndValue(t *testing.T) {
	cases := []struct{ name, payload, filter, want string }{
		{"LiteralList", `{"action":"labeled"}`, `{"action":["opened","closed"]}`, `action: ["opened","closed"] does not contain "labeled"`},
		{"MissingKey", `{}`, `{"action":["opened"]}`, `action: ["opened"] does not contain undefined`},
		{"Operator", `{"name":"Jane"}`, `{"name":[{"$startsWith":"Jo"}]}`, `name: {"$startsWith":"Jo"} does not match "Jane"`},
		{"Nested", `{"address":{"city":"Othertown"}}`, `{"address":{"city":["Anytown"]}}`, `address.city: ["Anytown"] does not contain "Othertown"`},
		{"SomeElement", `{"a":[{"b":"x"}]}`, `{"a":{"b":["y"]}}`, `a: no element matches {"b":["y"]} in [{"b":"x"}]`},
		{"EveryFailingKey", `{"a":1,"b":2}`, `{"a":[2],"b":[3]}`, "a: [2] does not contain 1\nb: [3] does not contain 2"},
		{"NullPayload", `null`, `{"a":[1]}`, `(payload): want an object with a, got null`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := matcher.ParseEventFilter([]byte(c.filter))
			require.NoError(t, err)
			ex, err := f.ExplainJSON([]byte(c.payload))
			require.NoError(t, err)
			require.NotNil(t, ex)
			assert.Equal(t, c.want, ex.String())
			var v any
			require.NoError(t, json.Unmarshal([]byte(c.payload), &v))
			assert.Equal(t, c.want, f.Explain(v).String(), "decoded and raw explanations agree")
		})
	}
}

func TestMatchDecodedDoesNotAllocate(t *testing.T) {
	f, err := matcher.ParseEventFilter([]byte(`{"action":["opened"],"pull_request":{"draft":[false],"user":{"login":[{"$startsWith":"oct"}]}},"labels":{"name":[{"$ignoreCaseEquals":"BUG"}]}}`))
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal([]byte(`{"action":"opened","pull_request":{"draft":false,"user":{"login":"octocat"}},"labels":[{"name":"docs"},{"name":"bug"}]}`), &v))
	require.True(t, f.Match(v))
	allocs := testing.AllocsPerRun(100, func() { f.Match(v) })
	assert.Zero(t, allocs)
}
