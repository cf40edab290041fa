package conformance

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// The Verify group: each case is one rule of signature verification, run
// against an endpoint per signer preset the rule applies to (62 presets at
// most), so a failure line names the preset. Which presets a rule applies
// to is worked out from the Scheme's fields, never from its name, except
// where it rests on a fact of the provider that a Scheme does not hold:
// such a list names each preset with the fact (emptyBodyNeverSent).
//
// In the rules, "accepted" and "rejected" are what the run's profile
// takes them to be (WantAccepted, WantRejected; conformance/PROTOCOL.md):
// accepted is any 2xx (a manifest may narrow it; triggerdev-v2: 200 with
// an empty body); rejected is, under strict, 401 with a JSON error, under
// app any 4xx but 404 (or a manifest's reject.status), and under
// triggerdev-v2 200 with every run it starts failing verification.

// References of the Verify cases.
const (
	refVerifySchemes    = "the providers' signature docs (conformance/RULES.md S0)"
	refVerifyFieldNames = "RFC 9110 §5.1 (field names are case-insensitive) and §5.3 (a repeated field is a list), https://www.rfc-editor.org/rfc/rfc9110#section-5.1 (conformance/RULES.md H2)"
	refVerifyRotation   = "conformance/RULES.md S9 (secret rotation); octokit verifyWithFallback, https://github.com/octokit/webhooks-methods.js; Standard Webhooks key rotation"
	refVerifyMultiSigs  = "conformance/RULES.md S5; Stripe (several v1 while a secret is rolled); Standard Webhooks (space-separated signature list); Box (primary and secondary headers)"
)

