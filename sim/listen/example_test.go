package listen_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/listen"
)

// A Receiver that verifies Stripe deliveries and prints one line per
// request, as hooklab listen --preset stripe --secret S does.
func Example() {
	now := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	keys := signer.Keys("whsec_EXAMPLE")
	rcv, err := listen.New(
		listen.Verify(signer.Stripe(), keys),
		listen.Now(func() time.Time { return now }), // a fixed clock, for the output below
		listen.Output(os.Stdout, listen.Text),
	)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	body := `{"id":"evt_1","object":"event","type":"invoice.paid"}`
	for _, secret := range []string{"whsec_EXAMPLE", "whsec_WRONG"} {
		p, _ := signer.Sign(signer.Stripe(), signer.Keys(secret), signer.Payload{Body: []byte(body)}, signer.At(now))
		req, _ := http.NewRequest("POST", srv.URL+"/webhooks/stripe", strings.NewReader(body))
		req.Header = p.Header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	// Output:
	// 22:13:20.000 POST /webhooks/stripe provider=stripe event=invoice.paid verified=yes status=200 took=0s
	// 22:13:20.000 WARN POST /webhooks/stripe provider=stripe event=invoice.paid verified=no reason="stripe: Stripe-Signature: no matching signature" status=200 took=0s
}

// ParseFaults reads hooklab listen --respond.
func ExampleParseFaults() {
	faults, err := listen.ParseFaults("503:0.25,429:0.1")
	fmt.Println(faults, err)
	// Output: [503:0.25 429:0.1] <nil>
}
