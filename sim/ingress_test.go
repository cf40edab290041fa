package sim_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// t0 is the fixed clock of these tests.
var t0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// ghSecret keys the GitHub endpoints of these tests. Tests check that no
// response, error or log line ever contains it.
const ghSecret = "gh-SECRET-do-not-print-0123456789"

// ghSpec is a GitHub endpoint "gh" with the given triggers.
func ghSpec(triggers ...sim.TriggerSpec) sim.EndpointSpec {
	return sim.EndpointSpec{
		ID:       "gh",
		Source:   "github.com",
		Verify:   &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(ghSecret)},
		Triggers: triggers,
	}
}

// trig is a trigger with a JSON filter ("" for none).
func trig(id, filter string) sim.TriggerSpec {
	t := sim.TriggerSpec{ID: id}
	if filter != "" {
		t.Filter = json.RawMessage(filter)
	}
	return t
}

// newIngress builds an Ingress on the fixed clock that records into a
// Recorder; the Ingress is closed when the test ends.
func newIngress(t testing.TB, cfg sim.Config, specs ...sim.EndpointSpec) (*sim.Ingress, *sim.Recorder) {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	if cfg.Recorder == nil {
		cfg.Recorder = &sim.Recorder{Now: fixedNow}
	}
	in, err := sim.NewIngress(cfg, specs...)
	require.NoError(t, err, "NewIngress")
	t.Cleanup(func() { in.Close() })
	return in, cfg.Recorder
}

// request builds a server-side request with body and "Name: value"
// headers.
func request(method, target, body string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		r.Header.Add(name, strings.TrimSpace(value))
	}
	return r
}

// signed signs r in place with scheme and keys on the fixed clock.
func signed(t testing.TB, r *http.Request, s signer.Scheme, keys ...string) *http.Request {
	t.Helper()
	require.NoError(t, signer.SignRequest(r, s, signer.Keys(keys...), signer.At(t0)), "SignRequest")
	return r
}

// serve runs r through h and waits for the deliveries it started.
func serve(t testing.TB, in *sim.Ingress, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	in.ServeHTTP(w, r)
	flush(t, in)
	return w
}

func flush(t testing.TB, in *sim.Ingress) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, in.Flush(ctx), "Flush")
}

// triggered returns the sorted trigger ids of the recorded deliveries.
func triggered(rec *sim.Recorder) []string {
	ids := []string{}
	for _, d := range rec.Deliveries() {
		ids = append(ids, d.Trigger)
	}
	slices.Sort(ids)
	return ids
}

// okBody is the Ingress's answer to a request it triggered ids for.
func okBody(endpoint string, ids ...string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(struct {
		OK        bool     `json:"ok"`
		Endpoint  string   `json:"endpoint"`
		Triggered []string `json:"triggered"`
	}{true, endpoint, ids})
	return string(b) + "\n"
}

const jsonType = "application/json; charset=utf-8"

