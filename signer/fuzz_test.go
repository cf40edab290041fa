package signer_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
)

// fuzzSecret is distinctive so that a leak into an error is easy to spot.
const fuzzSecret = "fuzz-SECRET-4a7c"

// fuzzKeys returns sign and verify keys for a preset.
func fuzzKeys(s signer.Scheme) (sign, verify signer.KeySet) {
	switch s.Algorithm {
	case signer.Ed25519:
		// RFC 8032 §7.1 TEST 1.
		return signer.Keys("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
			signer.Keys("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	case signer.ECDSAP256:
		priv, pub := testECDSAKeys()
		return signer.KeySet{priv}, signer.KeySet{pub}
	}
	switch s.Key {
	case signer.KeyWhsec:
		return signer.Keys("whsec_ZnV6ei1TRUNSRVQtNGE3Yw=="), signer.Keys("whsec_ZnV6ei1TRUNSRVQtNGE3Yw==")
	case signer.KeyBase64:
		return signer.Keys("ZnV6ei1TRUNSRVQtNGE3Yw=="), signer.Keys("ZnV6ei1TRUNSRVQtNGE3Yw==")
	}
	return signer.Keys(fuzzSecret), signer.Keys(fuzzSecret)
}

var sentinels = []error{signer.ErrMissingHeader, signer.ErrMalformedHeader, signer.ErrNoMatch,
	signer.ErrTimestampTooOld, signer.ErrTimestampInFuture}

// FuzzVerify feeds arbitrary header values and bodies to every preset's
// verifier: it must never panic, and every failure must be a *VerifyError
// wrapping one sentinel whose text does not contain the secret.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), "t=1700000000,v1=0d5ab1ae6f6210b0443b4b2a6107a0abd8e9b51bed340831464bce9d9ccc73b3", "1700000000", "msg_123", []byte(`{"id":"evt_123","type":"test.event"}`))
	f.Add(uint8(1), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,xx v2,", "1614265330", "msg_p5jXN8AQM9LWM0D4loKWxJek", []byte(`{"test": 2432232314}`))
	f.Add(uint8(2), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "", "", []byte("Hello, World!"))
	f.Add(uint8(3), "ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9;h1=;", "", "", []byte(`{"data": ["1", "2"]}`))
	f.Add(uint8(4), "t=1626125972272, v1=80f7ab7efadc306eb5797c588cee9410da9be4416782b497bf1e1bf4175fb928", "2020-01-01T00:00:00-07:00", "", []byte(`{"signature":{"timestamp":"1","token":"t","signature":"00"}}`))
	f.Add(uint8(5), ",,,;;;===", "-1", "", []byte{0xff, 0xfe, 0})
	f.Add(uint8(6), strings.Repeat("v1=", 100), "99999999999999999999", "", []byte(`{"webhookTimestamp":1.5e300}`))
	presets := signer.Presets()
	// Seed with every published and derived vector.
	index := map[string]uint8{}
	for i, s := range presets {
		index[s.Name] = uint8(i)
	}
	for _, file := range loadVectors(f) {
		s, err := signer.Preset(file.Preset)
		if err != nil {
			f.Fatal(err)
		}
		for _, v := range file.Vectors {
			h := v.header()
			f.Add(index[file.Preset], h.Get(s.Header), h.Get(s.Timestamp.Header), h.Get(s.IDHeader), v.body(f))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, sig, ts, id string, body []byte) {
		s := presets[int(which)%len(presets)]
		_, keys := fuzzKeys(s)
		h := http.Header{}
		for _, name := range s.Headers() {
			h.Set(name, sig)
		}
		if s.Timestamp.Header != "" {
			h.Set(s.Timestamp.Header, ts)
		}
		if s.IDHeader != "" {
			h.Set(s.IDHeader, id)
		}
		err := signer.Verify(s, keys, signer.Payload{URL: "https://example.com/hook?" + id, Header: h, Body: body},
			signer.At(time.Unix(1700000000, 0)))
		if err == nil {
			return
		}
		var ve *signer.VerifyError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: Verify error %T %q is not a *VerifyError", s.Name, err, err)
		}
		known := false
		for _, s := range sentinels {
			known = known || errors.Is(err, s)
		}
		if !known {
			t.Fatalf("%s: Verify error %q wraps no sentinel", s.Name, err)
		}
		if strings.Contains(err.Error(), fuzzSecret) {
			t.Fatalf("%s: Verify error %q contains the secret", s.Name, err)
		}
	})
}

// FuzzSignVerify signs arbitrary bodies and URLs with every preset and
// checks that what Sign produced verifies, and that the body or URL
// Sign was given is not modified.
func FuzzSignVerify(f *testing.F) {
	f.Add(uint8(0), []byte(`{"id":"evt_123"}`), "https://example.com/webhooks", int64(1700000000))
	f.Add(uint8(9), []byte("a=1&b=2&a=0"), "https://example.com:443/x?y=1", int64(1))
	f.Add(uint8(20), []byte(""), "http://h/", int64(1700000000123))
	f.Add(uint8(30), []byte(`{"signature":{"timestamp":"x"},"a":[1,2]}`), "", int64(0))
	f.Add(uint8(40), []byte(`not json`), "::", int64(-5))
	presets := signer.Presets()
	f.Fuzz(func(t *testing.T, which uint8, body []byte, url string, unix int64) {
		s := presets[int(which)%len(presets)]
		signKeys, verifyKeys := fuzzKeys(s)
		if unix < 0 || unix > 1<<40 {
			unix = 1700000000
		}
		now := time.Unix(unix, 0).UTC()
		orig := string(body)
		p, err := signer.Sign(s, signKeys, signer.Payload{URL: url, Body: body}, signer.At(now))
		if string(body) != orig {
			t.Fatalf("%s: Sign modified its input body", s.Name)
		}
		if err != nil {
			if strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("%s: Sign error %q contains the secret", s.Name, err)
			}
			return // a body that is not JSON where the scheme writes into it, or a bad URL
		}
		if err := signer.Verify(s, verifyKeys, p, signer.At(now)); err != nil {
			t.Fatalf("%s: Verify(Sign(body=%q url=%q)) = %v, want nil", s.Name, body, url, err)
		}
	})
}

