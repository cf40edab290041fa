package signer_test

// Tests named after the pitfalls of §4 of hooklab's signature reference
// that concern a verifier. Each says what is sent and what a correct
// verifier does.

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
)

var (
	t1700  = time.Unix(1700000000, 0).UTC()
	d1Body = []byte(`{"id":"evt_123","type":"test.event"}`)
)

// hdr builds a header from name/value pairs, keeping repeats.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func hmacHex(h func() hashT, key, msg string) string {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func hmacB64(h func() hashT, key, msg string) string {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// assertVerify checks Verify's outcome against want (nil or a sentinel).
func assertVerify(t *testing.T, s signer.Scheme, keys signer.KeySet, p signer.Payload, now time.Time, want error) {
	t.Helper()
	err := signer.Verify(s, keys, p, signer.At(now))
	if want == nil {
		assert.NoError(t, err)
		return
	}
	assert.ErrorIs(t, err, want)
}

func TestPitfall01ReserializedJSONDoesNotVerify(t *testing.T) {
	// P4: octokit's test body with upper-case \u001B escapes.
	p4 := `{"foo":"Foo\n\u001B[34mbar: ♥♥♥♥♥♥♥♥\nthis-is-lost\u001B[0m\u001B[2K"}`
	p4sig := "sha256=afecc3caa27548bb90d51a50384cb2868b9a3327b4ad6a01c9bd4ed0f8b0b12c"
	p11 := "ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9"
	d1 := "t=1700000000,v1=0d5ab1ae6f6210b0443b4b2a6107a0abd8e9b51bed340831464bce9d9ccc73b3"
	tests := []struct {
		name   string
		scheme signer.Scheme
		secret string
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		{"GitHubRawBytesVerify", signer.GitHub(), "development", hdr("X-Hub-Signature-256", p4sig), p4, t1700, nil},
		{"GitHubLowercaseEscapesFail", signer.GitHub(), "development", hdr("X-Hub-Signature-256", p4sig), strings.ReplaceAll(p4, `\u001B`, `\u001b`), t1700, signer.ErrNoMatch},
		{"PaddleRawBytesVerify", signer.Paddle(), "VALID_SECRET", hdr("Paddle-Signature", p11), `{"data": ["1", "2"]}`, time.Unix(1698796800, 0), nil},
		{"PaddleRespacedFails", signer.Paddle(), "VALID_SECRET", hdr("Paddle-Signature", p11), `{ "data": [ "1", "2" ]}`, time.Unix(1698796800, 0), signer.ErrNoMatch},
		{"StripeReorderedKeysFail", signer.Stripe(), "test_secret", hdr("Stripe-Signature", d1), `{"type":"test.event","id":"evt_123"}`, t1700, signer.ErrNoMatch},
		{"StripeCompactedNumberFails", signer.Stripe(), "test_secret",
			hdr("Stripe-Signature", "t=1700000000,v1="+hmacHex(sha256.New, "test_secret", `1700000000.{"amount":1.0}`)), `{"amount":1}`, t1700, signer.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertVerify(t, tt.scheme, signer.Keys(tt.secret), signer.Payload{Header: tt.header, Body: []byte(tt.body)}, tt.now, tt.want)
		})
	}
}

func TestPitfall02TrailingNewlineIsPartOfTheSignedBytes(t *testing.T) {
	body := `{"name":"Zoë ☃ 😀"}`
	d24 := "sha256=ee3ef618d8563c49cc267e3aa57da7a37f36a9eb59b41112f118730c3fc4bcfc"
	d25 := "sha256=11b24dd28e721e00d72c4e83de99e064e52e90882a374c068a7338c777ace8ca"
	tests := []struct {
		name, header, body string
		want               error
	}{
		{"SignedWithoutNewlineVerifies", d24, body, nil},
		{"NewlineAddedInTransitFails", d24, body + "\n", signer.ErrNoMatch},
		{"CRLFAddedInTransitFails", d24, body + "\r\n", signer.ErrNoMatch},
		{"SignedWithNewlineVerifies", d25, body + "\n", nil},
		{"NewlineStrippedInTransitFails", d25, body, signer.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertVerify(t, signer.GitHub(), signer.Keys("test_secret"),
				signer.Payload{Header: hdr("X-Hub-Signature-256", tt.header), Body: []byte(tt.body)}, t1700, tt.want)
		})
	}
	t.Run("SendGridCRLFFails", func(t *testing.T) {
		// P20: sendgrid-go's own test vector.
		pub := signer.Keys("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==")
		h := hdr("X-Twilio-Email-Event-Webhook-Signature", "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=",
			"X-Twilio-Email-Event-Webhook-Timestamp", "1588788367")
		payload := `{"category":"example_payload","event":"test_event","message_id":"message_id"}`
		now := time.Unix(1588788367, 0)
		assertVerify(t, signer.SendGrid(), pub, signer.Payload{Header: h, Body: []byte(payload)}, now, nil)
		assertVerify(t, signer.SendGrid(), pub, signer.Payload{Header: h, Body: []byte(payload + "\r\n")}, now, signer.ErrNoMatch)
	})
}

