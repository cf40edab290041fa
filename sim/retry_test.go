package sim_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

func TestRetryPolicyForSchedules(t *testing.T) {
	tests := []struct {
		preset      string
		ok          bool
		attempts    int
		total       time.Duration
		sameID      bool
		fresh       bool
		approximate bool
	}{
		// Svix: immediately, 5s, 5m, 30m, 2h, 5h, 10h, 10h.
		{"svix", true, 8, 5*time.Second + 5*time.Minute + 30*time.Minute + 27*time.Hour, true, true, false},
		{"clerk", true, 8, 5*time.Second + 5*time.Minute + 30*time.Minute + 27*time.Hour, true, true, false},
		{"resend", true, 8, 5*time.Second + 5*time.Minute + 30*time.Minute + 27*time.Hour, true, true, false},
		// The spec's example: …, 10h, 14h, 20h, 24h; the last at 75:35:05.
		{"standard-webhooks", true, 10, 75*time.Hour + 35*time.Minute + 5*time.Second, true, true, false},
		{"Standard_Webhooks-Ed25519", true, 10, 75*time.Hour + 35*time.Minute + 5*time.Second, true, true, false},
		// Stripe: up to 3 days; Shopify: 8 retries over about 4 hours.
		{"stripe", true, 13, 4095 * time.Minute, true, true, true},
		{"shopify", true, 9, 255 * time.Minute, true, false, true},
		// Slack: 3 retries, at once, 1m, 5m.
		{"slack", true, 4, 6 * time.Minute, true, true, false},
		// GitHub documents that it does not retry.
		{"github", true, 1, 0, false, false, false},
		{"github-sha1", true, 1, 0, false, false, false},
		{"twilio", false, 1, 0, false, false, false},
		{"no-such-preset", false, 1, 0, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			p, ok := sim.RetryPolicyFor(tt.preset)
			if ok != tt.ok {
				t.Fatalf("RetryPolicyFor(%q) ok = %v, want %v", tt.preset, ok, tt.ok)
			}
			if got := p.MaxAttempts(); got != tt.attempts {
				t.Errorf("MaxAttempts() = %d, want %d", got, tt.attempts)
			}
			if got := p.Total(); got != tt.total {
				t.Errorf("Total() = %s, want %s", got, tt.total)
			}
			if p.SameID != tt.sameID || p.FreshSignature != tt.fresh || p.Approximate != tt.approximate {
				t.Errorf("SameID, FreshSignature, Approximate = %v, %v, %v, want %v, %v, %v",
					p.SameID, p.FreshSignature, p.Approximate, tt.sameID, tt.fresh, tt.approximate)
			}
			if p.Note == "" {
				t.Errorf("Note is empty")
			}
			if ok && !strings.HasPrefix(p.Source, "https://") {
				t.Errorf("Source = %q, want an https URL", p.Source)
			}
		})
	}
}

func TestRetryPolicySvixThreeFailuresThenSuccess(t *testing.T) {
	// Svix: "an attempt that fails three times before eventually succeeding
	// will be delivered roughly 35 minutes and 5 seconds following the
	// first attempt".
	p, _ := sim.RetryPolicyFor("svix")
	var at time.Duration
	for n := 2; n <= 4; n++ {
		at += p.Delay(n, 1)
	}
	if want := 35*time.Minute + 5*time.Second; at != want {
		t.Errorf("attempt 4 at %s after the first, want %s", at, want)
	}
}

func TestRetryPolicyDelay(t *testing.T) {
	stripe, _ := sim.RetryPolicyFor("stripe")
	slack, _ := sim.RetryPolicyFor("slack")
	github, _ := sim.RetryPolicyFor("github")
	tests := []struct {
		name  string
		p     sim.RetryPolicy
		n     int
		scale float64
		want  time.Duration
	}{
		{"first-attempt-waits-nothing", stripe, 1, 1, 0},
		{"second-attempt-real-time", stripe, 2, 1, time.Minute},
		{"third-attempt-doubles", stripe, 3, 1, 2 * time.Minute},
		{"compressed", stripe, 2, 0.001, 60 * time.Millisecond},
		{"last-attempt", stripe, 13, 1, 2048 * time.Minute},
		{"past-the-last", stripe, 14, 1, 0},
		{"scale-zero-waits-nothing", stripe, 2, 0, 0},
		{"negative-scale-waits-nothing", stripe, 2, -1, 0},
		{"slack-first-retry-at-once", slack, 2, 1, 0},
		{"slack-last-retry", slack, 4, 0.01, 3 * time.Second},
		{"no-retries", github, 2, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Delay(tt.n, tt.scale); got != tt.want {
				t.Errorf("%s.Delay(%d, %g) = %s, want %s", tt.p.Preset, tt.n, tt.scale, got, tt.want)
			}
		})
	}
}

