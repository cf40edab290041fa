package record_test

import (
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/hooklab/hooklab/sim/record"
)

func Example() {
	dir, _ := os.MkdirTemp("", "captures")
	defer os.RemoveAll(dir)

	// A receiver records what arrived...
	w, err := record.NewWriter(dir)
	if err != nil {
		log.Fatal(err)
	}
	body := `{"id":"evt_1","type":"invoice.paid"}`
	r := httptest.NewRequest("POST", "http://localhost:4000/webhooks", strings.NewReader(body))
	r.Header.Set("Stripe-Signature", "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd")
	if _, err := w.Write(record.New(r, []byte(body), record.Meta{Provider: "stripe", Event: "invoice.paid"})); err != nil {
		log.Fatal(err)
	}

	// ...and later it is read back and addressed to another target.
	recs, err := record.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	req, err := recs[0].Request("http://127.0.0.1:3000")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(recs[0].Meta.Seq, recs[0].Meta.Event, req.Method, req.URL)
	head, _, _ := strings.Cut(string(recs[0].MarshalHTTP()), "\r\nStripe-Signature")
	fmt.Println(strings.ReplaceAll(head, "\r\n", "\n"))
	// Output:
	// 1 invoice.paid POST http://127.0.0.1:3000/webhooks
	// POST /webhooks HTTP/1.1
	// Host: localhost:4000
}