func TestPitfall03LossyBodyDecodingBreaksVerification(t *testing.T) {
	bodies := map[string][]byte{
		"InvalidUTF8":  {'{', '"', 'x', '"', ':', '"', 0xff, 0xfe, '"', '}'},
		"LeadingBOM":   append([]byte{0xef, 0xbb, 0xbf}, d1Body...),
		"CRLFInsideIt": []byte("line1\r\nline2\r\n"),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			keys := signer.Keys("test_secret")
			p, err := signer.Sign(signer.GitHub(), keys, signer.Payload{Body: body}, signer.At(t1700))
			require.NoError(t, err)
			assert.NoError(t, signer.Verify(signer.GitHub(), keys, p), "raw bytes must verify")

			lossy := p
			lossy.Body = []byte(strings.ReplaceAll(strings.TrimPrefix(strings.ToValidUTF8(string(body), "\uFFFD"), "\uFEFF"), "\r\n", "\n"))
			assert.ErrorIs(t, signer.Verify(signer.GitHub(), keys, lossy), signer.ErrNoMatch, "decoded-and-re-encoded body must not verify")
		})
	}
	t.Run("GzipSignsTheUncompressedBody", func(t *testing.T) {
		keys := signer.Keys("test_secret")
		p, err := signer.Sign(signer.GitHub(), keys, signer.Payload{Body: d1Body}, signer.At(t1700))
		require.NoError(t, err)
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(d1Body)
		w.Close()
		compressed := p
		compressed.Body = gz.Bytes()
		assert.ErrorIs(t, signer.Verify(signer.GitHub(), keys, compressed), signer.ErrNoMatch)
	})
}

