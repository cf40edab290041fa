package conformance

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
)

// testURL is where the helpers' tests pretend to send; URL-bound schemes
// sign it.
const testURL = "http://127.0.0.1:8080/hooks/verify-test"

// signSample signs the preset's sample body as exchange.Build does and returns
// the signed payload and the keys to verify it with.
func signSample(t *testing.T, s signer.Scheme, body []byte, now time.Time) (signer.Payload, signer.KeySet) {
	t.Helper()
	smp, err := presetSampleFor(s, now)
	require.NoError(t, err)
	if body == nil {
		body = smp.body
	}
	h := smp.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(body) > 0 {
		h.Set("Content-Type", smp.contentType)
	}
	verify, sign := newKeys(s, 1)
	p, err := signer.Sign(s, sign, signer.Payload{Method: http.MethodPost, URL: testURL, Header: h, Body: body}, signer.At(now))
	require.NoError(t, err, "signing %s's sample (%s)", s.Name, smp.from)
	return p, verify
}

// The coverage rule decides which presets BodyChangedByOneByte and
// TrailingNewline expect a 401 from; it must agree with what the signer
// actually covers, for every preset.
func TestBodyCoverageAgreesWithTheSigner(t *testing.T) {
	now := time.Now()
	for _, s := range signer.Presets() {
		t.Run(s.Name, func(t *testing.T) {
			p, verify := signSample(t, s, nil, now)
			require.NoError(t, signer.Verify(s, verify, p, signer.Now(func() time.Time { return now })), "the untouched sample must verify")

			changed := p
			changed.Body, _ = changeOneByte(p.Body)
			err := signer.Verify(s, verify, changed, signer.Now(func() time.Time { return now }))
			if bodyCoverage(s) == "" {
				assert.ErrorIs(t, err, signer.ErrNoMatch, "bodyCoverage says the body is covered, so a changed byte must not verify")
			} else {
				assert.NoError(t, err, "bodyCoverage says %q, so a changed byte must still verify", bodyCoverage(s))
			}
		})
	}
}

func TestChangeOneByteKeepsLengthAndShape(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantAt   int
		wantByte byte
		valid    func([]byte) bool
	}{
		{name: "JSONLetterInsideAWord", body: `{"action":"opened","zen":"hi"}`, wantAt: 15, wantByte: 'f', valid: json.Valid},
		{name: "JSONSkipsEscapes", body: `{"a":"\u00e9\u00e9\u00e9\u00e9","word":"xyz"}`, wantAt: 34, wantByte: 'p', valid: json.Valid},
		{name: "LetterZBecomesY", body: `{"a":"zzz"}`, wantAt: 7, wantByte: 'y', valid: json.Valid},
		{name: "FormBody", body: "ToCountry=US&Body=hello", wantAt: 14, wantByte: 'p', valid: func(b []byte) bool { _, err := url.ParseQuery(string(b)); return err == nil }},
		{name: "NoWordFlipsLastByte", body: `{}`, wantAt: 1, wantByte: '|'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			got, at := changeOneByte(in)
			require.Len(t, got, len(tt.body))
			assert.Equal(t, tt.wantAt, at, "offset of the changed byte")
			diff := 0
			for i := range got {
				if got[i] != tt.body[i] {
					diff++
				}
			}
			assert.Equal(t, 1, diff, "bytes changed")
			if at >= 0 {
				assert.Equal(t, string(tt.wantByte), string(got[at]))
			}
			if tt.valid != nil {
				assert.True(t, tt.valid(got), "changed body %q is no longer well-formed", got)
			}
			assert.Equal(t, tt.body, string(in), "changeOneByte changed its input")
		})
	}
	got, at := changeOneByte(nil)
	assert.Empty(t, got)
	assert.Equal(t, -1, at, "an empty body has no byte to change")
}

