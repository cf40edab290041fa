package matcher_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/hooklab/hooklab/matcher"
)

func ExampleParseEventFilter() {
	f, err := matcher.ParseEventFilter([]byte(`{"action":["opened","synchronize"],"pull_request":{"draft":[false]}}`))
	if err != nil {
		panic(err)
	}
	ok, err := f.MatchJSON([]byte(`{"action":"opened","pull_request":{"draft":false,"number":7}}`))
	fmt.Println(ok, err)
	// Output: true <nil>
}

func ExampleParseEventFilter_error() {
	_, err := matcher.ParseEventFilter([]byte(`{"address":{"city":["Anytown",{"$startsWith":"Any"}]}}`))
	fmt.Println(err)
	// Output: matcher: address.city[1]: an operator in a list of literals: literals and operators cannot be mixed
}

func ExampleEventFilter_Explain() {
	f, _ := matcher.ParseEventFilter([]byte(`{"action":["opened","closed"],"sender":{"login":[{"$startsWith":"dependabot"}]}}`))
	var payload any
	_ = json.Unmarshal([]byte(`{"action":"labeled","sender":{"login":"octocat"}}`), &payload)
	fmt.Println(f.Explain(payload))
	// Output:
	// action: ["opened","closed"] does not contain "labeled"
	// sender.login: {"$startsWith":"dependabot"} does not match "octocat"
}

func ExampleRequestFilter_MatchRequest() {
	// Meta's GET handshake: answer it before any signature check.
	f, _ := matcher.ParseRequestFilter([]byte(`{"method":["GET"],"query":{"hub.mode":["subscribe"]}}`))
	r := httptest.NewRequest(http.MethodGet, "/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=t", nil)
	ok, err := f.MatchRequest(r)
	fmt.Println(ok, err)

	r = httptest.NewRequest(http.MethodPost, "/webhooks/meta", strings.NewReader(`{"object":"page"}`))
	ok, _ = f.MatchRequest(r)
	fmt.Println(ok)
	// Output:
	// true <nil>
	// false
}

func ExampleMatchJSONL() {
	in := strings.NewReader(`{"filter":{"action":["opened"]},"payload":{"action":"opened"}}
{"request_filter":{"method":["POST"],"headers":{"x-github-event":["issues"]}},"request":{"method":"POST","url":"/hook","headers":{"X-GitHub-Event":"push"}}}
{"filter":{"action":"opened"}}
`)
	if err := matcher.MatchJSONL(in, os.Stdout, 0); err != nil {
		panic(err)
	}
	// Output:
	// {"match": true}
	// {"match": false}
	// {"error": "filter: action: want a list of values or operators, or a nested filter object, got a string (column 21)"}
}