// TestIngressStrictOrderOfWork checks each step of the strict profile and
// that each step comes before the next: route (404), method (405), body
// limit (413), respondWith, verification (401), triggers (200).
func TestIngressStrictOrderOfWork(t *testing.T) {
	issues := `{"headers":{"x-github-event":["issues"]}}`
	base := func() sim.EndpointSpec {
		s := ghSpec(trig("issues", issues), trig("all", ""))
		s.MaxBody = 64
		s.RespondWith = &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"headers":{"x-github-event":["ping"]}}`),
			SkipTriggering: true,
			Response: sim.ResponseSpec{
				Headers: map[string]string{"Content-Type": "text/plain"},
				Body:    `pong {{header "X-GitHub-Delivery"}}`,
			},
		}
		return s
	}
	respond := func(status int, skip bool) sim.EndpointSpec {
		s := base()
		s.RespondWith.Filter = json.RawMessage(`{"headers":{"x-github-event":["issues"]}}`)
		s.RespondWith.SkipTriggering = skip
		s.RespondWith.Response = sim.ResponseSpec{Status: status, Body: "declared"}
		return s
	}
	unverified := func() sim.EndpointSpec {
		s := base()
		s.Verify = nil
		return s
	}
	issue := `{"action":"opened","issue":{"number":1}}`
	ping := `{"zen":"Keep it logically awesome."}`
	body64 := `{"action":"opened","pad":"` + strings.Repeat("x", 64-len(`{"action":"opened","pad":""}`)) + `"}`
	require.Len(t, body64, 64)
	body65 := body64[:len(body64)-2] + `x"}`
	require.Len(t, body65, 65)

	tests := []struct {
		name       string
		spec       sim.EndpointSpec
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantBody   string
		wantHeader map[string]string
		wantTrig   []string
	}{
		{
			name: "UnknownEndpointIs404JSON",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				return signed(t, request("POST", "/hooks/nope", issue), signer.GitHub(), ghSecret)
			},
			wantStatus: 404,
			wantBody:   `{"error":"unknown endpoint","reason":"no endpoint \"nope\"","path":"/hooks/nope","served":["/hooks/gh"]}` + "\n",
			wantHeader: map[string]string{"Content-Type": jsonType},
		},
		{
			name:       "PathWithoutIDIs404",
			spec:       base(),
			req:        func(t *testing.T) *http.Request { return request("POST", "/hooks/", issue) },
			wantStatus: 404,
			wantBody:   `{"error":"unknown endpoint","reason":"no endpoint is served at /hooks/","path":"/hooks/","served":["/hooks/gh"]}` + "\n",
			wantHeader: map[string]string{"Content-Type": jsonType},
		},
		{
			name:       "PathPrefixWithoutSlashIs404",
			spec:       base(),
			req:        func(t *testing.T) *http.Request { return request("POST", "/hooks", issue) },
			wantStatus: 404,
			wantBody:   `{"error":"unknown endpoint","reason":"no endpoint is served at /hooks","path":"/hooks","served":["/hooks/gh"]}` + "\n",
		},
		{
			name:       "PathOutsidePrefixIs404",
			spec:       base(),
			req:        func(t *testing.T) *http.Request { return request("POST", "/webhooks/gh", issue) },
			wantStatus: 404,
			wantBody:   `{"error":"unknown endpoint","reason":"no endpoint is served at /webhooks/gh","path":"/webhooks/gh","served":["/hooks/gh"]}` + "\n",
		},
		{
			name:       "PathBelowEndpointIs404",
			spec:       base(),
			req:        func(t *testing.T) *http.Request { return request("POST", "/hooks/gh/extra", issue) },
			wantStatus: 404,
			wantBody:   `{"error":"unknown endpoint","reason":"no endpoint is served at /hooks/gh/extra","path":"/hooks/gh/extra","served":["/hooks/gh"]}` + "\n",
		},
		{
			name:       "UnknownEndpointComesBeforeMethod",
			spec:       base(),
			req:        func(t *testing.T) *http.Request { return request("TRACE", "/hooks/nope", "") },
			wantStatus: 404,
			wantBody:   `{"error":"unknown endpoint","reason":"no endpoint \"nope\"","path":"/hooks/nope","served":["/hooks/gh"]}` + "\n",
		},
		{
			name:       "TraceIs405WithAllow",
			spec:       base(),
			req:        func(t *testing.T) *http.Request { return request("TRACE", "/hooks/gh", "") },
			wantStatus: 405,
			wantBody:   `{"error":"method not allowed","reason":"TRACE is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"}` + "\n",
			wantHeader: map[string]string{"Allow": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS", "Content-Type": jsonType},
		},
		{
			name:       "CustomMethodIs405",
			spec:       base(),
			req:        func(t *testing.T) *http.Request { return request("PURGE", "/hooks/gh", "") },
			wantStatus: 405,
			wantBody:   `{"error":"method not allowed","reason":"PURGE is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"}` + "\n",
			wantHeader: map[string]string{"Allow": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"},
		},
		{
			name:       "MethodComesBeforeBodyLimit",
			spec:       base(),
			req:        func(t *testing.T) *http.Request { return request("TRACE", "/hooks/gh", body65) },
			wantStatus: 405,
			wantHeader: map[string]string{"Allow": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"},
		},
		{
			name: "BodyOverLimitWithContentLengthIs413",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				return signed(t, request("POST", "/hooks/gh", body65, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)
			},
			wantStatus: 413,
			wantBody:   `{"error":"body of 65 bytes is over the limit of 64"}` + "\n",
			wantHeader: map[string]string{"Content-Type": jsonType},
		},
		{
			name: "BodyOverLimitOfUnknownLengthIs413",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				r := signed(t, request("POST", "/hooks/gh", body65, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)
				r.ContentLength = -1 // chunked: the length is known only by reading
				r.Body = io.NopCloser(strings.NewReader(body65))
				return r
			},
			wantStatus: 413,
			wantBody:   `{"error":"body is over the limit of 64 bytes"}` + "\n",
		},
		{
			name: "BodyAtLimitIsAccepted",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				r := signed(t, request("POST", "/hooks/gh", body64, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)
				r.ContentLength = -1
				r.Body = io.NopCloser(strings.NewReader(body64))
				return r
			},
			wantStatus: 200,
			wantBody:   okBody("gh", "issues", "all"),
			wantTrig:   []string{"all", "issues"},
		},
		{
			name: "BodyLimitComesBeforeRespondWith",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				return request("POST", "/hooks/gh", body65, "X-GitHub-Event: ping")
			},
			wantStatus: 413,
		},
		{
			name: "RespondWithSkipTriggeringAnswersBeforeVerifying",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				return request("POST", "/hooks/gh", ping, "X-GitHub-Event: ping", "X-GitHub-Delivery: d-1")
			},
			wantStatus: 200,
			wantBody:   "pong d-1",
			wantHeader: map[string]string{"Content-Type": "text/plain"},
		},
		{
			name: "RespondWithSkipTriggeringWakesNoTriggerEvenWhenSigned",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				return signed(t, request("POST", "/hooks/gh", ping, "X-GitHub-Event: ping", "X-GitHub-Delivery: d-2"), signer.GitHub(), ghSecret)
			},
			wantStatus: 200,
			wantBody:   "pong d-2",
		},
		{
			name: "RespondWithNon200StopsBeforeTriggering",
			spec: respond(202, false),
			req: func(t *testing.T) *http.Request {
				return signed(t, request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)
			},
			wantStatus: 202,
			wantBody:   "declared",
		},
		{
			name: "RespondWithNon200StopsBeforeVerifying",
			spec: respond(403, false),
			req: func(t *testing.T) *http.Request {
				return request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues")
			},
			wantStatus: 403,
			wantBody:   "declared",
		},
		{
			name: "RespondWith200GoesOnToTrigger",
			spec: respond(200, false),
			req: func(t *testing.T) *http.Request {
				return signed(t, request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)
			},
			wantStatus: 200,
			wantBody:   "declared",
			wantTrig:   []string{"all", "issues"},
		},
		{
			name: "RespondWith200StillVerifies",
			spec: respond(200, false),
			req: func(t *testing.T) *http.Request {
				return request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues")
			},
			wantStatus: 401,
			wantBody:   `{"error":"signature verification failed","reason":"signer: github: X-Hub-Signature-256: missing header"}` + "\n",
		},
		{
			name: "RespondWithFilterMissTakesTheNormalPath",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				return signed(t, request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)
			},
			wantStatus: 200,
			wantBody:   okBody("gh", "issues", "all"),
			wantHeader: map[string]string{"Content-Type": jsonType},
			wantTrig:   []string{"all", "issues"},
		},
		{
			name: "UnsignedIs401AndWakesNothing",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				return request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues")
			},
			wantStatus: 401,
			wantBody:   `{"error":"signature verification failed","reason":"signer: github: X-Hub-Signature-256: missing header"}` + "\n",
			wantHeader: map[string]string{"Content-Type": jsonType},
		},
		{
			name: "WrongSecretIs401AndWakesNothing",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				return signed(t, request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues"), signer.GitHub(), "not-the-secret")
			},
			wantStatus: 401,
			wantBody:   `{"error":"signature verification failed","reason":"signer: github: X-Hub-Signature-256: no matching signature"}` + "\n",
		},
		{
			name: "TamperedBodyIs401",
			spec: base(),
			req: func(t *testing.T) *http.Request {
				r := signed(t, request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)
				r.Body = io.NopCloser(strings.NewReader(strings.Replace(issue, "opened", "closed", 1)))
				return r
			},
			wantStatus: 401,
		},
		{
			name: "NoVerifySpecAcceptsUnsigned",
			spec: unverified(),
			req: func(t *testing.T) *http.Request {
				return request("POST", "/hooks/gh", issue, "X-GitHub-Event: issues")
			},
			wantStatus: 200,
			wantBody:   okBody("gh", "issues", "all"),
			wantTrig:   []string{"all", "issues"},
		},
		{
			name: "NoMatchingTriggerIs200WithAnEmptyList",
			spec: func() sim.EndpointSpec { s := base(); s.Triggers = s.Triggers[:1]; return s }(),
			req: func(t *testing.T) *http.Request {
				return signed(t, request("POST", "/hooks/gh", issue, "X-GitHub-Event: push"), signer.GitHub(), ghSecret)
			},
			wantStatus: 200,
			wantBody:   okBody("gh"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, tt.spec)
			r := tt.req(t)
			w := serve(t, in, r)
			assert.Equal(t, tt.wantStatus, w.Code, "%s %s: status", r.Method, r.URL)
			if tt.wantBody != "" {
				assert.Equal(t, tt.wantBody, w.Body.String(), "%s %s: body", r.Method, r.URL)
			}
			for k, v := range tt.wantHeader {
				assert.Equal(t, v, w.Header().Get(k), "%s %s: header %s", r.Method, r.URL, k)
			}
			want := tt.wantTrig
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, triggered(rec), "%s %s: delivered to", r.Method, r.URL)
			assert.NotContains(t, w.Body.String(), ghSecret, "the response quotes the secret")
		})
	}
}

