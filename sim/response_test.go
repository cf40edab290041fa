package sim_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// respSecrets key the respondWith endpoints: the newest first, so hmac
// must use respSecrets[0].
var respSecrets = []string{"resp-NEW-secret-5f1e", "resp-OLD-secret-09ab"}

// mac computes an HMAC independently of package sim.
func mac(h func() hash.Hash, key, msg string) []byte {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// responder is an endpoint "r" whose respondWith answers every request
// with resp and triggers nothing.
func responder(resp sim.ResponseSpec, verify bool) sim.EndpointSpec {
	s := sim.EndpointSpec{
		ID: "r",
		RespondWith: &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{}`),
			SkipTriggering: true,
			Response:       resp,
		},
		Triggers: []sim.TriggerSpec{trig("all", "")},
	}
	if verify {
		s.Verify = &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(respSecrets...)}
	}
	return s
}

// TestResponseTemplates checks each template function of a ResponseSpec
// against a request, the HMACs against values computed here with
// crypto/hmac.
func TestResponseTemplates(t *testing.T) {
	key := respSecrets[0]
	jsonOf := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	tricky := "say \"hi\" <b> & \\ é\n"

	tests := []struct {
		name       string
		resp       sim.ResponseSpec
		req        *http.Request
		wantStatus int
		wantBody   string
		wantHeader map[string]string
	}{
		{"QueryValue", sim.ResponseSpec{Body: `{{query "a"}}`}, request("GET", "/hooks/r?a=x", ""), 200, "x", nil},
		{"QueryLastValueWins", sim.ResponseSpec{Body: `{{query "a"}}`}, request("GET", "/hooks/r?a=1&a=2&a=3", ""), 200, "3", nil},
		{"QueryIsDecoded", sim.ResponseSpec{Body: `{{query "a"}}`}, request("GET", "/hooks/r?a=hello+world%21", ""), 200, "hello world!", nil},
		{"QueryDottedName", sim.ResponseSpec{Body: `{{query "hub.challenge"}}`}, request("GET", "/hooks/r?hub.mode=subscribe&hub.challenge=1158201444", ""), 200, "1158201444", nil},
		{"QueryMissingIsEmpty", sim.ResponseSpec{Body: `[{{query "nope"}}]`}, request("GET", "/hooks/r?a=1", ""), 200, "[]", nil},
		{"HeaderFirstValue", sim.ResponseSpec{Body: `{{header "x-in"}}`}, request("POST", "/hooks/r", "", "X-In: one", "X-In: two"), 200, "one", nil},
		{"HeaderMissingIsEmpty", sim.ResponseSpec{Body: `[{{header "X-Nope"}}]`}, request("POST", "/hooks/r", ""), 200, "[]", nil},
		{"BodyPath", sim.ResponseSpec{Body: `{{body "event.challenge"}}`}, request("POST", "/hooks/r", `{"event":{"challenge":"c-1"}}`), 200, "c-1", nil},
		{"BodyArrayIndex", sim.ResponseSpec{Body: `{{body "items.1.id"}}`}, request("POST", "/hooks/r", `{"items":[{"id":"a"},{"id":"b"}]}`), 200, "b", nil},
		{"BodyObjectAsRawJSON", sim.ResponseSpec{Body: `{{body "o"}}`}, request("POST", "/hooks/r", `{"o": {"a": 1}}`), 200, `{"a": 1}`, nil},
		{"BodyBoolean", sim.ResponseSpec{Body: `{{body "b"}}`}, request("POST", "/hooks/r", `{"b":true}`), 200, "true", nil},
		{"BodyIntegerKeepsItsDigits", sim.ResponseSpec{Body: `{{body "n"}}`}, request("POST", "/hooks/r", `{"n":12345678901234567890}`), 200, "12345678901234567890", nil},
		{"BodyMissingIsEmpty", sim.ResponseSpec{Body: `[{{body "nope"}}]`}, request("POST", "/hooks/r", `{"a":1}`), 200, "[]", nil},
		{"BodyNotJSONIsEmpty", sim.ResponseSpec{Body: `[{{body "a"}}]`}, request("POST", "/hooks/r", `a=1&b=2`, "Content-Type: application/x-www-form-urlencoded"), 200, "[]", nil},
		{"HMACSHA1", sim.ResponseSpec{Body: `{{hmac "sha1" (query "v")}}`}, request("GET", "/hooks/r?v=hello", ""), 200, hex.EncodeToString(mac(sha1.New, key, "hello")), nil},
		{"HMACSHA256", sim.ResponseSpec{Body: `{{hmac "sha256" (query "v")}}`}, request("GET", "/hooks/r?v=hello", ""), 200, hex.EncodeToString(mac(sha256.New, key, "hello")), nil},
		{"HMACSHA256Base64", sim.ResponseSpec{Body: `{{hmac "sha256b64" (query "v")}}`}, request("GET", "/hooks/r?v=hello", ""), 200, base64.StdEncoding.EncodeToString(mac(sha256.New, key, "hello")), nil},
		{"HMACSHA512", sim.ResponseSpec{Body: `{{hmac "sha512" (query "v")}}`}, request("GET", "/hooks/r?v=hello", ""), 200, hex.EncodeToString(mac(sha512.New, key, "hello")), nil},
		{"HMACOfALongestToken", sim.ResponseSpec{Body: `{{hmac "sha256" (query "v")}}`}, request("GET", "/hooks/r?v="+strings.Repeat("Az09_-", 42)+"xyzw", ""), 200, hex.EncodeToString(mac(sha256.New, key, strings.Repeat("Az09_-", 42)+"xyzw")), nil},
		{"JSONEscapesAString", sim.ResponseSpec{Body: `{"q":{{json (header "X-Q")}}}`}, request("POST", "/hooks/r", "", "X-Q: "+strings.TrimSpace(tricky)), 200, `{"q":` + jsonOf(strings.TrimSpace(tricky)) + `}`, nil},
		{"JSONEscapesTheBody", sim.ResponseSpec{Body: `{{json rawBody}}`}, request("POST", "/hooks/r", tricky), 200, jsonOf(tricky), nil},
		{"JSONOfAnEmptyValueIsEmptyString", sim.ResponseSpec{Body: `{{json (body "nope")}}`}, request("POST", "/hooks/r", `{}`), 200, `""`, nil},
		{"Method", sim.ResponseSpec{Body: `{{method}}`}, request("PATCH", "/hooks/r", ""), 200, "PATCH", nil},
		{"RawBody", sim.ResponseSpec{Body: `{{rawBody}}`}, request("POST", "/hooks/r", "exact \x00\xff bytes\n"), 200, "exact \x00\xff bytes\n", nil},
		{
			"TemplatedHeaders",
			sim.ResponseSpec{Status: 202, Headers: map[string]string{"Content-Type": "text/plain", "X-Echo": `{{header "X-In"}}-{{method}}`, "X-Sig": `{{hmac "sha256" rawBody}}`}, Body: "accepted"},
			request("PUT", "/hooks/r", "payload", "X-In: abc"),
			202, "accepted",
			map[string]string{"Content-Type": "text/plain", "X-Echo": "abc-PUT", "X-Sig": hex.EncodeToString(mac(sha256.New, key, "payload"))},
		},
		{"StatusWithEmptyBody", sim.ResponseSpec{Status: 204}, request("POST", "/hooks/r", "x"), 204, "", nil},
		{"ZeroStatusIs200", sim.ResponseSpec{Body: "ok"}, request("POST", "/hooks/r", "x"), 200, "ok", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, responder(tt.resp, true))
			w := serve(t, in, tt.req)
			assert.Equal(t, tt.wantStatus, w.Code, "status (body %q)", w.Body)
			assert.Equal(t, tt.wantBody, w.Body.String(), "body of template %q", tt.resp.Body)
			for k, v := range tt.wantHeader {
				assert.Equal(t, v, w.Header().Get(k), "header %s", k)
			}
			assert.Zero(t, rec.Len(), "deliveries of a skipTriggering respondWith")
		})
	}
}

// TestResponseTemplateErrorsAtRequestTime checks templates that parse but
// cannot be executed: the request is answered 500 with the reason, which
// never holds the secret, and triggers nothing.
func TestResponseTemplateErrorsAtRequestTime(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		verify  bool
		wantErr string
	}{
		{"UnknownHMACAlgorithm", `{{hmac "md5" "x"}}`, true,
			`respondWith: body: template: body:1:2: executing "body" at <hmac "md5" "x">: error calling hmac: hmac: unknown algorithm "md5" (want sha1, sha256, sha256b64 or sha512)`},
		{"HMACWithoutSecret", `{{hmac "sha256" "x"}}`, false,
			`respondWith: body: template: body:1:2: executing "body" at <hmac "sha256" "x">: error calling hmac: hmac: the endpoint has no secret`},
		{"WrongArgumentCount", `{{query}}`, true,
			`respondWith: body: template: body:1:2: executing "body" at <query>: wrong number of args for query: want 1 got 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, responder(sim.ResponseSpec{Body: tt.body}, tt.verify))
			w := serve(t, in, request("POST", "/hooks/r", `{}`))
			assert.Equal(t, http.StatusInternalServerError, w.Code)
			var e struct{ Error string }
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), "500 body is JSON: %s", w.Body)
			assert.Equal(t, tt.wantErr, e.Error)
			for _, s := range respSecrets {
				assert.NotContains(t, w.Body.String(), s)
			}
			assert.Zero(t, rec.Len(), "deliveries")
		})
	}
}