// FuzzVerifyRequestSignature feeds arbitrary header values, encodings and
// bodies to the Trigger.dev-compatible verifier: no panic, a result with
// one of the SDK's reasons, and the body left readable.
func FuzzVerifyRequestSignature(f *testing.F) {
	f.Add("sha256=57ba523f22353bec99883cfefc3d825284fa2b250415486b6fe4bb317c29792e", "hex", []byte(`{"foo":"bar"}`))
	f.Add("hmac-sha256=V7pSPyI1O+yZiDz+/D2CUoT6KyUEFUhrb+S7MXwpeS4=", "base64", []byte{0xef, 0xbb, 0xbf, 0xf0, 0x90, 0x80})
	f.Add("", "binary", []byte{0xed, 0xa0, 0x80, 0xc0, 0xaf})
	f.Add("sha256=sha256=x", "BASE64URL", []byte("h\xc3\xa9llo"))
	f.Fuzz(func(t *testing.T, value, encoding string, body []byte) {
		r, err := http.NewRequest("POST", "http://example.com/hook", bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.Header["X-Signature"] = []string{value}
		res, err := signer.VerifyRequestSignature(r, signer.VerifyRequestSignatureParams{
			HeaderName: "X-Signature", HeaderEncoding: encoding, Secret: signer.NewSecret(fuzzSecret), Algorithm: "sha256"})
		if err != nil {
			t.Fatalf("VerifyRequestSignature(%q, %q) error %v", value, encoding, err)
		}
		switch res.Reason {
		case "", signer.ReasonMissingHeader, signer.ReasonFailedSHA256:
		default:
			t.Fatalf("reason %q is not one of the SDK's", res.Reason)
		}
		if res.Success == (res.Reason != "") {
			t.Fatalf("result %+v: success and reason disagree", res)
		}
		rest, _ := io.ReadAll(r.Body)
		if !bytes.Equal(rest, body) {
			t.Fatalf("body after verification = %q, want %q", rest, body)
		}
	})
}