// TestIngressRejectionNeverQuotesSecretOrMAC checks that a 401's reason
// names the header and the problem but never the secret or the signature
// the Ingress expected.
func TestIngressRejectionNeverQuotesSecretOrMAC(t *testing.T) {
	body := `{"action":"opened"}`
	mac := hmac.New(sha256.New, []byte(ghSecret))
	mac.Write([]byte(body))
	expected := hex.EncodeToString(mac.Sum(nil))

	in, rec := newIngress(t, sim.Config{}, ghSpec(trig("all", "")))
	for _, sig := range []string{"sha256=" + strings.Repeat("0", 64), "sha256=" + expected[:63] + "0", "sha1=abc", expected, ""} {
		r := request("POST", "/hooks/gh", body, "X-Hub-Signature-256: "+sig)
		w := serve(t, in, r)
		assert.Equal(t, http.StatusUnauthorized, w.Code, "POST with X-Hub-Signature-256: %q: status", sig)
		var e struct{ Error, Reason string }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), "401 body is JSON: %s", w.Body)
		assert.Equal(t, "signature verification failed", e.Error)
		assert.True(t, strings.HasPrefix(e.Reason, "signer: github: X-Hub-Signature-256: "), "reason = %q", e.Reason)
		assert.NotContains(t, w.Body.String(), ghSecret)
		assert.NotContains(t, w.Body.String(), expected)
	}
	assert.Zero(t, rec.Len(), "deliveries after rejected requests")
}

// TestIngressTriggersEveryMatchExactlyOnce checks fan-out: each trigger
// whose filter matches gets exactly one delivery, the others none, and the
// answer lists the woken ids in spec order.
func TestIngressTriggersEveryMatchExactlyOnce(t *testing.T) {
	spec := ghSpec(
		trig("issues-opened", `{"headers":{"x-github-event":["issues"]},"body":{"action":["opened"]}}`),
		trig("issues-closed", `{"headers":{"x-github-event":["issues"]},"body":{"action":["closed"]}}`),
		trig("posts", `{"method":["POST"]}`),
		trig("puts", `{"method":["PUT"]}`),
		trig("all", ""),
		trig("query", `{"query":{"tenant":["acme"]}}`),
	)
	in, rec := newIngress(t, sim.Config{}, spec)
	r := signed(t, request("POST", "/hooks/gh?tenant=acme", `{"action":"opened"}`, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)
	w := serve(t, in, r)
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body)
	assert.Equal(t, okBody("gh", "issues-opened", "posts", "all", "query"), w.Body.String())
	assert.Equal(t, []string{"all", "issues-opened", "posts", "query"}, triggered(rec))
}

// TestIngressDeliveryCarriesTheRequest checks the Delivery envelope: the
// exact body bytes, the headers as received, the URL, the verification
// result and the clock.
func TestIngressDeliveryCarriesTheRequest(t *testing.T) {
	// Not valid UTF-8, odd spacing, a trailing newline: the bytes must
	// survive as they are.
	body := "{ \"action\" : \"opened\",\t\"x\":\"\xff\xfe\" }\n"
	tests := []struct {
		name    string
		spec    sim.EndpointSpec
		sign    bool
		wantVer sim.Verification
	}{
		{"Verified", ghSpec(trig("all", "")), true, sim.Verification{Verified: true}},
		{"Unverified", sim.EndpointSpec{ID: "gh", Triggers: []sim.TriggerSpec{trig("all", "")}}, false, sim.Verification{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, tt.spec)
			r := request("PUT", "/hooks/gh?a=1&a=2&b=%20x", body,
				"X-GitHub-Event: issues", "X-Multi: one", "X-Multi: two", sim.RequestIDHeader+": req-42")
			r.Host = "hooks.example.com:8443"
			if tt.sign {
				signed(t, r, signer.GitHub(), ghSecret)
			}
			w := serve(t, in, r)
			require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body)
			ds := rec.Deliveries()
			require.Len(t, ds, 1)
			d := ds[0]
			assert.Equal(t, "gh", d.Endpoint)
			assert.Equal(t, "all", d.Trigger)
			assert.Equal(t, "PUT", d.Request.Method)
			assert.Equal(t, "http://hooks.example.com:8443/hooks/gh?a=1&a=2&b=%20x", d.Request.URL)
			assert.Equal(t, []byte(body), d.Request.Body, "delivered body bytes")
			h := http.Header(d.Request.Header)
			assert.Equal(t, []string{"one", "two"}, h.Values("X-Multi"), "repeated header")
			assert.Equal(t, "issues", h.Get("X-GitHub-Event"))
			assert.Equal(t, "hooks.example.com:8443", h.Get("Host"), "Host is kept, as a Fetch Request has it")
			if tt.sign {
				assert.Equal(t, r.Header.Get("X-Hub-Signature-256"), h.Get("X-Hub-Signature-256"))
			}
			assert.Equal(t, "req-42", d.RequestID())
			assert.Equal(t, tt.wantVer, d.Verification)
			assert.True(t, d.ReceivedAt.Equal(t0), "ReceivedAt = %v, want %v", d.ReceivedAt, t0)
			assert.True(t, d.DeliveredAt.Equal(t0), "DeliveredAt = %v, want %v", d.DeliveredAt, t0)
			assert.True(t, d.RecordedAt.Equal(t0), "RecordedAt = %v, want %v", d.RecordedAt, t0)
		})
	}
}

// TestIngressForwardedProtoRebuildsHTTPSURL checks that behind a
// TLS-terminating proxy (X-Forwarded-Proto: https) the Ingress verifies
// and delivers the https URL the sender addressed, which URL-signing
// schemes such as Twilio's depend on.
func TestIngressForwardedProtoRebuildsHTTPSURL(t *testing.T) {
	const secret = "twilio-auth-token-EXAMPLE"
	const public = "https://hooks.example.com/hooks/tw?tenant=acme"
	form := "CallSid=CA1234&From=%2B15005550006&To=%2B15005550001"
	p, err := signer.Sign(signer.Twilio(), signer.Keys(secret), signer.Payload{
		Method: "POST", URL: public, Body: []byte(form),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
	}, signer.At(t0))
	require.NoError(t, err)
	spec := sim.EndpointSpec{ID: "tw", Verify: &sim.VerifySpec{Preset: "twilio", Secrets: signer.Keys(secret)},
		Triggers: []sim.TriggerSpec{trig("all", "")}}

	tests := []struct {
		name, proto string
		wantStatus  int
		wantURL     string
	}{
		{"HTTPS", "https", 200, public},
		{"HTTPSAnyCase", "HTTPS", 200, public},
		{"NoHeaderIsHTTP", "", 401, ""},
		{"HTTPIsHTTP", "http", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, spec)
			r := request("POST", "/hooks/tw?tenant=acme", form)
			r.Host = "hooks.example.com"
			for k, v := range p.Header {
				r.Header[k] = v
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			w := serve(t, in, r)
			assert.Equal(t, tt.wantStatus, w.Code, "X-Forwarded-Proto %q: status (body %s)", tt.proto, w.Body)
			if tt.wantURL != "" {
				ds := rec.Deliveries()
				require.Len(t, ds, 1)
				assert.Equal(t, tt.wantURL, ds[0].Request.URL)
			}
		})
	}
}