// TestResponseTemplateParseErrorsNameThePath checks that a template that
// does not parse makes the spec invalid, at the template's JSON path.
func TestResponseTemplateParseErrorsNameThePath(t *testing.T) {
	tests := []struct {
		name    string
		resp    sim.ResponseSpec
		wantErr string
	}{
		{"Body", sim.ResponseSpec{Body: `{{query "a"`}, `respondWith.response.body: template: body:1: unclosed action`},
		{"BodyUnknownFunction", sim.ResponseSpec{Body: `{{challenge}}`}, `respondWith.response.body: template: body:1: function "challenge" not defined`},
		{"Header", sim.ResponseSpec{Headers: map[string]string{"X-A": "ok", "X-B": `{{end}}`}}, `respondWith.response.headers.X-B: template: X-B:1: unexpected {{end}}`},
		{"Status", sim.ResponseSpec{Status: 600}, `respondWith.response.status: 600 is not an HTTP status`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := responder(tt.resp, true).Validate()
			assert.EqualError(t, err, tt.wantErr)
			assert.ErrorIs(t, err, sim.ErrInvalidSpec)
		})
	}
}

// TestResponseHMACUsesNewestSecret checks that after a rotation the
// handshake HMAC is keyed with the first (newest) secret only.
func TestResponseHMACUsesNewestSecret(t *testing.T) {
	in, _ := newIngress(t, sim.Config{}, responder(sim.ResponseSpec{Body: `{{hmac "sha256" "m"}}`}, true))
	w := serve(t, in, request("POST", "/hooks/r", ""))
	assert.Equal(t, hex.EncodeToString(mac(sha256.New, respSecrets[0], "m")), w.Body.String())
	assert.NotEqual(t, hex.EncodeToString(mac(sha256.New, respSecrets[1], "m")), w.Body.String())
}