func TestPitfall04EmptyBodyVerifies(t *testing.T) {
	tests := []struct {
		name   string
		scheme signer.Scheme
		secret string
		p      signer.Payload
		now    time.Time
	}{
		{"StandardWebhooksD22", signer.StandardWebhooks(), "whsec_c2VjcmV0LWJ5dGVz", signer.Payload{Header: hdr(
			"webhook-id", "msg_123", "webhook-timestamp", "1700000000",
			"webhook-signature", "v1,kUITMvyFk1V+/8Tw4eIz97fBJsCNqhqd85GEH9nBDUQ=")}, t1700},
		{"GitHubD23", signer.GitHub(), "test_secret", signer.Payload{Header: hdr(
			"X-Hub-Signature-256", "sha256=f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd")}, t1700},
		{"HubSpotV2GetP13", signer.HubSpotV2(), "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", signer.Payload{Method: "GET", URL: "https://www.example.com/webhook_uri",
			Header: hdr("X-HubSpot-Signature", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e")}, t1700},
		{"ZendeskGetDerived", signer.Zendesk(), "test_secret", signer.Payload{Method: "GET", Header: hdr(
			"X-Zendesk-Webhook-Signature", hmacB64(sha256.New, "test_secret", "2023-11-14T22:13:20Z"),
			"X-Zendesk-Webhook-Signature-Timestamp", "2023-11-14T22:13:20Z")}, t1700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertVerify(t, tt.scheme, signer.Keys(tt.secret), tt.p, tt.now, nil)
		})
	}
}

func TestPitfall05UnicodeIsHashedAsUTF8Bytes(t *testing.T) {
	// D24: BMP, a snowman and an astral emoji, raw UTF-8.
	body := "{\"name\":\"Zo\xc3\xab \xe2\x98\x83 \xf0\x9f\x98\x80\"}"
	p := signer.Payload{Header: hdr("X-Hub-Signature-256", "sha256=ee3ef618d8563c49cc267e3aa57da7a37f36a9eb59b41112f118730c3fc4bcfc"), Body: []byte(body)}
	assertVerify(t, signer.GitHub(), signer.Keys("test_secret"), p, t1700, nil)
	escaped := p
	escaped.Body = []byte(`{"name":"Zo\u00eb \u2603 \ud83d\ude00"}`)
	assertVerify(t, signer.GitHub(), signer.Keys("test_secret"), escaped, t1700, signer.ErrNoMatch)
}

func TestPitfall06HeaderNameCaseAndDuplicates(t *testing.T) {
	keys := signer.Keys("whsec_c2VjcmV0LWJ5dGVz")
	good := "v1,oXjy/H3iJKPLraeyHJRG9lAj6ff56/8qun7V5tCbg1w="
	for _, name := range []string{"webhook-signature", "Webhook-Signature", "WEBHOOK-SIGNATURE"} {
		t.Run("NameCase/"+name, func(t *testing.T) {
			// A map built by hand (as an HTTP/2 proxy might) keeps the case.
			h := http.Header{name: {good}, "webhook-id": {"msg_123"}, "WEBHOOK-TIMESTAMP": {"1700000000"}}
			assertVerify(t, signer.StandardWebhooks(), keys, signer.Payload{Header: h, Body: d1Body}, t1700, nil)
		})
	}
	// hooklab's rule: every value of a repeated signature header is a
	// candidate, so one good copy verifies whichever order they come in.
	// (http.Header.Get would see only the first.)
	for name, values := range map[string][]string{"BadThenGood": {"v1,AAAA", good}, "GoodThenBad": {good, "v1,AAAA"}} {
		t.Run("Duplicated/"+name, func(t *testing.T) {
			h := hdr("webhook-id", "msg_123", "webhook-timestamp", "1700000000")
			h["Webhook-Signature"] = values
			assertVerify(t, signer.StandardWebhooks(), keys, signer.Payload{Header: h, Body: d1Body}, t1700, nil)
		})
	}
	t.Run("Duplicated/BothBad", func(t *testing.T) {
		h := hdr("webhook-id", "msg_123", "webhook-timestamp", "1700000000", "webhook-signature", "v1,AAAA", "webhook-signature", "v1,BBBB")
		assertVerify(t, signer.StandardWebhooks(), keys, signer.Payload{Header: h, Body: d1Body}, t1700, signer.ErrNoMatch)
	})
}

func TestPitfall07DigestCaseAndEncoding(t *testing.T) {
	hexSig := "a92fd8dfdd6760e1e5d702c8bdde7fb30472ebf8dabf9a7a0fd44bd643287aec"
	b64Sig := "qS/Y391nYOHl1wLIvd5/swRy6/jav5p6D9RL1kMoeuw="
	tests := []struct {
		name   string
		scheme signer.Scheme
		header string
		want   error
	}{
		// hooklab decodes hex and compares bytes, so case does not matter
		// (stripe-go does the same; Trigger.dev v2 compares strings).
		{"HexLowerVerifies", signer.CalCom(), hexSig, nil},
		{"HexUpperVerifies", signer.CalCom(), strings.ToUpper(hexSig), nil},
		{"HexOddLengthIsMalformed", signer.CalCom(), hexSig[1:], signer.ErrMalformedHeader},
		{"HexNonHexIsMalformed", signer.CalCom(), "zz" + hexSig[2:], signer.ErrMalformedHeader},
		// Base64 is decoded strictly with the standard alphabet and padding.
		{"Base64StdVerifies", signer.Shopify(), b64Sig, nil},
		{"Base64UnpaddedIsMalformed", signer.Shopify(), strings.TrimRight(b64Sig, "="), signer.ErrMalformedHeader},
		{"Base64URLSafeIsMalformed", signer.Shopify(), strings.NewReplacer("+", "-", "/", "_").Replace(b64Sig), signer.ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hdr(tt.scheme.Header, tt.header)
			assertVerify(t, tt.scheme, signer.Keys("test_secret"), signer.Payload{Header: h, Body: d1Body}, t1700, tt.want)
		})
	}
}

func TestPitfall08PrefixAndAlgorithmConfusion(t *testing.T) {
	sha1Sig := "sha1=156d81e71de6cc450e02d4477663c0e2f44be8b0"
	sha512Hex := hmacHex(sha512.New, "test_secret", string(d1Body))
	tests := []struct {
		name   string
		scheme signer.Scheme
		header http.Header
		want   error
	}{
		{"SHA1ToSHA256VerifierIsMalformed", signer.GitHub(), hdr("X-Hub-Signature-256", sha1Sig), signer.ErrMalformedHeader},
		{"SHA1PrefixDoesNotPickTheAlgorithm", signer.GitHub(), hdr("X-Hub-Signature-256", "sha1="+hmacHex(sha256.New, "test_secret", string(d1Body))), signer.ErrMalformedHeader},
		{"SHA512DigestUnderSHA256PrefixFails", signer.GitHub(), hdr("X-Hub-Signature-256", "sha256="+sha512Hex), signer.ErrNoMatch},
		{"StripeOnlyV0IsMalformed", signer.Stripe(), hdr("Stripe-Signature", "t=1700000000,v0=0d5ab1ae6f6210b0443b4b2a6107a0abd8e9b51bed340831464bce9d9ccc73b3"), signer.ErrMalformedHeader},
		{"SlackV1PrefixIsMalformed", signer.Slack(), hdr("X-Slack-Signature", "v1=a0f3ef4461896034c9a2df11130f502953b5aafccc5c1fb31917b7dc3cf55298", "X-Slack-Request-Timestamp", "1700000000"), signer.ErrMalformedHeader},
		{"StandardWebhooksOnlyOtherVersionsIsMalformed", signer.StandardWebhooks(), hdr("webhook-id", "msg_123", "webhook-timestamp", "1700000000",
			"webhook-signature", "v2,oXjy/H3iJKPLraeyHJRG9lAj6ff56/8qun7V5tCbg1w= v1a,oXjy/H3iJKPLraeyHJRG9lAj6ff56/8qun7V5tCbg1w="), signer.ErrMalformedHeader},
		{"GitHubSHA1PresetAcceptsSHA1", signer.GitHubSHA1(), hdr("X-Hub-Signature", sha1Sig), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := "test_secret"
			if tt.scheme.Key == signer.KeyWhsec {
				secret = "whsec_c2VjcmV0LWJ5dGVz"
			}
			assertVerify(t, tt.scheme, signer.Keys(secret), signer.Payload{Header: tt.header, Body: d1Body}, t1700, tt.want)
		})
	}
}

