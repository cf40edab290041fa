package signer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
)

func TestSchemeValidateRejectsInconsistentSchemes(t *testing.T) {
	base := signer.GitHub()
	tests := []struct {
		name   string
		mutate func(*signer.Scheme)
		want   string
	}{
		{"NoAlgorithm", func(s *signer.Scheme) { s.Algorithm = "" }, "no algorithm"},
		{"UnknownAlgorithm", func(s *signer.Scheme) { s.Algorithm = "md5" }, `unknown algorithm "md5"`},
		{"UnknownEncoding", func(s *signer.Scheme) { s.Encoding = "base32" }, `unknown encoding "base32"`},
		{"UnknownPlaceholder", func(s *signer.Scheme) { s.Message = "{ts}.{bodyy}" }, "unknown placeholder {bodyy} at offset 5"},
		{"UnclosedBrace", func(s *signer.Scheme) { s.Message = "{body" }, "unclosed { at offset 0"},
		{"TimestampWithoutSource", func(s *signer.Scheme) { s.Message = "{ts}.{body}" }, "message uses {ts} but the scheme has no timestamp"},
		{"IDWithoutHeader", func(s *signer.Scheme) { s.Message = "{id}{body}" }, "no id header"},
		{"NoHeader", func(s *signer.Scheme) { s.Header = "" }, "no signature header"},
		{"BadHeaderName", func(s *signer.Scheme) { s.Header = "X Sig" }, `invalid header name "X Sig"`},
		{"SecretInHMACMessage", func(s *signer.Scheme) { s.Message = "{secret}{body}" }, "{secret} is only for plain sha256 schemes"},
		{"PlainHashWithoutSecret", func(s *signer.Scheme) { s.Algorithm = signer.SHA256 }, "must include {secret}"},
		{"KeyValueWithoutKey", func(s *signer.Scheme) { s.Syntax = signer.Syntax{Kind: signer.KeyValue} }, "key-value syntax needs a signature key"},
		{"ToleranceWithoutTimestamp", func(s *signer.Scheme) { s.Tolerance = time.Minute }, "tolerance without a timestamp"},
		{"TimestampInHeaderNeedsKey", func(s *signer.Scheme) {
			s.Timestamp = signer.Timestamp{Source: signer.TimestampInHeader}
		}, "needs key-value syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.mutate(&s)
			err := s.Validate()
			require.ErrorIs(t, err, signer.ErrInvalidScheme)
			assert.Contains(t, err.Error(), tt.want)
			_, err = signer.Sign(s, signer.Keys("k"), signer.Payload{})
			assert.ErrorIs(t, err, signer.ErrInvalidScheme, "Sign validates too")
		})
	}
}

func TestPresetLookup(t *testing.T) {
	for _, name := range []string{"stripe", "Stripe", " STRIPE ", "standard_webhooks", "hubspot.v3"} {
		_, err := signer.Preset(name)
		assert.NoError(t, err, name)
	}
	_, err := signer.Preset("hubspot")
	require.ErrorIs(t, err, signer.ErrUnknownPreset)
	assert.Contains(t, err.Error(), "hubspot-v1, hubspot-v2, hubspot-v3")
}

func TestIssueRequiredPresetsExist(t *testing.T) {
	for _, name := range []string{"standard-webhooks", "svix", "stripe", "github", "github-sha1", "slack", "shopify", "twilio",
		"twilio-json", "square", "caldotcom", "linear", "paddle", "zoom", "typeform", "intercom", "mailgun", "hubspot-v1",
		"hubspot-v2", "hubspot-v3", "twitch", "zendesk", "xero", "woocommerce", "vercel", "sentry", "calendly", "segment",
		"gitlab", "bitbucket", "discord", "sendgrid", "pagerduty", "mux", "meta", "box", "workos", "msteams", "airtable",
		"tiktok", "paystack", "terraform", "mandrill", "telegram", "hookdeck"} {
		s, err := signer.Preset(name)
		if assert.NoError(t, err, name) {
			assert.Equal(t, name, s.Name)
		}
	}
}

func TestSignWritesEverythingTheProviderSends(t *testing.T) {
	tests := []struct {
		scheme signer.Scheme
		want   map[string]string
	}{
		{signer.HubSpotV1(), map[string]string{"X-HubSpot-Signature-Version": "v1"}},
		{signer.Box(), map[string]string{"BOX-SIGNATURE-VERSION": "1", "BOX-SIGNATURE-ALGORITHM": "HmacSHA256", "BOX-DELIVERY-TIMESTAMP": "2023-11-14T22:13:20Z"}},
		{signer.Twitch(), map[string]string{"Twitch-Eventsub-Message-Timestamp": "2023-11-14T22:13:20.000000000Z", "Twitch-Eventsub-Message-Id": "id-1"}},
		{signer.Slack(), map[string]string{"X-Slack-Request-Timestamp": "1700000000"}},
		{signer.HubSpotV3(), map[string]string{"X-HubSpot-Request-Timestamp": "1700000000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.scheme.Name, func(t *testing.T) {
			p, err := signer.Sign(tt.scheme, signer.Keys("k"), signer.Payload{URL: "https://e.com/", Body: []byte("{}")}, signer.At(t1700), signer.ID("id-1"))
			require.NoError(t, err)
			for k, v := range tt.want {
				assert.Equal(t, v, p.Header.Get(k), k)
			}
		})
	}
	t.Run("GeneratedIDs", func(t *testing.T) {
		p, err := signer.Sign(signer.StandardWebhooks(), signer.Keys("whsec_c2VjcmV0LWJ5dGVz"), signer.Payload{})
		require.NoError(t, err)
		assert.Regexp(t, `^msg_[0-9A-Za-z]{27}$`, p.Header.Get("webhook-id"))
		p, err = signer.Sign(signer.Twitch(), signer.Keys("k"), signer.Payload{})
		require.NoError(t, err)
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, p.Header.Get("Twitch-Eventsub-Message-Id"))
	})
	t.Run("LinearTimestampInBody", func(t *testing.T) {
		p, err := signer.Sign(signer.Linear(), signer.Keys("k"), signer.Payload{Body: []byte(`{"action":"create","webhookTimestamp":1}`)}, signer.At(t1700))
		require.NoError(t, err)
		assert.Equal(t, `{"action":"create","webhookTimestamp":1700000000000}`, string(p.Body))
	})
	t.Run("TwilioJSONAddsBodyHash", func(t *testing.T) {
		p, err := signer.Sign(signer.TwilioJSON(), signer.Keys("12345"), signer.Payload{URL: "https://mycompany.com/myapp.php?foo=1&bar=2", Body: []byte(`{"property": "value", "boolean": true}`)})
		require.NoError(t, err)
		assert.Equal(t, "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", p.URL)
		assert.Equal(t, "a9nBmqA0ju/hNViExpshrM61xv4=", p.Header.Get("X-Twilio-Signature"))
	})
}
