package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/sim"
)

// References of the fan-out cases.
const (
	refFanOutMatch     = refTriggerFanOut + "; dispatchers and matching (conformance/RULES.md T5)"
	refFanOutEnvelope  = refTriggerFanOut + "; the event payload {url, method, headers, rawBody} (conformance/RULES.md T4, T5); delivery envelope: sim.Delivery (conformance/RULES.md P2)"
	refFanOutIsolation = "Trigger.dev v2 DeliverEventService: only the dispatchers of the endpoint's own event name and source are considered (conformance/RULES.md T5, T6)"
)

// The number of requests and how many are in flight at once in
// FanOut/ConcurrentRequests.
const (
	fanOutConcurrentRequests = 200
	fanOutConcurrentParallel = 50
	fanOutConcurrentPause    = 25 * time.Millisecond
)

var fanOutCases = []check{
	def(GroupFanOut, "PartialMatches",
		"of five triggers filtered on method, headers and body, exactly the three a request matches get one delivery each and the other two none, whatever their order in the spec",
		refFanOutMatch,
		presetSpec(targetPreset,
			trig("closed", `{"body":{"action":["closed"]}}`),
			trig("opened", `{"body":{"action":["opened"]}}`),
			trig("push-event", `{"headers":{"x-github-event":["push"]}}`),
			trig("issues-event", `{"headers":{"x-github-event":["issues"]}}`),
			trig("post-issue-7", `{"method":["POST"],"body":{"issue":{"number":[7]}}}`),
		),
		func(x *exchange) {
			r := x.Send(request{Label: "valid signature, X-GitHub-Event issues, action opened, issue 7",
				Header: http.Header{"X-Github-Event": {"issues"}},
				Body:   []byte(`{"action":"opened","issue":{"number":7}}`)})
			x.WantAccepted(r)
			x.WantDeliveries(map[string]int{"opened": 1, "issues-event": 1, "post-issue-7": 1}, r)
		}),
	def(GroupFanOut, "NoneMatchAccepted",
		"a verified request that no trigger's filter matches is still accepted with a 2xx and wakes nothing",
		refTriggerFanOut+" (if none match, the event is stored with no runs; the sender still got 200)",
		presetSpec(targetPreset,
			trig("closed", `{"body":{"action":["closed"]}}`),
			trig("push-event", `{"headers":{"x-github-event":["push"]}}`),
			trig("get-only", `{"method":["GET"]}`),
			trig("mode-subscribe", `{"query":{"mode":["subscribe"]}}`),
		),
		func(x *exchange) {
			r := x.Send(request{Label: "valid signature, matching no trigger (action opened, X-GitHub-Event issues, ?mode=unsubscribe)",
				Query:  "mode=unsubscribe",
				Header: http.Header{"X-Github-Event": {"issues"}},
				Body:   []byte(`{"action":"opened"}`)})
			x.WantAccepted(r)
			x.WantNoDeliveries(r)
		}),
	def(GroupFanOut, "EveryMatchExactlyOnce",
		"triggers with identical filters are distinct consumers: each, and an unfiltered one beside them, gets exactly one delivery of a matching request (a declared app's one handler for that filter stands for all of them: it gets exactly one)",
		refTriggerFanOut+" (one dispatcher per job, no de-duplication across jobs)",
		presetSpec(targetPreset,
			trig("opened-1", `{"body":{"action":["opened"]}}`),
			trig("opened-2", `{"body":{"action":["opened"]}}`),
			trig("opened-3", `{"body":{"action":["opened"]}}`),
			trig("all", ""),
		),
		func(x *exchange) {
			r := x.Send(request{Label: "valid signature, action opened", Body: []byte(`{"action":"opened"}`)})
			x.WantAccepted(r)
			x.WantDeliveries(map[string]int{"opened-1": 1, "opened-2": 1, "opened-3": 1, "all": 1}, r)
		}),
	def(GroupFanOut, "IdenticalRequestsEachFire",
		"requests with identical bodies and signatures are separate events: each one wakes every matching trigger once, with no de-duplication by content",
		refTriggerFanOut+"; the event id is idempotency-key, x-request-id or a fresh ULID, never the body (conformance/RULES.md T4)",
		nil,
		func(x *exchange) {
			body, header := []byte(`{"action":"opened","issue":{"number":1}}`), http.Header(nil)
			want := map[string]int{"all": 1, "opened": 1}
			if isDeclared(x) {
				// The app's own handlers, and an event routed to them.
				e := declaredEvent(x)
				body, header, want = e.req.Body, e.req.Header, e.want
			} else {
				x.ProvisionPreset(targetPreset, nil, trig("all", ""), trig("opened", `{"body":{"action":["opened"]}}`))
			}
			if p, ok := x.env.target.(deliveryPromiser); ok && promisesDelivery(x.env.target) {
				if src := p.deliveryPromise().Source(); src.ID(header, body) != "" {
					// Identical requests carry one event id: to an
					// idempotent app they are one event (RULES.md D1).
					x.Skipf("skipped: the manifest promises idempotent delivery by %s, and these identical requests carry one id: they are one event (conformance/RULES.md D1)", src)
				}
			}
			var rs []*response
			for i := range 3 {
				r := x.Send(request{Label: fmt.Sprintf("valid signature, the same body, request %d of 3", i+1), Header: header.Clone(), Body: body})
				x.WantAccepted(r)
				rs = append(rs, r)
			}
			x.WantDeliveries(want, rs...)
			if tdv2(x) {
				tdWantRetriesDeduped(x, body)
			}
		}),
	def(GroupFanOut, "ConcurrentRequests",
		fmt.Sprintf("under %d concurrent requests (%d in flight, each body paused halfway), each request wakes exactly the triggers it matches, once each: no delivery is lost, doubled or given to another request", fanOutConcurrentRequests, fanOutConcurrentParallel),
		refTriggerFanOut+" (one invokeDispatcher job per match, in parallel)",
		nil,
		func(x *exchange) {
			// Each kind of request: what it is, its headers, its body (of
			// request n) and the triggers it wakes.
			type kind struct {
				label  string
				header http.Header
				body   func(n int) []byte
				want   map[string]int
			}
			var kinds []kind
			if isDeclared(x) {
				// The app's own handlers, and events routed to them.
				for _, e := range routedEndpoint(x) {
					kinds = append(kinds, kind{e.req.Label, e.req.Header, func(int) []byte { return e.req.Body }, e.want})
				}
			} else {
				x.ProvisionPreset(targetPreset, nil,
					trig("all", ""),
					trig("kind-a", `{"body":{"kind":["a"]}}`),
					trig("kind-b", `{"body":{"kind":["b"]}}`),
					trig("kind-a-or-b", `{"body":{"kind":["a","b"]}}`),
					trig("not-a", `{"body":{"kind":[{"$anythingBut":"a"}]}}`),
				)
				want := map[string]map[string]int{
					"a": {"all": 1, "kind-a": 1, "kind-a-or-b": 1},
					"b": {"all": 1, "kind-b": 1, "kind-a-or-b": 1, "not-a": 1},
					"c": {"all": 1, "not-a": 1},
				}
				for _, k := range []string{"a", "b", "c"} {
					kinds = append(kinds, kind{"valid signature, kind " + k, nil, func(n int) []byte { return []byte(fmt.Sprintf(`{"kind":%q,"n":%d}`, k, n)) }, want[k]})
				}
			}
			rs := make([]request, fanOutConcurrentRequests)
			for i := range rs {
				k := kinds[i%len(kinds)]
				body := k.body(i)
				rs[i] = request{Label: fmt.Sprintf("%s, request %d of %d", k.label, i+1, len(rs)), Header: k.header.Clone(), Body: body,
					// A pause mid-body keeps the requests in flight at the
					// ingress together, as on a real network.
					After: func(r *http.Request) {
						r.Body = io.NopCloser(&pausedReader{b: body, at: len(body) / 2, pause: fanOutConcurrentPause})
					}}
			}
			resps := x.SendAll(rs, fanOutConcurrentParallel)
			byKind := make([][]*response, len(kinds))
			refused := 0
			for i, r := range resps {
				if r.Err != nil || r.Status/100 != 2 {
					if refused == 0 {
						x.WantAccepted(r)
					}
					refused++
				}
				byKind[i%len(kinds)] = append(byKind[i%len(kinds)], r)
			}
			if refused > 1 {
				x.Errorf("concurrent requests: %d of %d were not accepted, want all", refused, len(resps))
			}
			for i, k := range kinds {
				x.WantDeliveries(k.want, byKind[i]...)
			}
		}),
	def(GroupFanOut, "DeliveryEnvelope",
		"each delivery carries the endpoint and trigger ids, the request's method, absolute URL with its query, every header sent (the signature and request id included) and its exact body bytes, a verified verification result, and receivedAt <= deliveredAt",
		refFanOutEnvelope,
		nil,
		func(x *exchange) {
			// A catch-all and a handler routed by event type, as the
			// preset's apps route (GitHub: X-GitHub-Event issues).
			style := routeStyleOf(x.preset())
			typ, action, filter := envelopeRoute(x.env.target, style)
			x.ProvisionPreset(targetPreset, nil, trig("all", ""), trig("by-type", filter))
			// The body is spelled as no JSON encoder would write it, so
			// re-encoding anywhere on the way shows.
			typed, header := "", http.Header{"X-Hooklab-Repeated": {"one", "two"}}
			if style.header != "" {
				header.Set(style.header, typ)
			} else {
				typed = fmt.Sprintf("%q :%q, ", style.typeKey, typ)
			}
			body := []byte("{ " + typed + "\"action\" : " + strconv.Quote(action) + ",\"z\":1.0, \"a\":\"caf\\u00e9 \\ud83d\\ude00\",\n\"issue\":{\"number\":7} }\n")
			var sent *http.Request
			// PUT shows that the method is passed on as received; a target
			// that serves POST only (as GitHub only POSTs) gets a POST.
			method := http.MethodPut
			if !x.env.rules.serves(method) {
				method = http.MethodPost
			}
			r := x.Send(request{Label: method + ", valid signature, event " + typ + ", a repeated header, a query",
				Method: method,
				Query:  "source=conformance&n=1&empty=&q=a%20b",
				Header: header,
				Body:   body,
				After:  func(r *http.Request) { sent = r },
			})
			x.WantAccepted(r)
			if !x.WantDeliveries(map[string]int{"all": 1, "by-type": 1}, r) || sent == nil {
				return
			}
			st := r.ep
			// A declared app may have more triggers than the case asked
			// for; those whose declared filters match the request
			// deliver it too, and their envelopes are checked as well.
			others, err := otherTriggers(x.env.target, st, capturedRequest(sent, r.Sent))
			if err != nil {
				x.Errorf("%s: %v", r, err)
				return
			}
			other := map[string]otherTrigger{}
			matching := 0
			for _, o := range others {
				other[o.ID] = o
				if o.Matches {
					matching++
				}
			}
			ds := deliveriesOf(x, r, 2+matching, 0)
			for _, d := range ds {
				name := x.askedTrigger(st, d.Trigger)
				where := fmt.Sprintf("%s: delivery to %s", r, name)
				o, declared := other[d.Trigger]
				switch {
				case hasTrigger(st.spec, d.Trigger):
				case declared && o.Matches:
					where = fmt.Sprintf("%s: delivery to the declared trigger %s (its filter matches the request)", r, d.Trigger)
				case declared:
					x.Errorf("%s: delivery to the declared trigger %q, whose filter %s does not match the request, want none", r, d.Trigger, orAll(o.Filter))
					continue
				default:
					x.Errorf("%s: trigger = %q, want one of the endpoint's trigger ids %s", where, d.Trigger, triggerIDs(st.spec, others))
					continue
				}
				if st.spec.ID != "" && d.Endpoint != st.spec.ID {
					x.Errorf("%s: endpoint = %q, want %q", where, d.Endpoint, st.spec.ID)
				}
				wantEnvelopeURL(x, where, d.Request.URL, sent.URL)
				wantEnvelopeHeaders(x, where, d.Request.Header, sent.Header, x.Scheme(0).Headers())
				if !d.Verification.Verified || d.Verification.Reason != "" {
					x.Errorf("%s: verification = {verified: %t, reason: %q}, want {verified: true}", where, d.Verification.Verified, d.Verification.Reason)
				}
				switch {
				case d.ReceivedAt.IsZero() || d.DeliveredAt.IsZero():
					x.Errorf("%s: receivedAt = %v, deliveredAt = %v, want both set", where, d.ReceivedAt, d.DeliveredAt)
				case d.DeliveredAt.Before(d.ReceivedAt):
					x.Errorf("%s: deliveredAt = %v, want at or after receivedAt %v", where, d.DeliveredAt, d.ReceivedAt)
				}
			}
		}),
	def(GroupFanOut, "RejectedRequestWakesNothing",
		"a request that fails verification is answered 401 and wakes none of the endpoint's triggers, even unfiltered ones, not even before the answer",
		refTriggerFanOut+"; verification happens before the event is stored (conformance/RULES.md T3); a strict ingress must not fan out what it rejects",
		nil,
		func(x *exchange) {
			body, header := []byte(`{"action":"opened"}`), http.Header(nil)
			if isDeclared(x) {
				// The app's own handlers, and an event routed to them.
				e := declaredEvent(x)
				body, header = e.req.Body, e.req.Header
			} else {
				x.ProvisionPreset(targetPreset, nil, trig("all-1", ""), trig("all-2", ""), trig("all-3", ""))
			}
			_, wrong := newKeys(x.Scheme(0), 1)
			forged := x.Send(request{Label: "signed with a wrong secret", Keys: wrong, Header: header.Clone(), Body: body})
			unsigned := x.Send(request{Label: "no signature", Unsigned: true, Header: header.Clone(), Body: body})
			x.WantRejected(forged)
			x.WantRejected(unsigned)
			x.WantNoDeliveries(forged, unsigned)
		}),
	def(GroupFanOut, "EndpointIsolation",
		"a request to one endpoint wakes only that endpoint's triggers, never those of another endpoint, and a request signed with another endpoint's secret is rejected",
		refFanOutIsolation,
		nil,
		func(x *exchange) {
			opened := `{"body":{"action":["opened"]}}`
			a := x.ProvisionPreset(targetPreset, nil, trig("a-all", ""), trig("a-opened", opened))
			b := x.ProvisionPreset(targetPreset, nil, trig("b-all", ""), trig("b-opened", opened))
			if x.URL(a) == x.URL(b) {
				x.Skipf("skipped: the target gave both endpoints the URL %s, so it serves a single endpoint", x.URL(a))
			}
			body := []byte(`{"action":"opened"}`)
			ra := x.Send(request{Label: "endpoint A, valid signature", Endpoint: a, Body: body})
			rb := x.Send(request{Label: "endpoint B, valid signature", Endpoint: b, Body: body})
			cross := x.Send(request{Label: "endpoint A, signed with endpoint B's secret", Endpoint: a, Keys: x.eps[b].signKeys, Body: body})
			x.WantAccepted(ra)
			x.WantAccepted(rb)
			x.WantRejected(cross)
			okA := x.WantDeliveries(map[string]int{"a-all": 1, "a-opened": 1}, ra)
			okB := x.WantDeliveries(map[string]int{"b-all": 1, "b-opened": 1}, rb)
			x.WantNoDeliveries(cross)
			for _, c := range []struct {
				r  *response
				ok bool
			}{{ra, okA}, {rb, okB}} {
				if !c.ok {
					continue
				}
				for _, d := range deliveriesOf(x, c.r, 2, 0) {
					if id := c.r.ep.spec.ID; id != "" && d.Endpoint != id {
						x.Errorf("%s: delivery to %s: endpoint = %q, want %q", c.r, x.askedTrigger(c.r.ep, d.Trigger), d.Endpoint, id)
					}
				}
			}
		}),
}

