package conformance

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// References of the provider handshakes.
const (
	refMetaVerify  = "Meta Webhooks, verification requests: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests"
	refSlackVerify = "Slack Events API, url_verification: https://api.slack.com/events/url_verification"
	refTwitchChall = "Twitch EventSub, responding to a challenge request: https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#responding-to-a-challenge-request"
	refZoomVerify  = "Zoom webhooks, validate your webhook endpoint (endpoint.url_validation): https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint"
	refZoomSigning = "Zoom webhooks, verify webhook events (x-zm-signature = v0=HMAC-SHA256(secret, \"v0:\" + timestamp + \":\" + body)): https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events"
)

// The RespondWith cases check an endpoint's own answer to handshake
// requests, Trigger.dev's respondWith: the filter decides, the declared
// response is answered exactly, skipTriggering or a status other than 200
// stops triggering, and handshakes are answered before verification.
var respondWithCases = []check{
	def(GroupRespondWith, "MatchAnswersDeclaredResponse",
		"a request the respondWith filter matches is answered with exactly the declared status, headers and body",
		refRespondWith+" (with skipTriggeringRuns, the handler's response is returned as is, whatever its status)",
		rwSpec("github", &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"headers":{"x-github-event":["ping"]}}`),
			SkipTriggering: true,
			Response: sim.ResponseSpec{Status: http.StatusAccepted,
				Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Hook-Handshake": "pong", "Cache-Control": "no-store"},
				Body:    "pong\n"},
		}, trig("all", "")),
		func(x *exchange) {
			r := x.Send(rwGitHub("ping", `{"zen":"Keep it logically awesome.","hook_id":1}`))
			x.WantStatus(r, http.StatusAccepted)
			x.WantHeader(r, "Content-Type", "text/plain; charset=utf-8")
			x.WantHeader(r, "X-Hook-Handshake", "pong")
			x.WantHeader(r, "Cache-Control", "no-store")
			x.WantBody(r, "pong\n")
			x.WantNoDeliveries(r)
		}),
	def(GroupRespondWith, "SkipTriggeringDeliversNothing",
		"with skipTriggering, a matching, validly signed request gets the declared response and wakes no trigger, not even one whose filter matches it",
		refRespondWith+" (with skipTriggeringRuns, no event is created and no runs are triggered)",
		rwSpec("github", &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"headers":{"x-github-event":["ping"]}}`),
			SkipTriggering: true,
			Response:       sim.ResponseSpec{Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"pong":true}`},
		}, trig("all", ""), trig("ping", `{"headers":{"x-github-event":["ping"]}}`)),
		func(x *exchange) {
			ping := x.Send(rwGitHub("ping", `{"zen":"Design for failure.","hook_id":2}`))
			push := x.Send(rwGitHub("push", `{"ref":"refs/heads/main"}`))
			x.WantStatus(ping, http.StatusOK)
			x.WantBody(ping, `{"pong":true}`)
			rwWantNormal(x, push, 1)
			x.WantNoDeliveries(ping)
			x.WantDeliveries(fltWake("all"), push)
		}),
	def(GroupRespondWith, "WithoutSkipTriggeringRespondsAndDelivers",
		"without skipTriggering and with status 200, a matching, validly signed request gets the declared response and also wakes every trigger whose filter matches it",
		refRespondWith+" (a handler status of 200 goes on to trigger, and the handler's response is returned)",
		rwSpec("github", &sim.RespondWithSpec{
			Filter:   json.RawMessage(`{"headers":{"x-github-event":["issues"]}}`),
			Response: sim.ResponseSpec{Status: http.StatusOK, Headers: map[string]string{"X-Accepted-By": "respond-with"}, Body: "accepted"},
		}, trig("all", ""), trig("issues", `{"headers":{"x-github-event":["issues"]}}`), trig("push", `{"headers":{"x-github-event":["push"]}}`)),
		func(x *exchange) {
			r := x.Send(rwGitHub("issues", `{"action":"opened"}`))
			x.WantStatus(r, http.StatusOK)
			x.WantHeader(r, "X-Accepted-By", "respond-with")
			x.WantBody(r, "accepted")
			x.WantDeliveries(fltWake("all", "issues"), r)
		}),
	def(GroupRespondWith, "NoMatchTakesNormalPath",
		"a request the respondWith filter does not match (here a header value differing only in case) gets the normal 200 answer and its deliveries, not the declared response",
		refRespondWith+" (if the filter does not match, skipTriggeringRuns is ignored and the request is a normal webhook); conformance/RULES.md F1 item 3 (exact values)",
		rwSpec("github", &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"headers":{"x-github-event":["ping"]}}`),
			SkipTriggering: true,
			Response:       sim.ResponseSpec{Body: "pong"},
		}, trig("all", ""), trig("push", `{"headers":{"x-github-event":["push"]}}`)),
		func(x *exchange) {
			push := x.Send(rwGitHub("push", `{"ref":"refs/heads/main"}`))
			ping := x.Send(rwGitHub("Ping", `{"zen":"Half measures are as bad as nothing at all."}`))
			rwWantNormal(x, push, 2)
			rwWantNormal(x, ping, 1)
			x.WantDeliveries(fltWake("all", "push"), push)
			x.WantDeliveries(fltWake("all"), ping)
		}),
	def(GroupRespondWith, "NonOKResponseStopsTriggering",
		"without skipTriggering, a declared status other than 200 (here 202) is answered and wakes no trigger",
		refRespondWith+" (without skipTriggeringRuns, a handler status that is not exactly 200 is returned and no runs are triggered)",
		rwSpec("github", &sim.RespondWithSpec{
			Filter:   json.RawMessage(`{"headers":{"x-github-event":["ping"]}}`),
			Response: sim.ResponseSpec{Status: http.StatusAccepted, Body: "later"},
		}, trig("all", ""), trig("ping", `{"headers":{"x-github-event":["ping"]}}`)),
		func(x *exchange) {
			ping := x.Send(rwGitHub("ping", `{"zen":"Approachable is better than simple."}`))
			push := x.Send(rwGitHub("push", `{"ref":"refs/heads/main"}`))
			x.WantStatus(ping, http.StatusAccepted)
			x.WantBody(ping, "later")
			rwWantNormal(x, push, 1)
			x.WantNoDeliveries(ping)
			x.WantDeliveries(fltWake("all"), push)
		}),
	def(GroupRespondWith, "RespondWithBeforeVerify",
		"an unsigned request that matches a skipTriggering respondWith is answered with the declared response (handshakes come before verification), while an unsigned request that does not match is answered 401",
		refRespondWith+" (respondWith runs before any verification; providers send handshakes before the secret is configured)",
		rwSpec("github", &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"headers":{"x-github-event":["ping"]}}`),
			SkipTriggering: true,
			Response:       sim.ResponseSpec{Body: "pong"},
		}, trig("all", "")),
		func(x *exchange) {
			ping := rwGitHub("ping", `{"zen":"Speak like a human."}`)
			ping.Unsigned, ping.Label = true, "X-GitHub-Event: ping, unsigned"
			push := rwGitHub("push", `{"ref":"refs/heads/main"}`)
			push.Unsigned, push.Label = true, "X-GitHub-Event: push, unsigned"
			a, b := x.Send(ping), x.Send(push)
			x.WantStatus(a, http.StatusOK)
			x.WantBody(a, "pong")
			x.WantRejected(b)
			x.WantNoDeliveries(a, b)
		}),
	def(GroupRespondWith, "WithoutSkipTriggeringStillVerifies",
		"when respondWith matches without skipTriggering, the request is still verified: an unsigned or wrongly signed one is answered 401, not the declared response, and wakes nothing",
		refRespondWith+"; "+refTriggerFlow+" (strict profile: verify at the door, 401 on failure)",
		rwSpec("github", &sim.RespondWithSpec{
			Filter:   json.RawMessage(`{"headers":{"x-github-event":["issues"]}}`),
			Response: sim.ResponseSpec{Body: "accepted"},
		}, trig("all", ""), trig("issues", `{"headers":{"x-github-event":["issues"]}}`)),
		func(x *exchange) {
			unsigned := rwGitHub("issues", `{"action":"opened"}`)
			unsigned.Unsigned, unsigned.Label = true, "X-GitHub-Event: issues, unsigned"
			_, wrong := newKeys(signer.GitHub(), 1)
			forged := rwGitHub("issues", `{"action":"opened"}`)
			forged.Keys, forged.Label = wrong, "X-GitHub-Event: issues, signed with another secret"
			rs := []*response{x.Send(unsigned), x.Send(forged)}
			if tdv2(x) {
				x.expected(tdNoteRespond)
				for _, r := range rs {
					x.WantStatus(r, http.StatusOK)
					x.WantBody(r, "accepted")
				}
				x.tdWantRuns(tdRuns{want: fltWake("all", "issues"), failed: true, reason: "Missing header"}, rs[0])
				x.tdWantRuns(tdRuns{want: fltWake("all", "issues"), failed: true, reason: tdVerifyFails}, rs[1])
				return
			}
			for _, r := range rs {
				x.WantRejected(r)
			}
			x.WantNoDeliveries(rs...)
		}),
	def(GroupRespondWith, "MetaHubChallenge",
		"an unsigned GET with hub.mode=subscribe and the right hub.verify_token is answered 200 with hub.challenge echoed as the whole body; with a wrong verify token it is not answered with the challenge",
		refMetaVerify+"; "+refRespondWith,
		nil,
		func(x *exchange) {
			token := rwRandomHex(12)
			x.ProvisionPreset("meta", func(s *sim.EndpointSpec) {
				s.RespondWith = &sim.RespondWithSpec{
					Filter:         json.RawMessage(`{"method":["GET"],"query":{"hub.mode":["subscribe"],"hub.verify_token":["` + token + `"]}}`),
					SkipTriggering: true,
					Response:       sim.ResponseSpec{Headers: map[string]string{"Content-Type": "text/plain"}, Body: `{{query "hub.challenge"}}`},
				}
			}, trig("all", ""))
			challenge := rwRandomDigits(10)
			right := x.Send(request{Label: "GET hub.mode=subscribe, right verify token, unsigned", Method: http.MethodGet, Unsigned: true,
				Query: "hub.mode=subscribe&hub.challenge=" + challenge + "&hub.verify_token=" + token})
			wrong := x.Send(request{Label: "GET hub.mode=subscribe, wrong verify token, unsigned", Method: http.MethodGet, Unsigned: true,
				Query: "hub.mode=subscribe&hub.challenge=" + challenge + "&hub.verify_token=" + token + "x"})
			x.WantStatus(right, http.StatusOK)
			x.WantBody(right, challenge)
			if tdv2(x) {
				// The filter does not match: a normal webhook, answered 200
				// empty, whose unfiltered trigger's run fails (a GET).
				x.expected(tdNoteGetRuns)
				x.WantAccepted(wrong)
				x.WantNoDeliveries(right)
				x.tdWantRuns(tdGetRuns("all"), wrong)
				return
			}
			if x.ok(wrong) && (wrong.Status == http.StatusOK || strings.Contains(string(wrong.Body), challenge)) {
				x.Errorf("%s: status %d, body %q, want no answer with the challenge (not 200 and no challenge in the body)", wrong, wrong.Status, truncate(string(wrong.Body), 120))
			}
			x.WantNoDeliveries(right, wrong)
		}),
	def(GroupRespondWith, "SlackURLVerification",
		`a signed POST {"type":"url_verification","challenge":C} is answered 200 with C as the body and wakes nothing; an event_callback takes the normal path`,
		refSlackVerify+"; "+refRespondWith,
		rwSpec("slack", &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"method":["POST"],"body":{"type":["url_verification"]}}`),
			SkipTriggering: true,
			Response:       sim.ResponseSpec{Headers: map[string]string{"Content-Type": "text/plain"}, Body: `{{body "challenge"}}`},
		}, trig("all", ""), trig("events", `{"body":{"type":["event_callback"]}}`)),
		func(x *exchange) {
			challenge := rwRandomHex(24)
			hs := x.Send(request{Label: "url_verification, valid signature",
				Body: []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"` + challenge + `","type":"url_verification"}`)})
			ev := x.Send(request{Label: "event_callback, valid signature",
				Body: []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","type":"event_callback","event":{"type":"app_mention","text":"hi"}}`)})
			x.WantStatus(hs, http.StatusOK)
			x.WantBody(hs, challenge)
			rwWantNormal(x, ev, 2)
			x.WantNoDeliveries(hs)
			x.WantDeliveries(fltWake("all", "events"), ev)
		}),
	def(GroupRespondWith, "TwitchCallbackVerification",
		"a signed POST with Twitch-Eventsub-Message-Type: webhook_callback_verification is answered 200 text/plain with the body's challenge, raw, and wakes nothing; a notification takes the normal path",
		refTwitchChall+"; "+refRespondWith,
		rwSpec("twitch", &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"headers":{"twitch-eventsub-message-type":["webhook_callback_verification"]}}`),
			SkipTriggering: true,
			Response:       sim.ResponseSpec{Headers: map[string]string{"Content-Type": "text/plain"}, Body: `{{body "challenge"}}`},
		}, trig("all", ""), trig("notifications", `{"headers":{"twitch-eventsub-message-type":["notification"]}}`)),
		func(x *exchange) {
			challenge := rwRandomHex(16)
			sub := `"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"2","condition":{"broadcaster_user_id":"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"}`
			hs := x.Send(request{Label: "webhook_callback_verification, valid signature",
				Header: http.Header{"Twitch-Eventsub-Message-Type": {"webhook_callback_verification"}},
				Body:   []byte(`{"challenge":"` + challenge + `",` + sub + `}`)})
			ev := x.Send(request{Label: "notification, valid signature",
				Header: http.Header{"Twitch-Eventsub-Message-Type": {"notification"}},
				Body:   []byte(`{` + sub + `,"event":{"user_id":"1337","broadcaster_user_id":"12826"}}`)})
			x.WantStatus(hs, http.StatusOK)
			x.WantHeader(hs, "Content-Type", "text/plain")
			x.WantBody(hs, challenge)
			rwWantNormal(x, ev, 2)
			x.WantNoDeliveries(hs)
			x.WantDeliveries(fltWake("all", "notifications"), ev)
		}),
	def(GroupRespondWith, "ZoomURLValidation",
		`a signed endpoint.url_validation event is answered 200 with the JSON {"plainToken": P, "encryptedToken": hex HMAC-SHA256(secret, P)} and wakes nothing`,
		refZoomVerify+"; "+refRespondWith,
		nil,
		func(x *exchange) {
			key := provisionZoomValidation(x)
			plain := rwRandomHex(16)
			r := x.Send(request{Label: "endpoint.url_validation, valid signature",
				Body: []byte(`{"payload":{"plainToken":"` + plain + `"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`)})
			if x.WantStatus(r, http.StatusOK) {
				rwWantZoomTokens(x, r, plain, key)
			}
			x.WantNoDeliveries(r)
		}),
	def(GroupRespondWith, "ZoomHandshakeIsNoSigningOracle",
		`an unsigned endpoint.url_validation whose plainToken is the message Zoom signs for a forged event, "v0:<ts>:<meeting.started body>", gets back no signature of it: an encryptedToken the answer holds, sent as x-zm-signature: v0=<token> with that timestamp on the forged event, is rejected (not 2xx) and wakes nothing`,
		refZoomVerify+" (the plainToken is an opaque random string); "+refZoomSigning+"; "+refRespondWith+" (respondWith runs before verification)",
		nil,
		func(x *exchange) {
			key := provisionZoomValidation(x)
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			forged := `{"event":"meeting.started","payload":{"account_id":"forged-` + rwRandomHex(4) + `","object":{"id":"85746065432","topic":"forged through the handshake"}},"event_ts":` + ts + `000}`
			message := "v0:" + ts + ":" + forged
			plain, _ := json.Marshal(message)
			hs := x.Send(request{Label: `endpoint.url_validation, unsigned, plainToken "v0:<ts>:<forged meeting.started body>"`, Unsigned: true,
				Body: []byte(`{"payload":{"plainToken":` + string(plain) + `},"event_ts":` + ts + `000,"event":"endpoint.url_validation"}`)})
			var answer struct {
				EncryptedToken string `json:"encryptedToken"`
			}
			json.Unmarshal(hs.Body, &answer)
			m := hmac.New(sha256.New, key.Bytes())
			m.Write([]byte(message))
			if answer.EncryptedToken != "" && hmac.Equal([]byte(answer.EncryptedToken), []byte(hex.EncodeToString(m.Sum(nil)))) {
				x.Errorf("%s: status %d, body.encryptedToken = the HMAC-SHA256 of the forged event's signed message, want no signature of a message: a plainToken is an opaque token", hs, hs.Status)
			}
			r := x.Send(request{Label: "meeting.started, forged, x-zm-signature from the handshake's encryptedToken", Unsigned: true,
				Header: http.Header{"X-Zm-Signature": {"v0=" + answer.EncryptedToken}, "X-Zm-Request-Timestamp": {ts}},
				Body:   []byte(forged)})
			if tdv2(x) {
				// The platform answers the forged event 200; its run fails
				// verification.
				x.WantRejected(r)
				x.WantNoDeliveries(hs)
				x.tdWantRuns(tdRuns{want: fltWake("all"), failed: true}, r)
				return
			}
			if x.ok(r) && r.Status/100 == 2 {
				x.Errorf("%s: status = %d, want a rejection (not 2xx): the signature came from the handshake%s", r, r.Status, bodyNote(r))
			}
			x.WantNoDeliveries(hs, r)
		}),
	def(GroupRespondWith, "ResponseTemplates",
		"the declared response's header and body templates see the request: method, header, query (last value), body path, rawBody and json quoting",
		"hooklab sim.ResponseSpec templates (sim/spec.go); "+refRespondWith+" (the handler builds its response from the request)",
		func() sim.EndpointSpec {
			return sim.EndpointSpec{Source: "example.com", Triggers: []sim.TriggerSpec{trig("all", "")},
				RespondWith: &sim.RespondWithSpec{
					Filter:         json.RawMessage(`{"method":["PUT"],"query":{"probe":["1"]}}`),
					SkipTriggering: true,
					Response: sim.ResponseSpec{
						Headers: map[string]string{"Content-Type": "application/json", "X-Method": "{{method}}", "X-Echo": `{{header "X-Echo"}}`},
						Body:    `{"q":{{json (query "q")}},"path":{{json (body "a.b")}},"raw":{{json rawBody}},"missing":{{json (query "nope")}}}`,
					},
				}}
		},
		func(x *exchange) {
			body := `{"a":{"b":"deep \"quoted\""},"n":1}`
			r := x.Send(request{Label: "PUT ?probe=1&q=first&q=last+one, X-Echo: echo-me", Method: http.MethodPut,
				Query: "probe=1&q=first&q=last+one", Header: http.Header{"X-Echo": {"echo-me"}}, Body: []byte(body)})
			x.WantStatus(r, http.StatusOK)
			x.WantHeader(r, "X-Method", "PUT")
			x.WantHeader(r, "X-Echo", "echo-me")
			rwWantJSON(x, r, map[string]string{"q": "last one", "path": `deep "quoted"`, "raw": body, "missing": ""})
			x.WantNoDeliveries(r)
		}),
}