func TestPitfall09MultipleSignatures(t *testing.T) {
	swGood := "oXjy/H3iJKPLraeyHJRG9lAj6ff56/8qun7V5tCbg1w="
	swBad := "Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmE="
	d1 := "0d5ab1ae6f6210b0443b4b2a6107a0abd8e9b51bed340831464bce9d9ccc73b3"
	pdGood := hmacHex(sha256.New, "test_secret", string(d1Body))
	pdBad := strings.Repeat("0", 64)
	paddleGood := "41c1071e5c46b2dc2e95d4a0b6479229a834febae15cccb5677325236a238bc7"
	swHdr := func(sig string) http.Header {
		return hdr("webhook-id", "msg_123", "webhook-timestamp", "1700000000", "webhook-signature", sig)
	}
	tests := []struct {
		name   string
		scheme signer.Scheme
		secret []string
		header http.Header
		want   error
	}{
		{"StandardWebhooksValidThird", signer.StandardWebhooks(), []string{"whsec_c2VjcmV0LWJ5dGVz"}, swHdr("v1," + swBad + " v2," + swGood + " v1," + swGood), nil},
		{"StandardWebhooksEmptyEntryAloneFails", signer.StandardWebhooks(), []string{"whsec_c2VjcmV0LWJ5dGVz"}, swHdr("v1,"), signer.ErrMalformedHeader},
		{"StandardWebhooksAllBadFails", signer.StandardWebhooks(), []string{"whsec_c2VjcmV0LWJ5dGVz"}, swHdr("v1," + swBad + " v1," + swBad), signer.ErrNoMatch},
		{"StripeTwoV1AndV0", signer.Stripe(), []string{"test_secret"}, hdr("Stripe-Signature", "t=1700000000,v1="+pdBad+",v1="+d1+",v0="+pdBad), nil},
		{"PagerDutyBadThenGood", signer.PagerDuty(), []string{"test_secret"}, hdr("X-PagerDuty-Signature", "v1="+pdBad+",v1="+pdGood), nil},
		{"PagerDutyBadThenGoodWithSpace", signer.PagerDuty(), []string{"test_secret"}, hdr("X-PagerDuty-Signature", "v1="+pdBad+", v1="+pdGood), nil},
		// The Paddle Node SDK keeps only the last h1 and rejects this;
		// hooklab accepts any h1, which is the safe reading of rotation.
		{"PaddleGoodThenBad", signer.Paddle(), []string{"test_secret"}, hdr("Paddle-Signature", "ts=1700000000;h1="+paddleGood+";h1="+pdBad), nil},
		{"BoxOnlySecondaryValid", signer.Box(), []string{"SamplePrimaryKey", "SampleSecondaryKey"}, hdr(
			"BOX-SIGNATURE-PRIMARY", "AAAA", "BOX-SIGNATURE-SECONDARY", "v+1CD1Jdo3muIcbpv5lxxgPglOqMfsNHPV899xWYydo=",
			"BOX-DELIVERY-TIMESTAMP", "2020-01-01T00:00:00-07:00"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := d1Body
			now := t1700
			if tt.scheme.Name == "box" {
				body = []byte(`{"type":"webhook_event","webhook":{"id":"1234567890"},"trigger":"FILE.UPLOADED","source":{"id":"1234567890","type":"file","name":"Test.txt"}}`)
				now = time.Date(2020, 1, 1, 7, 0, 0, 0, time.UTC)
			}
			assertVerify(t, tt.scheme, signer.Keys(tt.secret...), signer.Payload{Header: tt.header, Body: body}, now, tt.want)
		})
	}
}

