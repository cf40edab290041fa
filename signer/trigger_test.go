package signer_test

// Unit tests of VerifyRequestSignature and VerifyHmacSha256. The vectors
// and the prefix table are from hooklab's Trigger.dev reference,
// shared/reference/triggerdev-v2.md §2 ("Test vectors (computed with Node
// crypto)" and "Prefix examples"); the body-decoding cases are pitfall 3 of
// shared/reference/signature-schemes.md §4. interop_test.go checks the same
// behaviour against the published @trigger.dev/sdk.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
)

// Reference vectors, triggerdev-v2.md §2.
const (
	tdSecret    = "whsec_test"
	tdBody      = `{"foo":"bar"}`
	tdHex       = "57ba523f22353bec99883cfefc3d825284fa2b250415486b6fe4bb317c29792e"
	tdBase64    = "V7pSPyI1O+yZiDz+/D2CUoT6KyUEFUhrb+S7MXwpeS4="
	tdBase64URL = "V7pSPyI1O-yZiDz-_D2CUoT6KyUEFUhrb-S7MXwpeS4"
	tdKEmptyHex = "8bb990c40a7d61cb97597a942125025be50ac8beb74436e3735b98893a7f6620" // key "k", body ""
	tdKHelloHex = "795e2c681feb7e83461ce6cd43ada8409fb0afe27ad56e3d6f83e07594fdc1ed" // key "k", body "héllo"
)

// tdSum is HMAC-SHA256(key, msg), computed here independently of signer.
func tdSum(key string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(msg)
	return m.Sum(nil)
}

func tdHexOf(key string, msg []byte) string { return hex.EncodeToString(tdSum(key, msg)) }

