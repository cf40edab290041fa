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
// provisions endpoints. A spec's Title and Icon (as defineHttpEndpoint's
// title and icon) and its Examples are for people: the inspector shows
// them; the ingress ignores them.
//
// An Observer on Config (nil costs nothing) watches without changing a
// stage: after each request it gets a Trace — the endpoint, the answer,
// the signature check (the signer's typed reason and where, the key of a
// rotation set that matched, the timestamp's skew), whether respondWith
// matched, every trigger's verdict with matcher Explain's first mismatch
// and full explanation, and the ids of the deliveries — and, later, each
// delivery's DeliveryOutcome. Package sim/inspect keeps them for the web
// inspector of hooklab serve --ui.
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