func TestPitfall10HeaderGrammarRobustness(t *testing.T) {
	d1 := "0d5ab1ae6f6210b0443b4b2a6107a0abd8e9b51bed340831464bce9d9ccc73b3"
	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"SpaceAfterComma", "t=1700000000, v1=" + d1, nil},
		{"SpacesEverywhere", "  t=1700000000 ,  v1=" + d1 + " ", nil},
		{"DuplicateTimestamp", "t=1700000000,t=1700000000,v1=" + d1, signer.ErrMalformedHeader},
		{"MissingTimestamp", "v1=" + d1, signer.ErrMalformedHeader},
		{"NonNumericTimestamp", "t=abc,v1=" + d1, signer.ErrMalformedHeader},
		{"NegativeTimestamp", "t=-1700000000,v1=" + d1, signer.ErrMalformedHeader},
		{"FloatTimestamp", "t=1700000000.0,v1=" + d1, signer.ErrMalformedHeader},
		{"MillisecondsWhereSecondsExpected", "t=1700000000000,v1=" + d1, signer.ErrMalformedHeader},
		{"TwentyDigitTimestamp", "t=17000000000000000000,v1=" + d1, signer.ErrMalformedHeader},
		{"EmptyHeader", "", signer.ErrMissingHeader},
		{"OnlySeparators", ",,,", signer.ErrMalformedHeader},
		{"PairWithoutEquals", "t=1700000000,v1", signer.ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertVerify(t, signer.Stripe(), signer.Keys("test_secret"), signer.Payload{Header: hdr("Stripe-Signature", tt.header), Body: d1Body}, t1700, tt.want)
		})
	}
	t.Run("Base64WithPaddingInKeyValue", func(t *testing.T) {
		// stripe-go splits pairs on every '='; a base64 value must survive.
		custom := signer.Stripe()
		custom.Name, custom.Encoding = "custom-kv-base64", signer.Base64
		p, err := signer.Sign(custom, signer.Keys("k"), signer.Payload{Body: []byte("x")}, signer.At(t1700))
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(p.Header.Get("Stripe-Signature"), "="), "test needs a padded signature: %s", p.Header.Get("Stripe-Signature"))
		assert.NoError(t, signer.Verify(custom, signer.Keys("k"), p, signer.At(t1700)))
	})
	t.Run("WorkOSSpaceAfterComma", func(t *testing.T) {
		p, err := signer.Sign(signer.WorkOS(), signer.Keys("k"), signer.Payload{Body: d1Body}, signer.At(t1700))
		require.NoError(t, err)
		assert.Equal(t, "t=1700000000000, v1=", p.Header.Get("WorkOS-Signature")[:20])
	})
}

