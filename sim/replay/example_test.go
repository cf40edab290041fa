package replay_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/record"
	"github.com/hooklab/hooklab/sim/replay"
)

// A Stripe request captured ten minutes ago is stale: re-signed, it is
// accepted.
func ExampleNew_resign() {
	keys := signer.Keys("whsec_example")
	now := time.Date(2026, 12, 6, 0, 10, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := signer.VerifyRequest(r, signer.Stripe(), keys, signer.At(now)); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	defer srv.Close()

	// The capture, signed ten minutes before now.
	req, _ := http.NewRequest("POST", "http://captured.test/hook", nil)
	p, _ := signer.Sign(signer.Stripe(), keys, signer.Payload{Body: []byte(`{"id":"evt_1"}`)}, signer.At(now.Add(-10*time.Minute)))
	req.Header = p.Header
	recs := []*record.Recording{record.New(req, p.Body, record.Meta{Seq: 1})}

	for _, resign := range []bool{false, true} {
		o := replay.Options{To: srv.URL, Now: func() time.Time { return now }}
		if resign {
			o.Resign, _ = replay.NewResigner(signer.Stripe(), keys, keys)
		}
		var rep replay.Report
		for res := range replay.New(o).Replay(context.Background(), recs) {
			rep.Add(res)
		}
		rep.WriteText(os.Stdout)
	}
	fmt.Println("done")
	// Output:
	// #1 seq=1 401 attempts=1  request 1
	//      answer: "signer: stripe: Stripe-Signature: timestamp too old: older than 5m0s"
	// 1 requests, 0 duplicates: 0 accepted, 1 rejected, 0 failed; 0 retries
	// #1 seq=1 200 attempts=1 resigned original=valid  request 1
	// 1 requests, 0 duplicates: 1 accepted, 0 rejected, 0 failed; 0 retries; 1 re-signed; original signatures: 1 valid, 0 invalid
	// done
}

func ExampleParseOrder() {
	o, _ := replay.ParseOrder("shuffle:7")
	fmt.Println(o, replay.Reverse().Indexes(4))
	// Output: shuffle:7 [3 2 1 0]
}