var verifyCases = []check{
	def(GroupVerify, "ValidSignature",
		"a request signed as the preset's provider signs it, with the endpoint's secret, over a realistic body, is accepted and delivered once, byte for byte",
		refVerifyRequest+"; "+refVerifySchemes,
		nil, verifyVariant{probes: validSignature}.run),
	def(GroupVerify, "BodyChangedByOneByte",
		"when one byte of a signed body is changed (same length), the signature no longer matches: the request is rejected and nothing is delivered (presets whose signature covers the body)",
		refVerifyRequest+" (HMAC of the body); conformance/RULES.md S1",
		nil, verifyVariant{skip: skipUnlessBodyCovered, probes: bodyChangedByOneByte}.run),
	def(GroupVerify, "WrongSecret",
		"a request signed correctly but with another secret (another key pair for asymmetric presets) is rejected, and nothing is delivered",
		refVerifyRequest+" (Failed sha256 verification); "+refVerifySchemes,
		nil, verifyVariant{probes: wrongSecret}.run),
	def(GroupVerify, "MissingSignatureHeader",
		"a request without its signature header is rejected, and nothing is delivered",
		refVerifyRequest+" (Missing header); "+refVerifySchemes,
		nil, verifyVariant{skip: skipUnlessHeaderSigned, probes: missingSignatureHeader}.run),
	def(GroupVerify, "MalformedSignatureHeader",
		"a signature header whose value has the wrong shape (no prefix, no key=value pairs, not hex or base64) is rejected, and nothing is delivered",
		"conformance/RULES.md S4 and S6 (header grammar robustness)",
		nil, verifyVariant{skip: skipUnlessHeaderSigned, probes: malformedSignatureHeader}.run),
	def(GroupVerify, "EmptySignature",
		"a signature header that is present but empty, or that keeps its syntax with an empty signature (\"sha256=\", \"t=…,v1=\", \"v1,\"), is rejected, and nothing is delivered",
		refVerifyRequest+" (an empty header is Missing header); conformance/RULES.md S5 and S6",
		nil, verifyVariant{skip: skipUnlessHeaderSigned, probes: emptySignature}.run),
	def(GroupVerify, "StaleTimestamp",
		"with the endpoint's tolerance T (the preset's default: the spec sets none) and a margin m (T/10, at least 1 s, at most 10 s), a request signed at now-(T+m) is rejected and nothing is delivered, and one signed at now-(T-m) is accepted and delivered (judged only when answered within m of signing, else sent again)",
		"conformance/RULES.md S7 (timestamp skew); Stripe, Slack and Standard Webhooks replay protection",
		nil, verifyVariant{skip: skipUnlessTolerance, probes: staleTimestamp}.run),
	def(GroupVerify, "FutureTimestamp",
		"with the endpoint's tolerance T (the preset's default: the spec sets none) and a margin m (T/10, at least 1 s, at most 10 s), a request signed at now+(T+m) is rejected and nothing is delivered (not checked for past-only presets, as stripe-go; judged only when answered within m of signing, else sent again), and one signed at now+(T-m) is accepted and delivered",
		"conformance/RULES.md S7 (timestamp skew, both directions); Standard Webhooks and Svix check both",
		nil, verifyVariant{skip: skipUnlessTolerance, probes: futureTimestamp}.run),
	def(GroupVerify, "RotatedSecrets",
		"an endpoint with two secrets (newest first) accepts a request signed with either one alone, and rejects one signed with neither, delivering nothing",
		refVerifyRotation,
		nil, verifyVariant{keys: 2, probes: rotatedSecrets}.run),
	def(GroupVerify, "SeveralSignaturesOneValid",
		"when a scheme carries several signatures (a list in one header, or extra signature headers), one valid signature after a bogus one is enough to accept the request (delivered once); all bogus is rejected, and nothing is delivered",
		refVerifyMultiSigs,
		nil, verifyVariant{skip: skipUnlessSeveralSignatures, probes: severalSignatures}.run),
	def(GroupVerify, "HeaderNameCase",
		"the signature, timestamp, id and fixed headers are found whatever the case of their names (sent all lower-case, and all upper-case): the request is accepted and delivered",
		refVerifyFieldNames+"; HTTP/2 delivers lower-case names",
		nil, verifyVariant{skip: skipUnlessHeaders, probes: headerNameCase}.run),
	def(GroupVerify, "DuplicatedHeader",
		"a signature header sent twice with two bogus values is rejected and nothing is delivered; sent twice as a bogus value then the valid one, it may be accepted (and delivered once) or rejected (and nothing delivered), since no provider sends a signature header twice, but never accepted without its delivery nor delivered while rejected",
		"conformance/RULES.md S11 (no provider sends a signature header twice; the first value alone, or every value, are both safe); "+refVerifyFieldNames+"; Trigger.dev v2 joins the values with \", \" (conformance/RULES.md T2)",
		nil, verifyVariant{skip: skipUnlessHeaderSigned, probes: duplicatedHeader}.run),
	def(GroupVerify, "ReserializedJSON",
		"a JSON body with insignificant whitespace, unsorted keys, an escaped \\u00e9, <>& and the float 1.0, signed over its raw bytes, is verified over those raw bytes (not over JSON re-encoded after parsing): accepted and delivered byte for byte",
		"conformance/RULES.md S1 (re-serialised JSON vs raw body); GitHub and Stripe: verify the raw payload, https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
		nil, verifyVariant{skip: skipFormSigned, probes: reserializedJSON}.run),
	def(GroupVerify, "TrailingNewline",
		"a body ending in \"\\n\", signed with it, is accepted and delivered byte for byte; the same request with the newline stripped after signing is rejected and not delivered (presets whose signature covers the body)",
		"conformance/RULES.md S1 (trailing newline / CRLF)",
		nil, verifyVariant{probes: trailingNewline}.run),
	def(GroupVerify, "EmptyBody",
		"a request with an empty body, correctly signed and carrying the Content-Type and headers its provider sends, is accepted and delivered (presets that can sign an empty body and whose provider may send one: not those that carry the signature or timestamp in the body, nor form-parameter schemes, nor Stripe, whose events are always a JSON object)",
		"conformance/RULES.md S3 (empty body; Stripe never sends one, https://docs.stripe.com/api/events/object); "+refVerifyRequest+" (HMAC of \"\")",
		nil, verifyVariant{skip: skipUnlessEmptyBodySignable, probes: emptyBody}.run),
	def(GroupVerify, "QueryString",
		"a query string in the URL does not disturb verification: a request signed with one is accepted; a query changed after signing is rejected where the scheme signs the URL (Twilio, Square, HubSpot, Mandrill) and accepted where it signs only the body",
		"conformance/RULES.md S8 (URL-bound signatures: scheme, host, port, path and query); Twilio, https://www.twilio.com/docs/usage/webhooks/webhooks-security",
		nil, verifyVariant{probes: queryString}.run),
	def(GroupVerify, "UnicodeBody",
		"a body with multi-byte UTF-8 (é, ✓, an emoji, right-to-left and line-separator characters), signed over its raw bytes, is accepted and delivered byte for byte",
		"conformance/RULES.md S2 (hash bytes, never decoded text)",
		nil, verifyVariant{skip: skipFormSigned, probes: unicodeBody}.run),
}

// A verifyVariant is a Verify rule run over every preset it applies to.
type verifyVariant struct {
	// skip says why the rule does not apply to a scheme; "" when it does.
	// Nil applies the rule to every preset.
	skip func(s signer.Scheme) string
	// keys is how many secrets each endpoint verifies with; 0 means 1.
	keys int
	// probes returns the requests for one endpoint and what each must
	// come to.
	probes func(x *exchange, e presetEndpoint) []verifyProbe
}

// presetEndpoint is one provisioned endpoint of a Verify case.
type presetEndpoint struct {
	// scheme is the endpoint's effective scheme.
	scheme signer.Scheme
	// ep is the endpoint's index for Request.Endpoint.
	ep int
	// tolerance is the endpoint's effective tolerance.
	tolerance time.Duration
	// sample is a realistic body for the preset.
	sample presetSample
}

// A verifyProbe is one request of a Verify case and its expected outcome:
// accepted (the profile's accepted answer, see WantAccepted) and delivered
// once to the trigger "all", or rejected (see WantRejected) and delivered
// nowhere.
type verifyProbe struct {
	req    request
	accept bool
	// either lets the target choose, where both are safe: accepted and
	// delivered once, or rejected and delivered nowhere; the answer's
	// status says which it chose (see eitherAccepted). Never accepted
	// without its delivery, nor delivered while rejected.
	either bool
	// wakesNothing, with accept, wants the request accepted and delivered
	// nowhere: a known defect of the run's profile, which the probe's
	// maker notes with x.expected.
	wakesNothing bool
	// aim, when set, is the clock offset the signature's timestamp should
	// be written at; the request's SignOffset is set from it (see
	// aimedOffset) just before it is sent.
	aim *aimedAt
}