// tdRequest builds a POST carrying body and the given header pairs, in
// order (repeats kept).
func tdRequest(body []byte, kv ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://localhost/hook", bytes.NewReader(body))
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

var (
	okResult     = signer.VerifyResult{Success: true}
	failedResult = signer.VerifyResult{Reason: signer.ReasonFailedSHA256}
	missingHdr   = signer.VerifyResult{Reason: signer.ReasonMissingHeader}
	missingSec   = signer.VerifyResult{Reason: signer.ReasonMissingSecret}
)

func TestVerifyRequestSignature(t *testing.T) {
	const h = "X-Signature"
	bad := strings.Repeat("0", 64)
	tests := []struct {
		name      string
		secret    string
		body      string
		header    []string // name/value pairs
		hdrName   string   // default h
		encoding  string
		algorithm string // default "sha256"
		want      signer.VerifyResult
		wantErr   string // exact error text; the result is then ignored
	}{
		// Reference vectors.
		{name: "VectorHexVerifies", secret: tdSecret, body: tdBody, header: []string{h, tdHex}, encoding: "hex", want: okResult},
		{name: "VectorBase64Verifies", secret: tdSecret, body: tdBody, header: []string{h, tdBase64}, encoding: "base64", want: okResult},
		{name: "VectorBase64URLVerifies", secret: tdSecret, body: tdBody, header: []string{h, tdBase64URL}, encoding: "base64url", want: okResult},
		{name: "VectorEmptyBodyVerifies", secret: "k", body: "", header: []string{h, tdKEmptyHex}, want: okResult},
		{name: "VectorUnicodeBodyVerifies", secret: "k", body: "héllo", header: []string{h, tdKHelloHex}, want: okResult},
		{name: "EmptyEncodingMeansHex", secret: tdSecret, body: tdBody, header: []string{h, tdHex}, encoding: "", want: okResult},
		{name: "BinaryEncodingComparesRawBytes", secret: tdSecret, body: tdBody, header: []string{h, string(tdSum(tdSecret, []byte(tdBody)))}, encoding: "binary", want: okResult},
		{name: "Latin1IsBinary", secret: tdSecret, body: tdBody, header: []string{h, string(tdSum(tdSecret, []byte(tdBody)))}, encoding: "latin1", want: okResult},
		{name: "EncodingNameIsCaseInsensitive", secret: tdSecret, body: tdBody, header: []string{h, tdBase64}, encoding: "BASE64", want: okResult},
		{name: "UnknownEncodingNeverVerifies", secret: tdSecret, body: tdBody, header: []string{h, tdHex}, encoding: "buffer", want: failedResult},
		{name: "Base64URLWithPaddingFails", secret: tdSecret, body: tdBody, header: []string{h, tdBase64URL + "="}, encoding: "base64url", want: failedResult},
		{name: "Base64ForBase64URLFails", secret: tdSecret, body: tdBody, header: []string{h, tdBase64}, encoding: "base64url", want: failedResult},
		{name: "UpperCaseHexFails", secret: tdSecret, body: tdBody, header: []string{h, strings.ToUpper(tdHex)}, want: failedResult},
		{name: "TamperedBodyFails", secret: tdSecret, body: `{"foo":"baz"}`, header: []string{h, tdHex}, want: failedResult},
		{name: "WrongSecretFails", secret: "whsec_other", body: tdBody, header: []string{h, tdHex}, want: failedResult},
		{name: "TruncatedSignatureFails", secret: tdSecret, body: tdBody, header: []string{h, tdHex[:63]}, want: failedResult},

		// Reason strings and the order of the checks.
		{name: "EmptySecretIsMissingSecret", secret: "", body: tdBody, header: []string{h, tdHex}, want: missingSec},
		{name: "MissingSecretBeforeMissingHeader", secret: "", body: tdBody, want: missingSec},
		{name: "MissingSecretBeforeUnsupportedAlgorithm", secret: "", body: tdBody, header: []string{h, tdHex}, algorithm: "md5", want: missingSec},
		{name: "MissingSecretBeforeInvalidHeaderName", secret: "", body: tdBody, hdrName: "bad name", want: missingSec},
		{name: "AbsentHeaderIsMissingHeader", secret: tdSecret, body: tdBody, header: []string{"X-Other", tdHex}, want: missingHdr},
		{name: "EmptyHeaderIsMissingHeader", secret: tdSecret, body: tdBody, header: []string{h, ""}, want: missingHdr},
		{name: "WhitespaceOnlyHeaderIsMissingHeader", secret: tdSecret, body: tdBody, header: []string{h, " \t "}, want: missingHdr},
		{name: "TwoEmptyHeadersAreNotMissing", secret: tdSecret, body: tdBody, header: []string{h, "", h, ""}, want: failedResult},
		{name: "MissingHeaderBeforeUnsupportedAlgorithm", secret: tdSecret, body: tdBody, algorithm: "sha512", want: missingHdr},
		{name: "UnsupportedAlgorithmThrows", secret: tdSecret, body: tdBody, header: []string{h, tdHex}, algorithm: "sha512", wantErr: "Unsupported algorithm: sha512"},
		{name: "AlgorithmIsCaseSensitive", secret: tdSecret, body: tdBody, header: []string{h, tdHex}, algorithm: "SHA256", wantErr: "Unsupported algorithm: SHA256"},
		{name: "EmptyAlgorithmThrows", secret: tdSecret, body: tdBody, header: []string{h, tdHex}, algorithm: "-", wantErr: "Unsupported algorithm: "},
		{name: "InvalidHeaderNameThrows", secret: tdSecret, body: tdBody, hdrName: "bad name", wantErr: `Headers.get: "bad name" is an invalid header name.`},
		{name: "EmptyHeaderNameThrows", secret: tdSecret, body: tdBody, hdrName: "-", wantErr: `Headers.get: "" is an invalid header name.`},

		// Prefix cleaning: replace("hmac-sha256=", "") then replace("sha256=", "").
		{name: "PrefixSha256Stripped", secret: tdSecret, body: tdBody, header: []string{h, "sha256=" + tdHex}, want: okResult},
		{name: "PrefixHmacSha256Stripped", secret: tdSecret, body: tdBody, header: []string{h, "hmac-sha256=" + tdHex}, want: okResult},
		{name: "PrefixXsha256LeavesX", secret: tdSecret, body: tdBody, header: []string{h, "xsha256=" + tdHex}, want: failedResult},
		{name: "PrefixUpperCaseNotStripped", secret: tdSecret, body: tdBody, header: []string{h, "SHA256=" + tdHex}, want: failedResult},
		{name: "PrefixInTheMiddleStripped", secret: tdSecret, body: tdBody, header: []string{h, tdHex[:10] + "sha256=" + tdHex[10:]}, want: okResult},
		{name: "PrefixAtTheEndStripped", secret: tdSecret, body: tdBody, header: []string{h, tdHex + "sha256="}, want: okResult},
		{name: "BothPrefixesStripped", secret: tdSecret, body: tdBody, header: []string{h, "hmac-sha256=sha256=" + tdHex}, want: okResult},
		{name: "OnlyFirstSha256Stripped", secret: tdSecret, body: tdBody, header: []string{h, "sha256=sha256=" + tdHex}, want: failedResult},
		{name: "PrefixBase64Stripped", secret: tdSecret, body: tdBody, header: []string{h, "sha256=" + tdBase64}, encoding: "base64", want: okResult},

		// Header lookup as Fetch's Headers.get.
		{name: "HeaderNameCaseInsensitive", secret: tdSecret, body: tdBody, header: []string{"x-cal-signature-256", tdHex}, hdrName: "X-CAL-SIGNATURE-256", want: okResult},
		{name: "SurroundingWhitespaceTrimmed", secret: tdSecret, body: tdBody, header: []string{h, " \t" + tdHex + " \r\n"}, want: okResult},
		{name: "TwoPrefixedHeadersJoinedFail", secret: tdSecret, body: tdBody, header: []string{h, "sha256=" + tdHex, h, "sha256=" + tdHex}, want: failedResult},
		{name: "BadThenGoodHeaderJoinedFail", secret: tdSecret, body: tdBody, header: []string{h, bad, h, tdHex}, want: failedResult},

		// Body decoding as Request.text(): pitfall 3.
		{name: "InvalidUTF8RawSignatureFails", secret: "k", body: "\xff\xfe", header: []string{h, tdHexOf("k", []byte("\xff\xfe"))}, want: failedResult},
		{name: "InvalidUTF8HashedAsReplacement", secret: "k", body: "\xff\xfe", header: []string{h, tdHexOf("k", []byte("\uFFFD\uFFFD"))}, want: okResult},
		{name: "BOMRawSignatureFails", secret: "k", body: "\xef\xbb\xbf" + tdBody, header: []string{h, tdHexOf("k", []byte("\xef\xbb\xbf"+tdBody))}, want: failedResult},
		{name: "BOMDropped", secret: "k", body: "\xef\xbb\xbf" + tdBody, header: []string{h, tdHexOf("k", []byte(tdBody))}, want: okResult},
		{name: "TwoBOMsDropped", secret: "k", body: "\xef\xbb\xbf\xef\xbb\xbfA", header: []string{h, tdHexOf("k", []byte("A"))}, want: okResult},
		{name: "ThirdBOMKept", secret: "k", body: "\xef\xbb\xbf\xef\xbb\xbf\xef\xbb\xbfA", header: []string{h, tdHexOf("k", []byte("\uFEFFA"))}, want: okResult},
		{name: "BOMNotAtStartKept", secret: "k", body: "A\xef\xbb\xbf", header: []string{h, tdHexOf("k", []byte("A\uFEFF"))}, want: okResult},
		{name: "TruncatedFourByteIsOneReplacement", secret: "k", body: "\xf0\x90\x80", header: []string{h, tdHexOf("k", []byte("\uFFFD"))}, want: okResult},
		{name: "TruncatedFourBytePerByteFails", secret: "k", body: "\xf0\x90\x80", header: []string{h, tdHexOf("k", []byte(strings.Repeat("\uFFFD", 3)))}, want: failedResult},
		{name: "SurrogateIsThreeReplacements", secret: "k", body: "\xed\xa0\x80", header: []string{h, tdHexOf("k", []byte(strings.Repeat("\uFFFD", 3)))}, want: okResult},
		{name: "OverlongIsTwoReplacements", secret: "k", body: "\xc0\xaf", header: []string{h, tdHexOf("k", []byte("\uFFFD\uFFFD"))}, want: okResult},
		{name: "TruncatedBOMIsOneReplacement", secret: "k", body: "\xef\xbb", header: []string{h, tdHexOf("k", []byte("\uFFFD"))}, want: okResult},
		{name: "TruncatedThreeByteThenASCII", secret: "k", body: "\xe2\x82x", header: []string{h, tdHexOf("k", []byte("\uFFFDx"))}, want: okResult},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.hdrName
			switch name {
			case "":
				name = h
			case "-":
				name = ""
			}
			alg := tt.algorithm
			switch alg {
			case "":
				alg = "sha256"
			case "-":
				alg = ""
			}
			r := tdRequest([]byte(tt.body), tt.header...)
			p := signer.VerifyRequestSignatureParams{HeaderName: name, HeaderEncoding: tt.encoding, Secret: signer.NewSecret(tt.secret), Algorithm: alg}
			got, err := signer.VerifyRequestSignature(r, p)
			if tt.wantErr != "" {
				require.Error(t, err, "VerifyRequestSignature(%s) = %+v, want error %q", tt.name, got, tt.wantErr)
				assert.Equal(t, tt.wantErr, err.Error(), "VerifyRequestSignature(%s) error text", tt.name)
				return
			}
			require.NoError(t, err, "VerifyRequestSignature(%s)", tt.name)
			assert.Equal(t, tt.want, got, "VerifyRequestSignature(%s)", tt.name)
		})
	}
}

