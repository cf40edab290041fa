package sim

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/hooklab/hooklab/matcher"
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
//	                 "Failed sha256 verification"); for GET/HEAD the constructor's
//	                 "Request with GET/HEAD method cannot have body."; no verify:
//	                 verified false, no reason. A scheme verifyRequestSignature cannot
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
const TriggerDevV2 Profile = "triggerdev-v2"

// tdEndpoint is what the triggerdev-v2 profile adds to a compiled
// endpoint.
type tdEndpoint struct {
	dispatchers []tdDispatcher
	verifier    tdVerifier // nil: no verify
	ids         tdEventIDs
}

// compileTD builds the profile's part of an endpoint.
func compileTD(e *endpoint) (*tdEndpoint, error) {
	td := &tdEndpoint{}
	for i, t := range e.spec.Triggers {
		d, err := newTDDispatcher(t.Filter)
		if err != nil {
			return nil, filterError(fmt.Sprintf("triggers[%d].filter", i), err)
		}
		td.dispatchers = append(td.dispatchers, d)
	}
	if e.verifier != nil {
		if sdkVerifiable(e.scheme) {
			v := tdSDKVerifier{header: strings.ToLower(e.scheme.Header), encoding: e.scheme.Encoding}
			for _, k := range e.spec.Verify.Secrets {
				v.secrets = append(v.secrets, k.Bytes())
			}
			td.verifier = v
		} else {
			td.verifier = tdSignerVerifier{v: e.verifier}
		}
	}
	return td, nil
}

var slashRuns = regexp.MustCompile(`/+`)

// serveTriggerDev is the triggerdev-v2 profile; it returns a note for the
// log line.
func (in *Ingress) serveTriggerDev(w http.ResponseWriter, r *http.Request, received time.Time) string {
	w.Header().Set("Strict-Transport-Security", tdSTS)
	rawPath, rawQuery, hasQuery := strings.Cut(r.RequestURI, "?")
	if r.URL.IsAbs() {
		rawPath = r.URL.EscapedPath()
	}
	if len(rawPath) > 1 && strings.HasSuffix(rawPath, "/") {
		loc := slashRuns.ReplaceAllString(rawPath[:len(rawPath)-1], "/")
		if hasQuery {
			loc += "?" + rawQuery
		}
		io.Copy(io.Discard, io.LimitReader(r.Body, tdMaxBody))
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMovedPermanently)
		if r.Method != http.MethodHead {
			io.WriteString(w, "Moved Permanently. Redirecting to "+loc)
		}
		return "trailing slash"
	}
	if !tdMethods[r.Method] {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return "bad method"
	}
	id, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	var ep *endpoint
	if ok && id != "" && !strings.Contains(id, "/") {
		in.mu.RLock()
		ep = in.eps[id]
		in.mu.RUnlock()
	}
	if ep == nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			io.WriteString(w, `{"error":true,"message":"Could not find http endpoint"}`)
		}
		return "unknown endpoint"
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, tdMaxBody+1))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return "reading body: " + err.Error()
	}
	if len(body) > tdMaxBody {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return "body over the safety cap"
	}
	td := ep.td
	p := tdPlatformRequest(r, body)

	var early *declared
	if rw := ep.respond; rw != nil && rw.filter.Match(p.matcherRequest()) {
		d, err := tdImmediate(rw, p)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return "respondWith threw"
		}
		if rw.skip || d.status != http.StatusOK {
			d.writeHead(w, r.Method)
			return "respondWith, no event"
		}
		early = d
	}

	ev := tdNewEvent(p)
	dup := ev.HasID && !td.ids.first(ev.ID)
	if early != nil {
		early.writeHead(w, r.Method)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	if dup {
		return "duplicate event id"
	}
	matched := tdMatch(td.dispatchers, ev)
	for _, i := range matched {
		req, failed := tdRun(ev)
		ver := Verification{}
		switch {
		case failed != "":
			ver.Reason = failed
		case td.verifier != nil:
			ver = td.verifier.verify(req)
		}
		in.deliver(ep, &ep.triggers[i], matcherOf(req), ver, received)
	}
	return fmt.Sprintf("runs %d", len(matched))
}

// writeHead writes d, without its body for HEAD.
func (d *declared) writeHead(w http.ResponseWriter, method string) {
	for k, vs := range d.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(d.status)
	if method != http.MethodHead {
		w.Write(d.body)
	}
}

// matcherOf is a delivered request in the form Ingress.deliver takes.
func matcherOf(d DeliveredRequest) matcher.Request {
	return matcher.Request{Method: d.Method, URL: d.URL, Header: http.Header(d.Header), Body: d.Body}
}
