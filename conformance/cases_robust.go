package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

var robustnessCases = []check{
	def(GroupRobustness, "UnknownEndpoint",
		"a request to a path that names no endpoint is answered 404 (under strict with a JSON error) and wakes nothing",
		refTriggerFlow+" (404 Could not find http endpoint)",
		presetSpec(targetPreset, trig("all", "")),
		func(x *exchange) {
			r := x.Send(request{Label: "valid signature, unknown endpoint id", Body: []byte(`{"zen":"hi"}`),
				After: func(r *http.Request) { r.URL.Path = strings.TrimRight(r.URL.Path, "/") + "-missing" }})
			x.WantError(r, http.StatusNotFound)
			x.WantNoDeliveries(r)
		}),
	def(GroupRobustness, "OversizeBody",
		"a body over the endpoint's limit is answered 413 before verification and wakes nothing; a body at the limit is accepted",
		refHTTPSemantics+" §15.5.14 (413 Content Too Large)",
		nil,
		func(x *exchange) {
			limit := provisionLimited(x, 1024)
			at := x.Send(request{Label: fmt.Sprintf("valid signature, body of exactly maxBody (%d) bytes", limit), Body: jsonOfSize(int(limit))})
			over := x.Send(request{Label: "valid signature, body one byte over maxBody", Body: jsonOfSize(int(limit) + 1)})
			x.WantAccepted(at)
			if tdv2(x) {
				x.expected(tdNoteNoLimit)
				x.WantAccepted(over)
				x.tdWantRuns(tdVerified("all"), at, over)
				return
			}
			x.WantError(over, http.StatusRequestEntityTooLarge)
			if envelopeSize(limit) > sim.DefaultSinkMaxBody {
				// A declared app's large limit: the envelope of a body
				// that size is over what the sink takes.
				x.Logf("%s: delivery not checked: its envelope (about %d bytes) is over the sink's limit of %d", at, envelopeSize(limit), sim.DefaultSinkMaxBody)
			} else {
				x.WantDeliveries(map[string]int{"all": 1}, at)
			}
			x.WantNoDeliveries(over)
		}),
	def(GroupRobustness, "MalformedJSONWithJSONContentType",
		"a validly signed body that is not JSON despite a JSON content type is accepted: body filters do not match it and unfiltered triggers still fire",
		refTriggerFilter+"; Trigger.dev v2 instead blocks every trigger when JSON.parse throws (conformance/RULES.md T5), which loses deliveries",
		presetSpec(targetPreset, trig("all", ""), trig("by-body", `{"body":{"action":["opened"]}}`)),
		func(x *exchange) {
			r := x.Send(request{Label: `valid signature, body {"action":"opened" (truncated)`, Body: []byte(`{"action":"opened"`)})
			wantUnparsedAccepted(x, r)
		}),
	def(GroupRobustness, "UnsupportedMethod",
		"a method outside GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS is answered 405 and wakes nothing",
		refHTTPSemantics+" §15.5.6 (405); Trigger.dev's Remix route takes only loader and action methods (conformance/RULES.md T3)",
		presetSpec(targetPreset, trig("all", "")),
		func(x *exchange) {
			trace := x.Send(request{Label: "TRACE, valid signature", Method: "TRACE"})
			purge := x.Send(request{Label: "PURGE, valid signature", Method: "PURGE", Body: []byte(`{}`)})
			x.WantStatus(trace, http.StatusMethodNotAllowed)
			x.WantStatus(purge, http.StatusMethodNotAllowed)
			x.WantNoDeliveries(trace, purge)
		}),
	def(GroupRobustness, "SlowClient",
		"a body that arrives slowly, in pieces, is read whole before it is verified and delivered byte for byte",
		"webhook senders on slow links; net/http request bodies are streams (conformance/RULES.md H3)",
		presetSpec(targetPreset, trig("all", "")),
		func(x *exchange) {
			body := jsonOfSize(4096)
			r := x.Send(request{Label: "valid signature, 4 KiB body sent in 8 pieces over 400 ms", Body: body,
				After: func(r *http.Request) {
					r.Body = io.NopCloser(&trickle{r: bytes.NewReader(body), chunk: 512, pause: 50 * time.Millisecond})
				}})
			x.WantAccepted(r)
			x.WantDeliveries(map[string]int{"all": 1}, r)
		}),
}