// aimedAt is a timestamp offset and whether the written whole-second
// timestamp must be rounded up instead of down. margin is how far inside
// (or outside) the tolerance the offset lies: a probe answered more than
// margin after its timestamp was aimed may have been verified on the
// other side of the boundary, and is not judged (see sendVerifyProbes).
type aimedAt struct {
	offset time.Duration
	up     bool
	margin time.Duration
}

// boundaryMargin is how far inside or outside tolerance t the timestamp
// cases sign: a tenth of t, at least 1 s, at most 10 s. The wider the
// margin, the slower a loaded machine may answer before a verdict proves
// nothing about the target.
func boundaryMargin(t time.Duration) time.Duration {
	return min(max(t/10, time.Second), 10*time.Second)
}

// boundaryTries is how often a timestamp probe is sent before, every
// answer having come later than its margin, it is left unjudged.
const boundaryTries = 3

// run provisions one endpoint per applicable preset, sends every probe,
// and checks the answers and, in two batches, the deliveries.
func (v verifyVariant) run(x *exchange) {
	var (
		probes      []verifyProbe
		notApplying = map[string][]string{}
		unavailable = map[string][]string{}
		covered     int
		presets     = signer.Presets()
	)
	for _, s := range presets {
		if v.skip != nil {
			if why := v.skip(s); why != "" {
				notApplying[why] = append(notApplying[why], s.Name)
				continue
			}
		}
		verify, sign := newKeys(s, max(v.keys, 1))
		spec := sim.EndpointSpec{Source: s.Name, Verify: &sim.VerifySpec{Preset: s.Name, Secrets: verify},
			Triggers: []sim.TriggerSpec{trig("all", "")}}
		i, why := x.TryProvision(spec, sign)
		if i < 0 {
			unavailable[why] = append(unavailable[why], s.Name)
			continue
		}
		covered++
		e := presetEndpoint{scheme: x.Scheme(i), ep: i, tolerance: x.verifyTolerance(i)}
		smp, err := presetSampleFor(e.scheme, time.Now())
		if err != nil {
			x.Errorf("%s: %v; using a generic body", s.Name, err)
		}
		e.sample = smp
		for _, p := range v.probes(x, e) {
			p.req.Endpoint = i
			probes = append(probes, p)
		}
	}
	x.Logf("covered %d of %d presets%s%s", covered, len(presets), listReasons("; not applicable: ", notApplying), listReasons("; not provisioned: ", unavailable))
	if covered == 0 {
		x.Skipf("skipped: no preset endpoint this case applies to could be provisioned%s", listReasons(": ", unavailable))
	}
	rs := sendVerifyProbes(x, probes, 8)
	var accepted, rejected, quiet []*response
	for i, r := range rs {
		if r == nil {
			continue // not judged (see sendAimed)
		}
		accept := probes[i].accept
		if probes[i].either {
			var judged bool
			if accept, judged = x.eitherAccepted(r); !judged {
				continue
			}
		}
		if accept {
			x.WantAccepted(r)
			if probes[i].wakesNothing {
				quiet = append(quiet, r)
				continue
			}
			accepted = append(accepted, r)
			continue
		}
		x.WantRejected(r)
		rejected = append(rejected, r)
	}
	if len(accepted) > 0 {
		x.WantDeliveries(map[string]int{"all": 1}, accepted...)
	}
	if len(rejected) > 0 {
		x.WantNoDeliveries(rejected...)
	}
	if len(quiet) > 0 {
		x.WantNoDeliveries(quiet...)
	}
}

// eitherAccepted says how to judge the answer to a request the target
// may accept or reject: as accepted (a 2xx: then delivered once) or as
// rejected (a 4xx but 404: then delivered nowhere). judged is false, with
// a violation, when the answer is neither (a 5xx, a 404, a transport
// error). Under triggerdev-v2 every answer is 200 and the request starts
// one run either way, which verifies or fails verification and is marked
// verified: false (Trigger.dev v2 joins the values of a repeated header
// with ", ", which some schemes still parse as a list, conformance/RULES.md
// T2): it is judged accepted, one delivery of either kind.
func (x *exchange) eitherAccepted(r *response) (accepted, judged bool) {
	switch {
	case !x.ok(r):
		return false, false
	case x.env.rules.verifyInRun:
		return true, true
	case r.Status/100 == 2:
		return true, true
	case r.Status/100 == 4 && r.Status != http.StatusNotFound:
		return false, true
	}
	x.Errorf("%s: status = %d, want the answer of an accepted request (%s, then delivered once) or of a rejected one (%s, nothing delivered)%s",
		r.desc, r.Status, statusList(x.env.rules.accept, "2xx"), statusList(x.env.rules.reject, "4xx (not 404)"), bodyNote(r))
	return false, false
}