// deliveriesOf returns the deliveries of r: it waits until n have
// arrived, at most the delivery wait, then settle more, to catch extra
// ones. The case's checks of deliveries so far are judged first, after
// the settle time (see settlePending), so that every delivery they wait
// for has come. A case whose endpoint's deliveries cannot be observed is
// skipped.
func deliveriesOf(x *exchange, r *response, n int, settle time.Duration) []sim.Delivery {
	if r.ep != nil && r.ep.Unobserved != "" {
		x.Skipf("skipped: %s: deliveries cannot be observed: %s", r, r.ep.Unobserved)
	}
	x.settlePending()
	ctx, cancel := context.WithTimeout(x.ctx, x.env.opts.deliveryWait)
	defer cancel()
	return x.env.deliveries(ctx, map[string]*response{r.ID: r}, n, settle)[r.ID]
}

func hasTrigger(spec sim.EndpointSpec, id string) bool {
	for _, t := range spec.Triggers {
		if t.ID == id {
			return true
		}
	}
	return false
}

// triggerIDs lists the trigger ids of spec and then those of others (a
// declared app's triggers the case did not ask for), quoted.
func triggerIDs(spec sim.EndpointSpec, others []otherTrigger) string {
	var ids []string
	for _, t := range spec.Triggers {
		ids = append(ids, fmt.Sprintf("%q", t.ID))
	}
	for _, o := range others {
		ids = append(ids, fmt.Sprintf("%q", o.ID))
	}
	return "[" + strings.Join(ids, ", ") + "]"
}

