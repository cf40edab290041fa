package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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

// BenchmarkIngress measures the reference ingress on one signed request
// with two filtered triggers (one matches; its delivery goes nowhere),
// against a bare handler that only reads the body and answers,
// in the same run: compare the two with benchstat.
func BenchmarkIngress(b *testing.B) {
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
	defer in.Close()
	p, err := signer.Sign(signer.GitHub(), signer.Keys(secret), signer.Payload{
		URL: "http://example.com/hooks/gh", Body: benchBody,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"pull_request"}}})
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"ingress", in}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(benchBody)))
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "http://example.com/hooks/gh", bytes.NewReader(benchBody))
				r.Header = p.Header.Clone()
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			in.Flush(ctx)
		})
	}
}