// A handshake is one provider's ownership check, in the shape the
// provider's documentation gives, with the answer it expects.
type handshake struct {
	name     string
	endpoint string
	// req builds the request; secret is the endpoint's secret.
	req        func(t *testing.T, secret string) *http.Request
	wantStatus int
	// wantBody is the exact answer, given the endpoint's secret.
	wantBody        func(secret string) string
	wantContentType string
	wantTriggered   []string
}

// metaVerifyToken is the Verify Token of Meta's documented example.
const metaVerifyToken = "meatyhamhock"

// handshakes are the four providers' documented handshakes, and the
// requests around them that must not be answered as handshakes.
func handshakes() []handshake {
	text := "text/plain; charset=utf-8"
	return []handshake{
		{
			// https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests:
			// GET with hub.mode=subscribe, hub.challenge and hub.verify_token;
			// check the token and respond with the hub.challenge value.
			name:     "MetaHubChallenge",
			endpoint: "meta",
			req: func(t *testing.T, _ string) *http.Request {
				return request("GET", "/hooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="+metaVerifyToken, "")
			},
			wantStatus:      200,
			wantBody:        func(string) string { return "1158201444" },
			wantContentType: text,
		},
		{
			name:     "MetaWrongVerifyTokenIsRefused",
			endpoint: "meta",
			req: func(t *testing.T, _ string) *http.Request {
				return request("GET", "/hooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guessed", "")
			},
			wantStatus: 401,
		},
		{
			name:     "MetaUnsubscribeIsRefused",
			endpoint: "meta",
			req: func(t *testing.T, _ string) *http.Request {
				return request("GET", "/hooks/meta?hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token="+metaVerifyToken, "")
			},
			wantStatus: 401,
		},
		{
			// https://api.slack.com/events/url_verification: respond with the
			// challenge attribute value (plaintext is one of the accepted
			// forms). Slack signs the request like any other.
			name:     "SlackURLVerification",
			endpoint: "slack",
			req: func(t *testing.T, secret string) *http.Request {
				return signed(t, request("POST", "/hooks/slack",
					`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`,
					"Content-Type: application/json"), signer.Slack(), secret)
			},
			wantStatus:      200,
			wantBody:        func(string) string { return "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" },
			wantContentType: text,
		},
		{
			name:     "SlackEventGoesToTriggers",
			endpoint: "slack",
			req: func(t *testing.T, secret string) *http.Request {
				return signed(t, request("POST", "/hooks/slack",
					`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","type":"event_callback","event":{"type":"app_mention","text":"hi"}}`,
					"Content-Type: application/json"), signer.Slack(), secret)
			},
			wantStatus:    200,
			wantTriggered: []string{"events"},
		},
		{
			// https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#responding-to-a-challenge-request:
			// Twitch-Eventsub-Message-Type: webhook_callback_verification;
			// respond 200 with the raw challenge string as text/plain.
			name:     "TwitchWebhookCallbackVerification",
			endpoint: "twitch",
			req: func(t *testing.T, secret string) *http.Request {
				return signed(t, request("POST", "/hooks/twitch",
					`{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1","cost":1,"condition":{"broadcaster_user_id":"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"}}`,
					"Content-Type: application/json", "Twitch-Eventsub-Message-Type: webhook_callback_verification",
					"Twitch-Eventsub-Subscription-Type: channel.follow"), signer.Twitch(), secret)
			},
			wantStatus:      200,
			wantBody:        func(string) string { return "pogchamp-kappa-360noscope-vohiyo" },
			wantContentType: text,
		},
		{
			name:     "TwitchNotificationGoesToTriggers",
			endpoint: "twitch",
			req: func(t *testing.T, secret string) *http.Request {
				return signed(t, request("POST", "/hooks/twitch",
					`{"subscription":{"type":"channel.follow","version":"2"},"event":{"user_login":"cool_user"}}`,
					"Content-Type: application/json", "Twitch-Eventsub-Message-Type: notification"), signer.Twitch(), secret)
			},
			wantStatus:    200,
			wantTriggered: []string{"notifications"},
		},
		{
			// https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint:
			// respond 200 with {"plainToken", "encryptedToken"}, the
			// encryptedToken being the hex HMAC-SHA256 of the plainToken
			// keyed with the app's secret token.
			name:     "ZoomEndpointURLValidation",
			endpoint: "zoom",
			req: func(t *testing.T, secret string) *http.Request {
				return signed(t, request("POST", "/hooks/zoom",
					`{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`,
					"Content-Type: application/json; charset=utf-8"), signer.Zoom(), secret)
			},
			wantStatus: 200,
			wantBody: func(secret string) string {
				return `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"` + hex.EncodeToString(mac(sha256.New, secret, "qgg8vlvZRS6UYooatFL8Aw")) + `"}`
			},
			wantContentType: "application/json",
		},
		{
			name:     "ZoomMeetingGoesToTriggers",
			endpoint: "zoom",
			req: func(t *testing.T, secret string) *http.Request {
				return signed(t, request("POST", "/hooks/zoom",
					`{"event":"meeting.started","event_ts":1654503849680,"payload":{"object":{"id":"85352137457"}}}`,
					"Content-Type: application/json; charset=utf-8"), signer.Zoom(), secret)
			},
			wantStatus:    200,
			wantTriggered: []string{"meetings"},
		},
		{
			name:     "ZoomUnsignedEventIsRefused",
			endpoint: "zoom",
			req: func(t *testing.T, _ string) *http.Request {
				return request("POST", "/hooks/zoom", `{"event":"meeting.started"}`)
			},
			wantStatus: 401,
		},
	}
}

