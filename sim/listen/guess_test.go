package listen_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/listen"
)

var fixedNow = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// testKeys returns the keys to sign and verify a preset's fixtures (as in
// package fixtures' tests).
func testKeys(t testing.TB, s signer.Scheme) (sign, verify signer.KeySet) {
	switch s.Algorithm {
	case signer.Ed25519:
		// RFC 8032 §7.1 TEST 1.
		return signer.Keys("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
			signer.Keys("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	case signer.ECDSAP256:
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), []byte("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"))
		require.NoError(t, err)
		priv, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		require.NoError(t, err)
		return signer.Keys(base64.StdEncoding.EncodeToString(priv)), signer.Keys(base64.StdEncoding.EncodeToString(pub))
	}
	switch s.Key {
	case signer.KeyWhsec:
		return signer.Keys("whsec_c2VjcmV0LWJ5dGVz"), signer.Keys("whsec_c2VjcmV0LWJ5dGVz")
	case signer.KeyBase64:
		return signer.Keys("c2VjcmV0LWJ5dGVz"), signer.Keys("c2VjcmV0LWJ5dGVz")
	}
	return signer.Keys("test_secret"), signer.Keys("test_secret")
}

// signed renders and signs a fixture on the fixed clock.
func signed(t testing.TB, name string) (signer.Payload, signer.KeySet) {
	t.Helper()
	f, err := fixtures.Lookup(name)
	require.NoError(t, err)
	var sign, verify signer.KeySet
	if !f.Unsigned {
		s, err := f.Scheme()
		require.NoError(t, err)
		sign, verify = testKeys(t, s)
	}
	p, err := f.Sign("http://127.0.0.1:9999", sign, fixtures.Seed(1), fixtures.Now(func() time.Time { return fixedNow }))
	require.NoError(t, err)
	return p, verify
}

// TestGuessProviderAndEventFromEveryFixture: every signed fixture is
// attributed to its own preset (or, where presets sign identically, to
// its family with the preset among the candidates), and its event type is
// found where the provider carries it.
func TestGuessProviderAndEventFromEveryFixture(t *testing.T) {
	family := map[string]string{"clerk": "svix", "resend": "svix", "standard-webhooks": "standard-webhooks"}
	// Where the fixture's event name is hooklab's, not the provider's.
	event := map[string]string{
		"meta/page_feed":                     "page.feed",
		"meta/whatsapp_message":              "whatsapp_business_account.messages",
		"meta/whatsapp_verify":               "",
		"sendgrid/event_batch":               "processed",
		"twilio/message_status":              "",
		"twilio/sms_inbound":                 "",
		"mailgun/delivered":                  "delivered",
		"gitlab/merge_request":               "merge_request",
		"slack/event_callback":               "event_callback",
		"discord/ping":                       "ping",
		"box/FILE.UPLOADED":                  "FILE.UPLOADED",
		"intercom/conversation.user.created": "conversation.user.created",
	}
	for _, f := range fixtures.All() {
		t.Run(f.Name, func(t *testing.T) {
			p, _ := signed(t, f.Name)
			u, err := url.Parse(p.URL)
			require.NoError(t, err)
			g := listen.GuessProvider(p.Header, u.RawQuery, p.Body)
			switch {
			case f.Unsigned:
				assert.Equal(t, listen.Guess{}, g, "GuessProvider(unsigned %s)", f.Name)
			case family[f.Preset] != "":
				assert.Equal(t, family[f.Preset], g.Family, "GuessProvider(%s).Family", f.Name)
				assert.Contains(t, g.Candidates, f.Preset, "GuessProvider(%s).Candidates", f.Name)
			default:
				assert.Equal(t, f.Preset, g.Provider, "GuessProvider(%s) = %+v", f.Name, g)
			}
			want, ok := event[f.Name]
			if !ok {
				want = f.Event
			}
			assert.Equal(t, want, listen.EventType(f.Preset, p.Header, p.Body), "EventType(%s)", f.Name)
		})
	}
}

