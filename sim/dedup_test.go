package sim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// wantIDSource is where each provider's fixtures carry the event id,
// written from the providers' documentation independently of the
// package's table. A preset not listed carries none hooklab knows.
var wantIDSource = map[string]string{
	"github":            "header:X-Github-Delivery",
	"gitlab":            "header:Idempotency-Key",
	"shopify":           "header:X-Shopify-Event-Id",
	"linear":            "header:Linear-Delivery",
	"bitbucket":         "header:X-Request-Uuid",
	"twilio":            "header:I-Twilio-Idempotency-Token",
	"woocommerce":       "header:X-Wc-Webhook-Delivery-Id",
	"sentry":            "header:Request-Id",
	"standard-webhooks": "header:Webhook-Id",
	"clerk":             "header:Svix-Id",
	"resend":            "header:Svix-Id",
	"twitch":            "header:Twitch-Eventsub-Message-Id",
	"stripe":            "body:id",
	"slack":             "body:event_id",
	"paddle":            "body:event_id",
	"square":            "body:event_id",
	"typeform":          "body:event_id",
	"mailgun":           "body:event-data.id",
	"vercel":            "body:id",
	"intercom":          "body:id",
	"box":               "body:id",
	"pagerduty":         "body:event.id",
	"zendesk":           "body:id",
}

// noIDFixtures are fixtures of providers with an id source that carry no
// id: handshakes and form posts that are not events.
var noIDFixtures = map[string]bool{
	"slack/url_verification": true, "slack/slash_command": true, "slack/block_actions": true,
}

// TestEventIDPerProvider renders every fixture, signed as its provider
// signs, under two seeds and checks that EventID finds the provider's id
// where the provider documents it, and that the ids differ: an id that
// did not change between events would make a receiver drop real ones.
func TestEventIDPerProvider(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, f := range fixtures.All() {
		t.Run(f.Name, func(t *testing.T) {
			scheme, err := f.Scheme()
			require.NoError(t, err)
			want := wantIDSource[f.Preset]
			var ids []string
			for seed := int64(1); seed <= 2; seed++ {
				p, err := f.Sign("http://127.0.0.1/hooks/x", signer.Keys(testKey(scheme)), fixtures.Seed(seed), fixtures.Now(func() time.Time { return now }))
				require.NoError(t, err, "Sign")
				id, source := sim.EventID(f.Preset, p.Header, p.Body)
				assert.Equal(t, want, source, "EventID(%s) source", f.Preset)
				if want == "" || noIDFixtures[f.Name] {
					assert.Empty(t, id, "EventID(%s) id, want none", f.Preset)
					continue
				}
				require.NotEmpty(t, id, "EventID(%s) = \"\" from %s, want the delivery's id", f.Preset, source)
				ids = append(ids, id)
			}
			if len(ids) == 2 {
				assert.NotEqual(t, ids[0], ids[1], "EventID(%s) under seeds 1 and 2, want different events to have different ids", f.Name)
			}
		})
	}
}

// testKey returns a key that signs for s: a private key for asymmetric
// schemes, a secret in the scheme's format otherwise.
func testKey(s signer.Scheme) string {
	switch s.Algorithm {
	case signer.Ed25519, signer.ECDSAP256:
		priv, _, err := signer.GenerateKey(s.Algorithm, bytes.NewReader(bytes.Repeat([]byte{7}, 128)))
		if err != nil {
			panic(err)
		}
		return string(priv.Bytes())
	case signer.Token:
		return "token-0123456789"
	}
	if s.Key == signer.KeyWhsec {
		return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	}
	return "c2VjcmV0LTAxMjM0NTY3ODk="
}

func TestParseIDSource(t *testing.T) {
	tests := []struct {
		in      string
		want    sim.IDSource
		wantErr string
	}{
		{"header:webhook-id", sim.IDSource{Header: "Webhook-Id"}, ""},
		{"header:X-GitHub-Delivery", sim.IDSource{Header: "X-Github-Delivery"}, ""},
		{"body:id", sim.IDSource{Body: "id"}, ""},
		{"body:event-data.id", sim.IDSource{Body: "event-data.id"}, ""},
		{"body:a.b.c.d.e.f.g.h", sim.IDSource{Body: "a.b.c.d.e.f.g.h"}, ""},
		{"body:a.b.c.d.e.f.g.h.i", sim.IDSource{}, "is not a body path"},
		{"body:data.#", sim.IDSource{}, "is not a body path"},
		{"body:a..b", sim.IDSource{}, "is not a body path"},
		{"body:", sim.IDSource{}, "is not a body path"},
		{"header:", sim.IDSource{}, "is not a header name"},
		{"header:bad name", sim.IDSource{}, "is not a header name"},
		{"event-id", sim.IDSource{}, `want "header:NAME" or "body:PATH"`},
		{"query:id", sim.IDSource{}, `want "header:NAME" or "body:PATH"`},
	}
	for _, tt := range tests {
		got, err := sim.ParseIDSource(tt.in)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, "ParseIDSource(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseIDSource(%q)", tt.in)
		assert.Equal(t, tt.want, got, "ParseIDSource(%q)", tt.in)
		assert.Equal(t, tt.in[:strings.Index(tt.in, ":")], strings.Split(got.String(), ":")[0], "String() keeps the kind")
	}
}

