package sim_test

import (
	"fmt"
	"net/http"
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