// rwSpec returns a spec builder for an endpoint verified by an HMAC
// preset with a fresh secret, with respondWith rw and the triggers.
func rwSpec(preset string, rw *sim.RespondWithSpec, triggers ...sim.TriggerSpec) func() sim.EndpointSpec {
	return func() sim.EndpointSpec {
		s := presetSpec(preset, triggers...)()
		c := *rw
		s.RespondWith = &c
		return s
	}
}

// rwGitHub is a signed POST carrying X-GitHub-Event: event.
func rwGitHub(event, body string) request {
	return request{Label: "X-GitHub-Event: " + event + ", valid signature",
		Header: http.Header{"X-GitHub-Event": {event}}, Body: []byte(body)}
}

// rwWantNormal checks the normal answer, the one without respondWith:
// the profile's accepted answer, and not the declared response rw (a
// request that no respondWith filter matched, or one that goes on to
// trigger, is answered as any other). Under strict, a JSON answer that
// names its triggered triggers (as the reference's does) must name
// exactly as many as the request woke.
func rwWantNormal(x *exchange, r *response, triggered int) {
	if !x.WantAccepted(r) {
		return
	}
	if rw := r.ep.spec.RespondWith; rw != nil && rw.Response.Body != "" && string(r.Body) == rw.Response.Body {
		x.Errorf("%s: body = %q, the declared respondWith body; want the normal answer", r, truncate(string(r.Body), 120))
		return
	}
	if !x.env.rules.is(ProfileStrict) {
		return
	}
	var a struct {
		Triggered *[]string `json:"triggered"`
	}
	if json.Unmarshal(r.Body, &a) == nil && a.Triggered != nil && len(*a.Triggered) != triggered {
		x.Errorf("%s: len(triggered) = %d (%q), want %d", r, len(*a.Triggered), *a.Triggered, triggered)
	}
}

