package sim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

type traces struct {
	mu sync.Mutex
	ts []*sim.Trace
}

func (o *traces) Request(t *sim.Trace)         { o.mu.Lock(); o.ts = append(o.ts, t); o.mu.Unlock() }
func (o *traces) Delivery(sim.DeliveryOutcome) {}

func TestObserverTraces(t *testing.T) {
	obs := &traces{}
	in, err := sim.NewIngress(sim.Config{Observer: obs}, sim.EndpointSpec{ID: "gh",
		Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys("new-secret", "old-secret")},
		Triggers: []sim.TriggerSpec{
			{ID: "opened", Filter: json.RawMessage(`{"body":{"action":["opened"]}}`)},
			{ID: "all"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	send := func(body, key string, tamper bool) {
		p, _ := signer.Sign(signer.GitHub(), signer.Keys(key), signer.Payload{URL: "http://x/hooks/gh", Body: []byte(body)})
		if tamper {
			body += " "
		}
		r := httptest.NewRequest(http.MethodPost, "/hooks/gh", strings.NewReader(body))
		for k, v := range p.Header {
			r.Header[k] = v
		}
		in.ServeHTTP(httptest.NewRecorder(), r)
	}
	send(`{"action":"opened"}`, "old-secret", true)
	send(`{"action":"closed"}`, "new-secret", false)
	send(`{"action":"opened"}`, "old-secret", false)
	if len(obs.ts) != 3 {
		t.Fatalf("%d traces, want 3", len(obs.ts))
	}
	bad, miss, fan := obs.ts[0], obs.ts[1], obs.ts[2]
	if v := bad.Verification; bad.Status != 401 || !v.Checked || v.Verified || v.Reason != "no matching signature" || v.Header != "X-Hub-Signature-256" ||
		v.Error != "signer: github: X-Hub-Signature-256: no matching signature" || bad.Triggers[0].Evaluated {
		t.Errorf("failed verification: status %d, %+v, evaluated %v", bad.Status, v, bad.Triggers[0].Evaluated)
	}
	if tr := miss.Triggers[0]; tr.Fired || !tr.Evaluated || tr.FirstMismatch != `body.action: ["opened"] does not contain "closed"` || !miss.Triggers[1].Fired || miss.Verification.Key != 0 {
		t.Errorf("filter mismatch: %+v, key %d", miss.Triggers, miss.Verification.Key)
	}
	if fan.Status != 200 || !fan.Triggers[0].Fired || !fan.Triggers[1].Fired || len(fan.Triggers[0].Deliveries) != 1 || len(fan.Triggers[1].Deliveries) != 1 ||
		fan.Triggers[0].Deliveries[0] == fan.Triggers[1].Deliveries[0] || fan.Verification.Key != 1 || fan.Verification.Keys != 2 {
		t.Errorf("fan-out: status %d, %+v, key %d of %d", fan.Status, fan.Triggers, fan.Verification.Key, fan.Verification.Keys)
	}
}

func TestObserverTraceOfAStaleStripeSignature(t *testing.T) {
	obs := &traces{}
	now := time.Unix(1_700_000_000, 0)
	in, err := sim.NewIngress(sim.Config{Observer: obs, Now: func() time.Time { return now }}, sim.EndpointSpec{ID: "st",
		Verify: &sim.VerifySpec{Preset: "stripe", Secrets: signer.Keys("whsec_test")}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p, _ := signer.Sign(signer.Stripe(), signer.Keys("whsec_test"), signer.Payload{Body: []byte(`{}`)}, signer.At(now.Add(-312*time.Second)))
	r := httptest.NewRequest(http.MethodPost, "/hooks/st", strings.NewReader(`{}`))
	r.Header = p.Header
	in.ServeHTTP(httptest.NewRecorder(), r)
	v := obs.ts[0].Verification
	if v.Reason != "timestamp too old" || v.Header != "Stripe-Signature" || v.Skew != 312*time.Second || !v.Timestamp.Equal(now.Add(-312*time.Second)) {
		t.Errorf("stale Stripe signature: %+v", v)
	}
}
