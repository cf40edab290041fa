package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/hooklab/hooklab/sim"
)

// References of the Delivery group.
const (
	refIdempotent = "conformance/RULES.md D1; Stripe: https://docs.stripe.com/webhooks#handle-duplicate-events; Standard Webhooks (webhook-id is the idempotency key): https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#webhook-id; GitHub (X-GitHub-Delivery): https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks#use-the-x-github-delivery-header"
	refRetry      = "conformance/RULES.md D2; Stripe retries with a fresh Stripe-Signature timestamp: https://docs.stripe.com/webhooks#retries; Standard Webhooks: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#retry-schedule"
	refReorder    = "conformance/RULES.md D3; Stripe: https://docs.stripe.com/webhooks#event-ordering (no guarantee of order); Shopify: https://shopify.dev/docs/apps/build/webhooks/best-practices#ordering-events"
)

// deliveryCases are the rules of a receiver that promises idempotent
// delivery (conformance/RULES.md D1–D3): opt-in, with Delivery(true) or a
// manifest's delivery promise. Each case also sends a duplicate the
// receiver must drop, so that a receiver without de-duplication fails
// every one of them.
var deliveryCases = []check{
	def(GroupDelivery, "DuplicateDeliveredOnce",
		"a delivery sent twice, byte for byte (same id, same signature), wakes each matching trigger once: the duplicate is answered 2xx, so that the sender stops, and wakes nothing",
		refIdempotent, nil,
		func(x *exchange) {
			for _, e := range deliveryEndpoints(x) {
				first := x.Send(e.event(1, "the event", 0))
				dup := x.Send(e.replay(first, "the same event again, byte for byte"))
				e.want(x, first, dup)
			}
		}),
	def(GroupDelivery, "RetryDeliveredOnce",
		"a retry (same id, same body, signed again with a fresh timestamp, as providers retry) wakes nothing when the first delivery was taken: it is answered 2xx",
		refRetry, nil,
		func(x *exchange) {
			for _, e := range deliveryEndpoints(x) {
				first := x.Send(e.event(1, "the event, signed earlier", -e.skew))
				retry := x.Send(e.event(1, "its retry: same id and body, signed now", 0))
				e.want(x, first, retry)
			}
		}),
	def(GroupDelivery, "DifferentEventsEachDelivered",
		"de-duplication goes by the event id alone: two events with different ids (and, where the id is a header, the same body) each wake every matching trigger once, and only a repeat of the first is dropped",
		refIdempotent, nil,
		func(x *exchange) {
			for _, e := range deliveryEndpoints(x) {
				a := x.Send(e.event(1, "event 1", 0))
				b := x.Send(e.event(2, "event 2: another id", 0))
				dup := x.Send(e.replay(a, "event 1 again, byte for byte"))
				e.want(x, a, b, dup)
			}
		}),
	def(GroupDelivery, "ReorderedDeliveriesEachDelivered",
		"an older event that arrives after a newer one (its signature older, within the tolerance; its id earlier) is taken and wakes each matching trigger once, and a retry of the newer one wakes nothing: an idempotent receiver keeps a set of ids, not a cursor",
		refReorder, nil,
		func(x *exchange) {
			for _, e := range deliveryEndpoints(x) {
				if !e.reorder {
					x.Skipf("skipped: the manifest does not promise reordered deliveries (delivery: {reorder: true})")
				}
				newer := x.Send(e.event(2, "the newer event, first", 0))
				older := x.Send(e.event(1, "the older event (older signature, earlier id), second", -e.skew))
				retry := x.Send(e.event(2, "a retry of the newer event", 0))
				e.want(x, newer, older, retry)
			}
		}),
	def(GroupDelivery, "ForgedDuplicateDoesNotSuppress",
		"a request that fails verification does not count as taking its id: a forged request with a real event's id is rejected and wakes nothing, the real event after it wakes each matching trigger once, and the real event's repeat wakes nothing",
		refIdempotent, nil,
		func(x *exchange) {
			for _, e := range deliveryEndpoints(x) {
				forged := e.event(1, "a forged request with the event's id (signed with another secret)", 0)
				_, forged.Keys = newKeys(x.Scheme(e.i), 1)
				bad := x.Send(forged)
				x.WantRejected(bad)
				real := x.Send(e.event(1, "the real event, after the forged one", 0))
				dup := x.Send(e.replay(real, "the real event again, byte for byte"))
				x.WantNoDeliveries(bad)
				e.want(x, real, dup)
			}
		}),
}

// deliveryPresets are the presets the Delivery cases run with against a
// target that verifies with any: one that carries the id in a signed
// header, one that carries it in the body.
var deliveryPresets = []string{"standard-webhooks", "stripe"}