// flakySink is a delivery target that answers 500 to its first fails
// POSTs and records the rest in a Sink; it notes when each attempt came.
type flakySink struct {
	sink  sim.Sink
	fails int

	mu       sync.Mutex
	attempts []time.Time
}

func (f *flakySink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.attempts = append(f.attempts, time.Now())
	n := len(f.attempts)
	f.mu.Unlock()
	if n <= f.fails {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	f.sink.ServeHTTP(w, r)
}

func (f *flakySink) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.attempts)
}

// TestIngressDeliveryRetriesWithBackoff checks that a delivery refused
// twice with 500 is tried again after DeliveryBackoff, then twice that,
// and arrives once.
func TestIngressDeliveryRetriesWithBackoff(t *testing.T) {
	const backoff = 20 * time.Millisecond
	fs := &flakySink{fails: 2}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	spec := ghSpec(sim.TriggerSpec{ID: "all", Deliver: srv.URL + "/deliveries"})
	in, rec := newIngress(t, sim.Config{DeliveryBackoff: backoff}, spec)

	body := `{"action":"opened"}`
	w := serve(t, in, signed(t, request("POST", "/hooks/gh", body), signer.GitHub(), ghSecret))
	require.Equal(t, http.StatusOK, w.Code)

	at := fs.times()
	require.Len(t, at, 3, "delivery attempts")
	assert.GreaterOrEqual(t, at[1].Sub(at[0]), backoff, "wait before the 2nd attempt")
	assert.GreaterOrEqual(t, at[2].Sub(at[1]), 2*backoff, "wait before the 3rd attempt (doubled)")
	got := fs.sink.Deliveries()
	require.Len(t, got, 1, "deliveries the sink accepted")
	assert.Equal(t, "gh", got[0].Endpoint)
	assert.Equal(t, "all", got[0].Trigger)
	assert.Equal(t, []byte(body), got[0].Request.Body)
	assert.True(t, got[0].Verification.Verified)
	assert.Equal(t, 1, rec.Len(), "the Recorder records a delivery once, however many attempts")
}

// TestIngressDeliveryGivesUpAfterDeliveryAttempts checks that a target
// that always fails gets exactly DeliveryAttempts POSTs.
func TestIngressDeliveryGivesUpAfterDeliveryAttempts(t *testing.T) {
	fs := &flakySink{fails: 1 << 30}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	spec := ghSpec(sim.TriggerSpec{ID: "all", Deliver: srv.URL})
	in, _ := newIngress(t, sim.Config{DeliveryAttempts: 3, DeliveryBackoff: time.Millisecond}, spec)
	w := serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, fs.times(), 3, "attempts")
}

// TestIngressFailingTargetBlocksNeitherAnswerNorOtherTriggers checks that
// a delivery target that hangs and then fails holds up neither the
// response nor another trigger's delivery.
func TestIngressFailingTargetBlocksNeitherAnswerNorOtherTriggers(t *testing.T) {
	release := make(chan struct{})
	var stuckCalls atomic.Int32
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stuckCalls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer stuck.Close()
	defer close(release)
	good, err := sim.NewSink("")
	require.NoError(t, err)
	defer good.Close()

	spec := ghSpec(
		sim.TriggerSpec{ID: "stuck", Deliver: stuck.URL},
		sim.TriggerSpec{ID: "good", Deliver: good.URL},
	)
	in, _ := newIngress(t, sim.Config{DeliveryBackoff: time.Hour}, spec)
	r := signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { in.ServeHTTP(w, r); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeHTTP did not return while a delivery target hangs")
	}
	assert.Equal(t, okBody("gh", "stuck", "good"), w.Body.String())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ds, err := good.Wait(ctx, 1)
	require.NoError(t, err, "the other trigger's delivery while one target hangs")
	assert.Equal(t, "good", ds[0].Trigger)
}

// TestIngressCloseStopsRetries checks that Close cancels a delivery that
// is waiting to be retried, and returns promptly.
func TestIngressCloseStopsRetries(t *testing.T) {
	fs := &flakySink{fails: 1 << 30}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	in, err := sim.NewIngress(sim.Config{Now: fixedNow, DeliveryAttempts: 100, DeliveryBackoff: time.Hour},
		ghSpec(sim.TriggerSpec{ID: "all", Deliver: srv.URL}))
	require.NoError(t, err)
	w := httptest.NewRecorder()
	in.ServeHTTP(w, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret))
	require.Equal(t, http.StatusOK, w.Code)
	require.Eventually(t, func() bool { return len(fs.times()) == 1 }, 5*time.Second, time.Millisecond, "first attempt")

	start := time.Now()
	require.NoError(t, in.Close())
	assert.Less(t, time.Since(start), 5*time.Second, "Close waits out the backoff")
	assert.Len(t, fs.times(), 1, "attempts once Close returned")
}

// TestIngressEndpoints checks Add, Remove and Endpoints while serving.
func TestIngressEndpoints(t *testing.T) {
	in, rec := newIngress(t, sim.Config{})
	assert.Empty(t, in.Endpoints())

	require.NoError(t, in.Add(ghSpec(trig("all", ""))))
	require.NoError(t, in.Add(sim.EndpointSpec{ID: "a-first"}))
	assert.Equal(t, []string{"a-first", "gh"}, in.Endpoints(), "Endpoints is sorted")

	err := in.Add(sim.EndpointSpec{ID: "gh"})
	assert.ErrorIs(t, err, sim.ErrEndpointExists)
	assert.EqualError(t, err, `sim: endpoint "gh": endpoint already exists`)

	err = in.Add(sim.EndpointSpec{ID: "bad", Triggers: []sim.TriggerSpec{{ID: "t", Filter: json.RawMessage(`{"method":["get"]}`)}}})
	assert.ErrorIs(t, err, sim.ErrInvalidSpec)
	assert.NotErrorIs(t, err, sim.ErrEndpointExists)
	assert.EqualError(t, err, `sim: endpoint "bad": triggers[0].filter.method[0]: "get" is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (upper-case)`)
	assert.Equal(t, []string{"a-first", "gh"}, in.Endpoints(), "a failed Add adds nothing")

	err = in.Add(sim.EndpointSpec{})
	assert.EqualError(t, err, `sim: endpoint: id: missing`)

	w := serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret))
	assert.Equal(t, http.StatusOK, w.Code)

	assert.True(t, in.Remove("gh"), "Remove(gh)")
	assert.False(t, in.Remove("gh"), "Remove(gh) again")
	assert.False(t, in.Remove("never"), "Remove(never)")
	assert.Equal(t, []string{"a-first"}, in.Endpoints())
	w = serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret))
	assert.Equal(t, http.StatusNotFound, w.Code, "a removed endpoint")
	assert.Equal(t, 1, rec.Len())

	require.NoError(t, in.Add(ghSpec()), "the id is free again after Remove")
}