// capturedRequest is a request the suite sent, as a trigger's filter sees
// it: the method, the absolute URL with its query, the headers with Host,
// and the exact body.
func capturedRequest(sent *http.Request, body []byte) matcher.Request {
	h := sent.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Host") == "" {
		host := sent.Host
		if host == "" {
			host = sent.URL.Host
		}
		h.Set("Host", host)
	}
	return matcher.Request{Method: sent.Method, URL: sent.URL.String(), Header: h, Body: body}
}

// wantEnvelopeURL checks that a delivered URL is absolute and addresses
// the path and query that were sent. The host is not compared: an
// implementation behind a proxy sees its own.
func wantEnvelopeURL(x *exchange, where, got string, sent *url.URL) {
	u, err := url.Parse(got)
	switch {
	case err != nil:
		x.Errorf("%s: url = %q, want an absolute URL: %v", where, got, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		x.Errorf("%s: url = %q, want an absolute http(s) URL", where, got)
	case u.RequestURI() != sent.RequestURI():
		x.Errorf("%s: url = %q, want path and query %q", where, got, sent.RequestURI())
	}
}

// wantEnvelopeHeaders checks that every header sent is in the delivery
// with its values. Names are compared case-insensitively and repeated
// values joined with ", ", as a JavaScript Headers object does.
func wantEnvelopeHeaders(x *exchange, where string, got map[string][]string, sent http.Header, sigHeaders []string) {
	h := http.Header{}
	for k, vs := range got {
		k = http.CanonicalHeaderKey(k)
		h[k] = append(h[k], vs...)
	}
	names := make([]string, 0, len(sent))
	for k := range sent {
		names = append(names, k)
	}
	sort.Strings(names)
	isSig := map[string]bool{}
	for _, k := range sigHeaders {
		isSig[http.CanonicalHeaderKey(k)] = true
	}
	for _, k := range names {
		want := strings.Join(sent.Values(k), ", ")
		g, ok := h[http.CanonicalHeaderKey(k)]
		gs := strings.Join(g, ", ")
		switch {
		case !ok:
			x.Errorf("%s: header %s missing, want the value sent", where, k)
		case gs == want:
		case isSig[http.CanonicalHeaderKey(k)]:
			// Signature values are not printed.
			x.Errorf("%s: header %s differs from the value sent (%d bytes), want it unchanged", where, k, len(want))
		default:
			x.Errorf("%s: header %s = %q, want %q", where, k, truncate(gs, 80), truncate(want, 80))
		}
	}
}

// pausedReader reads b, pausing once before the byte at offset at.
type pausedReader struct {
	b      []byte
	at     int
	pause  time.Duration
	off    int
	paused bool
}

func (r *pausedReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	if r.off == r.at && !r.paused {
		r.paused = true
		time.Sleep(r.pause)
	}
	end := len(r.b)
	if r.off < r.at {
		end = r.at
	}
	n := copy(p, r.b[r.off:end])
	r.off += n
	return n, nil
}

var fanOutScaleCases = []check{
	def(GroupFanOut, "EventTypeRouting",
		"handlers routed by event type as the provider's apps route them (GitHub: X-GitHub-Event, refined by the payload's action; Stripe and Standard Webhooks: the payload's type) each get exactly the events of their type (and action), once each, beside the catch-all; an event no route takes wakes only the catch-all",
		refEventRouting,
		nil, func(x *exchange) { eventTypeRouting(x) }),
	def(GroupFanOut, "TwentyTriggers",
		"an endpoint with 20 triggers, half of which match a request, delivers to exactly those 10, once each; there is no cap on the triggers one request wakes",
		refTriggerFanOut+" (every matching dispatcher fires)",
		func() sim.EndpointSpec {
			var ts []sim.TriggerSpec
			for i := range 20 {
				action := "opened"
				if i%2 == 1 {
					action = "closed"
				}
				ts = append(ts, trig(fmt.Sprintf("t%02d-%s", i, action), `{"body":{"action":["`+action+`"]}}`))
			}
			return presetSpec(targetPreset, ts...)()
		},
		func(x *exchange) {
			r := x.Send(request{Label: "valid signature, action opened", Body: []byte(`{"action":"opened"}`)})
			x.WantAccepted(r)
			want := map[string]int{}
			for i := 0; i < 20; i += 2 {
				want[fmt.Sprintf("t%02d-opened", i)] = 1
			}
			x.WantDeliveries(want, r)
		}),
}