func TestPitfall11TimestampSkewAtTheEdges(t *testing.T) {
	for _, s := range signer.Presets() {
		if !s.HasTimestamp() || s.Tolerance == 0 {
			continue
		}
		signKeys, verifyKeys := fuzzKeys(s)
		tol := s.Tolerance
		tests := []struct {
			name string
			skew time.Duration // signing time minus verifying time
			want error
		}{
			{"Now", 0, nil},
			{"PastWithin", -(tol - time.Second), nil},
			{"PastAtTolerance", -tol, nil},
			{"PastBeyond", -(tol + time.Second), signer.ErrTimestampTooOld},
			{"FutureWithin", tol - time.Second, nil},
			{"FutureAtTolerance", tol, nil},
			{"FutureBeyond", tol + time.Second, signer.ErrTimestampInFuture},
		}
		for _, tt := range tests {
			t.Run(s.Name+"/"+tt.name, func(t *testing.T) {
				body := []byte(`{"a":1}`)
				p, err := signer.Sign(s, signKeys, signer.Payload{URL: "https://example.com/h", Body: body}, signer.At(t1700.Add(tt.skew)))
				require.NoError(t, err)
				want := tt.want
				if s.PastOnly && want == signer.ErrTimestampInFuture {
					want = nil // stripe-go, HubSpot's and Paddle's SDKs check only the past
				}
				assertVerify(t, s, verifyKeys, p, t1700, want)
			})
		}
	}
	t.Run("ToleranceZeroTurnsTheCheckOff", func(t *testing.T) {
		p, err := signer.Sign(signer.Stripe(), signer.Keys("k"), signer.Payload{Body: d1Body}, signer.At(t1700.Add(-24*time.Hour)))
		require.NoError(t, err)
		assert.NoError(t, signer.Verify(signer.Stripe(), signer.Keys("k"), p, signer.At(t1700), signer.Tolerance(0)))
	})
	t.Run("RFC3339WithOffsetIsTheSameInstant", func(t *testing.T) {
		h := hdr("BOX-SIGNATURE-PRIMARY", "6TfeAW3A1PASkgboxxA5yqHNKOwFyMWuEXny/FPD5hI=", "BOX-DELIVERY-TIMESTAMP", "2020-01-01T00:00:00-07:00")
		body := []byte(`{"type":"webhook_event","webhook":{"id":"1234567890"},"trigger":"FILE.UPLOADED","source":{"id":"1234567890","type":"file","name":"Test.txt"}}`)
		assertVerify(t, signer.Box(), signer.Keys("SamplePrimaryKey"), signer.Payload{Header: h, Body: body}, time.Date(2020, 1, 1, 7, 9, 59, 0, time.UTC), nil)
		assertVerify(t, signer.Box(), signer.Keys("SamplePrimaryKey"), signer.Payload{Header: h, Body: body}, time.Date(2020, 1, 1, 7, 10, 1, 0, time.UTC), signer.ErrTimestampTooOld)
	})
}

func TestPitfall13WrongLengthSignatureFailsCleanly(t *testing.T) {
	for _, n := range []int{1, 31, 33, 5000} {
		for _, s := range []signer.Scheme{signer.GitHub(), signer.Shopify(), signer.Discord(), signer.SendGrid()} {
			_, keys := fuzzKeys(s)
			sig := strings.Repeat("ab", n)
			if s.Encoding == signer.Base64 {
				sig = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xab}, n))
			}
			t.Run(s.Name+"/"+strconv.Itoa(n)+"Bytes", func(t *testing.T) {
				h := hdr(s.Header, s.Syntax.Prefix+sig, "X-Signature-Timestamp", "1700000000", "X-Twilio-Email-Event-Webhook-Timestamp", "1700000000")
				assertVerify(t, s, keys, signer.Payload{Header: h, Body: d1Body}, t1700, signer.ErrNoMatch)
			})
		}
	}
}

