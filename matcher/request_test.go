package matcher_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/matcher"
)

// TestRequestFilterSemantics covers reference §5.5 rule by rule.
func TestRequestFilterSemantics(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	jsonReq := matcher.Request{Method: "POST", URL: "https://example.com/hook?a=1", Header: h("Content-Type", "application/json", "X-GitHub-Event", "issues"), Body: []byte(`{"action":"labeled"}`)}
	cases := []struct {
		name   string
		filter string
		req    matcher.Request
		want   bool
	}{
		{"EmptyFilterMatchesEverything", `{}`, matcher.Request{Method: "PATCH", URL: "http://x/", Body: []byte("not json")}, true},
		{"MethodListed", `{"method":["GET","POST"]}`, jsonReq, true},
		{"MethodNotListed", `{"method":["GET"]}`, jsonReq, false},
		{"LowerCasePostIsNormalizedByFetch", `{"method":["POST"]}`, matcher.Request{Method: "post", URL: "http://x/"}, true},
		{"LowerCasePatchIsNotNormalized", `{"method":["PATCH"]}`, matcher.Request{Method: "patch", URL: "http://x/"}, false},
		{"HeaderNameCaseInsensitiveOnTheRequest", `{"headers":{"x-github-event":["issues"]}}`, jsonReq, true},
		{"RepeatedHeadersJoinedWithCommaSpace", `{"headers":{"x-tag":["a, b"]}}`, matcher.Request{URL: "http://x/", Header: h("X-Tag", "a", "X-Tag", "b")}, true},
		{"RepeatedHeadersNotSeparately", `{"headers":{"x-tag":["a"]}}`, matcher.Request{URL: "http://x/", Header: h("X-Tag", "a", "X-Tag", "b")}, false},
		{"HeaderStartsWith", `{"headers":{"content-type":[{"$startsWith":"application/"}]}}`, jsonReq, true},
		{"MissingHeader", `{"headers":{"x-missing":["x"]}}`, jsonReq, false},
		{"QueryValue", `{"query":{"a":["1"]}}`, jsonReq, true},
		{"QueryLastRepeatedValueWins", `{"query":{"a":["2"]}}`, matcher.Request{URL: "http://x/?a=1&a=2"}, true},
		{"QueryFirstRepeatedValueLoses", `{"query":{"a":["1"]}}`, matcher.Request{URL: "http://x/?a=1&a=2"}, false},
		{"QueryPlusIsSpace", `{"query":{"q":["a b"]}}`, matcher.Request{URL: "http://x/?q=a+b"}, true},
		{"QueryPercentDecoded", `{"query":{"hub.mode":["subscribe"]}}`, matcher.Request{URL: "http://x/?hub%2Emode=sub%73cribe"}, true},
		{"QueryBadEscapeKeptLiterally", `{"query":{"q":["%zz"]}}`, matcher.Request{URL: "http://x/?q=%zz"}, true},
		{"QueryFragmentIgnored", `{"query":{"q":["1"]}}`, matcher.Request{URL: "http://x/?q=1#frag"}, true},
		{"BodyFilter", `{"body":{"action":["labeled"]}}`, jsonReq, true},
		{"BodyParsedWhateverTheContentType", `{"body":{"a":[1]}}`, matcher.Request{URL: "http://x/", Header: h("Content-Type", "text/plain"), Body: []byte(`{"a":1}`)}, true},
		{"BodyFilterOnNonJSONBody", `{"body":{}}`, matcher.Request{URL: "http://x/", Body: []byte("a=1&b=2")}, false},
		{"BodyFilterOnEmptyBody", `{"body":{}}`, matcher.Request{URL: "http://x/"}, false},
		{"NonJSONBodyWithoutBodyFilter", `{"method":["POST"]}`, matcher.Request{Method: "POST", URL: "http://x/", Body: []byte("<xml/>")}, true},
		{"BodyWithLeadingBOM", `{"body":{"a":[1]}}`, matcher.Request{URL: "http://x/", Body: []byte("\xef\xbb\xbf{\"a\":1}")}, true},
		{"BodyDuplicateKeysLastWins", `{"body":{"a":[2]}}`, matcher.Request{URL: "http://x/", Body: []byte(`{"a":1,"a":2}`)}, true},
		{"AllPartsAreANDed", `{"method":["POST"],"headers":{"x-github-event":["issues"]},"query":{"a":["2"]}}`, jsonReq, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := matcher.ParseRequestFilter([]byte(c.filter))
			require.NoError(t, err)
			assert.Equal(t, c.want, f.Match(c.req))
			ex := f.Explain(c.req)
			assert.Equal(t, c.want, ex == nil, "Explain: %v", ex)
		})
	}
}

func TestParseRequestFilterValidation(t *testing.T) {
	cases := []struct{ name, filter, path, msg string }{
		{"LowerCaseMethod", `{"method":["post"]}`, "method[0]", `"post" is not one of GET`},
		{"MethodNotAList", `{"method":"POST"}`, "method", "want a list of HTTP methods"},
		{"TypoHeader", `{"header":{"x":["y"]}}`, "header", `did you mean "headers"?`},
		{"MixedCaseHeaderName", `{"headers":{"X-GitHub-Event":["issues"]}}`, "headers.X-GitHub-Event", `write "x-github-event"`},
		{"NumericHeaderMatch", `{"headers":{"x":[1]}}`, "headers.x[0]", "want a string"},
		{"OperatorNotForStrings", `{"query":{"n":[{"$gt":1}]}}`, "query.n[0]", "$gt is not allowed here"},
		{"BodyPathInError", `{"body":{"a":{"b":[{"$between":[1,"2"]}]}}}`, "body.a.b[0]", "$between wants [number, number]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := matcher.ParseRequestFilter([]byte(c.filter))
			var pe *matcher.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.path, pe.Path)
			assert.Contains(t, pe.Msg, c.msg)
		})
	}
	t.Run("CompatDropsUnknownKeysAndKeepsMixedCaseNames", func(t *testing.T) {
		f, err := matcher.ParseRequestFilter([]byte(`{"header":{"x":["y"]},"headers":{"X-GitHub-Event":["issues"]}}`), matcher.Compat())
		require.NoError(t, err)
		req := matcher.Request{URL: "http://x/", Header: http.Header{"X-Github-Event": {"issues"}}}
		assert.False(t, f.Match(req), "a mixed-case name never matches, as in the reference")
	})
}

func TestMatchRequestLeavesTheBodyReadable(t *testing.T) {
	f, err := matcher.ParseRequestFilter([]byte(`{"body":{"type":["url_verification"]},"headers":{"host":["example.com"]}}`))
	require.NoError(t, err)
	body := `{"type":"url_verification","challenge":"abc"}`
	r := httptest.NewRequest("POST", "http://example.com/slack", strings.NewReader(body))
	ok, err := f.MatchRequest(r)
	require.NoError(t, err)
	assert.True(t, ok, "Host is a header for the reference's Fetch Request")
	rest, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, body, string(rest))
}

func TestRequestFilterExplain(t *testing.T) {
	f, err := matcher.ParseRequestFilter([]byte(`{"method":["GET"],"headers":{"x-github-event":["push"]},"body":{"action":["opened"]}}`))
	require.NoError(t, err)
	ex := f.Explain(matcher.Request{Method: "POST", URL: "http://x/", Header: http.Header{"X-Github-Event": {"issues"}}, Body: []byte("oops")})
	assert.Equal(t, `method: ["GET"] does not contain "POST"
headers.x-github-event: ["push"] does not contain "issues"
body: want a JSON body, got a body that is not JSON (4 bytes)`, ex.String())
}
