package matcher_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hooklab/hooklab/matcher"
)

// prFilter is a typical filter for GitHub pull_request webhooks; it matches
// testdata/github-pull_request.json (about 22 KB, GitHub's real shape).
const prFilter = `{"action":["opened","synchronize"],"pull_request":{"draft":[false],"base":{"ref":["main"]},"user":{"login":[{"$startsWith":"oct"}]}},"repository":{"private":[false]}}`

// benchNode caches the Node measurements so that a sub-benchmark run more
// than once (larger b.N, -count) calls Node only once per mode.
var benchNode struct {
	sync.Mutex
	nsPerOp map[bool]float64 // key: from_text
}

// nodeBenchNsPerOp runs Trigger.dev's eventFilterMatches in Node for about a
// second and returns its ns/op; fromText includes JSON.parse of the payload
// in every iteration.
func nodeBenchNsPerOp(b *testing.B, payload []byte, fromText bool) float64 {
	b.Helper()
	benchNode.Lock()
	defer benchNode.Unlock()
	if ns, ok := benchNode.nsPerOp[fromText]; ok {
		return ns
	}
	dir, err := filepath.Abs(filepath.Join("..", "interop"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		b.Skip("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		b.Skip(filepath.Join(dir, "node_modules") + " is missing; run `npm ci --prefix interop`")
	}
	out := tdRunNode(b, dir, []any{map[string]any{
		"op": "bench", "filter": json.RawMessage(prFilter), "payload_text": string(payload),
		"from_text": fromText, "target_ms": 1000,
	}})
	r := tdDecodeResult(b, out[0])
	if r.NsPerOp <= 0 || !r.Matched {
		b.Fatalf("node bench: %s", out[0])
	}
	if benchNode.nsPerOp == nil {
		benchNode.nsPerOp = map[bool]float64{}
	}
	benchNode.nsPerOp[fromText] = r.NsPerOp
	return r.NsPerOp
}

// BenchmarkMatchPullRequest compares hooklab with Trigger.dev v2's
// eventFilterMatches on a 22 KB GitHub pull_request payload:
//
//	decoded       Match on a value decoded once with encoding/json
//	document      MatchDocument on a Document parsed once with ParseDocument
//	raw           MatchJSON on the payload bytes
//	parse-document  ParseDocument alone (the document's one-time cost)
//	unmarshal     json.Unmarshal into an any alone (decoded's one-time cost)
//	node-decoded  eventFilterMatches on an object parsed once
//	node-raw      JSON.parse + eventFilterMatches in every iteration
//
// The node sub-benchmarks run Node once (about a second of measuring) and
// report its time per call as ns/op (and node-ns/op); they log the ratio
// node/go against the matching Go sub-benchmark (node-decoded against
// both decoded and document). Run with
//
//	go test -bench MatchPullRequest -run '^$' ./matcher
func BenchmarkMatchPullRequest(b *testing.B) {
	payload, err := os.ReadFile(filepath.Join("testdata", "github-pull_request.json"))
	if err != nil {
		b.Fatal(err)
	}
	f, err := matcher.ParseEventFilter([]byte(prFilter))
	if err != nil {
		b.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		b.Fatal(err)
	}
	if !f.Match(v) {
		b.Fatalf("the filter does not match the payload: %v", f.Explain(v))
	}
	if ok, err := f.MatchJSON(payload); err != nil || !ok {
		b.Fatalf("MatchJSON = %v, %v; want true", ok, err)
	}

	doc, err := matcher.ParseDocument(payload)
	if err != nil {
		b.Fatal(err)
	}
	if !f.MatchDocument(doc) {
		b.Fatal("MatchDocument = false; want true")
	}

	var goDecoded, goDocument, goRaw float64 // ns/op of the last run of each Go sub-benchmark
	b.Run("decoded", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !f.Match(v) {
				b.Fatal("no match")
			}
		}
		goDecoded = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("document", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !f.MatchDocument(doc) {
				b.Fatal("no match")
			}
		}
		goDocument = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for i := 0; i < b.N; i++ {
			if ok, err := f.MatchJSON(payload); !ok || err != nil {
				b.Fatal("no match", err)
			}
		}
		goRaw = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	var parseDoc float64
	b.Run("parse-document", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for i := 0; i < b.N; i++ {
			if _, err := matcher.ParseDocument(payload); err != nil {
				b.Fatal(err)
			}
		}
		parseDoc = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for i := 0; i < b.N; i++ {
			var x any
			if err := json.Unmarshal(payload, &x); err != nil {
				b.Fatal(err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if parseDoc > 0 {
			b.ReportMetric(ns/parseDoc, "unmarshal/parse-document")
			b.Logf("json.Unmarshal %.0f ns/op, ParseDocument %.0f ns/op: %.1fx", ns, parseDoc, ns/parseDoc)
		}
	})
	// against is one Go sub-benchmark a node line is compared with; the
	// first is the one reported as the node/go metric.
	type against struct {
		name string
		ns   *float64
	}
	node := func(fromText bool, gos ...against) func(*testing.B) {
		return func(b *testing.B) {
			ns := nodeBenchNsPerOp(b, payload, fromText)
			b.ReportMetric(ns, "ns/op")
			b.ReportMetric(ns, "node-ns/op")
			for i, g := range gos {
				if *g.ns <= 0 {
					b.Logf("node %.0f ns/op (run the %s sub-benchmark too for the ratio)", ns, g.name)
					continue
				}
				unit := "node/go"
				if i > 0 {
					unit = "node/" + g.name
				}
				b.ReportMetric(ns / *g.ns, unit)
				b.Logf("node %.0f ns/op, go %s %.0f ns/op: node/go = %.1fx", ns, g.name, *g.ns, ns / *g.ns)
			}
		}
	}
	b.Run("node-decoded", node(false, against{"decoded", &goDecoded}, against{"document", &goDocument}))
	b.Run("node-raw", node(true, against{"raw", &goRaw}))
}

// benchSink keeps the floor benchmark's result alive.
var benchSink bool

// BenchmarkMatchPullRequestLookupFloor is the bound on the decoded path:
// prFilter's checks written out by hand for this payload, with no filter
// at all — the nine map lookups (one per filter key and object level)
// with their type assertions and comparisons. Match cannot do less work
// than this on a payload that matches; compare its ns/op with
// BenchmarkMatchPullRequest/decoded from the same run.
func BenchmarkMatchPullRequestLookupFloor(b *testing.B) {
	payload, err := os.ReadFile(filepath.Join("testdata", "github-pull_request.json"))
	if err != nil {
		b.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := v.(map[string]any)
		action, _ := m["action"].(string)
		pr, _ := m["pull_request"].(map[string]any)
		draft, isBool := pr["draft"].(bool)
		base, _ := pr["base"].(map[string]any)
		ref, _ := base["ref"].(string)
		user, _ := pr["user"].(map[string]any)
		login, _ := user["login"].(string)
		repo, _ := m["repository"].(map[string]any)
		private, isPrivBool := repo["private"].(bool)
		benchSink = (action == "opened" || action == "synchronize") && isBool && !draft && ref == "main" &&
			strings.HasPrefix(login, "oct") && isPrivBool && !private
		if !benchSink {
			b.Fatal("no match")
		}
	}
}