func TestPitfall14SecretHandling(t *testing.T) {
	d1Msg := "1700000000." + string(d1Body)
	tests := []struct {
		name   string
		scheme signer.Scheme
		secret string
		header http.Header
		want   error
	}{
		{"StandardWebhooksDecodesWhsec", signer.StandardWebhooks(), "whsec_c2VjcmV0LWJ5dGVz", hdr("webhook-id", "msg_123", "webhook-timestamp", "1700000000", "webhook-signature", "v1,oXjy/H3iJKPLraeyHJRG9lAj6ff56/8qun7V5tCbg1w="), nil},
		{"StandardWebhooksRejectsUndecodedKeySignature", signer.StandardWebhooks(), "whsec_c2VjcmV0LWJ5dGVz", hdr("webhook-id", "msg_123", "webhook-timestamp", "1700000000", "webhook-signature", "v1,+8A/PbfxxWSBoji38Y2nJborR2BZrQvPwKrgc5LwDPI="), signer.ErrNoMatch},
		{"SupabaseStripsV1AndWhsec", signer.Supabase(), "v1,whsec_c2VjcmV0LWJ5dGVz", hdr("webhook-id", "msg_123", "webhook-timestamp", "1700000000", "webhook-signature", "v1,oXjy/H3iJKPLraeyHJRG9lAj6ff56/8qun7V5tCbg1w="), nil},
		{"StripeUsesWhsecVerbatim", signer.Stripe(), "whsec_c2VjcmV0LWJ5dGVz", hdr("Stripe-Signature", "t=1700000000,v1="+hmacHex(sha256.New, "whsec_c2VjcmV0LWJ5dGVz", d1Msg)), nil},
		{"XeroLooksBase64ButIsVerbatim", signer.Xero(), "c2VjcmV0LWJ5dGVz", hdr("x-xero-signature", hmacB64(sha256.New, "c2VjcmV0LWJ5dGVz", string(d1Body))), nil},
		{"AirtableDecodesBase64", signer.Airtable(), "c2VjcmV0LWJ5dGVz", hdr("X-Airtable-Content-MAC", "hmac-sha256=9fa19988917ccef10ce1f4c315825f8e5fbf0fc145e969915e363396f2ef9af7"), nil},
		{"MSTeamsDecodesBase64", signer.MSTeams(), "c2VjcmV0LWJ5dGVz", hdr("Authorization", "HMAC n6GZiJF8zvEM4fTDFYJfjl+/D8FF6WmRXjYzlvLvmvc="), nil},
		{"WooCommerceDecodesHTMLEntities", signer.WooCommerce(), "a&amp;b&quot;c&#039;d", hdr("X-WC-Webhook-Signature", hmacB64(sha256.New, `a&b"c'd`, string(d1Body))), nil},
		{"WooCommerceRawEntityTextFails", signer.WooCommerce(), "a&amp;b", hdr("X-WC-Webhook-Signature", hmacB64(sha256.New, "a&amp;b", string(d1Body))), signer.ErrNoMatch},
		{"EmptySecretFailsClosed", signer.GitHub(), "", hdr("X-Hub-Signature-256", "sha256="+hmacHex(sha256.New, "", string(d1Body))), signer.ErrMissingSecret},
		{"CalComNoSecretProvidedLiteralFails", signer.CalCom(), "test_secret", hdr("X-Cal-Signature-256", "no-secret-provided"), signer.ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertVerify(t, tt.scheme, signer.Keys(tt.secret), signer.Payload{Header: tt.header, Body: d1Body}, t1700, tt.want)
		})
	}
	t.Run("NoKeysAtAllFailsClosed", func(t *testing.T) {
		assertVerify(t, signer.GitHub(), nil, signer.Payload{Header: hdr("X-Hub-Signature-256", "sha256=00"), Body: d1Body}, t1700, signer.ErrMissingSecret)
	})
}

func TestPitfall15URLBoundSignatures(t *testing.T) {
	params := "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212"
	p6 := "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	tests := []struct {
		name, url, sig string
		want           error
	}{
		{"AsSigned", "https://mycompany.com/myapp.php?foo=1&bar=2", p6, nil},
		{"DefaultPortAddedByProxy", "https://mycompany.com:443/myapp.php?foo=1&bar=2", p6, nil},
		{"SignedWithPortReceivedWithout", "https://mycompany.com/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w=", nil},
		{"HTTPBehindTLSTerminatingProxyFails", "http://mycompany.com/myapp.php?foo=1&bar=2", p6, signer.ErrNoMatch},
		{"TrailingSlashFails", "https://mycompany.com/myapp.php/?foo=1&bar=2", p6, signer.ErrNoMatch},
		{"QueryReorderedFails", "https://mycompany.com/myapp.php?bar=2&foo=1", p6, signer.ErrNoMatch},
		{"NonDefaultPortIsNotDropped", "http://mycompany.com/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", signer.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := signer.Payload{URL: tt.url, Header: hdr("X-Twilio-Signature", tt.sig), Body: []byte(params)}
			assertVerify(t, signer.Twilio(), signer.Keys("12345"), p, t1700, tt.want)
		})
	}
	t.Run("VerifyRequestURLOption", func(t *testing.T) {
		r := httptest.NewRequest("POST", "http://internal:8080/myapp.php?foo=1&bar=2", strings.NewReader(params))
		r.Header.Set("X-Twilio-Signature", p6)
		assert.ErrorIs(t, signer.VerifyRequest(r, signer.Twilio(), signer.Keys("12345")), signer.ErrNoMatch)
		r = httptest.NewRequest("POST", "http://internal:8080/myapp.php?foo=1&bar=2", strings.NewReader(params))
		r.Header.Set("X-Twilio-Signature", p6)
		assert.NoError(t, signer.VerifyRequest(r, signer.Twilio(), signer.Keys("12345"), signer.URL("https://mycompany.com/myapp.php?foo=1&bar=2")))
	})
}