func TestIDSourceID(t *testing.T) {
	long := strings.Repeat("x", sim.MaxEventIDLen+1)
	tests := []struct {
		name string
		src  sim.IDSource
		h    http.Header
		body string
		want string
	}{
		{"Header", sim.IDSource{Header: "Webhook-Id"}, http.Header{"Webhook-Id": {"msg_1"}}, `{}`, "msg_1"},
		{"HeaderMissing", sim.IDSource{Header: "Webhook-Id"}, http.Header{}, `{"id":"evt_1"}`, ""},
		{"HeaderTooLong", sim.IDSource{Header: "Webhook-Id"}, http.Header{"Webhook-Id": {long}}, `{}`, ""},
		{"BodyString", sim.IDSource{Body: "id"}, nil, `{"id":"evt_1"}`, "evt_1"},
		{"BodyNumberAsWritten", sim.IDSource{Body: "id"}, nil, `{"id":1.50}`, "1.50"},
		{"BodyNested", sim.IDSource{Body: "event-data.id"}, nil, `{"event-data":{"id":"e1"}}`, "e1"},
		{"BodyObjectIsNoID", sim.IDSource{Body: "id"}, nil, `{"id":{"a":1}}`, ""},
		{"BodyNullIsNoID", sim.IDSource{Body: "id"}, nil, `{"id":null}`, ""},
		{"BodyNotJSON", sim.IDSource{Body: "id"}, nil, `id=evt_1`, ""},
		{"BodyTooLong", sim.IDSource{Body: "id"}, nil, `{"id":"` + long + `"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.src.ID(tt.h, []byte(tt.body)))
		})
	}
}

func TestDedupSpecErrorsNameThePath(t *testing.T) {
	tests := []struct {
		name, dedup, verify string
		want                string
	}{
		{"UnknownKey", `{"by":"event-id","ttl":"1h"}`, `{"preset":"github","secret":"s"}`, `dedup.ttl: unknown key (want one of by, window, max)`},
		{"BadBy", `{"by":"query:id"}`, `{"preset":"github","secret":"s"}`, `dedup.by: want "header:NAME" or "body:PATH"`},
		{"EventIDWithoutVerify", `{}`, ``, `dedup.by: "event-id" needs the endpoint's verify preset`},
		{"PresetWithoutID", `{"by":"event-id"}`, `{"preset":"caldotcom","secret":"s"}`, `dedup.by: "event-id": the preset caldotcom carries no event id`},
		{"BadWindow", `{"window":"a day"}`, `{"preset":"github","secret":"s"}`, `dedup.window: "a day" is not a duration`},
		{"WindowTooLong", `{"window":"8760h"}`, `{"preset":"github","secret":"s"}`, `dedup.window: 8760h0m0s is out of range`},
		{"NegativeMax", `{"max":-1}`, `{"preset":"github","secret":"s"}`, `dedup.max: -1 is out of range`},
		{"MaxTooLarge", `{"max":99999999}`, `{"preset":"github","secret":"s"}`, `dedup.max: 99999999 is out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verify := ""
			if tt.verify != "" {
				verify = `"verify":` + tt.verify + `,`
			}
			doc := "{\"id\":\"e\",\n" + verify + "\n\"dedup\":" + tt.dedup + "}"
			_, err := sim.ParseSpecs("hooks.json", []byte(doc))
			require.Error(t, err, "ParseSpecs(%s)", doc)
			assert.ErrorIs(t, err, sim.ErrInvalidSpec)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "hooks.json:")
		})
	}
}

func TestDedupSpecJSONRoundTrip(t *testing.T) {
	in := sim.DedupSpec{By: "header:webhook-id", Window: 90 * time.Minute, Max: 50}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"by":"header:webhook-id","window":"1h30m0s","max":50}`, string(b))
	var out sim.DedupSpec
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in, out)
}

// dedupSpec is a Standard Webhooks endpoint "sw" with two triggers that
// de-duplicates by webhook-id, as the spec says.
func dedupSpec(d *sim.DedupSpec) sim.EndpointSpec {
	return sim.EndpointSpec{ID: "sw", Verify: &sim.VerifySpec{Preset: "standard-webhooks", Secrets: signer.Keys(swSecret)},
		Triggers: []sim.TriggerSpec{trig("a", ""), trig("b", "")}, Dedup: d}
}

const swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// swRequest is a Standard Webhooks delivery with the given id and body,
// signed at t0+offset, or with a wrong secret when forged.
func swRequest(t testing.TB, id, body string, offset time.Duration, forged bool) *http.Request {
	t.Helper()
	key := swSecret
	if forged {
		key = "whsec_" + strings.Repeat("A", 32)
	}
	r := request(http.MethodPost, "http://example.com/hooks/sw", body, "Content-Type: application/json")
	require.NoError(t, signer.SignRequest(r, signer.StandardWebhooks(), signer.Keys(key), signer.At(t0.Add(offset)), signer.ID(id)))
	return r
}

func TestIngressDedup(t *testing.T) {
	type send struct {
		id, body string
		offset   time.Duration
		forged   bool
		status   int
		dup      bool // the answer says duplicate
	}
	tests := []struct {
		name  string
		dedup *sim.DedupSpec
		sends []send
		want  []string // triggers delivered to, sorted
	}{
		{"DuplicateAnsweredWithoutTriggering", &sim.DedupSpec{},
			[]send{{"m1", `{"n":1}`, 0, false, 200, false}, {"m1", `{"n":1}`, 0, false, 200, true}},
			[]string{"a", "b"}},
		{"RetryWithFreshTimestampIsADuplicate", &sim.DedupSpec{},
			[]send{{"m1", `{"n":1}`, -time.Minute, false, 200, false}, {"m1", `{"n":1}`, 0, false, 200, true}},
			[]string{"a", "b"}},
		{"DifferentIDsAreDifferentEvents", &sim.DedupSpec{},
			[]send{{"m1", `{"n":1}`, 0, false, 200, false}, {"m2", `{"n":1}`, 0, false, 200, false}},
			[]string{"a", "a", "b", "b"}},
		{"ForgedRequestDoesNotPoisonTheID", &sim.DedupSpec{},
			[]send{{"m1", `{"n":1}`, 0, true, 401, false}, {"m1", `{"n":1}`, 0, false, 200, false}, {"m1", `{"n":1}`, 0, false, 200, true}},
			[]string{"a", "b"}},
		{"OlderEventAfterNewerIsTaken", &sim.DedupSpec{},
			[]send{{"m2", `{"n":2}`, 0, false, 200, false}, {"m1", `{"n":1}`, -2 * time.Minute, false, 200, false}},
			[]string{"a", "a", "b", "b"}},
		{"ByBodyPath", &sim.DedupSpec{By: "body:event.id"},
			[]send{{"m1", `{"event":{"id":"e1"}}`, 0, false, 200, false}, {"m2", `{"event":{"id":"e1"}}`, 0, false, 200, true}, {"m3", `{"event":{"id":"e2"}}`, 0, false, 200, false}},
			[]string{"a", "a", "b", "b"}},
		{"NoIDIsANewEvent", &sim.DedupSpec{By: "body:event.id"},
			[]send{{"m1", `{}`, 0, false, 200, false}, {"m1", `{}`, 0, false, 200, false}},
			[]string{"a", "a", "b", "b"}},
		{"WithoutDedupEveryRequestTriggers", nil,
			[]send{{"m1", `{"n":1}`, 0, false, 200, false}, {"m1", `{"n":1}`, 0, false, 200, false}},
			[]string{"a", "a", "b", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, rec := newIngress(t, sim.Config{}, dedupSpec(tt.dedup))
			for i, s := range tt.sends {
				w := serve(t, in, swRequest(t, s.id, s.body, s.offset, s.forged))
				require.Equalf(t, s.status, w.Code, "request %d: status; body %s", i, w.Body)
				assert.Equalf(t, s.dup, strings.Contains(w.Body.String(), `"duplicate":true`), "request %d: answer %s, want duplicate=%v", i, w.Body, s.dup)
			}
			assert.Equal(t, tt.want, triggered(rec), "deliveries")
		})
	}
}

func TestIngressDedupWindowAndMax(t *testing.T) {
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	in, rec := newIngress(t, sim.Config{Now: clock}, dedupSpec(&sim.DedupSpec{Window: time.Hour, Max: 2}))
	send := func(id string) bool {
		t.Helper()
		// Signed on the moving clock, so that its timestamp stays fresh.
		r := request(http.MethodPost, "http://example.com/hooks/sw", `{}`, "Content-Type: application/json")
		require.NoError(t, signer.SignRequest(r, signer.StandardWebhooks(), signer.Keys(swSecret), signer.At(clock()), signer.ID(id)))
		w := serve(t, in, r)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		return !strings.Contains(w.Body.String(), `"duplicate":true`)
	}
	assert.True(t, send("m1"), "m1: first")
	advance(59 * time.Minute)
	assert.False(t, send("m1"), "m1 after 59m, within the 1h window: want a duplicate")
	advance(time.Minute)
	assert.True(t, send("m1"), "m1 1h after it was first taken: want it forgotten")
	assert.True(t, send("m2"), "m2: first")
	assert.True(t, send("m3"), "m3: first; max 2 forgets m1")
	assert.True(t, send("m1"), "m1 after m2 and m3 with max 2: want it forgotten")
	assert.False(t, send("m3"), "m3: still remembered")
	assert.Len(t, rec.Deliveries(), 2*5, "deliveries: 5 new events to 2 triggers")
}

// TestIngressDedupConcurrentDuplicates sends one delivery 32 times at once:
// exactly one wakes the triggers.
func TestIngressDedupConcurrentDuplicates(t *testing.T) {
	in, rec := newIngress(t, sim.Config{}, dedupSpec(&sim.DedupSpec{}))
	var wg sync.WaitGroup
	var dups atomic.Int32
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			in.ServeHTTP(w, swRequest(t, "m1", `{"n":1}`, 0, false))
			if w.Code == http.StatusOK && strings.Contains(w.Body.String(), `"duplicate":true`) {
				dups.Add(1)
			}
		}()
	}
	wg.Wait()
	flush(t, in)
	assert.Equal(t, int32(31), dups.Load(), "answers marked duplicate")
	assert.Equal(t, []string{"a", "b"}, triggered(rec), "deliveries")
}

