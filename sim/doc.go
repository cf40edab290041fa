// Package sim plays both sides of a webhook.
//
// The receiving side is the reference ingress: an EndpointSpec declares
// an endpoint (verification, a respondWith handshake, triggers), and an
// Ingress serves specs as Trigger.dev v2 HTTP endpoints behave, verifying
// at the door (the strict profile): route, size-limited body, respondWith
// (with skipTriggering), verify, then deliver to every matching trigger
// exactly once. Each trigger's Delivery envelope is POSTed to its Deliver
// URL (a Sink) and recorded by an optional Recorder; this is how anyone, in
// any language, observes fan-out. The ingress is a pipeline of named
// stages (route, read, respondWith, verify, match, deliver, answer), and a
// Profile is a composition of them. A spec's dedup (DedupSpec) adds a
// stage after verify that answers a repeat of a verified delivery (by its
// event id, see EventID) without waking the triggers again.
// ControlHandler adds the control API through which the conformance suite
// provisions endpoints.
//
//	specs, err := sim.LoadSpecs("hooks.yaml")
//	in, err := sim.NewIngress(sim.Config{}, specs...)
//	defer in.Close()
//	http.ListenAndServe("127.0.0.1:8080", sim.Handler(in))
//
// The sending side is Send, which fires one request and reports what came
// back, with timings; the load generator in sim/load builds on it.
//
//	f, _ := fixtures.Lookup("stripe/checkout.session.completed")
//	req, _ := f.Request(ctx, "http://localhost:3000/webhooks/stripe", signer.Keys(secret))
//	res, err := sim.Send(ctx, req)
//	fmt.Println(res.Status, res.Timings.Total)
//
// The behaviour modelled is Trigger.dev v2's (defineHttpEndpoint,
// respondWith, onRequest triggers): https://trigger.dev/docs/v2 and
// reference/triggerdev-v2.md.
package sim
