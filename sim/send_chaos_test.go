package sim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

func TestChaosOrderPermutesEachWindow(t *testing.T) {
	for _, w := range []int{2, 3, 7, 64, 1000} {
		for _, seed := range []int64{1, 2} {
			c := &sim.Chaos{Reorder: w, Seed: seed}
			moved := 0
			for block := uint64(0); block < 3; block++ {
				seen := map[uint64]bool{}
				for off := uint64(0); off < uint64(w); off++ {
					pos := block*uint64(w) + off
					got := c.Order(pos)
					if got/uint64(w) != block {
						t.Fatalf("window %d seed %d: Order(%d) = %d, outside its window", w, seed, pos, got)
					}
					if seen[got] {
						t.Fatalf("window %d seed %d: Order gives %d twice in window %d", w, seed, got, block)
					}
					seen[got] = true
					if got != pos {
						moved++
					}
				}
			}
			if w >= 7 && moved < w {
				t.Errorf("window %d seed %d: %d of %d positions moved, want most of them", w, seed, moved, 3*w)
			}
		}
	}
	a, b := &sim.Chaos{Reorder: 64, Seed: 1}, &sim.Chaos{Reorder: 64, Seed: 2}
	same := true
	for pos := uint64(0); pos < 64; pos++ {
		if a.Order(pos) != (&sim.Chaos{Reorder: 64, Seed: 1}).Order(pos) {
			t.Fatalf("Order(%d) differs between two Chaos with the same seed", pos)
		}
		same = same && a.Order(pos) == b.Order(pos)
	}
	if same {
		t.Errorf("seeds 1 and 2 give the same order")
	}
	for _, c := range []*sim.Chaos{nil, {}, {Reorder: 1}} {
		if got := c.Order(41); got != 41 {
			t.Errorf("Order(41) without a window = %d, want 41", got)
		}
	}
}

func TestChaosDuplicatedRatio(t *testing.T) {
	tests := []struct {
		ratio    float64
		min, max int
	}{{0, 0, 0}, {0.1, 900, 1100}, {0.5, 4800, 5200}, {1, 10000, 10000}}
	for _, tt := range tests {
		c := &sim.Chaos{Duplicate: tt.ratio, Seed: 7}
		n := 0
		for seq := range uint64(10000) {
			if c.Duplicated(seq) {
				n++
			}
		}
		if n < tt.min || n > tt.max {
			t.Errorf("Duplicated(0…9999) with ratio %g: %d, want %d to %d", tt.ratio, n, tt.min, tt.max)
		}
	}
}