// runHandshakes drives every handshake through an Ingress serving specs.
func runHandshakes(t *testing.T, specs []sim.EndpointSpec) {
	t.Helper()
	secrets := map[string]string{}
	for _, s := range specs {
		require.NotNil(t, s.Verify, "endpoint %s verifies", s.ID)
		secrets[s.ID] = string(s.Verify.Secrets[0].Bytes())
	}
	for _, hs := range handshakes() {
		t.Run(hs.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, specs...)
			secret, ok := secrets[hs.endpoint]
			require.True(t, ok, "no endpoint %q", hs.endpoint)
			r := hs.req(t, secret)
			w := serve(t, in, r)
			assert.Equal(t, hs.wantStatus, w.Code, "%s %s: status (body %q)", r.Method, r.URL, w.Body)
			if hs.wantBody != nil {
				assert.Equal(t, hs.wantBody(secret), w.Body.String(), "%s %s: body", r.Method, r.URL)
				assert.Equal(t, hs.wantContentType, w.Header().Get("Content-Type"), "%s %s: Content-Type", r.Method, r.URL)
			}
			want := hs.wantTriggered
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, triggered(rec), "%s %s: delivered to", r.Method, r.URL)
		})
	}
}

// TestHandshakes answers the Meta, Slack, Twitch and Zoom handshakes with
// respondWith specs written in Go.
func TestHandshakes(t *testing.T) {
	text := map[string]string{"Content-Type": "text/plain; charset=utf-8"}
	verify := func(preset, secret string) *sim.VerifySpec {
		return &sim.VerifySpec{Preset: preset, Secrets: signer.Keys(secret)}
	}
	specs := []sim.EndpointSpec{
		{
			ID: "meta", Verify: verify("meta", "meta-app-secret"),
			RespondWith: &sim.RespondWithSpec{
				Filter:         json.RawMessage(`{"method":["GET"],"query":{"hub.mode":["subscribe"],"hub.verify_token":["` + metaVerifyToken + `"]}}`),
				SkipTriggering: true,
				Response:       sim.ResponseSpec{Headers: text, Body: `{{query "hub.challenge"}}`},
			},
		},
		{
			ID: "slack", Verify: verify("slack", "slack-signing-secret"),
			RespondWith: &sim.RespondWithSpec{
				Filter:         json.RawMessage(`{"body":{"type":["url_verification"]}}`),
				SkipTriggering: true,
				Response:       sim.ResponseSpec{Headers: text, Body: `{{body "challenge"}}`},
			},
			Triggers: []sim.TriggerSpec{trig("events", `{"body":{"type":["event_callback"]}}`)},
		},
		{
			ID: "twitch", Verify: verify("twitch", "twitch-eventsub-secret"),
			RespondWith: &sim.RespondWithSpec{
				Filter:         json.RawMessage(`{"headers":{"twitch-eventsub-message-type":["webhook_callback_verification"]}}`),
				SkipTriggering: true,
				Response:       sim.ResponseSpec{Headers: text, Body: `{{body "challenge"}}`},
			},
			Triggers: []sim.TriggerSpec{trig("notifications", `{"headers":{"twitch-eventsub-message-type":["notification"]}}`)},
		},
		{
			ID: "zoom", Verify: verify("zoom", "zoom-secret-token"),
			RespondWith: &sim.RespondWithSpec{
				Filter:         json.RawMessage(`{"body":{"event":["endpoint.url_validation"]}}`),
				SkipTriggering: true,
				Response: sim.ResponseSpec{
					Headers: map[string]string{"Content-Type": "application/json"},
					Body:    `{"plainToken":{{json (body "payload.plainToken")}},"encryptedToken":{{json (hmac "sha256" (body "payload.plainToken"))}}}`,
				},
			},
			Triggers: []sim.TriggerSpec{trig("meetings", `{"body":{"event":[{"$startsWith":"meeting."}]}}`)},
		},
	}
	runHandshakes(t, specs)
}

