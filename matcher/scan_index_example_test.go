package matcher_test

import (
	"fmt"
	"net/http"

	"github.com/hooklab/hooklab/matcher"
)

// An ingress matches every trigger's RequestFilter against one request
// through one Scan: the body is validated and indexed once, by the first
// filter that reads it, and each filter then reads only the members it
// names.
func ExampleRequestFilter_MatchScan() {
	triggers := []struct{ name, filter string }{
		{"opened", `{"headers":{"x-github-event":["pull_request"]},"body":{"action":["opened"]}}`},
		{"closed", `{"body":{"action":["closed"]}}`},
		{"to-main", `{"body":{"pull_request":{"base":{"ref":["main"]}}}}`},
	}
	r := matcher.Request{
		Method: "POST",
		URL:    "https://example.com/hooks/gh",
		Header: http.Header{"X-Github-Event": {"pull_request"}},
		Body:   []byte(`{"action":"opened","number":7,"pull_request":{"base":{"ref":"main"}}}`),
	}
	var s matcher.Scan // one per request; the zero Scan is ready
	for _, t := range triggers {
		f, err := matcher.ParseRequestFilter([]byte(t.filter))
		if err != nil {
			panic(err)
		}
		fmt.Println(t.name, f.MatchScan(r, &s))
	}
	// Output:
	// opened true
	// closed false
	// to-main true
}