// provisionZoomValidation provisions a Zoom endpoint that answers
// endpoint.url_validation as Zoom's docs say, with a catch-all trigger,
// and returns the secret the answer's encryptedToken is keyed with: the
// target's own, if it has one.
func provisionZoomValidation(x *exchange) signer.Secret {
	verify, sign := newKeys(signer.Zoom(), 1)
	i := x.Provision(sim.EndpointSpec{Source: "zoom.us",
		Verify: &sim.VerifySpec{Preset: "zoom", Secrets: verify},
		RespondWith: &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"body":{"event":["endpoint.url_validation"]}}`),
			SkipTriggering: true,
			Response: sim.ResponseSpec{Headers: map[string]string{"Content-Type": "application/json"},
				Body: `{"plainToken":{{json (body "payload.plainToken")}},"encryptedToken":{{json (hmac "sha256" (body "payload.plainToken"))}}}`},
		},
		Triggers: []sim.TriggerSpec{trig("all", "")}}, sign)
	if v := x.eps[i].spec.Verify; v != nil && len(v.Secrets) > 0 {
		return v.Secrets[0]
	}
	return verify[0]
}

// rwWantJSON checks that the body is a JSON object of exactly the string
// members of want.
func rwWantJSON(x *exchange, r *response, want map[string]string) {
	if !x.ok(r) {
		return
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		x.Errorf("%s: body = %q, want a JSON object: %v", r, truncate(string(r.Body), 200), err)
		return
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			x.Errorf("%s: body.%s = %#v, want %q", r, k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			x.Errorf("%s: body.%s present, want only %d members", r, k, len(want))
		}
	}
}

// rwWantZoomTokens checks Zoom's validation answer against a MAC the case
// computes itself; the failure text never shows the secret or the
// expected MAC.
func rwWantZoomTokens(x *exchange, r *response, plain string, key signer.Secret) {
	if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "application/json") {
		x.Errorf("%s: header Content-Type = %q, want application/json", r, ct)
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		x.Errorf("%s: body = %q, want a JSON object: %v", r, truncate(string(r.Body), 200), err)
		return
	}
	if g := got["plainToken"]; g != plain {
		x.Errorf("%s: body.plainToken = %#v, want %q (the request's payload.plainToken)", r, g, plain)
	}
	m := hmac.New(sha256.New, key.Bytes())
	m.Write([]byte(plain))
	want := hex.EncodeToString(m.Sum(nil))
	if g, ok := got["encryptedToken"].(string); !ok || !hmac.Equal([]byte(g), []byte(want)) {
		x.Errorf("%s: body.encryptedToken = %#v, want the lower-case hex HMAC-SHA256 of plainToken keyed with the endpoint's secret", r, got["encryptedToken"])
	}
	if len(got) != 2 {
		x.Errorf("%s: body has %d members, want 2 (plainToken, encryptedToken)", r, len(got))
	}
}

// rwRandomHex returns n random bytes in hex: a fresh challenge per run.
func rwRandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// rwRandomDigits returns n random decimal digits, not starting with 0, as
// Meta's hub.challenge is.
func rwRandomDigits(n int) string {
	var b strings.Builder
	for i := range n {
		lo := int64(0)
		if i == 0 {
			lo = 1
		}
		d, _ := rand.Int(rand.Reader, big.NewInt(10-lo))
		b.WriteByte(byte('0' + lo + d.Int64()))
	}
	return b.String()
}