// verifyTolerance returns the accepted clock skew of endpoint i: its spec's, or
// else its scheme's default.
func (x *exchange) verifyTolerance(i int) time.Duration {
	st := x.eps[i]
	if st.spec.Verify != nil && st.spec.Verify.Tolerance > 0 {
		return st.spec.Verify.Tolerance
	}
	return st.scheme.Tolerance
}

// sendVerifyProbes sends the probes with at most parallel in flight; an aimed
// probe gets its SignOffset just before it is built, and its answer is
// nil when it is not judged (see sendAimed).
func sendVerifyProbes(x *exchange, ps []verifyProbe, parallel int) []*response {
	out := make([]*response, len(ps))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i := range ps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if ps[i].aim == nil {
				out[i] = x.Send(ps[i].req)
				return
			}
			out[i] = sendAimed(x, ps[i].req, *ps[i].aim)
		}()
	}
	wg.Wait()
	return out
}

// sendAimed sends r with its timestamp aimed as a says, and returns the
// answer, or nil when every one of boundaryTries answers came more than
// a.margin after the aim: such an answer could be the verdict of a
// moment past the boundary the timestamp was aimed at (a stale timestamp
// that aged out in transit, a future one that came within tolerance), so
// it proves nothing about the target, and the probe is sent again with a
// fresh timestamp. A transport error is returned, and judged, at once.
func sendAimed(x *exchange, r request, a aimedAt) *response {
	for try := 1; ; try++ {
		aimed := time.Now()
		r.SignOffset = aimedOffset(aimed, a.offset, a.up)
		resp := x.Send(r)
		took := resp.at.Sub(aimed)
		if resp.Err != nil || took < a.margin {
			return resp
		}
		if try == boundaryTries {
			x.Logf("%s: not judged: each of %d answers came %s or more after its timestamp was aimed, past the %s margin (a loaded machine?)", resp.desc, boundaryTries, a.margin, a.margin)
			return nil
		}
		x.Logf("%s: answered %s after its timestamp was aimed, past the %s margin: sent again", resp.desc, took.Round(time.Millisecond), a.margin)
	}
}

// aimedOffset returns the SignOffset that makes a whole-second timestamp
// land on the safe side of now+d. Timestamps in seconds are written
// truncated, which moves them up to 1 s into the past; for the cases where
// that would bring them closer to the tolerance boundary (a stale
// timestamp that must still be accepted, a future one that must be
// rejected), up rounds the signing instant to the next whole second (plus
// 50 ms) instead, so the written timestamp is never on the wrong side of
// now+d. Without up, the offset is d.
func aimedOffset(now time.Time, d time.Duration, up bool) time.Duration {
	if !up {
		return d
	}
	t := now.Add(d)
	c := t.Truncate(time.Second)
	if c.Before(t) {
		c = c.Add(time.Second)
	}
	return c.Add(50 * time.Millisecond).Sub(now)
}

// --- which presets a rule applies to ---

// schemeMessage returns a scheme's message template, defaulted as signer does.
func schemeMessage(s signer.Scheme) string {
	if s.Message == "" {
		return "{body}"
	}
	return s.Message
}

// signsParams reports a scheme that signs the form parameters of the body
// rather than its bytes (Twilio, Mandrill).
func signsParams(s signer.Scheme) bool {
	return s.Algorithm != signer.Token && strings.Contains(schemeMessage(s), "{params}")
}

// bodyCoverage says why a scheme's signature does not cover the body, or
// "" when it does: through {body}, through {params} of a form body, or
// through a body hash in the URL.
func bodyCoverage(s signer.Scheme) string {
	switch {
	case s.Algorithm == signer.Token:
		return "a token scheme signs nothing"
	case strings.Contains(schemeMessage(s), "{body}"), signsParams(s), s.BodyHashParam != "":
		return ""
	}
	return "the signature does not cover the body"
}

func skipUnlessBodyCovered(s signer.Scheme) string { return bodyCoverage(s) }

// headerSigned reports a scheme whose signature lives in a header.
func headerSigned(s signer.Scheme) bool { return s.Syntax.Kind != signer.InBody && s.Header != "" }

func skipUnlessHeaderSigned(s signer.Scheme) string {
	if !headerSigned(s) {
		return "the signature is in the body"
	}
	return ""
}

func skipUnlessTolerance(s signer.Scheme) string {
	switch {
	case !s.HasTimestamp():
		return "no timestamp"
	case s.Tolerance <= 0:
		return "no default tolerance"
	}
	return ""
}

func skipUnlessSeveralSignatures(s signer.Scheme) string {
	if !s.MultipleSignatures && len(s.ExtraHeaders) == 0 {
		return "one signature per request"
	}
	return ""
}

func skipUnlessHeaders(s signer.Scheme) string {
	if len(s.Headers()) == 0 {
		return "sends no headers"
	}
	return ""
}

func skipFormSigned(s signer.Scheme) string {
	if signsParams(s) {
		return "signs form parameters, whose bytes are ASCII and not JSON"
	}
	return ""
}