func TestRetryPoliciesAreDocumentedPresets(t *testing.T) {
	ps := sim.RetryPolicies()
	if len(ps) < 8 {
		t.Fatalf("RetryPolicies() has %d policies, want at least 8", len(ps))
	}
	for i, p := range ps {
		if _, err := signer.Preset(p.Preset); err != nil {
			t.Errorf("policy %q: not a preset: %v", p.Preset, err)
		}
		if i > 0 && ps[i-1].Preset >= p.Preset {
			t.Errorf("RetryPolicies() not sorted: %q before %q", ps[i-1].Preset, p.Preset)
		}
		for j, d := range p.Delays {
			if d < 0 {
				t.Errorf("%s: Delays[%d] = %s, want ≥ 0", p.Preset, j, d)
			}
		}
	}
	// A caller's copy shares nothing with the table.
	a, _ := sim.RetryPolicyFor("svix")
	a.Delays[0] = time.Hour
	if b, _ := sim.RetryPolicyFor("svix"); b.Delays[0] != 5*time.Second {
		t.Errorf("changing a policy's Delays changed the next RetryPolicyFor: %s", b.Delays[0])
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestFailed(t *testing.T) {
	tests := []struct {
		name   string
		res    *sim.Result
		err    error
		reason string
		failed bool
	}{
		{"2xx-succeeds", &sim.Result{Status: 204}, nil, "", false},
		{"redirect-fails", &sim.Result{Status: 302}, nil, sim.ReasonHTTPError, true},
		{"client-error-fails", &sim.Result{Status: 400}, nil, sim.ReasonHTTPError, true},
		{"server-error-fails", &sim.Result{Status: 503}, nil, sim.ReasonHTTPError, true},
		{"no-response-fails", &sim.Result{}, nil, sim.ReasonHTTPError, true},
		{"nil-result-fails", nil, nil, sim.ReasonUnknown, true},
		{"timeout", &sim.Result{}, fmt.Errorf("sim: POST h: %w", timeoutErr{}), sim.ReasonTimeout, true},
		{"deadline", &sim.Result{}, fmt.Errorf("sim: POST h: %w", context.DeadlineExceeded), sim.ReasonTimeout, true},
		{"refused", &sim.Result{}, fmt.Errorf("sim: POST h: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), sim.ReasonConnectionFailed, true},
		{"other", &sim.Result{}, errors.New("sim: POST h: reading the response: boom"), sim.ReasonUnknown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, failed := sim.Failed(tt.res, tt.err)
			if reason != tt.reason || failed != tt.failed {
				t.Errorf("Failed() = %q, %v, want %q, %v", reason, failed, tt.reason, tt.failed)
			}
		})
	}
}

func TestRetryPolicyPrepare(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	later := t0.Add(10 * time.Minute)
	tests := []struct {
		preset string
		secret string
		body   string
		// staleRejected: the first attempt's signature fails at later.
		staleRejected bool
		sameBytes     bool
		headers       map[string]string
	}{
		{preset: "stripe", secret: "whsec_test", body: `{"id":"evt_1"}`, staleRejected: true},
		{preset: "svix", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body: `{"type":"user.created"}`, staleRejected: true},
		{preset: "slack", secret: "s3cret", body: `{"event_id":"Ev1"}`, staleRejected: true,
			headers: map[string]string{"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": sim.ReasonHTTPError}},
		{preset: "shopify", secret: "s3cret", body: `{"id":1}`, sameBytes: true},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			scheme, err := signer.Preset(tt.preset)
			if err != nil {
				t.Fatal(err)
			}
			keys := signer.Keys(tt.secret)
			sg, err := signer.NewSigner(scheme, keys)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{"Content-Type": {"application/json"}, sim.RequestIDHeader: {"run-7"}}
			first, err := sg.Sign(signer.Payload{URL: "http://127.0.0.1/hook", Header: h, Body: []byte(tt.body)}, signer.At(t0))
			if err != nil {
				t.Fatal(err)
			}
			firstHeader := first.Header.Clone()
			p, _ := sim.RetryPolicyFor(tt.preset)
			retry, err := p.Prepare(first, 3, sim.ReasonHTTPError, sg, later)
			if err != nil {
				t.Fatalf("Prepare(attempt 3) = %v", err)
			}
			v, err := signer.NewVerifier(scheme, keys, signer.At(later))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(retry); err != nil {
				t.Errorf("Verify(retry) at the retry's time = %v, want nil", err)
			}
			if err := v.Verify(first); (err != nil) != tt.staleRejected {
				t.Errorf("Verify(first attempt) ten minutes later = %v, want rejected %v", err, tt.staleRejected)
			}
			if string(retry.Body) != tt.body {
				t.Errorf("retry body = %s, want %s", retry.Body, tt.body)
			}
			if got := retry.Header.Get(sim.RequestIDHeader); got != "run-7" {
				t.Errorf("retry %s = %q, want run-7", sim.RequestIDHeader, got)
			}
			if p.IDHeader != "" && retry.Header.Get(p.IDHeader) != first.Header.Get(p.IDHeader) {
				t.Errorf("retry %s = %q, want the first attempt's %q", p.IDHeader, retry.Header.Get(p.IDHeader), first.Header.Get(p.IDHeader))
			}
			if sig := scheme.Header; tt.sameBytes != (retry.Header.Get(sig) == first.Header.Get(sig)) {
				t.Errorf("retry %s = %q, first %q: want same %v", sig, retry.Header.Get(sig), first.Header.Get(sig), tt.sameBytes)
			}
			for k, want := range tt.headers {
				if got := retry.Header.Get(k); got != want {
					t.Errorf("retry %s = %q, want %q", k, got, want)
				}
			}
			for k, vs := range firstHeader {
				if got := first.Header[k]; strings.Join(got, ",") != strings.Join(vs, ",") {
					t.Errorf("Prepare changed the first attempt's %s: %q, was %q", k, got, vs)
				}
			}
		})
	}
}

func TestRetryPolicyPrepareRefusesAttemptsOutOfRange(t *testing.T) {
	slack, _ := sim.RetryPolicyFor("slack")
	github, _ := sim.RetryPolicyFor("github")
	first := signer.Payload{URL: "http://127.0.0.1/", Header: http.Header{}, Body: []byte("{}")}
	for _, tt := range []struct {
		p sim.RetryPolicy
		n int
	}{{slack, 1}, {slack, 0}, {slack, 5}, {github, 2}} {
		if _, err := tt.p.Prepare(first, tt.n, sim.ReasonHTTPError, nil, time.Now()); err == nil {
			t.Errorf("%s.Prepare(attempt %d) = nil error, want one", tt.p.Preset, tt.n)
		}
	}
}