// More robustness rules: body sizes and bytes, connection reuse, and what
// an error answer may say.
var robustnessBodyCases = []check{
	def(GroupRobustness, "OversizeChunkedBody",
		"a body over the endpoint's limit sent without a Content-Length (chunked) is refused (413, or the connection closed before the whole body is sent) and wakes nothing: the limit is enforced while reading, not only from the declared length",
		refHTTPSemantics+" §15.5.14; RFC 9112 §7.1 (chunked transfer coding), https://www.rfc-editor.org/rfc/rfc9112#section-7.1",
		nil,
		func(x *exchange) {
			limit := provisionLimited(x, 1024)
			// 4×maxBody, or 4 MiB over a large one.
			size := min(4*limit, limit+4<<20)
			r := x.Send(request{Label: fmt.Sprintf("valid signature, chunked body of %d bytes, maxBody %d", size, limit), Body: jsonOfSize(int(size)),
				After: func(r *http.Request) {
					r.Body = io.NopCloser(io.MultiReader(r.Body)) // hide the length
					r.ContentLength = -1
				}})
			if tdv2(x) {
				x.expected(tdNoteNoLimit)
				x.WantAccepted(r)
				x.tdWantRuns(tdVerified("all"), r)
				return
			}
			if r.Status == 0 && closedMidBody(r.Err) {
				// RFC 9110 §15.5.14 lets the server close the connection
				// instead of reading the rest: the sender sees the reset.
				x.Logf("%s: the server closed the connection before the whole body was sent (%v), which refuses it", r, r.Err)
			} else {
				x.WantStatus(r, http.StatusRequestEntityTooLarge)
			}
			x.WantNoDeliveries(r)
		}),
	def(GroupRobustness, "RejectionLeaksNoSecret",
		"a 401 answer says why verification failed but never contains the secret or the signature the endpoint expected, which would let anyone forge requests",
		"conformance/RULES.md S10; OWASP ASVS V7.1 (no sensitive data in error messages), https://owasp.org/www-project-asvs/; GitHub and Stripe docs: compare signatures in constant time and never reveal them",
		presetSpec(targetPreset, trig("all", "")),
		func(x *exchange) {
			key := x.SignKeys(0)[0]
			body := []byte(`{"action":"opened","number":1}`)
			_, stranger := newKeys(x.Scheme(0), 1)
			var sent *http.Request
			r := x.Send(request{Label: "signed with another secret", Body: body, Keys: stranger,
				After: func(r *http.Request) { sent = r }})
			x.WantRejected(r)
			answer := string(r.Body)
			for k, vs := range r.Header {
				answer += "\n" + k + ": " + strings.Join(vs, ", ")
			}
			if strings.Contains(answer, string(key.Bytes())) {
				x.Errorf("%s: the answer contains the endpoint's secret", r)
			}
			if sent == nil {
				return
			}
			for _, mac := range expectedMACs(x.Scheme(0), x.SignKeys(0), sent, body, r.at) {
				if strings.Contains(strings.ToLower(answer), strings.ToLower(mac)) {
					x.Errorf("%s: the answer contains the signature the endpoint expected (%s)", r, x.Scheme(0).Header)
					break
				}
			}
			x.WantNoDeliveries(r)
		}),
	def(GroupRobustness, "InvalidUTF8Body",
		"a body that is not valid UTF-8, signed over its raw bytes, is verified over those bytes (not over decoded text, where invalid bytes become U+FFFD) and delivered byte for byte",
		"conformance/RULES.md T4 (rawBody is UTF-8-decoded, so HMAC verification of binary bodies fails) and S2 (hash bytes, never decoded text)",
		presetSpec(targetPreset, trig("all", "")),
		func(x *exchange) {
			r := x.Send(request{Label: `body {"note":"\xff\xfe\xfd"} (invalid UTF-8), valid signature`, Body: []byte("{\"note\":\"\xff\xfe\xfd\",\"ok\":true}")})
			x.WantAccepted(r)
			if tdv2(x) {
				x.expected(tdNoteUTF8)
				x.tdWantRuns(tdRuns{want: fltWake("all"), failed: true, reason: tdVerifyFails, body: tdUTF8(r.Sent)}, r)
				return
			}
			x.WantDeliveries(map[string]int{"all": 1}, r)
		}),
	def(GroupRobustness, "EmptyBodyWithJSONContentType",
		"a signed request with an empty body and a JSON content type is accepted: unfiltered triggers fire and body filters do not match (an empty body is not a parse error that drops the request); not for a declared app whose provider never sends an empty body",
		refTriggerFilter+"; Trigger.dev v2 instead throws in JSON.parse and triggers nothing (conformance/RULES.md T5)",
		nil,
		func(x *exchange) {
			if why, ok := emptyBodyNeverSent[x.preset()]; ok && isDeclared(x) {
				x.Skipf("skipped: the declared app's preset is %s: %s", x.preset(), why)
			}
			x.ProvisionPreset(targetPreset, nil, trig("all", ""), trig("by-body", `{"body":{"action":["opened"]}}`))
			r := x.Send(request{Label: "empty body, Content-Type: application/json, valid signature",
				Header: http.Header{"Content-Type": {"application/json"}}})
			wantUnparsedAccepted(x, r)
		}),
	def(GroupRobustness, "KeepAliveSequence",
		"25 requests sent one after another over one kept-alive connection are each answered and each delivered exactly once",
		"RFC 9112 §9.3 (persistent connections), https://www.rfc-editor.org/rfc/rfc9112#section-9.3; webhook senders reuse connections (conformance/RULES.md H3)",
		presetSpec(targetPreset, trig("all", "")),
		func(x *exchange) {
			var rs []*response
			for i := range 25 {
				r := x.Send(request{Label: fmt.Sprintf("request %d of 25 on one connection", i+1), Body: []byte(fmt.Sprintf(`{"seq":%d}`, i))})
				x.WantAccepted(r)
				rs = append(rs, r)
			}
			x.WantDeliveries(map[string]int{"all": 1}, rs...)
		}),
	def(GroupRobustness, "LargeBody",
		"a large JSON body under the endpoint's limit (512 KiB under the default 1 MiB; for an app that declares a smaller maxBody, 1 KiB under it), signed over its raw bytes, is accepted and delivered byte for byte",
		"GitHub caps payloads at 25 MB and Stripe events reach hundreds of KB; "+refVerifyRequest,
		nil,
		func(x *exchange) {
			size := 512 << 10
			if limit := provisionLimited(x, 0); limit > 0 && int64(size) > limit-1024 {
				size = int(max(limit-1024, 64))
			}
			var b strings.Builder
			b.WriteString(`{"items": [`)
			for i := 0; b.Len() < size-64; i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, `{"id": %d, "name": "item %d"}`, i, i)
			}
			b.WriteString("]}")
			r := x.Send(request{Label: fmt.Sprintf("%d-byte JSON body, valid signature", b.Len()), Body: []byte(b.String())})
			x.WantAccepted(r)
			x.WantDeliveries(map[string]int{"all": 1}, r)
		}),
}