// emptyBodyNeverSent lists the presets whose provider never sends an
// empty body, with the fact: a receiver for them need not take one, so
// EmptyBody does not apply to them, nor, for a declared app of theirs,
// Robustness/EmptyBodyWithJSONContentType. (Their official libraries
// show it: stripe-node's constructEvent parses the event it verifies,
// and octokit's verify throws on an empty payload.)
var emptyBodyNeverSent = map[string]string{
	// https://docs.stripe.com/api/events/object; stripe-node
	// constructEvent and stripe-go webhook.ConstructEvent parse the event.
	"stripe": "the provider never sends an empty body (every delivery is a JSON Event object) and its libraries verify and parse the event in one call, which fails on an empty body",
	// https://docs.github.com/en/webhooks/webhook-events-and-payloads;
	// @octokit/webhooks-methods verify() throws on an empty payload.
	"github": "the provider never sends an empty body (every delivery is a JSON object, even ping) and octokit's verify() refuses an empty payload",
}

func skipUnlessEmptyBodySignable(s signer.Scheme) string {
	if why, ok := emptyBodyNeverSent[s.Name]; ok {
		return why
	}
	switch {
	case s.Syntax.Kind == signer.InBody:
		return "the signature is in the body"
	case s.Timestamp.Source == signer.TimestampInBody:
		return "the timestamp is in the body"
	case signsParams(s):
		return "signs form parameters"
	}
	return ""
}

// --- bodies ---

// presetSampleSeed seeds the fixture generator: bodies are the same on every
// run, apart from their timestamps.
const presetSampleSeed = 1

// A presetSample is a realistic delivery for a preset.
type presetSample struct {
	// from names where the body comes from, for labels.
	from        string
	body        []byte
	contentType string
	header      http.Header
	query       string
}

// request returns a request carrying the sample.
func (s presetSample) request(label string) request {
	return request{Label: label + ", " + s.from, Body: bytes.Clone(s.body), ContentType: s.contentType, Header: freshDeliveryIDs(s.header), Query: s.query}
}

var presetFixtures = sync.OnceValue(func() map[string]*fixtures.Fixture {
	m := map[string]*fixtures.Fixture{}
	for _, f := range fixtures.All() {
		if f.Preset == "" || f.Unsigned || (f.Method != "" && f.Method != http.MethodPost) {
			continue
		}
		if _, ok := m[f.Preset]; !ok {
			m[f.Preset] = f
		}
	}
	return m
})

// genericPresetJSON is the body of presets without a fixture.
const genericPresetJSON = `{"id":"evt_01HQ3C9V7YB2","type":"conformance.check","created":1700000000,"data":{"object":"check","ok":true,"name":"hooklab"}}`

// presetSampleFor returns the first POST fixture of s's preset rendered
// at now; else a form body for form-parameter schemes, or a small JSON
// object. When the fixture does not render it returns the generic body
// and the error.
func presetSampleFor(s signer.Scheme, now time.Time) (presetSample, error) {
	var err error
	if f, ok := presetFixtures()[s.Name]; ok {
		d, rerr := f.Render(presetSampleSeed, now)
		if rerr == nil {
			h := d.Header.Clone()
			h.Del("Content-Type")
			return presetSample{from: "fixture " + f.Name, body: d.Body, contentType: f.ContentType, header: h, query: d.Query}, nil
		}
		err = fmt.Errorf("fixture %s: Render(%d, now) = %w, want a delivery", f.Name, presetSampleSeed, rerr)
	}
	if signsParams(s) {
		body := "mandrill_events=" + url.QueryEscape(`[{"event":"send","ts":1700000000,"msg":{"email":"ada@example.com","subject":"Welcome"}}]`)
		return presetSample{from: "generic form body", body: []byte(body), contentType: "application/x-www-form-urlencoded", header: http.Header{}}, err
	}
	return presetSample{from: "generic JSON body", body: []byte(genericPresetJSON), contentType: "application/json", header: http.Header{}}, err
}

// --- tampering ---