// TestNewIngressRejectsBadConfig checks the errors of NewIngress.
func TestNewIngressRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     sim.Config
		specs   []sim.EndpointSpec
		wantErr string
		wantIs  error
	}{
		{"UnknownProfile", sim.Config{Profile: "lenient"}, nil, `sim: unknown profile "lenient" (have "strict", "triggerdev-v2")`, nil},
		{"InvalidSpec", sim.Config{}, []sim.EndpointSpec{{ID: "gh", Verify: &sim.VerifySpec{Preset: "gihub", Secrets: signer.Keys(ghSecret)}}},
			`sim: endpoint "gh": verify.preset: unknown preset "gihub" (hooklab presets lists them)`, sim.ErrInvalidSpec},
		{"DuplicateSpec", sim.Config{}, []sim.EndpointSpec{{ID: "gh"}, {ID: "gh"}}, `sim: endpoint "gh": endpoint already exists`, sim.ErrEndpointExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := sim.NewIngress(tt.cfg, tt.specs...)
			assert.Nil(t, in)
			assert.EqualError(t, err, tt.wantErr)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
		})
	}
}

// TestIngressConcurrentRequests sends 200 signed requests at once, while
// endpoints are added and removed beside them, and checks that every
// request got its two deliveries, no more, no fewer. Run it with -race.
func TestIngressConcurrentRequests(t *testing.T) {
	const n = 200
	in, rec := newIngress(t, sim.Config{}, ghSpec(trig("issues", `{"headers":{"x-github-event":["issues"]}}`), trig("all", "")))
	srv := httptest.NewServer(sim.Handler(in))
	defer srv.Close()
	client := srv.Client()

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := http.NewRequest("POST", srv.URL+"/hooks/gh", strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
			r.Header.Set("X-GitHub-Event", "issues")
			r.Header.Set(sim.RequestIDHeader, fmt.Sprintf("req-%d", i))
			if err := signer.SignRequest(r, signer.GitHub(), signer.Keys(ghSecret)); err != nil {
				errs <- err
				return
			}
			resp, err := client.Do(r)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(b) != okBody("gh", "issues", "all") {
				errs <- fmt.Errorf("request %d: %d %s", i, resp.StatusCode, b)
			}
		}()
	}
	// Churn beside the traffic: other endpoints come and go.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			id := fmt.Sprintf("other-%d", i%5)
			in.Add(sim.EndpointSpec{ID: id})
			in.Endpoints()
			in.Remove(id)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	flush(t, in)

	require.Equal(t, 2*n, rec.Len(), "deliveries for %d requests to 2 matching triggers", n)
	per := map[string]int{}
	for _, d := range rec.Deliveries() {
		per[d.RequestID()+"/"+d.Trigger]++
	}
	for i := range n {
		for _, tr := range []string{"issues", "all"} {
			key := fmt.Sprintf("req-%d/%s", i, tr)
			assert.Equal(t, 1, per[key], "deliveries of %s", key)
		}
	}
}

// TestIngressLogNeverHoldsSecretOrBody checks Config.Log: one line per
// request and one per failed delivery, with neither the secret, nor the
// body, nor the delivery URL's query.
func TestIngressLogNeverHoldsSecretOrBody(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	fs := &flakySink{fails: 1 << 30}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	const token = "TOKEN-MARKER-91c2"
	in, _ := newIngress(t, sim.Config{Log: log, DeliveryAttempts: 1},
		ghSpec(sim.TriggerSpec{ID: "all", Deliver: srv.URL + "/deliveries?token=" + token}))

	const marker = "BODY-MARKER-7f3a"
	serve(t, in, signed(t, request("POST", "/hooks/gh", `{"note":"`+marker+`"}`), signer.GitHub(), ghSecret))
	serve(t, in, signed(t, request("POST", "/hooks/gh", `{"note":"`+marker+`"}`), signer.GitHub(), "wrong-"+ghSecret))
	serve(t, in, request("POST", "/hooks/nope", marker))

	out := buf.String()
	assert.Contains(t, out, `msg="POST /hooks/gh" status=200 note="triggered 1"`)
	assert.Contains(t, out, `msg="POST /hooks/gh" status=401 note=rejected`)
	assert.Contains(t, out, `msg="POST /hooks/nope" status=404 note="unknown endpoint"`)
	assert.Contains(t, out, `msg="delivery failed" endpoint=gh trigger=all`)
	assert.NotContains(t, out, ghSecret)
	assert.NotContains(t, out, marker)
	assert.NotContains(t, out, token, "the delivery URL may carry a token")
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHandlerControlAPI checks the control API of Handler over a real
// server: create (201, 400, 409), list, delete (204, 404), and that the
// created endpoint is served.
func TestHandlerControlAPI(t *testing.T) {
	in, rec := newIngress(t, sim.Config{})
	srv, err := sim.NewServer("", sim.ControlHandler(in, ""))
	require.NoError(t, err)
	defer srv.Close()
	assert.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), "NewServer binds loopback: %s", srv.URL)

	call := func(method, path, body string) (int, string) {
		t.Helper()
		r, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	spec, err := json.Marshal(ghSpec(trig("all", "")))
	require.NoError(t, err)

	status, body := call("POST", "/endpoints", string(spec))
	assert.Equal(t, http.StatusCreated, status, "POST /endpoints: %s", body)
	assert.JSONEq(t, `{"id":"gh","url":"`+srv.URL+`/hooks/gh"}`, body)

	status, body = call("POST", "/endpoints", string(spec))
	assert.Equal(t, http.StatusConflict, status, "POST /endpoints again: %s", body)
	assert.Equal(t, `{"error":"invalid spec","reason":"endpoint \"gh\": endpoint already exists"}`+"\n", body)

	status, body = call("POST", "/endpoints", `{"id":"x","verify":{"preset":"gihub","secret":"s"}}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, `{"error":"invalid spec","reason":"request body:1: verify.preset: unknown preset \"gihub\" (hooklab presets lists them)"}`+"\n", body)

	status, body = call("POST", "/endpoints", `[{"id":"a"},{"id":"b"}]`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, `{"error":"invalid spec","reason":"want one endpoint, got 2"}`+"\n", body)

	status, body = call("GET", "/endpoints", "")
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"endpoints":["gh"]}`, body)

	r, _ := http.NewRequest("POST", srv.URL+"/hooks/gh", strings.NewReader(`{}`))
	require.NoError(t, signer.SignRequest(r, signer.GitHub(), signer.Keys(ghSecret)))
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "POST /hooks/gh to a created endpoint")
	flush(t, in)
	assert.Equal(t, 1, rec.Len())

	status, _ = call("DELETE", "/endpoints/gh", "")
	assert.Equal(t, http.StatusNoContent, status)
	status, body = call("DELETE", "/endpoints/gh", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, `{"error":"unknown endpoint","reason":"no endpoint \"gh\""}`+"\n", body)
	status, _ = call("POST", "/hooks/gh", `{}`)
	assert.Equal(t, http.StatusNotFound, status, "POST /hooks/gh after DELETE")
	status, body = call("GET", "/elsewhere", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, `{"error":"unknown endpoint","reason":"no endpoint is served at /elsewhere","path":"/elsewhere","served":[]}`+"\n", body)
}

