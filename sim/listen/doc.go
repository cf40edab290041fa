// Package listen is a webhook receiver for a person at a terminal, the
// library behind hooklab listen: one line per request as it arrives
// (method, path, the provider guessed from the headers, whether the
// signature verified or why not, the event type), with the request
// forwarded byte for byte to a local app, answered with a failure on
// purpose, delayed, and recorded as raw HTTP with a JSON sidecar
// (package sim/record), which verify --request, match --request and
// replay read back.
//
// A Receiver is an http.Handler. It is also a sink for the delivery
// envelopes of the reference ingress (sim.Delivery): an envelope is shown
// as the delivery it is (endpoint, trigger, the original request's
// provider and event, the ingress's verdict), so pointing a trigger's
// deliver URL at a Receiver shows what each trigger received.
//
// Typical use:
//
//	rcv, err := listen.New(
//		listen.Verify(signer.Stripe(), signer.Keys(secret)),
//		listen.Forward("http://127.0.0.1:3000/webhooks"),
//		listen.Respond(listen.Fault{Status: 503, Probability: 0.2}),
//		listen.Output(os.Stdout, listen.Text),
//	)
//	srv, err := sim.NewServer("127.0.0.1:9999", rcv)
//
// The provider is guessed from the signature headers the signer presets
// name (a header several presets share, such as webhook-signature, names
// the family), refined by the headers a provider sends with its events
// (X-GitHub-Event, X-Shopify-Topic …). Nothing a request carries reaches
// the terminal unescaped, and secrets are never written.
//
// The behaviour follows what people ask of webhook receivers: Stripe CLI's
// stripe listen --forward-to (https://docs.stripe.com/cli/listen) and a
// receiver that can fail on purpose to exercise a sender's retries
// (smee.io issue 251).
package listen