func TestVerifyRequestSignatureErrorsAreInspectable(t *testing.T) {
	p := signer.VerifyRequestSignatureParams{HeaderName: "X-Signature", Secret: signer.NewSecret(tdSecret), Algorithm: "sha1"}
	_, err := signer.VerifyRequestSignature(tdRequest([]byte(tdBody), "X-Signature", tdHex), p)
	assert.ErrorIs(t, err, signer.ErrUnsupportedAlgorithm)

	p = signer.VerifyRequestSignatureParams{HeaderName: "a:b", Secret: signer.NewSecret(tdSecret), Algorithm: "sha256"}
	_, err = signer.VerifyRequestSignature(tdRequest([]byte(tdBody)), p)
	assert.ErrorIs(t, err, signer.ErrInvalidHeaderName)
}

func TestVerifyRequestSignatureReasonStringsAreVerbatim(t *testing.T) {
	assert.Equal(t, "Missing secret \u2013 you've probably not set an environment variable.", signer.ReasonMissingSecret)
	assert.True(t, strings.ContainsRune(signer.ReasonMissingSecret, '\u2013'), "ReasonMissingSecret has no EN DASH")
	assert.False(t, strings.ContainsRune(signer.ReasonMissingSecret, '\u2019'), "ReasonMissingSecret has a typographic apostrophe")
	assert.Equal(t, "Missing header", signer.ReasonMissingHeader)
	assert.Equal(t, "Failed sha256 verification", signer.ReasonFailedSHA256)
}

