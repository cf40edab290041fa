package matcher_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/hooklab/hooklab/matcher"
)

// scanBench1KiB is sim's BenchmarkIngress body: 1 KiB, GitHub-like.
var scanBench1KiB = func() []byte {
	b, _ := json.Marshal(map[string]any{"action": "opened", "number": 42,
		"pull_request": map[string]any{"title": string(bytes.Repeat([]byte("x"), 900)), "draft": false}})
	return b
}()

// scan1KiBFilters are triggers of a GitHub endpoint over scanBench1KiB;
// the first two are sim's BenchmarkIngress triggers.
var scan1KiBFilters = []string{
	`{"headers":{"x-github-event":["pull_request"]},"body":{"action":["opened"]}}`,
	`{"body":{"action":["closed"]}}`,
	`{"body":{"action":["synchronize"]}}`,
	`{"body":{"pull_request":{"draft":[false]}}}`,
	`{"body":{"number":[{"$gt":40}]}}`,
	`{"headers":{"x-github-event":["push"]}}`,
	`{"body":{"action":["opened"],"pull_request":{"draft":[true]}}}`,
	`{"body":{"sender":{"login":[{"$endsWith":"[bot]"}]}}}`,
}

// BenchmarkMatchScan matches one request against the first N filters of a
// GitHub endpoint (N = 1, 2, 8), on a 1 KiB body and on the 22 KB
// pull_request payload, two ways in the same run:
//
//	match  RequestFilter.Match per filter (a UTF-8 pass and a validating scan each)
//	scan   RequestFilter.MatchScan per filter through one Scan per request
//
// The scan line reports match/scan, the ratio of the two ns/op. Run with
//
//	go test -bench MatchScan -run '^$' ./matcher
func BenchmarkMatchScan(b *testing.B) {
	pr, err := os.ReadFile(filepath.Join("testdata", "github-pull_request.json"))
	if err != nil {
		b.Fatal(err)
	}
	for _, body := range []struct {
		name    string
		body    []byte
		header  string
		filters []string
	}{
		{"1KiB", scanBench1KiB, "pull_request", scan1KiBFilters},
		{"PR22KB", pr, "pull_request", scanPRFilters},
	} {
		var all []*matcher.RequestFilter
		for _, src := range body.filters {
			f, err := matcher.ParseRequestFilter([]byte(src))
			if err != nil {
				b.Fatal(err)
			}
			all = append(all, f)
		}
		r := matcher.Request{Method: "POST", URL: "https://example.com/hooks/gh", Header: http.Header{"X-Github-Event": {body.header}}, Body: body.body}
		if !all[0].Match(r) {
			b.Fatalf("%s: the first filter does not match: %v", body.name, all[0].Explain(r))
		}
		for _, n := range []int{1, 2, 8} {
			filters := all[:n]
			var matchNs float64
			b.Run(fmt.Sprintf("%s/filters=%d/match", body.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body.body)))
				for b.Loop() {
					for _, f := range filters {
						benchSink = f.Match(r)
					}
				}
				matchNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			b.Run(fmt.Sprintf("%s/filters=%d/scan", body.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body.body)))
				for b.Loop() {
					var s matcher.Scan
					for _, f := range filters {
						benchSink = f.MatchScan(r, &s)
					}
				}
				if ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N); matchNs > 0 {
					b.ReportMetric(matchNs/ns, "match/scan")
				}
			})
		}
	}
}
