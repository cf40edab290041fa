package sim_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// benchBody is a 1 KiB GitHub-like JSON body.
var benchBody = func() []byte {
	b, _ := json.Marshal(map[string]any{"action": "opened", "number": 42,
		"pull_request": map[string]any{"title": string(bytes.Repeat([]byte("x"), 900)), "draft": false}})
	return b
}()

// benchIngress is the reference ingress of BenchmarkIngress, the bare
// handler it is compared with, and a request signed for both.
func benchIngress(b *testing.B) (in *sim.Ingress, bare http.Handler, p signer.Payload) {
	b.Helper()
	secret := "bench-secret"
	in, err := sim.NewIngress(sim.Config{}, sim.EndpointSpec{
		ID:     "gh",
		Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
		Triggers: []sim.TriggerSpec{
			{ID: "opened", Filter: json.RawMessage(`{"headers":{"x-github-event":["pull_request"]},"body":{"action":["opened"]}}`)},
			{ID: "closed", Filter: json.RawMessage(`{"body":{"action":["closed"]}}`)},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { in.Close() })
	p, err = signer.Sign(signer.GitHub(), signer.Keys(secret), signer.Payload{
		URL: "http://example.com/hooks/gh", Body: benchBody,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"pull_request"}}})
	if err != nil {
		b.Fatal(err)
	}
	bare = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	})
	return in, bare, p
}

// serveBench serves one request of p to h as a server would hand it over.
func serveBench(b *testing.B, h http.Handler, p signer.Payload) {
	r := httptest.NewRequest(http.MethodPost, "http://example.com/hooks/gh", bytes.NewReader(benchBody))
	r.Header = p.Header.Clone()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// BenchmarkIngress measures the reference ingress on one signed request
// with two filtered triggers (one matches; its delivery goes nowhere),
// against a bare handler that only reads the body and answers,
// in the same run: compare the two with benchstat, or read
// BenchmarkIngressVsBare's ratio.
func BenchmarkIngress(b *testing.B) {
	in, bare, p := benchIngress(b)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"ingress", in}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(benchBody)))
			for b.Loop() {
				serveBench(b, bc.h, p)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			in.Flush(ctx)
		})
	}
}

// handwritten is the handler a Go developer writes for the same work as
// the ingress of benchIngress: read the body, check GitHub's signature
// with crypto/hmac, decode the body with encoding/json, wake the two
// triggers whose conditions hold and say which. It has none of the
// ingress's Trigger.dev semantics (a filter on any path, arrays, $
// operators); it is the floor of "the same work" written by hand.
func handwritten(secret string) http.Handler {
	key := []byte(secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		sig, err := hex.DecodeString(strings.TrimPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256="))
		if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
			http.Error(w, "signature verification failed", http.StatusUnauthorized)
			return
		}
		var ev struct {
			Action string `json:"action"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		triggered := []string{}
		if r.Header.Get("X-Github-Event") == "pull_request" && ev.Action == "opened" {
			triggered = append(triggered, "opened")
		}
		if ev.Action == "closed" {
			triggered = append(triggered, "closed")
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "endpoint": "gh", "triggered": triggered})
	})
}

// BenchmarkIngressVsBare serves BenchmarkIngress's request to the bare
// handler, to the ingress and to handwritten in alternating batches of
// 256 and reports the ratios of their times, ingress/bare and
// ingress/handwritten: drift of the machine (another process, the clock,
// the collector's phase) falls on every side alike, where sub-benchmarks
// run one after the other see different machines. ns/op is the time of
// one batch of each.
func BenchmarkIngressVsBare(b *testing.B) {
	in, bare, p := benchIngress(b)
	hand := handwritten("bench-secret")
	const batch = 256
	var tBare, tIngress, tHand time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			serveBench(b, bare, p)
		}
		t1 := time.Now()
		for range batch {
			serveBench(b, in, p)
		}
		t2 := time.Now()
		for range batch {
			serveBench(b, hand, p)
		}
		tBare += t1.Sub(t0)
		tIngress += t2.Sub(t1)
		tHand += time.Since(t2)
		n += batch
	}
	b.ReportMetric(float64(tIngress)/float64(tBare), "ingress/bare")
	b.ReportMetric(float64(tIngress)/float64(tHand), "ingress/handwritten")
	b.ReportMetric(float64(tBare)/float64(n), "bare-ns/req")
	b.ReportMetric(float64(tIngress)/float64(n), "ingress-ns/req")
	b.ReportMetric(float64(tHand)/float64(n), "handwritten-ns/req")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in.Flush(ctx)
}
