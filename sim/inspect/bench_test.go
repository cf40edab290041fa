package inspect_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/inspect"
)

type nopObserver struct{}

func (nopObserver) Request(*sim.Trace)           {}
func (nopObserver) Delivery(sim.DeliveryOutcome) {}

// BenchmarkIngressObserver measures the reference ingress on one signed
// 1 KiB request with two filtered triggers (one matches), with no
// Observer, with one that does nothing (the cost of building the Trace)
// and with a Store (the inspector's), in the same run: compare with
// benchstat.
func BenchmarkIngressObserver(b *testing.B) {
	body, _ := json.Marshal(map[string]any{"action": "opened", "number": 42,
		"pull_request": map[string]any{"title": string(bytes.Repeat([]byte("x"), 900)), "draft": false}})
	p, err := signer.Sign(signer.GitHub(), signer.Keys(secret), signer.Payload{
		URL: "http://example.com/hooks/gh", Body: body,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"pull_request"}}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		obs  sim.Observer
	}{{"nil", nil}, {"nop", nopObserver{}}, {"store", inspect.NewStore(1000, 0)}} {
		b.Run(bc.name, func(b *testing.B) {
			in, err := sim.NewIngress(sim.Config{Observer: bc.obs}, sim.EndpointSpec{
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
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "http://example.com/hooks/gh", bytes.NewReader(body))
				r.Header = p.Header.Clone()
				w := httptest.NewRecorder()
				in.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkStore measures keeping one trace in a full Store, with no
// subscriber and with one that reads every event (the SSE stream's JSON
// made once per event).
func BenchmarkStore(b *testing.B) {
	tr := &sim.Trace{Endpoint: "gh", Method: "POST", Path: "/hooks/gh", Status: 200, Body: make([]byte, 1024),
		Verification: sim.VerifyTrace{Checked: true, Verified: true},
		Triggers:     []sim.TriggerTrace{{ID: "opened", Fired: true, Evaluated: true}, {ID: "closed", Evaluated: true, FirstMismatch: `body.action: ["closed"] does not contain "opened"`}}}
	for _, subs := range []int{0, 1} {
		b.Run([]string{"no-subscriber", "one-subscriber"}[subs], func(b *testing.B) {
			s := inspect.NewStore(1000, 0)
			done := make(chan struct{})
			if subs == 1 {
				ch, cancel := s.Subscribe()
				defer cancel()
				go func() {
					for range ch {
					}
					close(done)
				}()
			} else {
				close(done)
			}
			for b.Loop() {
				s.Request(tr)
			}
		})
	}
}
