package sim

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/signer"
)

// TriggerDevV2 is Trigger.dev v2 as it ships, platform and SDK together
// (@trigger.dev/sdk and @trigger.dev/core 2.3.x; shared/reference/
// triggerdev-v2.md §3–§5): the sender always gets 200 unless respondWith
// answers, verification happens per run, and triggers match with the
// dispatcher's rules. interop/triggerdev-ingress.mjs runs the published
// packages with the platform rebuilt from its source, and the differential
// test sim/interop_triggerdev_test.go requires identical answers and
// deliveries. Step by step:
//
//	trailing slash   a path ending in "/" gets 301 to the path without it, runs of
//	                 "/" collapsed, query kept (express's clean-URL middleware);
//	                 body "Moved Permanently. Redirecting to <Location>" as text
//	method           GET, HEAD, POST, PUT, PATCH and DELETE are served; any other
//	                 method gets 405 with an empty body (the Remix router)
//	route            an unknown endpoint gets 404
//	                 {"error":true,"message":"Could not find http endpoint"}
//	the request      as the platform sees it: URL http://<Host><target> as a WHATWG
//	                 URL; headers as Node joins them (lower-case names, repeats
//	                 joined ", ", cookie "; ", set-cookie the last, content-type,
//	                 user-agent, authorization, … the first); no body for GET/HEAD
//	body size        no limit, as the platform; a safety cap of 1 GiB answers 413
//	                 with an empty body; the spec's maxBody is ignored
//	respondWith      its filter on the platform's request (no content-type added);
//	                 on a match the handler, the declared response rendered against
//	                 the SDK's rebuilt request (https on x-forwarded-proto: https,
//	                 one value per lower-case header name, the raw body except for
//	                 GET), passes through new Response twice: text/plain;charset=UTF-8
//	                 when no content-type is declared, the body UTF-8-decoded; a
//	                 throw (204, 205, 304 or a status outside 200–599, a header
//	                 value Fetch refuses, HEAD, a template error) answers 500 empty
//	skipTriggering   the handler's response, whatever its status; no event, no runs
//	status ≠ 200     the handler's response; no event, no runs
//	event            rawBody the UTF-8 decoding of the body (BOM stripped, invalid
//	                 bytes U+FFFD); url with https on x-forwarded-proto exactly
//	                 "https"; id the idempotency-key or else x-request-id header
//	duplicate id     a repeated idempotency-key or x-request-id (an empty one
//	                 counts) starts no runs; each endpoint keeps its last 100,000 ids
//	answer           the handler's 200, else 200 with an empty body and no content
//	                 type; every answer has Strict-Transport-Security
//	dispatchers      each trigger's filter is an EventFilter (onRequest's filter ??
//	                 {}); with a content-type containing "application/json" (case-
//	                 sensitive) it is matched against {url, method, headers, body}
//	                 and a body that is not JSON wakes no trigger at all; otherwise
//	                 only a filter with no keys matches; so a query filter with a
//	                 key never matches, and an empty list is skipped
//	run              per matching trigger, the SDK's new Request(url, {method,
//	                 headers, body: rawBody}), which adds content-type
//	                 text/plain;charset=UTF-8 when there is none; for GET and HEAD it
//	                 throws and the run fails before verification
//	verification     per run: verifyRequestSignature with each secret until one
//	                 verifies; verified, or the SDK's reason ("Missing header",
//	                 "Failed sha256 verification"); for GET/HEAD, verify or not, the
//	                 constructor's "Request with GET/HEAD method cannot have body.";
//	                 no verify: verified false, no reason. A scheme verifyRequestSignature cannot
//	                 check is verified by hooklab's signer, as a user's own verify
//	                 function would (the adapter declines those specs with 501)
//	delivery         one per run: the run's request (lower-case names, one value
//	                 each, the body the UTF-8 of rawBody)
//
// Which request form is which: the respondWith filter reads the platform's
// request as received; the dispatchers read the stored event (its headers
// as received, so no text/plain content-type); the run, its verification
// and the delivery have the SDK's rebuilt request, with the content-type
// Fetch adds.
//
// What it does not model: requests that Node's HTTP parser refuses and
// Go's accepts (a repeated Content-Length, a method outside llhttp's
// list), absolute-form request targets (from proxies), the platform's
// Postgres (a body with U+0000 cannot be stored there and would be a
// 500), compression, the hosted cloud's edge limits, the
// webhook-integration path, and the spec grammar: filters are parsed as
// hooklab's RequestFilters in every profile, so a trigger filter
// Trigger.dev would take as an untyped EventFilter (a "url" key, an
// upper-case header name) is refused when the endpoint is added. A
// respondWith template that fails (hmac of a value that is not an opaque
// token, a response over hooklab's bounds) is the handler throwing: 500
// with an empty body.
const TriggerDevV2 Profile = "triggerdev-v2"

