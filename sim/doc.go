// Package sim plays both sides of a webhook. On the sending side, Send
// fires one request and reports what came back, with timings; the load
// generator in sim/load builds on it. The reference ingress (the receiving
// side) is added by a later change.
//
// Typical use, with a signed sample from package fixtures:
//
//	f, _ := fixtures.Lookup("stripe/checkout.session.completed")
//	req, _ := f.Request(ctx, "http://localhost:3000/webhooks/stripe", signer.Keys(secret))
//	res, err := sim.Send(ctx, req)
//	fmt.Println(res.Status, res.Timings.Total)
package sim