// TestZoomEncryptedTokenVector checks the Zoom handshake template against
// a token computed outside Go:
//
//	echo -n qgg8vlvZRS6UYooatFL8Aw | openssl dgst -sha256 -hmac zoom-secret-token
func TestZoomEncryptedTokenVector(t *testing.T) {
	const want = `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"d9e0d764a78494688ba3f2d5c0ed4ca311394b4834d959759213424d2df961e3"}`
	spec := sim.EndpointSpec{
		ID:     "zoom",
		Verify: &sim.VerifySpec{Preset: "zoom", Secrets: signer.Keys("zoom-secret-token")},
		RespondWith: &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"body":{"event":["endpoint.url_validation"]}}`),
			SkipTriggering: true,
			Response: sim.ResponseSpec{
				Body: `{"plainToken":{{json (body "payload.plainToken")}},"encryptedToken":{{json (hmac "sha256" (body "payload.plainToken"))}}}`,
			},
		},
	}
	in, _ := newIngress(t, sim.Config{}, spec)
	w := serve(t, in, request("POST", "/hooks/zoom", `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, want, w.Body.String())
}

// TestZoomHandshakeRefusesSignedMessages checks that a plainToken shaped
// like Zoom's signed message ("v0:<ts>:<body>") is answered 400 and
// signs nothing, while an opaque token is answered: the handshake is no
// signing oracle.
func TestZoomHandshakeRefusesSignedMessages(t *testing.T) {
	spec := sim.EndpointSpec{
		ID:     "zoom",
		Verify: &sim.VerifySpec{Preset: "zoom", Secrets: signer.Keys("zoom-secret-token")},
		RespondWith: &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"body":{"event":["endpoint.url_validation"]}}`),
			SkipTriggering: true,
			Response: sim.ResponseSpec{
				Body: `{"plainToken":{{json (body "payload.plainToken")}},"encryptedToken":{{json (hmac "sha256" (body "payload.plainToken"))}}}`,
			},
		},
		Triggers: []sim.TriggerSpec{{ID: "all"}},
	}
	tests := []struct {
		name, token string
		wantStatus  int
	}{
		{"OpaqueToken", "qgg8vlvZRS6UYooatFL8Aw", http.StatusOK},
		{"SignedMessage", `v0:1654503849:{"event":"meeting.started"}`, http.StatusBadRequest},
		{"ColonOnly", "v0:1654503849", http.StatusBadRequest},
		{"Empty", "", http.StatusBadRequest},
		{"TooLong", strings.Repeat("a", 257), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, spec)
			body, _ := json.Marshal(map[string]any{"event": "endpoint.url_validation", "payload": map[string]string{"plainToken": tt.token}})
			w := serve(t, in, request("POST", "/hooks/zoom", string(body)))
			assert.Equal(t, tt.wantStatus, w.Code, "body: %s", w.Body)
			if tt.wantStatus != http.StatusOK {
				assert.NotContains(t, w.Body.String(), "encryptedToken")
				assert.NotContains(t, w.Body.String(), "zoom-secret-token")
			}
			assert.Empty(t, triggered(rec), "a handshake wakes no trigger")
		})
	}
}

// TestResponseIsBounded checks that a rendered response past its bounds
// is not sent: the body past 1 MiB, the templated headers past 8 KiB,
// the templates' work past 16 MiB. Each is answered 500 with a short JSON
// error, and nothing is delivered; a response just within the bound is
// sent whole.
func TestResponseIsBounded(t *testing.T) {
	body := strings.Repeat("0123456789", 2_000) // 20,000 bytes
	tests := []struct {
		name       string
		resp       sim.ResponseSpec
		wantStatus int
		wantErr    string
		wantLen    int
	}{
		{"BodyWithinTheBound", sim.ResponseSpec{Body: `{{range 52}}{{rawBody}}{{end}}`}, 200, "", 1_040_000},
		{"BodyPastTheBound", sim.ResponseSpec{Body: `{{range 60}}{{rawBody}}{{end}}`}, 500,
			`respondWith: body: response too large: the body would pass 1048576 bytes`, 0},
		{"HeadersPastTheBound", sim.ResponseSpec{Headers: map[string]string{"X-A": "{{rawBody}}"}, Body: "ok"}, 500,
			`respondWith: header X-A: response too large: the headers would pass 8192 bytes`, 0},
		{"WorkPastTheBound", sim.ResponseSpec{Body: `{{range 1000}}{{$b := rawBody}}{{end}}done`}, 500,
			`respondWith: body: template: body:1:22: executing "body" at <rawBody>: error calling rawBody: response too large: the templates read or produced more than 16777216 bytes`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, responder(tt.resp, true))
			w := serve(t, in, request("POST", "/hooks/r", body))
			assert.Equal(t, tt.wantStatus, w.Code)
			if tt.wantErr != "" {
				var e struct{ Error string }
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), "500 body is JSON: %.200s", w.Body)
				assert.Equal(t, tt.wantErr, e.Error)
			} else {
				assert.Equal(t, tt.wantLen, w.Body.Len(), "length of the body")
			}
			assert.Zero(t, rec.Len(), "deliveries")
		})
	}
}

// TestResponseTemplateLanguageIsBounded checks that a template that could
// run without bound is refused when the spec is compiled: issue 10's
// million-fold range, ranges over values, recursion through define and
// template, and builtins outside the response functions.
func TestResponseTemplateLanguageIsBounded(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
	}{
		{"NestedRanges", `{{range 1000}}{{range 1000}}{{rawBody}}{{end}}{{end}}`,
			`respondWith.response.body: template: body: could run more than 10000 actions (ranges multiply the actions inside them)`},
		{"RangeOverAValue", `{{range (len rawBody)}}x{{end}}`,
			`respondWith.response.body: template: body: range over anything but an integer constant is not supported in a response template`},
		{"Recursion", `{{define "x"}}{{template "x"}}{{end}}{{template "x"}}`,
			`respondWith.response.body: template: body: define and block are not supported in a response`},
		{"TemplateCall", `{{template "body"}}`,
			`respondWith.response.body: template: body: template is not supported in a response template`},
		{"Printf", `{{printf "%099999999d" 1}}`,
			`respondWith.response.body: template: body: function "printf" is not allowed in a response template (want one of query, header, body, hmac, json, method, rawBody, and, or, not, len)`},
		{"EqInARange", `{{range 10}}{{if eq rawBody "x"}}{{end}}{{end}}`,
			`respondWith.response.body: template: body: function "eq" is not allowed in a response template (want one of query, header, body, hmac, json, method, rawBody, and, or, not, len)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := responder(sim.ResponseSpec{Body: tt.body}, true).Validate()
			assert.EqualError(t, err, tt.wantErr)
			assert.ErrorIs(t, err, sim.ErrInvalidSpec)
		})
	}
	ok := `{{range 100}}{{if and (query "a") (not (header "b"))}}{{len rawBody}}{{else}}{{json (body "c")}}{{end}}{{end}}`
	assert.NoError(t, responder(sim.ResponseSpec{Body: ok}, true).Validate(), "a bounded template using every allowed builtin")
}