// triggerDev is the triggerdev-v2 profile's stages. Through Verify and
// Match the call's request is the platform's (tdPlatformRequest); Deliver
// swaps in the run's, which the deliveries carry.
type triggerDev struct {
	in *Ingress
	s  *stage.Stages
}

func triggerDevStages(in *Ingress) *stage.Stages {
	p := &triggerDev{in: in, s: &stage.Stages{}}
	*p.s = stage.Stages{
		Route: p.route, Read: p.read, Respond: p.respond, Verify: p.verify,
		Match: p.match, Deliver: p.deliver, Answer: p.answer,
		Allow:  func(m string) bool { return tdMethods[m] },
		Filter: matchFilter,
		Check:  tdCheck,
		Send:   in.send,
	}
	return p.s
}

// tdEndpoint is an endpoint's State in the triggerdev-v2 profile.
type tdEndpoint struct {
	dispatchers []tdDispatcher // one per trigger, in order
	ids         tdEventIDs
}

// prepareTriggerDev compiles each trigger's filter as its dispatcher's
// EventFilter.
func prepareTriggerDev(e *stage.Endpoint) error {
	td := &tdEndpoint{}
	for i, t := range e.Triggers {
		var raw []byte
		if t.Filter != nil {
			raw = t.Filter.Raw
		}
		d, err := newTDDispatcher(raw)
		if err != nil {
			return filterError(fmt.Sprintf("triggers[%d].filter", i), err)
		}
		td.dispatchers = append(td.dispatchers, d)
	}
	e.State = td
	return nil
}

// tdCheck is Stages.Check: verifyRequestSignature for the schemes it can
// check; for the others, hooklab's verifier, as a verify function the user
// wrote with the provider's library would.
func tdCheck(c *stage.Call, p signer.Payload) error {
	if sdkVerifiable(c.Endpoint.Scheme) {
		return tdSDKVerify(c.Endpoint.Scheme, c.Endpoint.Secrets, p)
	}
	return c.Endpoint.Verifier.Verify(p)
}

var slashRuns = regexp.MustCompile(`/+`)

// route answers a path that ends in "/" with express's redirect, a method
// the Remix route does not serve with 405, and an unknown endpoint with
// the platform's 404.
func (p *triggerDev) route(c *stage.Call) bool {
	c.W.Header().Set("Strict-Transport-Security", tdSTS)
	rawPath, rawQuery, hasQuery := strings.Cut(c.R.RequestURI, "?")
	if c.R.URL.IsAbs() || rawPath == "" {
		rawPath = c.R.URL.EscapedPath()
	}
	if len(rawPath) > 1 && strings.HasSuffix(rawPath, "/") {
		loc := slashRuns.ReplaceAllString(rawPath[:len(rawPath)-1], "/")
		if hasQuery {
			loc += "?" + rawQuery
		}
		c.W.Header().Set("Location", loc)
		c.W.Header().Set("Content-Type", "text/plain; charset=utf-8")
		c.W.WriteHeader(http.StatusMovedPermanently)
		io.WriteString(c.W, "Moved Permanently. Redirecting to "+loc)
		c.Note = "trailing slash"
		return false
	}
	if !p.s.Allow(c.R.Method) {
		c.W.WriteHeader(http.StatusMethodNotAllowed)
		c.Note = "bad method"
		return false
	}
	if id, ok := stage.EndpointID(c.R.URL.Path); ok {
		c.Endpoint = c.Lookup(id)
	}
	if c.Endpoint == nil {
		c.W.Header().Set("Content-Type", "application/json; charset=utf-8")
		c.W.WriteHeader(http.StatusNotFound)
		io.WriteString(c.W, `{"error":true,"message":"Could not find http endpoint"}`)
		c.Note = "unknown endpoint"
		return false
	}
	return true
}