func TestVerifyResultMarshalsLikeTheSDK(t *testing.T) {
	for _, tt := range []struct {
		in   signer.VerifyResult
		want string
	}{
		{okResult, `{"success":true}`},
		{missingHdr, `{"success":false,"reason":"Missing header"}`},
	} {
		got, err := json.Marshal(tt.in)
		require.NoError(t, err)
		assert.Equal(t, tt.want, string(got), "json.Marshal(%+v)", tt.in)
	}
}

func TestVerifyRequestSignatureLeavesBodyReadable(t *testing.T) {
	body := []byte("\xef\xbb\xbf{\"a\":\"\xff\"}")
	for _, tt := range []struct {
		name      string
		header    string
		algorithm string
	}{
		{"AfterSuccess", tdHexOf("k", requestTextForTest(body)), "sha256"},
		{"AfterFailure", tdHexOf("k", body), "sha256"},
		{"AfterUnsupportedAlgorithm", tdHexOf("k", body), "sha512"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tdRequest(body, "X-Signature", tt.header)
			p := signer.VerifyRequestSignatureParams{HeaderName: "X-Signature", Secret: signer.NewSecret("k"), Algorithm: tt.algorithm}
			_, _ = signer.VerifyRequestSignature(r, p)
			again, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			assert.Equal(t, body, again, "body after VerifyRequestSignature")
			// A second verification sees the same bytes.
			if tt.algorithm == "sha256" {
				first, err1 := signer.VerifyRequestSignature(tdRequest(body, "X-Signature", tt.header), p)
				r.Body = io.NopCloser(bytes.NewReader(again))
				second, err2 := signer.VerifyRequestSignature(r, p)
				assert.Equal(t, first, second, "VerifyRequestSignature twice")
				assert.Equal(t, err1, err2)
			}
		})
	}
}

func TestVerifyRequestSignatureBodyTooLargeKeepsBody(t *testing.T) {
	body := bytes.Repeat([]byte("a"), signer.DefaultMaxBody+10)
	r := tdRequest(body, "X-Signature", tdHex)
	p := signer.VerifyRequestSignatureParams{HeaderName: "X-Signature", Secret: signer.NewSecret("k"), Algorithm: "sha256"}
	_, err := signer.VerifyRequestSignature(r, p)
	assert.ErrorIs(t, err, signer.ErrBodyTooLarge)
	again, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, len(body), len(again), "body length after VerifyRequestSignature")
}