// builtBody returns the body of a built request without consuming it.
func builtBody(r *http.Request) []byte {
	if r.GetBody == nil {
		return nil
	}
	rc, err := r.GetBody()
	if err != nil {
		return nil
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}

// replaceBody replaces a built request's body, keeping Content-Length and
// GetBody (from which the suite records what was sent) in step.
func replaceBody(r *http.Request, b []byte) {
	r.ContentLength = int64(len(b))
	if len(b) == 0 {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// changeOneByte returns a copy of b with one byte changed and the offset
// of that byte: a lower-case letter inside a word (both neighbours are
// letters), searched from the middle of the body, becomes the next letter,
// so JSON and form bodies stay well-formed. Without such a letter the
// last byte's lowest bit is flipped.
func changeOneByte(b []byte) ([]byte, int) {
	out := bytes.Clone(b)
	if len(out) == 0 {
		return out, -1
	}
	letter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	inWord := func(i int) bool {
		return i > 0 && i+1 < len(out) && out[i] >= 'a' && out[i] <= 'z' && letter(out[i-1]) && letter(out[i+1])
	}
	for k := range out {
		i := (len(out)/2 + k) % len(out)
		if inWord(i) {
			if out[i] == 'z' {
				out[i] = 'y'
			} else {
				out[i]++
			}
			return out, i
		}
	}
	i := len(out) - 1
	out[i] ^= 1
	return out, i
}

// signatureHeaders returns the canonical names of a scheme's signature
// headers.
func signatureHeaders(s signer.Scheme) []string {
	if !headerSigned(s) {
		return nil
	}
	hs := []string{http.CanonicalHeaderKey(s.Header)}
	for _, h := range s.ExtraHeaders {
		hs = append(hs, http.CanonicalHeaderKey(h))
	}
	return hs
}

// setSignature replaces every signature header: the main one with vals
// (none removes it), the extra ones removed.
func setSignature(r *http.Request, s signer.Scheme, vals ...string) {
	for _, h := range signatureHeaders(s) {
		delete(r.Header, h)
	}
	if len(vals) > 0 {
		r.Header[http.CanonicalHeaderKey(s.Header)] = vals
	}
}

// emptySignatureValue returns the signed header value with its signatures
// emptied and its syntax kept ("sha256=", "t=…,v1=", "v1,"), and false
// when that is just the empty value (a bare scheme with no prefix).
func emptySignatureValue(s signer.Scheme, signed string) (string, bool) {
	switch s.Syntax.Kind {
	case signer.Bare:
		return s.Syntax.Prefix, s.Syntax.Prefix != ""
	case signer.VersionedList:
		return s.Syntax.SignatureKey + ",", true
	case signer.KeyValue:
		sep := strings.TrimSpace(s.Syntax.Separator)
		if sep == "" {
			sep = ","
		}
		parts := strings.Split(signed, sep)
		for i, p := range parts {
			k, _, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && k == s.Syntax.SignatureKey {
				parts[i] = p[:len(p)-len(strings.TrimLeft(p, " "))] + k + "="
			}
		}
		return strings.Join(parts, sep), true
	}
	return "", false
}

// renameHeaders moves each of names (any case) to the spelling f gives
// it.
func renameHeaders(h http.Header, names []string, f func(string) string) {
	for _, n := range names {
		c := http.CanonicalHeaderKey(n)
		if vs, ok := h[c]; ok {
			delete(h, c)
			h[f(n)] = vs
		}
	}
}

// bogusSignature returns a well-formed signature header value for r made
// with keys the endpoint does not hold.
func bogusSignature(s signer.Scheme, keys signer.KeySet, r *http.Request) string {
	p, err := signer.Sign(s, keys, signer.Payload{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: builtBody(r)})
	if err != nil {
		return "bogus"
	}
	return p.Header.Get(s.Header)
}

// strangerKeys returns n fresh signing keys for s that no endpoint holds.
func strangerKeys(s signer.Scheme, n int) signer.KeySet {
	_, sign := newKeys(s, n)
	return sign
}

// --- the variants' probes ---

func validSignature(x *exchange, e presetEndpoint) []verifyProbe {
	return []verifyProbe{{req: e.sample.request("valid signature"), accept: true}}
}

func bodyChangedByOneByte(x *exchange, e presetEndpoint) []verifyProbe {
	r := e.sample.request("valid signature, then one byte of the body changed (same length)")
	r.After = func(req *http.Request) {
		b, _ := changeOneByte(builtBody(req))
		replaceBody(req, b)
	}
	return []verifyProbe{{req: r}}
}

func queryString(x *exchange, e presetEndpoint) []verifyProbe {
	withQuery := e.sample.request("valid signature over a URL with ?hl=1")
	withQuery.Query = joinQuery(withQuery.Query, "hl=1")
	changed := e.sample.request("valid signature, then ?hl=2 added to the URL")
	changed.After = func(req *http.Request) {
		req.URL.RawQuery = joinQuery(req.URL.RawQuery, "hl=2")
	}
	return []verifyProbe{{req: withQuery, accept: true}, {req: changed, accept: !e.scheme.NeedsURL()}}
}

func joinQuery(q, more string) string {
	if q == "" {
		return more
	}
	return q + "&" + more
}

func wrongSecret(x *exchange, e presetEndpoint) []verifyProbe {
	r := e.sample.request("signed with another secret")
	r.Keys = strangerKeys(e.scheme, 1)
	return []verifyProbe{{req: r}}
}

func missingSignatureHeader(x *exchange, e presetEndpoint) []verifyProbe {
	r := e.sample.request("signature header " + strings.Join(signatureHeaders(e.scheme), ", ") + " removed")
	r.After = func(req *http.Request) { setSignature(req, e.scheme) }
	return []verifyProbe{{req: r}}
}

// malformedValue is a signature header value of no scheme's shape: no
// prefix, no key=value pair, no version entry, neither hex nor base64.
const malformedValue = "~~not a signature~~"

func malformedSignatureHeader(x *exchange, e presetEndpoint) []verifyProbe {
	r := e.sample.request(fmt.Sprintf("signature header %s = %q", e.scheme.Header, malformedValue))
	r.After = func(req *http.Request) { setSignature(req, e.scheme, malformedValue) }
	return []verifyProbe{{req: r}}
}

func emptySignature(x *exchange, e presetEndpoint) []verifyProbe {
	s := e.scheme
	empty := e.sample.request(fmt.Sprintf("signature header %s present and empty", s.Header))
	empty.After = func(req *http.Request) { setSignature(req, s, "") }
	ps := []verifyProbe{{req: empty}}
	if _, ok := emptySignatureValue(s, ""); ok {
		kept := e.sample.request(fmt.Sprintf("signature header %s with its syntax but an empty signature", s.Header))
		kept.After = func(req *http.Request) {
			v, _ := emptySignatureValue(s, req.Header.Get(s.Header))
			setSignature(req, s, v)
		}
		ps = append(ps, verifyProbe{req: kept})
	}
	return ps
}

func staleTimestamp(x *exchange, e presetEndpoint) []verifyProbe {
	t := e.tolerance
	m := boundaryMargin(t)
	old := e.sample.request(fmt.Sprintf("timestamp now-%s, tolerance %s", t+m, t))
	old.SignOffset = -(t + m)
	ps := []verifyProbe{{req: old}}
	if t <= m {
		x.Logf("%s: tolerance %s leaves no timestamp %s inside it", e.scheme.Name, t, m)
		return ps
	}
	recent := e.sample.request(fmt.Sprintf("timestamp now-%s, tolerance %s", t-m, t))
	return append(ps, verifyProbe{req: recent, accept: true, aim: &aimedAt{offset: -(t - m), up: true, margin: m}})
}

func futureTimestamp(x *exchange, e presetEndpoint) []verifyProbe {
	t := e.tolerance
	m := boundaryMargin(t)
	var ps []verifyProbe
	if t > m {
		near := e.sample.request(fmt.Sprintf("timestamp now+%s, tolerance %s", t-m, t))
		near.SignOffset = t - m
		ps = append(ps, verifyProbe{req: near, accept: true})
	}
	if e.scheme.PastOnly {
		x.Logf("%s: past-only tolerance, so a timestamp ahead of now+%s is not checked", e.scheme.Name, t)
		return ps
	}
	far := e.sample.request(fmt.Sprintf("timestamp now+%s, tolerance %s", t+m, t))
	return append(ps, verifyProbe{req: far, aim: &aimedAt{offset: t + m, up: true, margin: m}})
}

func rotatedSecrets(x *exchange, e presetEndpoint) []verifyProbe {
	keys := x.SignKeys(e.ep)
	if len(keys) < 2 {
		x.Errorf("%s: endpoint has %d signing key(s), want 2 (new, old)", e.scheme.Name, len(keys))
		return nil
	}
	newer := e.sample.request("signed with the newer of two secrets only")
	newer.Keys = signer.KeySet{keys[0]}
	older := e.sample.request("signed with the older of two secrets only")
	older.Keys = signer.KeySet{keys[1]}
	neither := e.sample.request("signed with a third secret the endpoint does not hold")
	neither.Keys = strangerKeys(e.scheme, 1)
	return []verifyProbe{{req: newer, accept: true}, {req: older, accept: true}, {req: neither}}
}

func severalSignatures(x *exchange, e presetEndpoint) []verifyProbe {
	where := "in " + e.scheme.Header
	if len(e.scheme.ExtraHeaders) > 0 {
		where = "in " + e.scheme.Header + " and " + strings.Join(e.scheme.ExtraHeaders, ", ")
	}
	oneValid := e.sample.request("two signatures " + where + ": a bogus one, then a valid one")
	oneValid.Keys = append(strangerKeys(e.scheme, 1), x.SignKeys(e.ep)[0])
	allBogus := e.sample.request("two bogus signatures " + where)
	allBogus.Keys = strangerKeys(e.scheme, 2)
	return []verifyProbe{{req: oneValid, accept: true}, {req: allBogus}}
}

func headerNameCase(x *exchange, e presetEndpoint) []verifyProbe {
	names := e.scheme.Headers()
	lower := e.sample.request("header names in lower case: " + strings.ToLower(strings.Join(names, ", ")))
	lower.After = func(req *http.Request) { renameHeaders(req.Header, names, strings.ToLower) }
	upper := e.sample.request("header names in upper case: " + strings.ToUpper(strings.Join(names, ", ")))
	upper.After = func(req *http.Request) { renameHeaders(req.Header, names, strings.ToUpper) }
	return []verifyProbe{{req: lower, accept: true}, {req: upper, accept: true}}
}

func duplicatedHeader(x *exchange, e presetEndpoint) []verifyProbe {
	s := e.scheme
	canon := http.CanonicalHeaderKey(s.Header)
	oneValid := e.sample.request(s.Header + " sent twice: a bogus value, then the valid one")
	oneValid.After = func(req *http.Request) {
		req.Header[canon] = append([]string{bogusSignature(s, strangerKeys(s, 1), req)}, req.Header[canon]...)
	}
	twoBogus := e.sample.request(s.Header + " sent twice, both values bogus")
	twoBogus.After = func(req *http.Request) {
		req.Header[canon] = []string{bogusSignature(s, strangerKeys(s, 1), req), bogusSignature(s, strangerKeys(s, 1), req)}
	}
	if tdv2(x) {
		// Trigger.dev v2 joins the two values: whether the joined value
		// verifies is known exactly for each scheme.
		x.expected(tdNoteJoined)
		return []verifyProbe{{req: oneValid, accept: tdJoinedVerifies(x, e)}, {req: twoBogus}}
	}
	return []verifyProbe{{req: oneValid, either: true}, {req: twoBogus}}
}

// reserializableJSON is valid JSON that no encoder writes back the same:
// spaces and a newline, keys out of order, an escaped é, HTML characters
// and a float with a zero fraction.
const reserializableJSON = "{ \"b\": 1.0,\n  \"a\": \"caf\\u00e9 <>&\" }"

func reserializedJSON(x *exchange, e presetEndpoint) []verifyProbe {
	r := request{Label: "valid signature over " + fmt.Sprintf("%q", reserializableJSON), Body: []byte(reserializableJSON), ContentType: "application/json"}
	return []verifyProbe{{req: r, accept: true}}
}

func trailingNewline(x *exchange, e presetEndpoint) []verifyProbe {
	smp := e.sample
	if !bytes.HasSuffix(smp.body, []byte("\n")) {
		smp.body = append(bytes.Clone(smp.body), '\n')
	}
	ps := []verifyProbe{{req: smp.request("body ending in \\n, signed with it"), accept: true}}
	if bodyCoverage(e.scheme) != "" {
		return ps
	}
	stripped := smp.request("body signed with a trailing \\n, sent without it")
	stripped.After = func(req *http.Request) { replaceBody(req, bytes.TrimSuffix(builtBody(req), []byte("\n"))) }
	return append(ps, verifyProbe{req: stripped})
}

// emptyBody sends the preset's sample with its body emptied: the headers
// the provider sends, the Content-Type its requests carry (GitHub sends
// one on every delivery) and its query.
func emptyBody(x *exchange, e presetEndpoint) []verifyProbe {
	r := e.sample.request("valid signature over an empty body, Content-Type " + e.sample.contentType)
	r.Body = nil
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set("Content-Type", e.sample.contentType)
	if x.env.rules.is(ProfileTriggerDevV2) && strings.Contains(e.sample.contentType, "application/json") {
		x.expected("Trigger.dev v2 parses a body whose content-type contains application/json with JSON.parse, which throws on an empty body: the request is answered 200 and no trigger fires (conformance/RULES.md T5)")
		return []verifyProbe{{req: r, accept: true, wakesNothing: true}}
	}
	return []verifyProbe{{req: r, accept: true}}
}

// unicodeJSON holds é (2 bytes), ✓ (3 bytes), 😀 (4 bytes), a right-to-left
// mark, Hebrew, and U+2028, which encoding/json escapes when re-encoding.
const unicodeJSON = "{\"text\":\"caf\u00e9 \u2713 \U0001F600 \u200f\u05e9\u05dc\u05d5\u05dd\u200e\",\"sep\":\"line\u2028break\"}"

func unicodeBody(x *exchange, e presetEndpoint) []verifyProbe {
	r := request{Label: "valid signature over multi-byte UTF-8 (é ✓ 😀 RLM, U+2028)", Body: []byte(unicodeJSON), ContentType: "application/json; charset=utf-8"}
	return []verifyProbe{{req: r, accept: true}}
}

// policyCases are the rules of this project that no provider requires
// (conformance/RULES.md P1): opt-in, with Policy(true), and reported
// apart from conformance.
var policyCases = []check{
	// GitHub still sends the SHA-1 X-Hub-Signature and its docs only say
	// to validate X-Hub-Signature-256; go-github v75's ValidatePayload
	// falls back to SHA-1. Refusing SHA-1 is hooklab's policy.
	def(GroupPolicy, "AlgorithmDowngrade",
		"a GitHub endpoint verifies X-Hub-Signature-256 only: a request that carries just the legacy SHA-1 X-Hub-Signature, or a sha1= value in the SHA-256 header, is rejected and nothing is delivered, even though the SHA-1 signature is right",
		"conformance/RULES.md P1 (hooklab's policy: no silent algorithm downgrade, counter to go-github's SHA-1 fallback) and S4 (the scheme fixes the algorithm); GitHub docs, which describe only X-Hub-Signature-256: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
		presetSpec("github", trig("all", "")),
		func(x *exchange) {
			key := x.SignKeys(0)[0]
			body := []byte(`{"action":"opened","number":7}`)
			m := hmac.New(sha1.New, key.Bytes())
			m.Write(body)
			sig1 := "sha1=" + hex.EncodeToString(m.Sum(nil))
			legacy := x.Send(request{Label: "only X-Hub-Signature: sha1=<valid HMAC-SHA1>", Body: body,
				After: func(r *http.Request) {
					r.Header.Del("X-Hub-Signature-256")
					r.Header.Set("X-Hub-Signature", sig1)
				}})
			confused := x.Send(request{Label: "X-Hub-Signature-256: sha1=<valid HMAC-SHA1>", Body: body,
				After: func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", sig1) }})
			for _, r := range []*response{legacy, confused} {
				x.WantRejected(r)
			}
			x.WantNoDeliveries(legacy, confused)
		}),
}
