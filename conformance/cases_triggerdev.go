package conformance

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// What the cases expect under the triggerdev-v2 profile where Trigger.dev
// v2 differs from the strict contract: the platform answers 200 before
// any run verifies (RULES.md T3), every matching trigger starts a run
// that verifies on its own and delivers whether or not it verified, and
// the dispatchers match by the rules of RULES.md T5. A case that accepts
// one of these known defects says so with x.expected and a note below,
// and still checks exactly what Trigger.dev v2 does.

// The known Trigger.dev v2 defects the cases accept, one sentence each.
const (
	tdNoteGetRuns    = "Trigger.dev v2 starts runs for a GET or HEAD request, but each one fails before verification: rebuilding the request with its empty rawBody throws \"Request with GET/HEAD method cannot have body.\" (conformance/RULES.md T7)"
	tdNoteQuery      = "Trigger.dev v2 dispatchers never match a trigger filter with a query key: the stored event has no query field (conformance/RULES.md T5)"
	tdNoteNotJSON    = "Trigger.dev v2 dispatchers match only the empty filter {} against a request whose content type does not contain \"application/json\" (case-sensitive): form bodies, a missing content type, Application/JSON and application/vnd.api+json lose every filtered trigger (conformance/RULES.md T5)"
	tdNoteParseFails = "Trigger.dev v2 wakes no trigger at all, not even an unfiltered one, when a body sent as application/json fails JSON.parse (an empty body included) (conformance/RULES.md T5)"
	tdNoteNoLimit    = "Trigger.dev v2 has no body limit: the platform reads every body whole and accepts it, so the endpoint's maxBody is ignored (conformance/RULES.md T7)"
	tdNoteUTF8       = "Trigger.dev v2 stores the body UTF-8-decoded: bytes that are not UTF-8 become U+FFFD, so the run verifies and delivers other bytes than were signed, and fails verification (conformance/RULES.md T4, S2)"
	tdNoteRespond    = "Trigger.dev v2 calls the respondWith handler before anything verifies: a request it answers 200 gets the handler's response and goes on to start runs, which each fail verification (conformance/RULES.md T1, T3)"
	tdNoteJoined     = "Trigger.dev v2 joins a header sent twice into one value with \", \" before verify sees it, so a valid signature next to a bogus one fails verification (conformance/RULES.md T2)"
)

// tdv2 reports whether the run holds the target to Trigger.dev v2.
func tdv2(x *exchange) bool { return x.env.rules.is(ProfileTriggerDevV2) }

// underTDv2 returns a case body that runs td under the triggerdev-v2
// profile, after noting the known defect the case accepts there, and
// other under every other profile.
func underTDv2(other func(*exchange), note string, td func(*exchange)) func(*exchange) {
	return func(x *exchange) {
		if tdv2(x) {
			x.expected(note)
			td(x)
			return
		}
		other(x)
	}
}

// tdRuns is what the runs Trigger.dev v2 starts for one request deliver:
// how many to each trigger, whether they verified, and their body.
type tdRuns struct {
	// want is how many runs each trigger (as the case names it) starts;
	// a trigger not in it must start none.
	want map[string]int
	// failed says every run fails (verification.verified: false, with a
	// reason); else every run verifies.
	failed bool
	// reason, when set, is a substring of the reason each failed run
	// gives (the SDK's own words; a verify function of the user's own,
	// for a scheme the SDK cannot check, words its reasons its own way).
	reason string
	// body is the body the runs deliver; nil means the request's exact
	// bytes.
	body []byte
}

// tdWantRuns checks the deliveries of the runs Trigger.dev v2 starts for
// each request of rs: exactly w.want per trigger, each with the request's
// method and w's body, verified or failed as w says. Like WantDeliveries
// it waits for the expected deliveries (see awaitDeliveries), judges
// extra ones when the case is over, and leaves later ones to the sweep
// at the end of the run.
func (x *exchange) tdWantRuns(w tdRuns, rs ...*response) bool {
	for _, r := range rs {
		if r.ep != nil && r.ep.Unobserved != "" {
			x.Logf("%s: deliveries not checked: %s", r.desc, r.ep.Unobserved)
			return true
		}
	}
	total := 0
	for _, n := range w.want {
		total += n
	}
	return x.awaitDeliveries(rs, w.want, total*len(rs), func(got map[string][]sim.Delivery, errorf, _ func(string, ...any)) {
		x.judgeRuns(w, rs, got, errorf)
	})
}

// judgeRuns is the judgment of tdWantRuns on got, the deliveries of rs
// by request id, its problems told to errorf.
func (x *exchange) judgeRuns(w tdRuns, rs []*response, got map[string][]sim.Delivery, errorf func(string, ...any)) {
	for _, r := range rs {
		body := r.Sent
		if w.body != nil {
			body = w.body
		}
		counts := map[string]int{}
		for _, d := range got[r.ID] {
			if r.ep != nil && r.ep.Spec != nil && !hasTrigger(r.ep.spec, d.Trigger) {
				continue // a declared app's trigger the case did not ask for
			}
			name := x.askedTrigger(r.ep, d.Trigger)
			counts[name]++
			if d.Request.Method != methodOf(r.Request) {
				errorf("%s: run of %s: method = %q, want %q", r.desc, name, d.Request.Method, methodOf(r.Request))
			}
			if !bytes.Equal(d.Request.Body, body) {
				errorf("%s: run of %s: body = %q, want %q", r.desc, name, truncate(string(d.Request.Body), 80), truncate(string(body), 80))
			}
			v := d.Verification
			switch {
			case !w.failed && !v.Verified:
				errorf("%s: run of %s: verification.verified = false (reason %q), want a run that verifies", r.desc, name, truncate(v.Reason, 120))
			case w.failed && (v.Verified || v.Reason == "" || !strings.Contains(v.Reason, w.reason)):
				errorf("%s: run of %s: verification = {verified: %t, reason: %q}, want verified false with a reason containing %q", r.desc, name, v.Verified, truncate(v.Reason, 120), w.reason)
			}
		}
		names := map[string]bool{}
		for k := range w.want {
			names[k] = true
		}
		for k := range counts {
			names[k] = true
		}
		var sorted []string
		for k := range names {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if counts[k] != w.want[k] {
				errorf("%s: runs of %s = %d, want %d", r.desc, k, counts[k], w.want[k])
			}
		}
	}
}