// read reads the body (up to the safety cap: the platform has no limit)
// and builds the request as the platform sees it.
func (p *triggerDev) read(c *stage.Call) bool {
	body, err := io.ReadAll(io.LimitReader(c.R.Body, tdMaxBody+1))
	if err != nil {
		c.W.WriteHeader(http.StatusBadRequest)
		c.Note = "reading body: " + err.Error()
		return false
	}
	if len(body) > tdMaxBody {
		c.W.WriteHeader(http.StatusRequestEntityTooLarge)
		c.Note = "body over the safety cap"
		return false
	}
	c.Req = tdPlatformRequest(c.R, body).matcherRequest()
	return true
}

// respond calls the handler when respondWith's filter matches the
// platform's request; its answer ends the request when skipTriggering is
// set or its status is not 200.
func (p *triggerDev) respond(c *stage.Call) bool {
	rw := c.Endpoint.Respond
	if rw == nil || !p.s.Filter(c, rw.Filter) {
		return true
	}
	resp, err := tdImmediate(rw.Render, tdFromMatcher(c.Req))
	if err != nil {
		c.W.WriteHeader(http.StatusInternalServerError)
		c.Note = "respondWith threw"
		return false
	}
	if rw.Skip || resp.Status != http.StatusOK {
		resp.Write(c.W)
		c.Note = "respondWith, no event"
		return false
	}
	c.Early = resp
	return true
}

// verify is each run's verification, the same for every run of a request:
// the run's request checked by Stages.Check, or the reason the run failed
// before it (GET and HEAD). It never answers.
func (p *triggerDev) verify(c *stage.Call) bool {
	run, failed := tdRun(tdNewEvent(tdFromMatcher(c.Req)))
	if failed != "" { // whether or not the endpoint verifies
		c.Verification.Reason = failed
		return true
	}
	if c.Endpoint.Verifier == nil {
		return true
	}
	r := run.matcherRequest()
	if err := p.s.Check(c, signer.Payload{Method: r.Method, URL: r.URL, Header: r.Header, Body: r.Body}); err != nil {
		c.Verification.Reason = err.Error()
		return true
	}
	c.Verification.Verified = true
	return true
}

// match stores the event, or finds its id already stored (no runs), and
// collects the triggers whose dispatcher matches it.
func (p *triggerDev) match(c *stage.Call) bool {
	td := c.Endpoint.State.(*tdEndpoint)
	ev := tdNewEvent(tdFromMatcher(c.Req))
	if ev.HasID && !td.ids.first(ev.ID) {
		c.Note = "duplicate event id"
		return true
	}
	for _, i := range tdMatch(td.dispatchers, ev) {
		c.Matched = append(c.Matched, &c.Endpoint.Triggers[i])
	}
	return true
}

// deliver starts one run per matched trigger: each delivery carries the
// run's request.
func (p *triggerDev) deliver(c *stage.Call) bool {
	if len(c.Matched) == 0 {
		return true
	}
	run, _ := tdRun(tdNewEvent(tdFromMatcher(c.Req)))
	c.Req = run.delivered()
	for _, t := range c.Matched {
		p.s.Send(c, t)
	}
	return true
}

// answer sends the handler's 200 response, or 200 with an empty body.
func (p *triggerDev) answer(c *stage.Call) bool {
	if c.Early != nil {
		c.Early.Write(c.W)
	} else {
		c.W.WriteHeader(http.StatusOK)
	}
	if c.Note == "" {
		c.Note = fmt.Sprintf("runs %d", len(c.Matched))
	}
	return true
}