// TestHandlerWithoutControlServesNoControlAPI checks that Handler(in)
// answers the control paths with 404.
func TestHandlerWithoutControlServesNoControlAPI(t *testing.T) {
	in, _ := newIngress(t, sim.Config{})
	h := sim.Handler(in)
	for _, m := range []string{"GET", "POST"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request(m, "/endpoints", `{"id":"gh"}`))
		assert.Equal(t, http.StatusNotFound, w.Code, "%s /endpoints", m)
	}
	assert.Empty(t, in.Endpoints())
}

// TestNewServerReportsListenErrors checks that an address in use is an
// error, not a panic.
func TestNewServerReportsListenErrors(t *testing.T) {
	a, err := sim.NewServer("", http.NotFoundHandler())
	require.NoError(t, err)
	defer a.Close()
	_, err = sim.NewServer(strings.TrimPrefix(a.URL, "http://"), http.NotFoundHandler())
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "sim: listen tcp "), "error = %q", err)
	var oe *net.OpError
	assert.True(t, errors.As(err, &oe), "wraps the *net.OpError: %v", err)
}

// observe summarises an exchange for the fault tests: the status, the
// declared body when it is not JSON, and the sorted trigger ids delivered.
func observe(w *httptest.ResponseRecorder, rec *sim.Recorder) string {
	s := fmt.Sprint(w.Code)
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		s += " " + strings.TrimSpace(w.Body.String())
	}
	return s + " " + fmt.Sprint(triggered(rec))
}

// handshakeSpec is gh with a ping handshake answered by respondWith.
func handshakeSpec(triggers ...sim.TriggerSpec) sim.EndpointSpec {
	s := ghSpec(triggers...)
	s.RespondWith = &sim.RespondWithSpec{
		Filter:         json.RawMessage(`{"headers":{"x-github-event":["ping"]}}`),
		SkipTriggering: true,
		Response:       sim.ResponseSpec{Headers: map[string]string{"Content-Type": "text/plain"}, Body: "pong"},
	}
	return s
}