// deliveryEndpoint is one endpoint of a Delivery case and how to make
// its events.
type deliveryEndpoint struct {
	i int // the endpoint's index
	// src is where the receiver reads the id.
	src sim.IDSource
	// body is the event's body, or the template the id is put in.
	body []byte
	// header holds headers each event carries (a declared app's route).
	header http.Header
	// wants is each trigger's deliveries for one taken event.
	wants map[string]int
	// prefix makes the case's ids unique in the run; ids sort by their
	// number.
	prefix string
	// skew is how much older an earlier signature is: half the scheme's
	// tolerance, at most 2 minutes (no timestamp: no difference).
	skew time.Duration
	// reorder says the target promises to take reordered deliveries.
	reorder bool
}

// deliveryEndpoints provisions the case's endpoints: for a declared app
// that promises idempotent delivery, its own endpoint and one of its
// routes (the case is skipped when it promises none); for any other
// target one endpoint per deliveryPreset, de-duplicating by the event id
// (sim.DedupSpec), with two unfiltered triggers.
func deliveryEndpoints(x *exchange) []*deliveryEndpoint {
	x.t.Helper()
	prefix := make([]byte, 6)
	rand.Read(prefix)
	newEndpoint := func(i int, src sim.IDSource) *deliveryEndpoint {
		e := &deliveryEndpoint{i: i, src: src, prefix: "evt_" + hex.EncodeToString(prefix), reorder: true}
		e.body = fmt.Appendf(nil, `{"type":"hooklab.delivery","case":%q}`, e.prefix)
		if s := x.Scheme(i); s.HasTimestamp() {
			e.skew = min(s.Tolerance/2, 2*time.Minute)
		}
		return e
	}
	if p, ok := x.env.target.(deliveryPromiser); ok {
		promise := p.deliveryPromise()
		if promise == nil || !promise.Idempotent {
			x.Skipf("skipped: the manifest promises no idempotent delivery (delivery: {idempotent: true})")
		}
		ev := declaredEvent(x)
		e := newEndpoint(len(x.eps)-1, promise.Source())
		e.wants, e.header, e.reorder = ev.want, ev.req.Header, promise.Reorder
		if len(ev.req.Body) > 0 {
			e.body = ev.req.Body
		}
		return []*deliveryEndpoint{e}
	}
	var out []*deliveryEndpoint
	var reasons []string
	for _, preset := range deliveryPresets {
		src, _ := sim.PresetIDSource(preset)
		dedup := func(s *sim.EndpointSpec) { s.Dedup = &sim.DedupSpec{By: sim.DedupByEventID} }
		i, reason := x.TryProvisionPreset(preset, dedup, trig("a", ""), trig("b", ""))
		if i < 0 {
			reasons = append(reasons, preset+": "+reason)
			continue
		}
		e := newEndpoint(i, src)
		e.wants = map[string]int{"a": 1, "b": 1}
		out = append(out, e)
	}
	if len(out) == 0 {
		x.Skipf("skipped: %s", strings.Join(reasons, "; "))
	}
	return out
}

// id is the id of the case's event n.
func (e *deliveryEndpoint) id(n int) string { return fmt.Sprintf("%s_%03d", e.prefix, n) }

// event returns event n, signed offset from now: its id where the
// receiver reads it, in the header or set in the body.
func (e *deliveryEndpoint) event(n int, label string, offset time.Duration) request {
	r := request{Label: label + " (id " + e.src.String() + "=" + e.id(n) + ")", Endpoint: e.i, SignOffset: offset,
		Header: e.header.Clone(), Body: e.body}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if e.src.Header != "" {
		r.Header.Set(e.src.Header, e.id(n))
	} else {
		r.Body = withBodyID(e.body, e.src.Body, e.id(n))
	}
	return r
}

// replay returns a request that sends what first sent, byte for byte:
// its body and every header but the suite's request id.
func (e *deliveryEndpoint) replay(first *response, label string) request {
	return request{Label: label, Endpoint: e.i, Body: first.Sent, Unsigned: true,
		After: func(r *http.Request) {
			own := r.Header.Get(sim.RequestIDHeader)
			r.Header = first.SentHeader.Clone()
			r.Header.Set(sim.RequestIDHeader, own)
		}}
}

// want checks that the first request of each event was accepted and
// woke each trigger once, and that every repeat (the responses after
// the first with an id seen before) was accepted and woke nothing.
func (e *deliveryEndpoint) want(x *exchange, rs ...*response) {
	seen := map[string]bool{}
	var taken, repeats []*response
	for _, r := range rs {
		x.WantAccepted(r)
		id := e.src.ID(r.SentHeader, r.Sent)
		if seen[id] {
			repeats = append(repeats, r)
			continue
		}
		seen[id] = true
		taken = append(taken, r)
	}
	x.WantDeliveries(maps.Clone(e.wants), taken...)
	if len(repeats) > 0 {
		x.WantNoDeliveries(repeats...)
	}
}

// withBodyID returns body (a JSON object; another body counts as {})
// with the string id at the dot-separated path.
func withBodyID(body []byte, path, id string) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || m == nil {
		m = map[string]any{}
	}
	keys := strings.Split(path, ".")
	cur := m
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	cur[keys[len(keys)-1]] = id
	b, _ := json.Marshal(m)
	return b
}
