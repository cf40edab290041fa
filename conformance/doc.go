// Package conformance is a suite of named cases that any webhook ingress
// can be run against: signature verification for every signer preset,
// Trigger.dev v2 respondWith (handshakes and skipTriggering), request
// filters, trigger fan-out and robustness. It is to webhook receivers
// what testing/fstest is to file systems.
//
// A Target makes one fresh endpoint per case from a sim.EndpointSpec; the
// suite signs and sends requests to it and observes fan-out through the
// delivery envelopes (sim.Delivery) each trigger POSTs to a sink the suite
// runs. Typical use inside a test of a Go implementation:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.HandlerTarget(myapp.NewHandler))
//	}
//
// Implementations in other languages speak the control API of PROTOCOL.md
// and are checked with HTTPTarget, or from the command line with
// "hooklab conformance --target URL". An existing app that cannot create
// endpoints on demand is described in a manifest instead (Declared), and
// the suite runs the cases that apply to it.
//
// Cases are data (Cases lists them): a group, a CamelCase name, the rule
// as a sentence, its reference and the case's source line, all printed on
// every failure. Three runners share the one table: Run for go test,
// RunT for any T, and Check, which returns a Report (text, JSON, JUnit).
// The cases of the Policy group are this project's own rules, which no
// provider requires (RULES.md P1): they run only with Policy(true) and
// are counted apart (Report.PolicyCounts). The cases of the Delivery
// group hold a receiver that promises idempotent delivery to it (RULES.md
// D1–D3: a duplicate, a re-signed retry, reordered events, a forged
// duplicate): they run with Delivery(true), or against a manifest whose
// delivery knob promises it, on endpoints whose spec asks for
// de-duplication (sim.DedupSpec).
//
// The rules come from Trigger.dev v2's HTTP endpoints (verifyRequestSignature,
// respondWith, onRequest filters: https://trigger.dev/docs/v2) and from the
// providers' signature documentation, each written down with its public
// source in RULES.md; a case's reference is a public URL or a section of
// RULES.md. The reference ingress, sim.Ingress, passes every case, and
// each of its faults (hooklab conformance --faults) fails at least one.
package conformance