func TestVerifyRequestSignatureNoBodyIsEmpty(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://localhost/hook", nil)
	r.Header.Set("X-Signature", tdKEmptyHex)
	got, err := signer.VerifyRequestSignature(r, signer.VerifyRequestSignatureParams{HeaderName: "x-signature", Secret: signer.NewSecret("k"), Algorithm: "sha256"})
	require.NoError(t, err)
	assert.Equal(t, okResult, got)
}

func TestVerifyHmacSha256(t *testing.T) {
	tests := []struct {
		name, header, encoding, secret, body string
		want                                 bool
	}{
		{"HexVerifies", tdHex, "hex", tdSecret, tdBody, true},
		{"EmptyEncodingIsHex", tdHex, "", tdSecret, tdBody, true},
		{"Base64Verifies", "sha256=" + tdBase64, "base64", tdSecret, tdBody, true},
		{"Base64URLVerifies", "hmac-sha256=" + tdBase64URL, "base64url", tdSecret, tdBody, true},
		{"UnicodeBodyHashedAsUTF8", tdKHelloHex, "hex", "k", "héllo", true},
		{"EmptySecretKeysWithNothing", tdHexOf("", []byte(tdBody)), "hex", "", tdBody, true},
		{"UpperCaseHexFails", strings.ToUpper(tdHex), "hex", tdSecret, tdBody, false},
		{"EmptyHeaderFails", "", "hex", tdSecret, tdBody, false},
		{"AsciiClearsHighBit", asciiOf(tdSum(tdSecret, []byte(tdBody))), "ascii", tdSecret, tdBody, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := signer.VerifyHmacSha256(tt.header, tt.encoding, signer.NewSecret(tt.secret), tt.body)
			assert.Equal(t, tt.want, got, "VerifyHmacSha256(%q, %q, _, %q)", tt.header, tt.encoding, tt.body)
		})
	}
}

func asciiOf(sum []byte) string {
	out := make([]byte, len(sum))
	for i, b := range sum {
		out[i] = b & 0x7f
	}
	return string(out)
}

// requestTextForTest is an independent, slow model of Request.text() in
// Node (undici + TextDecoder): drop up to two leading BOMs, then decode
// with WHATWG's "maximal subpart" replacement, written from the Unicode
// definition rather than the WHATWG state machine signer uses.
func requestTextForTest(b []byte) []byte {
	for range 2 {
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	}
	var out []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			out = utf8.AppendRune(out, r)
			b = b[n:]
			continue
		}
		// Invalid: skip the maximal prefix of a well-formed sequence.
		out = utf8.AppendRune(out, utf8.RuneError)
		b = b[maximalSubpart(b):]
	}
	return out
}

// maximalSubpart returns the length (at least 1) of the longest prefix of
// b that starts a well-formed UTF-8 sequence (Unicode table 3-7).
func maximalSubpart(b []byte) int {
	lo, hi, need := byte(0x80), byte(0xbf), 0
	switch c := b[0]; {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		lo, need = 0xa0, 2
	case c == 0xed:
		hi, need = 0x9f, 2
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		lo, need = 0x90, 3
	case c == 0xf4:
		hi, need = 0x8f, 3
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 1
	}
	n := 1
	for i := 1; i <= need && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			break
		}
		lo, hi = 0x80, 0xbf
		n++
	}
	return n
}

func TestRequestTextModelMatchesReferenceCases(t *testing.T) {
	// Sanity of the test's own model against the cases of §4 pitfall 3,
	// whose results were read from Node 20 (undici 6).
	for _, tt := range []struct{ in, want string }{
		{"\xff\xfe", "\uFFFD\uFFFD"},
		{"\xf0\x90\x80", "\uFFFD"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xc0\xaf", "\uFFFD\uFFFD"},
		{"\xef\xbb\xbf\xef\xbb\xbfA", "A"},
		{"\xef\xbb\xbf\xef\xbb\xbf\xef\xbb\xbfA", "\uFEFFA"},
	} {
		assert.Equal(t, tt.want, string(requestTextForTest([]byte(tt.in))), "requestTextForTest(%q)", tt.in)
	}
}