// The reasons of failed runs the cases look for.
const (
	tdGetFails    = "GET/HEAD method cannot have body"
	tdVerifyFails = "Failed sha256 verification"
)

// tdGetRuns is a GET request's runs: one per trigger in ids, each failed
// before verification.
func tdGetRuns(ids ...string) tdRuns {
	return tdRuns{want: fltWake(ids...), failed: true, reason: tdGetFails, body: []byte{}}
}

// tdVerified is a request's runs: one per trigger in ids, each verified.
func tdVerified(ids ...string) tdRuns { return tdRuns{want: fltWake(ids...)} }

// fltTD is fltProbes(ps...) under every profile but triggerdev-v2; under
// that one it notes the known defect and holds the requests of ps, in
// order, to td (one tdRuns per request), each answered 200 with an empty
// body.
func fltTD(note string, td []tdRuns, ps ...fltProbe) func(x *exchange) {
	return underTDv2(fltProbes(ps...), note, func(x *exchange) {
		var reqs []request
		for _, p := range ps {
			reqs = append(reqs, p.reqs...)
		}
		if len(reqs) != len(td) {
			x.Fatalf("conformance: case has %d requests and %d triggerdev-v2 expectations", len(reqs), len(td))
		}
		rs := make([]*response, len(reqs))
		for i, r := range reqs {
			rs[i] = x.Send(r)
			x.WantAccepted(rs[i])
		}
		for i, r := range rs {
			x.tdWantRuns(td[i], r)
		}
	})
}

// tdUTF8 is the UTF-8 decoding of b as Fetch's text() does it for bodies
// whose bad bytes are each a maximal subpart on their own (as the cases'
// bodies are): each such byte becomes U+FFFD.
func tdUTF8(b []byte) []byte { return []byte(string([]rune(string(b)))) }

// freshDeliveryIDs returns h with a fresh Idempotency-Key when it has
// one: a provider sends a new key with every delivery (GitLab,
// https://docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers;
// only its retries repeat it), while the fixtures render the same one on
// every request of a run. A receiver that dedupes by it (Trigger.dev v2
// does, RULES.md T4) must not see two different requests as one.
func freshDeliveryIDs(h http.Header) http.Header {
	h = h.Clone()
	if h.Get("Idempotency-Key") != "" {
		h.Set("Idempotency-Key", newUUID())
	}
	return h
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// tdJoinedVerifies reports whether a request to endpoint e whose
// signature header carries a bogus value and then the valid one verifies
// under Trigger.dev v2, where the run sees the two values joined with
// ", " as one (RULES.md T2): never for the schemes verifyRequestSignature
// checks (a plain string comparison), and for the others as the scheme's
// own verifier, the user's verify function, takes the joined value.
func tdJoinedVerifies(x *exchange, e presetEndpoint) bool {
	s := e.scheme
	r := e.sample.request("")
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if r.ContentType != "" {
		h.Set("Content-Type", r.ContentType)
	}
	u := x.URL(e.ep)
	if r.Query != "" {
		u += "?" + r.Query
	}
	p := signer.Payload{Method: http.MethodPost, URL: u, Header: h, Body: r.Body}
	now := signer.At(time.Now())
	valid, err := signer.Sign(s, x.SignKeys(e.ep), p, now)
	if err != nil {
		return false
	}
	bogus, err := signer.Sign(s, strangerKeys(s, 1), p, now)
	if err != nil {
		return false
	}
	valid.Header.Set(s.Header, bogus.Header.Get(s.Header)+", "+valid.Header.Get(s.Header))
	st := x.eps[e.ep]
	if st.spec.Verify == nil {
		return false
	}
	return signer.Verify(s, st.spec.Verify.Secrets, valid) == nil
}

// tdNoteDedupe is Trigger.dev v2's event identity.
const tdNoteDedupe = "Trigger.dev v2 takes the idempotency-key header, else x-request-id, as the event id and starts no runs for an id it has stored: a provider's retry starts nothing, and so does any request that repeats a proxy's x-request-id (conformance/RULES.md T4)"

// tdWantRetriesDeduped checks Trigger.dev v2's event identity on an
// endpoint with the triggers "all" and "opened" (which body matches): a
// request with a fresh Idempotency-Key, or a fresh X-Request-Id, starts
// its runs; the same request again with the same header (a retry) is
// answered as any other and starts none.
func tdWantRetriesDeduped(x *exchange, body []byte) {
	x.expected(tdNoteDedupe)
	var firsts, retries []*response
	for _, name := range []string{"Idempotency-Key", "X-Request-Id"} {
		id := newUUID()
		for i, label := range []string{"first delivery", "its retry, the same " + name} {
			r := x.Send(request{Label: fmt.Sprintf("valid signature, %s: %s, %s", name, id, label), Body: body, Header: http.Header{name: {id}}})
			x.WantAccepted(r)
			if i == 0 {
				firsts = append(firsts, r)
			} else {
				retries = append(retries, r)
			}
		}
	}
	x.tdWantRuns(tdVerified("all", "opened"), firsts...)
	x.tdWantRuns(tdVerified(), retries...)
}