func TestPitfall16FormBodies(t *testing.T) {
	url := "https://mycompany.com/myapp.php?foo=1&bar=2"
	tests := []struct {
		name, body, sig string
		want            error
	}{
		// P7: Digits=5678 and Digits=1234 are signed as Digits1234Digits5678.
		{"RepeatedKeysValuesSorted", "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234", "IK+Dwps556ElfBT0I3Rgjkr1wJU=", nil},
		{"PlusAndPercent20AreTheSameValue", "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212&Note=a+b",
			hmacB64(sha1.New, "12345", url+"CallSid"+"CA1234567890ABCDE"+"Caller+14158675309Digits1234From+14158675309Notea bTo+18005551212"), nil},
		{"EmptyValueIsStillSigned", "A=1&B=", hmacB64(sha1.New, "12345", url+"A1B"), nil},
		{"EmptyValueDroppedFails", "A=1", hmacB64(sha1.New, "12345", url+"A1B"), signer.ErrNoMatch},
		{"QueryParamsAreNotPostParams", "A=1", hmacB64(sha1.New, "12345", url+"A1bar2foo1"), signer.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := signer.Payload{URL: url, Header: hdr("X-Twilio-Signature", tt.sig), Body: []byte(tt.body)}
			assertVerify(t, signer.Twilio(), signer.Keys("12345"), p, t1700, tt.want)
		})
	}
	t.Run("PercentEncodedPlusDiffersFromSpace", func(t *testing.T) {
		p := signer.Payload{URL: url, Header: hdr("X-Twilio-Signature", hmacB64(sha1.New, "12345", url+"Notea b")), Body: []byte("Note=a%2Bb")}
		assertVerify(t, signer.Twilio(), signer.Keys("12345"), p, t1700, signer.ErrNoMatch)
	})
}

func TestPitfall17KeyRotationBothWays(t *testing.T) {
	oldKey, newKey := "whsec_b2xkLXNlY3JldA==", "whsec_bmV3LXNlY3JldA=="
	sign := func(keys ...string) signer.Payload {
		p, err := signer.Sign(signer.StandardWebhooks(), signer.Keys(keys...), signer.Payload{Body: d1Body}, signer.At(t1700))
		require.NoError(t, err)
		return p
	}
	t.Run("SenderSignsWithBothDuringOverlap", func(t *testing.T) {
		p := sign(newKey, oldKey)
		assert.Len(t, strings.Fields(p.Header.Get("webhook-signature")), 2)
		assertVerify(t, signer.StandardWebhooks(), signer.Keys(oldKey), p, t1700, nil)
		assertVerify(t, signer.StandardWebhooks(), signer.Keys(newKey), p, t1700, nil)
	})
	t.Run("ReceiverTriesEveryKey", func(t *testing.T) {
		assertVerify(t, signer.StandardWebhooks(), signer.Keys(newKey, oldKey), sign(oldKey), t1700, nil)
		assertVerify(t, signer.StandardWebhooks(), signer.Keys(newKey, oldKey), sign(newKey), t1700, nil)
	})
	t.Run("OldKeyFailsAfterOverlap", func(t *testing.T) {
		assertVerify(t, signer.StandardWebhooks(), signer.Keys(newKey), sign(oldKey), t1700, signer.ErrNoMatch)
	})
	t.Run("SingleSignatureSchemeSignsWithNewest", func(t *testing.T) {
		p, err := signer.Sign(signer.GitHub(), signer.Keys("new", "old"), signer.Payload{Body: d1Body})
		require.NoError(t, err)
		assertVerify(t, signer.GitHub(), signer.Keys("new"), p, t1700, nil)
		assertVerify(t, signer.GitHub(), signer.Keys("old"), p, t1700, signer.ErrNoMatch)
	})
	t.Run("EmptySecretsAreIgnoredNotTrusted", func(t *testing.T) {
		assertVerify(t, signer.GitHub(), signer.Keys("", "new"), sign2(t, signer.GitHub(), "new"), t1700, nil)
	})
}

func sign2(t *testing.T, s signer.Scheme, key string) signer.Payload {
	t.Helper()
	p, err := signer.Sign(s, signer.Keys(key), signer.Payload{Body: d1Body}, signer.At(t1700))
	require.NoError(t, err)
	return p
}

func TestPitfall19BodyIsReadOnceAndLeftReadable(t *testing.T) {
	p := sign2(t, signer.GitHub(), "s")
	r := httptest.NewRequest("POST", "/hook", bytes.NewReader(p.Body))
	r.Header = p.Header
	require.NoError(t, signer.VerifyRequest(r, signer.GitHub(), signer.Keys("s")))
	rest, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, string(d1Body), string(rest), "the handler must still read the whole body")

	t.Run("OversizeBodyIsRejected", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/hook", bytes.NewReader(p.Body))
		r.Header = p.Header
		assert.ErrorIs(t, signer.VerifyRequest(r, signer.GitHub(), signer.Keys("s"), signer.MaxBody(10)), signer.ErrBodyTooLarge)
	})
}
