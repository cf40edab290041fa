package sim_test

import (
	"fmt"
	"net/http"

	"github.com/hooklab/hooklab/sim"
)

// EventID finds the id a provider keeps across its retries: Stripe's in
// the body, GitHub's in a header.
func ExampleEventID() {
	id, source := sim.EventID("stripe", nil, []byte(`{"id":"evt_1","type":"invoice.paid"}`))
	fmt.Println(id, source)
	id, source = sim.EventID("github", http.Header{"X-Github-Delivery": {"72d3162e-cc78-11e3-81ab-4c9367dc0958"}}, nil)
	fmt.Println(id, source)
	_, source = sim.EventID("caldotcom", nil, []byte(`{}`))
	fmt.Printf("%q\n", source)
	// Output:
	// evt_1 body:id
	// 72d3162e-cc78-11e3-81ab-4c9367dc0958 header:X-Github-Delivery
	// ""
}

// A spec's dedup field makes the endpoint idempotent.
func ExampleDedupSpec() {
	specs, err := sim.ParseSpecs("hooks.json", []byte(`{"id":"stripe","verify":{"preset":"stripe","secret":"whsec_x"},"dedup":{"by":"event-id","window":"72h","max":50000}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	d := specs[0].Dedup
	src, _ := d.Source(specs[0].Verify)
	fmt.Println(src, d.Window, d.Max)
	// Output: body:id 72h0m0s 50000
}