// TestIngressDedupRespondWith: a duplicate that respondWith answers gets
// the declared response and wakes nothing.
func TestIngressDedupRespondWith(t *testing.T) {
	spec := dedupSpec(&sim.DedupSpec{})
	spec.RespondWith = &sim.RespondWithSpec{Filter: json.RawMessage(`{"method":["POST"]}`), Response: sim.ResponseSpec{Status: 200, Body: "thanks"}}
	in, rec := newIngress(t, sim.Config{}, spec)
	for i := range 2 {
		w := serve(t, in, swRequest(t, "m1", `{}`, 0, false))
		assert.Equal(t, http.StatusOK, w.Code, "request %d", i)
		assert.Equal(t, "thanks", w.Body.String(), "request %d", i)
	}
	assert.Equal(t, []string{"a", "b"}, triggered(rec))
}

func TestIngressDedupTriggerDevProfileRefuses(t *testing.T) {
	_, err := sim.NewIngress(sim.Config{Profile: sim.TriggerDevV2}, dedupSpec(&sim.DedupSpec{}))
	require.Error(t, err)
	assert.True(t, errors.Is(err, sim.ErrInvalidSpec), "errors.Is(%v, ErrInvalidSpec)", err)
	assert.Contains(t, err.Error(), `endpoint "sw": dedup: the triggerdev-v2 profile has no dedup`)
}

