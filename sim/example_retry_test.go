package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

func ExampleRetryPolicy() {
	p, _ := sim.RetryPolicyFor("slack")
	fmt.Println(p.MaxAttempts(), "attempts; the last", p.Total(), "after the first")
	// Compressed a thousandfold, as a test would wait.
	fmt.Println("before attempt 3:", p.Delay(3, 0.001))

	// Attempt 2 of a delivery that got a 500: signed anew, same body, with
	// Slack's retry headers.
	sg, _ := signer.NewSigner(signer.Slack(), signer.Keys("s3cret"))
	t0 := time.Unix(1_700_000_000, 0)
	first, _ := sg.Sign(signer.Payload{URL: "http://127.0.0.1/slack", Header: http.Header{}, Body: []byte(`{"event_id":"Ev1"}`)}, signer.At(t0))
	retry, _ := p.Prepare(first, 2, sim.ReasonHTTPError, sg, t0.Add(time.Second))
	fmt.Println(retry.Header.Get("X-Slack-Request-Timestamp"), retry.Header.Get("X-Slack-Retry-Num"), retry.Header.Get("X-Slack-Retry-Reason"))
	// Output:
	// 4 attempts; the last 6m0s after the first
	// before attempt 3: 60ms
	// 1700000001 1 http_error
}

func ExampleChaos_Deliver() {
	// A receiver that fails the first attempt.
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	sg, _ := signer.NewSigner(signer.Svix(), signer.Keys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	first, _ := sg.Sign(signer.Payload{URL: srv.URL, Header: http.Header{}, Body: []byte(`{"type":"user.created"}`)})
	policy, _ := sim.RetryPolicyFor("svix")
	// Svix's schedule a thousand times faster, and every delivery sent twice.
	c := &sim.Chaos{Retry: &policy, TimeScale: 0.001, Signer: sg, Duplicate: 1}
	c.Deliver(context.Background(), 0, first, func(req *http.Request, a sim.Attempt) (string, bool) {
		res, err := sim.Send(context.Background(), req)
		fmt.Printf("attempt %d duplicate %v: %d, same id %v\n", a.N, a.Duplicate, res.Status, req.Header.Get("svix-id") == first.Header.Get("svix-id"))
		return sim.Failed(res, err)
	})
	// Output:
	// attempt 1 duplicate false: 503, same id true
	// attempt 2 duplicate false: 200, same id true
	// attempt 1 duplicate true: 200, same id true
}