func TestEmptySignatureValueKeepsTheSyntax(t *testing.T) {
	tests := []struct {
		preset string
		signed string
		want   string
		ok     bool
	}{
		{"github", "sha256=0a1b", "sha256=", true},
		{"basic-auth", "Basic dXNlcjpwYXNz", "Basic ", true},
		{"shopify", "q83vEjRWeJA=", "", false},
		{"standard-webhooks", "v1,abc= v1,def=", "v1,", true},
		{"stripe", "t=1700000000,v1=aa,v1=bb,v0=cc", "t=1700000000,v1=,v1=,v0=cc", true},
		{"workos", "t=1700000000000, v1=aa", "t=1700000000000, v1=", true},
		{"paddle", "ts=1700000000;h1=aa", "ts=1700000000;h1=", true},
		{"pagerduty", "v1=aa,v1=bb", "v1=,v1=", true},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			s, err := signer.Preset(tt.preset)
			require.NoError(t, err)
			got, ok := emptySignatureValue(s, tt.signed)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// Every value EmptySignature sends must be refused by the signer as a
// missing or malformed header (not as a wrong signature), for every
// header-signed preset.
func TestEmptySignatureValuesAreMalformed(t *testing.T) {
	now := time.Now()
	for _, s := range signer.Presets() {
		if !headerSigned(s) {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			p, verify := signSample(t, s, nil, now)
			canon := http.CanonicalHeaderKey(s.Header)

			empty := p
			empty.Header = p.Header.Clone()
			empty.Header[canon] = []string{""}
			assert.ErrorIs(t, signer.Verify(s, verify, empty), signer.ErrMissingHeader, "empty value")

			v, ok := emptySignatureValue(s, p.Header.Get(s.Header))
			if !ok {
				return
			}
			kept := p
			kept.Header = p.Header.Clone()
			kept.Header[canon] = []string{strings.TrimSpace(v)} // as net/http sends it
			assert.ErrorIs(t, signer.Verify(s, verify, kept), signer.ErrMalformedHeader, "value %q", v)
		})
	}
}

func TestAimedOffsetLandsOnTheSafeSide(t *testing.T) {
	base := time.Unix(1700000000, 0)
	for _, frac := range []time.Duration{0, time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
		for _, d := range []time.Duration{-299 * time.Second, 301 * time.Second, -4 * time.Second} {
			now := base.Add(frac)
			assert.Equal(t, d, aimedOffset(now, d, false), "aimedOffset(now+%s, %s, false)", frac, d)

			off := aimedOffset(now, d, true)
			written := now.Add(off).Truncate(time.Second) // a timestamp in whole seconds
			target := now.Add(d)
			assert.False(t, written.Before(target), "aimedOffset(now+%s, %s, true): written %s is before now%+v", frac, d, written.Sub(now), d)
			assert.Less(t, now.Add(off).Sub(target), 1100*time.Millisecond, "aimedOffset(now+%s, %s, true) moved the instant more than a second", frac, d)
		}
	}
}

// EmptyBody's skip rule: every preset it keeps signs an empty body
// without adding to it, and the signature verifies.
func TestEmptyBodySkipAgreesWithTheSigner(t *testing.T) {
	now := time.Now()
	for _, s := range signer.Presets() {
		t.Run(s.Name, func(t *testing.T) {
			p, verify := signSample(t, s, []byte{}, now)
			if skipUnlessEmptyBodySignable(s) != "" {
				return
			}
			assert.Empty(t, p.Body, "signing added to the empty body")
			assert.NoError(t, signer.Verify(s, verify, p, signer.Now(func() time.Time { return now })))
		})
	}
}

func TestRenameHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("X-Hub-Signature-256", "sha256=aa")
	h.Set("Webhook-Id", "msg_1")
	h.Set("X-Other", "kept")
	renameHeaders(h, []string{"X-Hub-Signature-256", "webhook-id", "absent-header"}, strings.ToLower)
	want := http.Header{
		"x-hub-signature-256": {"sha256=aa"},
		"webhook-id":          {"msg_1"},
		"X-Other":             {"kept"},
	}
	assert.Equal(t, want, h)
}

func TestReplaceBodyKeepsGetBodyInStep(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"Shorter", []byte(`{"a":1}`)},
		{"Empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, testURL, bytes.NewReader([]byte(`{"a":12345}`)))
			require.NoError(t, err)
			replaceBody(r, tt.body)
			assert.Equal(t, int64(len(tt.body)), r.ContentLength)
			assert.Equal(t, string(tt.body), string(builtBody(r)), "GetBody")
			b, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			assert.Equal(t, string(tt.body), string(b), "Body")
		})
	}
}

// Each preset's sample is realistic where the catalogue has a fixture:
// the cases must use it.
func TestPresetSampleUsesTheFixture(t *testing.T) {
	for _, name := range []string{"github", "twilio", "linear", "mailgun", "stripe"} {
		s, err := signer.Preset(name)
		require.NoError(t, err)
		smp, err := presetSampleFor(s, time.Now())
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(smp.from, "fixture "+name+"/"), "%s: sample from %s, want a fixture", name, smp.from)
	}
	mandrill, err := signer.Preset("mandrill")
	require.NoError(t, err)
	smp, err := presetSampleFor(mandrill, time.Now())
	require.NoError(t, err)
	assert.Equal(t, "application/x-www-form-urlencoded", smp.contentType, "a form-parameter scheme without a fixture gets a form body")
	if _, err := url.ParseQuery(string(smp.body)); err != nil {
		t.Errorf("mandrill sample: ParseQuery = %v, want a form body", err)
	}
}

// EmptyBody's request looks like the provider's: its Content-Type and the
// headers it always sends, with the body emptied; and Stripe and GitHub,
// which never send an empty body, are not asked to take one.
func TestEmptyBodyLooksLikeTheProvider(t *testing.T) {
	tests := []struct {
		preset      string
		contentType string
		header      string // a header the provider always sends
	}{
		{"shopify", "application/json", "X-Shopify-Topic"},
		{"svix", "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			s, err := signer.Preset(tt.preset)
			require.NoError(t, err)
			require.Empty(t, skipUnlessEmptyBodySignable(s), "EmptyBody must apply to %s", tt.preset)
			smp, err := presetSampleFor(s, time.Now())
			require.NoError(t, err)
			x := &exchange{env: &env{rules: profileRules(ProfileStrict, nil)}}
			ps := emptyBody(x, presetEndpoint{scheme: s, sample: smp})
			require.Len(t, ps, 1)
			r := ps[0].req
			assert.True(t, ps[0].accept, "the empty body must be accepted")
			assert.Empty(t, r.Body)
			assert.Equal(t, tt.contentType, r.Header.Get("Content-Type"), "Content-Type of the empty-body request")
			if tt.header != "" {
				assert.NotEmpty(t, r.Header.Get(tt.header), "header %s of the provider's requests", tt.header)
			}
		})
	}
	for _, name := range []string{"stripe", "github"} {
		s, err := signer.Preset(name)
		require.NoError(t, err)
		assert.Contains(t, skipUnlessEmptyBodySignable(s), "never sends an empty body", name)
	}
}