func TestChaosValidate(t *testing.T) {
	tests := []struct {
		name string
		c    sim.Chaos
		want string
	}{
		{"zero", sim.Chaos{}, ""},
		{"all", sim.Chaos{Duplicate: 1, Reorder: sim.MaxReorder, TimeScale: 0.001}, ""},
		{"ratio-above-one", sim.Chaos{Duplicate: 1.5}, "duplicate ratio"},
		{"negative-ratio", sim.Chaos{Duplicate: -0.1}, "duplicate ratio"},
		{"window-too-large", sim.Chaos{Reorder: sim.MaxReorder + 1}, "reorder window"},
		{"negative-scale", sim.Chaos{TimeScale: -1}, "time scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// chaosRecorder answers with the statuses given, in turn (then 200), and keeps
// what arrived.
type chaosRecorder struct {
	mu       sync.Mutex
	statuses []int
	got      []*http.Request
	bodies   []string
	verify   func(*http.Request, []byte) error
	verified []error
}

func (rc *chaosRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, r)
	rc.bodies = append(rc.bodies, string(b))
	if rc.verify != nil {
		rc.verified = append(rc.verified, rc.verify(r, b))
	}
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	w.WriteHeader(status)
}

func TestChaosDeliverRetriesOnTheProviderSchedule(t *testing.T) {
	scheme := signer.Slack()
	keys := signer.Keys("s3cret")
	v, _ := signer.NewVerifier(scheme, keys)
	rc := &chaosRecorder{statuses: []int{500, 503}, verify: func(r *http.Request, b []byte) error {
		return v.Verify(signer.Payload{Method: r.Method, URL: "http://" + r.Host + r.URL.String(), Header: r.Header, Body: b})
	}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	sg, _ := signer.NewSigner(scheme, keys)
	first, err := sg.Sign(signer.Payload{URL: srv.URL + "/slack", Header: http.Header{sim.RequestIDHeader: {"r-1"}}, Body: []byte(`{"event_id":"Ev9"}`)},
		signer.At(time.Now().Add(-time.Hour))) // stale: only a re-signed retry passes
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := sim.RetryPolicyFor("slack")
	c := &sim.Chaos{Retry: &policy, TimeScale: 0.001, Signer: sg}
	var attempts []sim.Attempt
	err = c.Deliver(context.Background(), 0, first, func(req *http.Request, a sim.Attempt) (string, bool) {
		attempts = append(attempts, a)
		return sim.Failed(sim.Send(context.Background(), req))
	})
	if err != nil {
		t.Fatalf("Deliver() = %v", err)
	}
	if len(rc.got) != 3 || len(attempts) != 3 {
		t.Fatalf("requests received = %d, attempts = %d, want 3 (two failures, then success)", len(rc.got), len(attempts))
	}
	wantNum := []string{"", "1", "2"}
	for i, r := range rc.got {
		if got := r.Header.Get("X-Slack-Retry-Num"); got != wantNum[i] {
			t.Errorf("request %d X-Slack-Retry-Num = %q, want %q", i+1, got, wantNum[i])
		}
		if got := r.Header.Get(sim.RequestIDHeader); got != "r-1" {
			t.Errorf("request %d %s = %q, want r-1", i+1, sim.RequestIDHeader, got)
		}
		if rc.bodies[i] != `{"event_id":"Ev9"}` {
			t.Errorf("request %d body = %s", i+1, rc.bodies[i])
		}
		if a := attempts[i]; a.N != i+1 || a.Duplicate {
			t.Errorf("attempt %d = %+v, want N %d", i+1, a, i+1)
		}
	}
	if rc.verified[0] == nil {
		t.Errorf("the stale first attempt verified; the test cannot tell a re-signed retry")
	}
	for i := 1; i < 3; i++ {
		if rc.verified[i] != nil {
			t.Errorf("retry %d: Verify = %v, want a fresh signature", i, rc.verified[i])
		}
	}
	if got := rc.got[1].Header.Get("X-Slack-Retry-Reason"); got != sim.ReasonHTTPError {
		t.Errorf("X-Slack-Retry-Reason = %q, want %q", got, sim.ReasonHTTPError)
	}
	if attempts[2].Reason != sim.ReasonHTTPError || !attempts[2].Due.After(attempts[0].Due) {
		t.Errorf("attempt 3 = %+v, want reason http_error and due after attempt 1", attempts[2])
	}
}

func TestChaosDeliverGivesUpAfterTheLastAttempt(t *testing.T) {
	rc := &chaosRecorder{statuses: []int{500, 500, 500, 500, 500}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	policy, _ := sim.RetryPolicyFor("slack")
	c := &sim.Chaos{Retry: &policy, TimeScale: 0.0001}
	var last sim.Attempt
	err := c.Deliver(context.Background(), 0, signer.Payload{URL: srv.URL, Header: http.Header{}, Body: []byte("{}")},
		func(req *http.Request, a sim.Attempt) (string, bool) {
			last = a
			return sim.Failed(sim.Send(context.Background(), req))
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.got) != policy.MaxAttempts() || !last.Last || last.N != policy.MaxAttempts() {
		t.Errorf("received %d, last attempt %+v, want %d attempts, the last marked Last", len(rc.got), last, policy.MaxAttempts())
	}
}

func TestChaosDeliverDuplicateIsByteIdentical(t *testing.T) {
	rc := &chaosRecorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	sg, _ := signer.NewSigner(signer.Svix(), signer.Keys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	first, _ := sg.Sign(signer.Payload{URL: srv.URL, Header: http.Header{sim.RequestIDHeader: {"r-2"}}, Body: []byte(`{"a":1}`)})
	c := &sim.Chaos{Duplicate: 1}
	var dup []bool
	if err := c.Deliver(context.Background(), 3, first, func(req *http.Request, a sim.Attempt) (string, bool) {
		dup = append(dup, a.Duplicate)
		return sim.Failed(sim.Send(context.Background(), req))
	}); err != nil {
		t.Fatal(err)
	}
	if len(rc.got) != 2 || len(dup) != 2 || dup[0] || !dup[1] {
		t.Fatalf("received %d requests, duplicate flags %v, want the request then its copy", len(rc.got), dup)
	}
	a, b := rc.got[0].Header, rc.got[1].Header
	for _, k := range []string{sim.RequestIDHeader, "Svix-Id", "Svix-Timestamp", "Svix-Signature"} {
		if a.Get(k) == "" || a.Get(k) != b.Get(k) {
			t.Errorf("%s: first %q, copy %q, want the same non-empty value", k, a.Get(k), b.Get(k))
		}
	}
	if rc.bodies[0] != rc.bodies[1] {
		t.Errorf("bodies differ: %s, %s", rc.bodies[0], rc.bodies[1])
	}
}

func TestChaosDeliverStopsWaitingWhenCancelled(t *testing.T) {
	rc := &chaosRecorder{statuses: []int{500}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	policy, _ := sim.RetryPolicyFor("stripe") // a minute before the first retry
	c := &sim.Chaos{Retry: &policy, Duplicate: 1}
	ctx, cancel := context.WithCancel(context.Background())
	err := c.Deliver(ctx, 0, signer.Payload{URL: srv.URL, Header: http.Header{}, Body: []byte("{}")},
		func(req *http.Request, a sim.Attempt) (string, bool) {
			cancel()
			return sim.Failed(sim.Send(context.Background(), req))
		})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Deliver() = %v, want context.Canceled", err)
	}
	if len(rc.got) != 1 {
		t.Errorf("received %d requests, want 1: no retry and no copy after the cancel", len(rc.got))
	}
}

func TestRequestPayloadKeepsTheRequestSendable(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/x", io.NopCloser(strings.NewReader("body")))
	p, err := sim.RequestPayload(req)
	if err != nil || string(p.Body) != "body" {
		t.Fatalf("RequestPayload() = %q, %v", p.Body, err)
	}
	b, _ := io.ReadAll(req.Body)
	if string(b) != "body" {
		t.Errorf("the request's body after RequestPayload = %q, want body", b)
	}
}