// BenchmarkIngressDedup measures the reference ingress on one signed
// Standard Webhooks delivery with a fresh id each time, with dedup off
// and on, in the same run: the ratio is dedup's cost per request.
func BenchmarkIngressDedup(b *testing.B) {
	for _, bc := range []struct {
		name  string
		dedup *sim.DedupSpec
	}{{"off", nil}, {"on", &sim.DedupSpec{Max: 1024}}} {
		b.Run(bc.name, func(b *testing.B) {
			in, err := sim.NewIngress(sim.Config{Now: fixedNow}, dedupSpec(bc.dedup))
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			// Pre-signed requests: the benchmark measures the ingress, not the
			// signer. More distinct ids than the memory holds, so that
			// eviction is part of the cost.
			const n = 4096
			reqs := make([]signer.Payload, n)
			for i := range reqs {
				p, err := signer.Sign(signer.StandardWebhooks(), signer.Keys(swSecret), signer.Payload{
					URL: "http://example.com/hooks/sw", Body: benchBody, Header: http.Header{"Content-Type": {"application/json"}}},
					signer.At(t0), signer.ID(fmt.Sprintf("msg_%d", i)))
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = p
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(benchBody)))
			i := 0
			for b.Loop() {
				p := reqs[i%n]
				i++
				r := httptest.NewRequest(http.MethodPost, "http://example.com/hooks/sw", bytes.NewReader(benchBody))
				r.Header = p.Header.Clone()
				w := httptest.NewRecorder()
				in.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