// TestIngressFaults shows, for every fault of the strict profile, the behaviour
// change it introduces at the ingress: the same scenario run against the
// strict Ingress and against one built with the fault. (The conformance
// suite proves each fault is caught; this test proves each does what its
// doc says.)
func TestIngressFaults(t *testing.T) {
	tests := []struct {
		fault          string
		scenario       func(t *testing.T, cfg sim.Config) string
		strict, faulty string
	}{
		{
			fault: "skip-verify",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				return observe(serve(t, in, request("POST", "/hooks/gh", `{}`)), rec)
			},
			strict: "401 []",
			faulty: "200 [all]",
		},
		{
			fault: "verify-after-trigger",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				w := serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), "forged"))
				var vs []string
				for _, d := range rec.Deliveries() {
					vs = append(vs, fmt.Sprintf("verified=%v reason=%q", d.Verification.Verified, d.Verification.Reason))
				}
				return observe(w, rec) + fmt.Sprint(vs)
			},
			strict: "401 [][]",
			faulty: `401 [all][verified=false reason="signer: github: X-Hub-Signature-256: no matching signature"]`,
		},
		{
			fault: "case-sensitive-headers",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// A header filter, and a scheme whose header names are
				// lower-case (Zoom's x-zm-signature).
				in, rec := newIngress(t, cfg, ghSpec(trig("issues", `{"headers":{"x-github-event":["issues"]}}`)))
				filter := observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret)), rec)
				zoom := sim.EndpointSpec{ID: "zoom", Verify: &sim.VerifySpec{Preset: "zoom", Secrets: signer.Keys("zoom-secret")}}
				in, rec = newIngress(t, cfg, zoom)
				scheme := observe(serve(t, in, signed(t, request("POST", "/hooks/zoom", `{"event":"meeting.started"}`), signer.Zoom(), "zoom-secret")), rec)
				return "filter: " + filter + "; zoom: " + scheme
			},
			strict: "filter: 200 [issues]; zoom: 200 []",
			faulty: "filter: 200 []; zoom: 401 []",
		},
		{
			fault: "first-match-only",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, ghSpec(trig("a", ""), trig("b", `{"method":["POST"]}`), trig("c", "")))
				w := serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret))
				return observe(w, rec) + " " + strings.TrimSpace(w.Body.String())
			},
			strict: `200 [a b c] {"ok":true,"endpoint":"gh","triggered":["a","b","c"]}`,
			faulty: `200 [a] {"ok":true,"endpoint":"gh","triggered":["a"]}`,
		},
		{
			fault: "ignore-skip-triggering",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, handshakeSpec(trig("all", "")))
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`, "X-GitHub-Event: ping"), signer.GitHub(), ghSecret)), rec)
			},
			strict: "200 pong []",
			faulty: "200 pong [all]",
		},
		{
			fault: "no-respond-with",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, handshakeSpec(trig("all", "")))
				return observe(serve(t, in, request("POST", "/hooks/gh", `{}`, "X-GitHub-Event: ping")), rec)
			},
			strict: "200 pong []",
			faulty: "401 []",
		},
		{
			fault: "query-filter-ignored",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// A trigger's query filter, and a Meta-style handshake whose
				// verify token is a query filter.
				in, rec := newIngress(t, cfg, ghSpec(trig("acme", `{"query":{"tenant":["acme"]}}`)))
				trigger := observe(serve(t, in, signed(t, request("POST", "/hooks/gh?tenant=other", `{}`), signer.GitHub(), ghSecret)), rec)
				meta := sim.EndpointSpec{ID: "meta", Verify: &sim.VerifySpec{Preset: "meta", Secrets: signer.Keys("app-secret")},
					RespondWith: &sim.RespondWithSpec{
						Filter:         json.RawMessage(`{"method":["GET"],"query":{"hub.verify_token":["right-token"]}}`),
						SkipTriggering: true,
						Response:       sim.ResponseSpec{Headers: map[string]string{"Content-Type": "text/plain"}, Body: `{{query "hub.challenge"}}`},
					}}
				in, rec = newIngress(t, cfg, meta)
				handshake := observe(serve(t, in, request("GET", "/hooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong-token", "")), rec)
				return "trigger: " + trigger + "; wrong verify token: " + handshake
			},
			strict: "trigger: 200 []; wrong verify token: 401 []",
			faulty: "trigger: 200 [acme]; wrong verify token: 200 1158201444 []",
		},
		{
			fault: "drop-under-concurrency",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// Five requests are held inside ServeHTTP, reading bodies
				// that block; a sixth is sent while they are in flight.
				in, rec := newIngress(t, cfg, sim.EndpointSpec{ID: "open", Triggers: []sim.TriggerSpec{trig("all", "")}})
				var held sync.WaitGroup
				var pws []*io.PipeWriter
				for range 5 {
					pr, pw := io.Pipe()
					r := httptest.NewRequest("POST", "/hooks/open", pr)
					r.Header.Set(sim.RequestIDHeader, "held")
					held.Add(1)
					go func() { defer held.Done(); in.ServeHTTP(httptest.NewRecorder(), r) }()
					pw.Write([]byte("{")) // returns once ServeHTTP is reading
					pws = append(pws, pw)
				}
				w := httptest.NewRecorder()
				in.ServeHTTP(w, request("POST", "/hooks/open", `{}`, sim.RequestIDHeader+": sixth"))
				for _, pw := range pws {
					pw.Write([]byte("}"))
					pw.Close()
				}
				held.Wait()
				flush(t, in)
				n := 0
				for _, d := range rec.Deliveries() {
					if d.RequestID() == "sixth" {
						n++
					}
				}
				return fmt.Sprintf("%d %s; deliveries of the sixth: %d", w.Code, strings.TrimSpace(w.Body.String()), n)
			},
			strict: `200 {"ok":true,"endpoint":"open","triggered":["all"]}; deliveries of the sixth: 1`,
			faulty: `200 {"ok":true,"endpoint":"open","triggered":["all"]}; deliveries of the sixth: 0`,
		},
		{
			fault: "duplicate-delivery",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, ghSpec(trig("a", ""), trig("b", "")))
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret)), rec)
			},
			strict: "200 [a b]",
			faulty: "200 [a a b b]",
		},
		{
			fault: "reserialize-body",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// Signed as sent: spaces, and keys out of Go's sorted order.
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{"zen": "x", "action": "opened"}`), signer.GitHub(), ghSecret)), rec)
			},
			strict: "200 [all]",
			faulty: "401 []",
		},
		{
			fault: "no-tolerance",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// Stripe-signed an hour before the Ingress's clock.
				spec := sim.EndpointSpec{ID: "stripe", Verify: &sim.VerifySpec{Preset: "stripe", Secrets: signer.Keys("whsec_test")},
					Triggers: []sim.TriggerSpec{trig("all", "")}}
				in, rec := newIngress(t, cfg, spec)
				r := request("POST", "/hooks/stripe", `{"type":"invoice.paid"}`)
				require.NoError(t, signer.SignRequest(r, signer.Stripe(), signer.Keys("whsec_test"), signer.At(t0.Add(-time.Hour))))
				return observe(serve(t, in, r), rec)
			},
			strict: "401 []",
			faulty: "200 [all]",
		},
		{
			fault: "first-key-only",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// The receiver rotated to "new"; the sender still signs
				// with "old".
				spec := ghSpec(trig("all", ""))
				spec.Verify.Secrets = signer.Keys("new", "old")
				in, rec := newIngress(t, cfg, spec)
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), "old")), rec)
			},
			strict: "200 [all]",
			faulty: "401 []",
		},
		{
			fault: "repeated-header-unverified",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// Two signature headers, both bogus.
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				r := request("POST", "/hooks/gh", `{}`)
				r.Header["X-Hub-Signature-256"] = []string{"sha256=" + strings.Repeat("0", 64), "sha256=" + strings.Repeat("1", 64)}
				return observe(serve(t, in, r), rec)
			},
			strict: "401 []",
			faulty: "200 [all]",
		},
		{
			fault: "any-method",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, sim.EndpointSpec{ID: "open", Triggers: []sim.TriggerSpec{trig("all", "")}})
				return observe(serve(t, in, request("TRACE", "/hooks/open", "")), rec)
			},
			strict: "405 []",
			faulty: "200 [all]",
		},
		{
			fault: "unknown-endpoint-ok",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				w := serve(t, in, signed(t, request("POST", "/hooks/gh-typo", `{}`), signer.GitHub(), ghSecret))
				return observe(w, rec) + " " + strings.TrimSpace(w.Body.String())
			},
			strict: `404 [] {"error":"unknown endpoint","reason":"no endpoint \"gh-typo\"","path":"/hooks/gh-typo","served":["/hooks/gh"]}`,
			faulty: `200 [] {"ok":true}`,
		},
		{
			fault: "parse-json-first",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// Declared JSON, but not JSON: a trigger without a filter
				// still takes it.
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				r := signed(t, request("POST", "/hooks/gh", `{"truncated":`, "Content-Type: application/json"), signer.GitHub(), ghSecret)
				return observe(serve(t, in, r), rec)
			},
			strict: "200 [all]",
			faulty: "400 []",
		},
		{
			fault: "utf8-decode-body",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// Signed over bytes that are not valid UTF-8.
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", "{\"name\":\"caf\xe9\"}"), signer.GitHub(), ghSecret)), rec)
			},
			strict: "200 [all]",
			faulty: "401 []",
		},
		{
			fault: "leak-expected-signature",
			scenario: func(t *testing.T, cfg sim.Config) string {
				body := `{"action":"opened"}`
				want := hex.EncodeToString(mac(sha256.New, ghSecret, body))
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				w := serve(t, in, signed(t, request("POST", "/hooks/gh", body), signer.GitHub(), "forged"))
				return observe(w, rec) + fmt.Sprintf(" quotes the expected signature: %v", strings.Contains(w.Body.String(), want))
			},
			strict: "401 [] quotes the expected signature: false",
			faulty: "401 [] quotes the expected signature: true",
		},
		{
			fault: "late-delivery-of-rejected",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// What comes within 3 s of a rejected request: the fault
				// delivers it after 1 s, the reference never.
				in, rec := newIngress(t, cfg, ghSpec(trig("all", ""), trig("closed", `{"body":{"action":["closed"]}}`)))
				sent := time.Now()
				w := serve(t, in, signed(t, request("POST", "/hooks/gh", `{"action":"opened"}`), signer.GitHub(), "forged"))
				answered := observe(w, rec)
				ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
				defer cancel()
				ds, _ := rec.Wait(ctx, 1)
				var late []string
				for _, d := range ds {
					late = append(late, fmt.Sprintf("%s verified=%v after 1s=%v", d.Trigger, d.Verification.Verified, time.Since(sent) >= time.Second))
				}
				return fmt.Sprintf("answered %s; within 3s %v", answered, late)
			},
			strict: "answered 401 []; within 3s []",
			faulty: "answered 401 []; within 3s [all verified=false after 1s=true]",
		},
		{
			fault: "json-content-type-only",
			scenario: func(t *testing.T, cfg sim.Config) string {
				var out []string
				for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json", ""} {
					in, rec := newIngress(t, cfg, ghSpec(trig("opened", `{"body":{"action":["opened"]}}`)))
					r := signed(t, request("POST", "/hooks/gh", `{"action":"opened"}`), signer.GitHub(), ghSecret)
					if ct != "" {
						r.Header.Set("Content-Type", ct)
					}
					out = append(out, fmt.Sprintf("%q: %s", ct, observe(serve(t, in, r), rec)))
				}
				return strings.Join(out, "; ")
			},
			strict: `"application/json; charset=utf-8": 200 [opened]; "Application/JSON": 200 [opened]; "application/vnd.api+json": 200 [opened]; "": 200 [opened]`,
			faulty: `"application/json; charset=utf-8": 200 [opened]; "Application/JSON": 200 []; "application/vnd.api+json": 200 []; "": 200 []`,
		},
		{
			fault: "url-without-query",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// Twilio signs the full URL, query included.
				const secret = "twilio-auth-token"
				form := "CallSid=CA1&From=%2B15005550006"
				p, err := signer.Sign(signer.Twilio(), signer.Keys(secret), signer.Payload{
					Method: "POST", URL: "http://hooks.example.com/hooks/tw?tenant=acme", Body: []byte(form),
					Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				})
				require.NoError(t, err)
				spec := sim.EndpointSpec{ID: "tw", Verify: &sim.VerifySpec{Preset: "twilio", Secrets: signer.Keys(secret)}, Triggers: []sim.TriggerSpec{trig("all", "")}}
				in, rec := newIngress(t, cfg, spec)
				r := request("POST", "/hooks/tw?tenant=acme", form)
				r.Host = "hooks.example.com"
				for k, v := range p.Header {
					r.Header[k] = v
				}
				return observe(serve(t, in, r), rec)
			},
			strict: "200 [all]",
			faulty: "401 []",
		},
		{
			fault: "sha1-fallback",
			scenario: func(t *testing.T, cfg sim.Config) string {
				// Only the legacy X-Hub-Signature (SHA-1), correctly keyed.
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHubSHA1(), ghSecret)), rec)
			},
			strict: "401 []",
			faulty: "200 [all]",
		},
		{
			fault: "no-content-limit",
			scenario: func(t *testing.T, cfg sim.Config) string {
				spec := ghSpec(trig("all", ""))
				spec.MaxBody = 16
				in, rec := newIngress(t, cfg, spec)
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{"pad":"0123456789abcdef"}`), signer.GitHub(), ghSecret)), rec)
			},
			strict: "413 []",
			faulty: "200 [all]",
		},
	}

	// The faults that break fan-out across requests and endpoints.
	tests = append(tests, []struct {
		fault          string
		scenario       func(t *testing.T, cfg sim.Config) string
		strict, faulty string
	}{
		{
			fault: "dedup-by-body",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")))
				serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret))
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret)), rec)
			},
			strict: "200 [all all]",
			faulty: "200 [all]",
		},
		{
			fault: "shared-trigger-table",
			scenario: func(t *testing.T, cfg sim.Config) string {
				other := ghSpec(trig("other", ""))
				other.ID = "other"
				in, rec := newIngress(t, cfg, ghSpec(trig("all", "")), other)
				serve(t, in, signed(t, request("POST", "/hooks/other", `{}`), signer.GitHub(), ghSecret))
				rec.Reset()
				return observe(serve(t, in, signed(t, request("POST", "/hooks/gh", `{}`), signer.GitHub(), ghSecret)), rec)
			},
			strict: "200 [all]",
			faulty: "200 [all other]",
		},
		// The faults of a spec's dedup (dedup_test.go has the helpers).
		{
			fault: "no-dedup",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, dedupSpec(&sim.DedupSpec{}))
				serve(t, in, swRequest(t, "m1", `{}`, 0, false))
				return observe(serve(t, in, swRequest(t, "m1", `{}`, 0, false)), rec)
			},
			strict: "200 [a b]",
			faulty: "200 [a a b b]",
		},
		{
			fault: "dedup-before-verify",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, dedupSpec(&sim.DedupSpec{}))
				serve(t, in, swRequest(t, "m1", `{}`, 0, true))
				return observe(serve(t, in, swRequest(t, "m1", `{}`, 0, false)), rec)
			},
			strict: "200 [a b]",
			faulty: "200 []",
		},
		{
			fault: "dedup-by-signature",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, dedupSpec(&sim.DedupSpec{}))
				serve(t, in, swRequest(t, "m1", `{}`, -time.Minute, false))
				return observe(serve(t, in, swRequest(t, "m1", `{}`, 0, false)), rec)
			},
			strict: "200 [a b]",
			faulty: "200 [a a b b]",
		},
		{
			fault: "dedup-id-cursor",
			scenario: func(t *testing.T, cfg sim.Config) string {
				in, rec := newIngress(t, cfg, dedupSpec(&sim.DedupSpec{}))
				serve(t, in, swRequest(t, "m2", `{}`, 0, false))
				return observe(serve(t, in, swRequest(t, "m1", `{}`, -2*time.Minute, false)), rec)
			},
			strict: "200 [a a b b]",
			faulty: "200 [a b]",
		},
	}...)

	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.fault] = true
		t.Run(tt.fault, func(t *testing.T) {
			f, err := fault.Lookup(sim.Strict, tt.fault)
			require.NoError(t, err)
			assert.NotEmpty(t, f.Doc, "Doc")
			t.Run("Strict", func(t *testing.T) {
				assert.Equal(t, tt.strict, tt.scenario(t, sim.Config{}))
			})
			t.Run("Faulty", func(t *testing.T) {
				cfg, err := fault.With(sim.Config{}, f)
				require.NoError(t, err)
				assert.Equal(t, tt.faulty, tt.scenario(t, cfg))
			})
		})
	}
	for _, f := range fault.Of(sim.Strict) {
		assert.True(t, covered[f.Name], "fault %q has no focused test here", f)
	}
}

// TestAddRefusesDeliverHosts checks that a trigger may deliver only to
// loopback or to a host the Config allows, so that a spec posted to the
// control API cannot make the ingress reach any address it can.
func TestAddRefusesDeliverHosts(t *testing.T) {
	tests := []struct {
		name    string
		allow   []string
		deliver string
		wantErr string
	}{
		{"LoopbackV4", nil, "http://127.0.0.1:9/d", ""},
		{"LoopbackV4Range", nil, "http://127.3.2.1:9/d", ""},
		{"LoopbackV6", nil, "http://[::1]:9/d", ""},
		{"Localhost", nil, "http://LOCALHOST:9/d", ""},
		{"MetadataAddress", nil, "http://169.254.169.254/latest/meta-data/", `sim: endpoint "gh": triggers[0].deliver: host "169.254.169.254" is not loopback and not an allowed deliver host (allow it with --allow-deliver-host or Config.DeliverHosts)`},
		{"OtherHost", nil, "https://sink.example.com/d", `sim: endpoint "gh": triggers[0].deliver: host "sink.example.com" is not loopback and not an allowed deliver host (allow it with --allow-deliver-host or Config.DeliverHosts)`},
		{"AllowedHost", []string{"sink.example.com"}, "https://Sink.Example.com/d", ""},
		{"AllowedOtherHost", []string{"sink.example.com"}, "https://evil.example.com/d", `sim: endpoint "gh": triggers[0].deliver: host "evil.example.com" is not loopback and not an allowed deliver host (allow it with --allow-deliver-host or Config.DeliverHosts)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := sim.NewIngress(sim.Config{DeliverHosts: tt.allow})
			require.NoError(t, err)
			defer in.Close()
			err = in.Add(ghSpec(sim.TriggerSpec{ID: "t", Deliver: tt.deliver}))
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.wantErr)
			assert.ErrorIs(t, err, sim.ErrInvalidSpec)
			assert.Empty(t, in.Endpoints(), "a refused spec is not served")
		})
	}
}