// provisionLimited provisions the case's endpoint: the target's preset,
// a catch-all trigger and a body limit, the one a declared app declares
// (its manifest's maxBody) or else def bytes. It returns the limit.
func provisionLimited(x *exchange, def int64) int64 {
	limit := def
	if m, ok := x.env.target.(interface{ declaredMaxBody() int64 }); ok && m.declaredMaxBody() > 0 {
		limit = m.declaredMaxBody()
	}
	x.ProvisionPreset(targetPreset, func(s *sim.EndpointSpec) { s.MaxBody = limit }, trig("all", ""))
	return limit
}

// wantUnparsedAccepted checks the answer to a signed request whose JSON
// body does not parse: accepted, and delivered to the unfiltered trigger
// "all" only; under triggerdev-v2 accepted and delivered to none
// (JSON.parse throws).
func wantUnparsedAccepted(x *exchange, r *response) {
	x.WantAccepted(r)
	if tdv2(x) {
		x.expected(tdNoteParseFails)
		x.tdWantRuns(tdVerified(), r)
		return
	}
	x.WantDeliveries(map[string]int{"all": 1}, r)
}

// envelopeSize is about the size of the delivery envelope of an n-byte
// body: the body in base64, and 64 KiB for the rest.
func envelopeSize(n int64) int64 { return (n+2)/3*4 + 64<<10 }

// closedMidBody reports whether err is the connection closed by the
// server while the request body was still being written.
func closedMidBody(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// jsonOfSize returns a JSON object of exactly n bytes (n >= 10).
func jsonOfSize(n int) []byte {
	return []byte(`{"pad":"` + strings.Repeat("x", n-10) + `"}`)
}

// trickle reads chunk bytes at a time, pausing before each read.
type trickle struct {
	r     io.Reader
	chunk int
	pause time.Duration
}

func (t *trickle) Read(p []byte) (int, error) {
	time.Sleep(t.pause)
	if len(p) > t.chunk {
		p = p[:t.chunk]
	}
	return t.r.Read(p)
}

// expectedMACs returns the signatures an endpoint verifying with s and
// keys expects of sent (a request signed with other keys, whose body is
// body), answered at: the request signed with keys at each second from
// 3 s before at to at, its message id kept, each signature header value
// split into its parts, keeping those of 16 characters or more (the
// MACs, not "t=…" or "v1").
func expectedMACs(s signer.Scheme, keys signer.KeySet, sent *http.Request, body []byte, at time.Time) []string {
	h := sent.Header.Clone()
	h.Del(s.Header)
	var opts []signer.Option
	if s.IDHeader != "" {
		opts = append(opts, signer.ID(sent.Header.Get(s.IDHeader)))
	}
	p := signer.Payload{Method: sent.Method, URL: sent.URL.String(), Header: h, Body: body}
	var out []string
	for d := -3 * time.Second; d <= 0; d += time.Second {
		signed, err := signer.Sign(s, keys, p, append(opts, signer.At(at.Add(d)))...)
		if err != nil {
			continue
		}
		for _, v := range signed.Header.Values(s.Header) {
			for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '=' || r == ' ' || r == ';' }) {
				if len(part) >= 16 {
					out = append(out, part)
				}
			}
		}
	}
	return out
}
