package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

func ExampleSend() {
	// A receiver that checks Stripe signatures.
	v, _ := signer.NewVerifier(signer.Stripe(), signer.Keys("whsec_test"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.VerifyRequest(r); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"received":true}`)
	}))
	defer srv.Close()

	f, _ := fixtures.Lookup("stripe/checkout.session.completed")
	req, _ := f.Request(context.Background(), srv.URL, signer.Keys("whsec_test"))
	res, err := sim.Send(context.Background(), req)
	fmt.Println(res.Status, string(res.Body), err)
	// Output: 200 {"received":true} <nil>
}
