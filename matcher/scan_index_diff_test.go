package matcher_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/hooklab/hooklab/matcher"
)

// scanWindow is how many filters each request is matched against through
// one Scan in the differential tests: its own and the next ones'.
const scanWindow = 8

// checkScanSequence matches r against filters in order through one Scan
// and reports every answer that is not Match's.
func checkScanSequence(t *testing.T, where string, filters []*matcher.RequestFilter, r matcher.Request) {
	t.Helper()
	var s matcher.Scan
	for _, f := range filters {
		if got, want := f.MatchScan(r, &s), f.Match(r); got != want {
			t.Errorf("%s: MatchScan(%q) with filter %s = %v, want %v (Match)", where, r.Body, f, got, want)
		}
	}
}

// TestMatchScanAgreesWithMatchOnTheDifferentialCorpora runs the Node
// differential corpora without Node: Trigger.dev's own cases, the
// reference vectors and quirks, the fuzz seeds, 4,000 generated event
// filter cases (as body filters) and 4,000 generated request cases. Each
// request is matched through one Scan against its own filter and the next
// scanWindow-1 cases' filters, in order, and each answer must be Match's.
func TestMatchScanAgreesWithMatchOnTheDifferentialCorpora(t *testing.T) {
	type reqCase struct {
		name   string
		r      matcher.Request
		filter *matcher.RequestFilter
	}
	var cases []reqCase
	addEvent := func(name, filter string, payload *string) {
		f, err := matcher.ParseRequestFilter([]byte(`{"body":`+filter+`}`), matcher.Compat())
		if err != nil {
			return // the reference's schema would refuse it too; Match is not defined
		}
		r := matcher.Request{Method: "POST", URL: "https://example.com/hook", Header: http.Header{"Content-Type": {"application/json"}}}
		if payload != nil {
			r.Body = []byte(*payload)
		}
		cases = append(cases, reqCase{name, r, f})
	}
	for _, c := range append(tdExplicitEventCases(), tdQuirkEventCases()...) {
		addEvent(c.name, c.filter, c.payload)
	}
	for i, fs := range fuzzFilters {
		for j, p := range fuzzPayloads {
			addEvent(fmt.Sprintf("fuzz#%d/%d", i, j), fs, &p)
		}
	}
	g := newTDGen(tdDefaultSeed, 14)
	for i := range 4000 {
		f := g.filter(0, g.p(0.3))
		var payload *string
		if p := g.topPayload(f); p != nil {
			s := string(p)
			payload = &s
		}
		addEvent(fmt.Sprintf("gen-event#%d", i), string(tdEncodeJSON(f, nil)), payload)
	}
	for i := range 4000 {
		c, headers, query, body := g.request()
		c.filter = g.requestFilterFor(c, headers, query, body)
		f, err := matcher.ParseRequestFilter(c.filter, matcher.Compat())
		if err != nil {
			continue
		}
		cases = append(cases, reqCase{fmt.Sprintf("gen-request#%d", i), matcher.Request{Method: c.method, URL: c.url, Header: tdRequestHeader(c), Body: c.body}, f})
	}
	if len(cases) < 8000 {
		t.Fatalf("only %d cases built", len(cases))
	}
	for i, c := range cases {
		filters := make([]*matcher.RequestFilter, 0, scanWindow)
		for j := i; j < i+scanWindow && j < len(cases); j++ {
			filters = append(filters, cases[j].filter)
		}
		checkScanSequence(t, c.name, filters, c.r)
	}
}

// TestMatchScanAgreesOnThePullRequestPayload matches the 22 KB GitHub
// payload, whole and cut short, against the benchmark's filters through one
// Scan.
func TestMatchScanAgreesOnThePullRequestPayload(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join("testdata", "github-pull_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var filters []*matcher.RequestFilter
	for _, src := range scanPRFilters {
		f, err := matcher.ParseRequestFilter([]byte(src))
		if err != nil {
			t.Fatalf("ParseRequestFilter(%s) = %v", src, err)
		}
		filters = append(filters, f)
	}
	for _, cut := range []int{len(payload), 1, 100, len(payload) / 2, len(payload) - 1} {
		r := matcher.Request{Method: "POST", Header: http.Header{"X-Github-Event": {"pull_request"}}, Body: payload[:cut]}
		checkScanSequence(t, fmt.Sprintf("payload[:%d]", cut), filters, r)
	}
}

// scanPRFilters are request filters over testdata/github-pull_request.json:
// the benchmark's prFilter first, then filters on other members, as
// several triggers of one GitHub endpoint would have.
var scanPRFilters = []string{
	`{"headers":{"x-github-event":["pull_request"]},"body":` + prFilter + `}`,
	`{"body":{"action":["closed"]}}`,
	`{"body":{"pull_request":{"labels":{"name":["bug"]}}}}`,
	`{"body":{"pull_request":{"requested_reviewers":{"login":[{"$exists":true}]}}}}`,
	`{"body":{"sender":{"login":[{"$ignoreCaseEquals":"OCTOCAT"}]},"number":[{"$between":[1000,2000]}]}}`,
	`{"headers":{"x-github-event":["push"]}}`,
	`{"body":{"repository":{"full_name":[{"$startsWith":"octo"}]}}}`,
	`{"body":{"installation":{"id":[{"$exists":false}]}}}`,
}