// TestGuessProviderTellsSharedHeadersApart covers the headers several
// presets use.
func TestGuessProviderTellsSharedHeadersApart(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		query  string
		want   listen.Guess
	}{
		{"HubSignature256WithGitHubEvent", map[string]string{"X-Hub-Signature-256": "sha256=ab", "X-GitHub-Event": "push"}, "",
			listen.Guess{Provider: "github", Header: "X-Hub-Signature-256"}},
		{"HubSignature256Alone", map[string]string{"X-Hub-Signature-256": "sha256=ab"}, "",
			listen.Guess{Candidates: []string{"github", "meta"}, Header: "X-Hub-Signature-256"}},
		{"HubSignature256WithMetaBody", map[string]string{"X-Hub-Signature-256": "sha256=ab"}, "",
			listen.Guess{Provider: "meta", Header: "X-Hub-Signature-256"}},
		{"LegacySHA1BesideSHA256", map[string]string{"X-Hub-Signature-256": "sha256=ab", "X-Hub-Signature": "sha1=cd", "X-GitHub-Event": "push"}, "",
			listen.Guess{Provider: "github", Header: "X-Hub-Signature-256"}},
		{"BitbucketBySHA256Prefix", map[string]string{"X-Hub-Signature": "sha256=ab"}, "",
			listen.Guess{Provider: "bitbucket", Header: "X-Hub-Signature"}},
		{"StandardWebhooksFamily", map[string]string{"Webhook-Signature": "v1,abc", "Webhook-Id": "msg_1"}, "",
			listen.Guess{Family: "standard-webhooks", Candidates: []string{"gitlab-signing", "openai", "replicate", "standard-webhooks", "supabase"}, Header: "Webhook-Signature"}},
		{"StandardWebhooksEd25519ByVersion", map[string]string{"Webhook-Signature": "v1a,abc"}, "",
			listen.Guess{Provider: "standard-webhooks-ed25519", Header: "Webhook-Signature"}},
		{"SvixFamily", map[string]string{"Svix-Signature": "v1,abc"}, "",
			listen.Guess{Family: "svix", Candidates: []string{"clerk", "resend", "svix"}, Header: "Svix-Signature"}},
		{"HubSpotV2ByVersionHeader", map[string]string{"X-HubSpot-Signature": "ab", "X-HubSpot-Signature-Version": "v2"}, "",
			listen.Guess{Provider: "hubspot-v2", Header: "X-Hubspot-Signature"}},
		{"TwilioJSONByBodyHash", map[string]string{"X-Twilio-Signature": "ab"}, "bodySHA256=00",
			listen.Guess{Provider: "twilio-json", Header: "X-Twilio-Signature"}},
		{"TwilioForm", map[string]string{"X-Twilio-Signature": "ab"}, "",
			listen.Guess{Provider: "twilio", Header: "X-Twilio-Signature"}},
		{"XSignatureIsAmbiguous", map[string]string{"X-Signature": "ab"}, "",
			listen.Guess{Candidates: []string{"lemon-squeezy", "segment"}, Header: "X-Signature"}},
		{"BearerTokenIsNoProvider", map[string]string{"Authorization": "Bearer x"}, "", listen.Guess{}},
		{"TeamsHMAC", map[string]string{"Authorization": "HMAC abc"}, "", listen.Guess{Provider: "msteams", Header: "Authorization"}},
		{"EmptySignatureIsIgnored", map[string]string{"Stripe-Signature": " "}, "", listen.Guess{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			var body []byte
			if tt.name == "HubSignature256WithMetaBody" {
				body = []byte(`{"object":"page","entry":[]}`)
			}
			got := listen.GuessProvider(h, tt.query, body)
			assert.Equal(t, tt.want, got, "GuessProvider(%v)", tt.header)
		})
	}
}

func TestGuessNameSaysFamily(t *testing.T) {
	assert.Equal(t, "svix family", listen.Guess{Family: "svix", Candidates: []string{"clerk"}}.Name())
	assert.Equal(t, "a|b", listen.Guess{Candidates: []string{"a", "b"}}.Name())
	assert.Equal(t, "stripe", listen.Guess{Provider: "stripe"}.Name())
	assert.Equal(t, "", listen.Guess{}.Name())
}
