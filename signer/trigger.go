package signer

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/hooklab/hooklab/internal/whatwg"
)

// This file reproduces Trigger.dev v2's verifyRequestSignature
// (@trigger.dev/sdk 2.3.x, src/security.ts), quirks included, so that code
// ported from it gives the same answer. The facts are in hooklab's
// reference, shared/reference/triggerdev-v2.md §2, and every behaviour
// here is checked against the published package by TestTriggerDevDifferential.

// The reason strings of Trigger.dev v2's verifyRequestSignature, verbatim.
const (
	// ReasonMissingSecret is returned when the secret is empty. The dash
	// is an EN DASH (U+2013) and the apostrophe is ASCII, as in the SDK.
	ReasonMissingSecret = "Missing secret \u2013 you've probably not set an environment variable."
	// ReasonMissingHeader is returned when the header is absent or its
	// value is empty.
	ReasonMissingHeader = "Missing header"
	// ReasonFailedSHA256 is returned when the signature does not match.
	ReasonFailedSHA256 = "Failed sha256 verification"
)

// Errors VerifyRequestSignature returns where Trigger.dev's helper throws.
// The error's text is the JavaScript error's message exactly; branch on
// the sentinel with errors.Is.
var (
	// ErrUnsupportedAlgorithm: Algorithm is not "sha256". The error's text
	// is "Unsupported algorithm: <algorithm>".
	ErrUnsupportedAlgorithm = errors.New("unsupported algorithm")
	// ErrInvalidHeaderName: HeaderName is not an HTTP token, so Fetch's
	// Headers.get throws a TypeError. The error's text is that TypeError's
	// message, `Headers.get: "<name>" is an invalid header name.`.
	ErrInvalidHeaderName = errors.New("invalid header name")
)

// thrown is an error whose text is a JavaScript error message, verbatim;
// it wraps the sentinel that names its kind.
type thrown struct {
	msg  string
	kind error
}

func (e *thrown) Error() string { return e.msg }
func (e *thrown) Unwrap() error { return e.kind }

// VerifyRequestSignatureParams are verifyRequestSignature's parameters.
// The zero value is not useful: set at least HeaderName, Secret and
// Algorithm.
type VerifyRequestSignatureParams struct {
	// HeaderName is the signature header, looked up case-insensitively.
	HeaderName string
	// HeaderEncoding is how the digest is written, as a Node.js encoding
	// name given to Hmac.digest: "hex" (the default when ""), "base64"
	// (standard, padded), "base64url" (URL-safe, unpadded) or "binary"
	// (alias "latin1": the raw digest bytes, one header byte each). Node
	// matches names case-insensitively and also knows "utf8", "ascii" and
	// "ucs2"/"utf16le", which are reproduced too. Any other name (a typo,
	// "buffer") makes Node return a Buffer, which never equals the header,
	// so every delivery fails with ReasonFailedSHA256, as in Trigger.dev.
	HeaderEncoding string
	// Secret is the HMAC key, used as its bytes (a dashboard secret's text
	// is not hex-decoded). An empty Secret is ReasonMissingSecret; unlike
	// JavaScript, where a zero-length Buffer is truthy and keys the HMAC
	// with nothing, Go cannot tell the two apart and fails closed.
	Secret Secret
	// Algorithm must be "sha256" (exactly: "SHA256" is unsupported).
	Algorithm string
}

// VerifyResult is Trigger.dev's VerifyResult: Success, or a Reason that is
// one of ReasonMissingSecret, ReasonMissingHeader or ReasonFailedSHA256.
// It marshals to the same JSON as the SDK's object ({"success":true} has
// no reason).
type VerifyResult struct {
	Success bool   `json:"success"`
	Reason  string `json:"reason,omitempty"`
}

// VerifyRequestSignature reports whether r carries a valid HMAC-SHA256
// signature of its body, exactly as Trigger.dev v2's
// verifyRequestSignature({request, headerName, headerEncoding, secret,
// algorithm}) does. Checks run in the SDK's order:
//
//  1. An empty Secret is {false, ReasonMissingSecret}.
//  2. A HeaderName that is not an HTTP token is an error wrapping
//     ErrInvalidHeaderName (Fetch's Headers.get throws).
//  3. The header is read as Fetch's Headers.get reads it: names match
//     case-insensitively, each value is trimmed of leading and trailing
//     HTTP whitespace (space, tab, CR, LF), and repeated headers are joined
//     with ", " (so two empty headers read as ", ", which is not missing).
//     Values under the canonical key come first, then those under other
//     spellings of the name in sorted key order. An absent header or an
//     empty value is {false, ReasonMissingHeader}. Like net/http, the Host
//     header is not in r.Header and reads as absent.
//  4. An Algorithm other than "sha256" is an error whose text is
//     exactly "Unsupported algorithm: <Algorithm>", wrapping
//     ErrUnsupportedAlgorithm; the body is not read.
//  5. Otherwise the body is read and compared as VerifyHmacSha256 does,
//     after decoding it the way Request.text() does: a leading UTF-8 BOM
//     is dropped (Node's undici drops one and then its TextDecoder a
//     second, so up to two), and every maximal invalid UTF-8 subsequence
//     becomes one U+FFFD (the WHATWG UTF-8 decoder; Go's own decoding
//     replaces some sequences byte by byte). The HMAC covers the UTF-8
//     re-encoding of that text, so a body with invalid UTF-8 or a BOM
//     can never verify against a signature of its raw bytes. A match is
//     {true, ""}, anything else {false, ReasonFailedSHA256}.
//
// The body is read up to DefaultMaxBody bytes (Trigger.dev has no limit;
// a larger body is an error wrapping ErrBodyTooLarge) and r.Body is
// replaced by a reader of the same bytes, so the next handler can read it
// again; VerifyRequestSignature consumes nothing. Unlike the SDK, which
// compares with ===, the comparison is constant-time; the answer is the
// same. There is no timestamp, so replays are not detected.
func VerifyRequestSignature(r *http.Request, p VerifyRequestSignatureParams) (VerifyResult, error) {
	if p.Secret.IsZero() {
		return VerifyResult{Reason: ReasonMissingSecret}, nil
	}
	if !validHeaderName(p.HeaderName) {
		return VerifyResult{}, &thrown{
			msg:  `Headers.get: "` + p.HeaderName + `" is an invalid header name.`,
			kind: ErrInvalidHeaderName,
		}
	}
	if r == nil {
		return VerifyResult{}, errors.New("signer: trigger: nil request")
	}
	value, ok := fetchHeaderGet(r.Header, p.HeaderName)
	if !ok || value == "" {
		return VerifyResult{Reason: ReasonMissingHeader}, nil
	}
	if p.Algorithm != "sha256" {
		return VerifyResult{}, &thrown{msg: "Unsupported algorithm: " + p.Algorithm, kind: ErrUnsupportedAlgorithm}
	}
	body, err := readBodyKeep(r, DefaultMaxBody)
	if err != nil {
		return VerifyResult{}, err
	}
	if verifyHmacSha256(value, p.HeaderEncoding, p.Secret, whatwg.BodyText(body)) {
		return VerifyResult{Success: true}, nil
	}
	return VerifyResult{Reason: ReasonFailedSHA256}, nil
}

// verifyHmacSha256 mirrors the SDK's exported verifyHmacSha256(headerValue,
// headerEncoding, secret, body): it strips the first "hmac-sha256=" and
// then the first "sha256=" from headerValue, wherever they are and
// case-sensitively (so "xsha256=abc" becomes "xabc" and "SHA256=abc" is
// kept), and compares the rest with HMAC-SHA256(secret, body) written in
// headerEncoding (see VerifyRequestSignatureParams.HeaderEncoding; "" means
// "hex" here too, although the JavaScript helper itself has no default).
// Upper-case hex and padded base64url therefore fail. The comparison is
// constant-time.
//
// headerValue's bytes stand for the characters of the header (Fetch header
// values are byte strings), which matters for the "binary" encoding. body
// is the already-decoded text the SDK would hash; its bytes are hashed as
// they are (VerifyRequestSignature passes Request.text()'s decoding of the
// raw bytes). An empty secret keys the HMAC
// with no bytes, as Node does.
func verifyHmacSha256(headerValue, headerEncoding string, secret Secret, body []byte) bool {
	m := hmac.New(sha256.New, secret.Bytes())
	m.Write(body)
	want, ok := nodeDigest(headerEncoding, m.Sum(nil))
	sig := strings.Replace(headerValue, "hmac-sha256=", "", 1)
	sig = strings.Replace(sig, "sha256=", "", 1)
	return ok && subtle.ConstantTimeCompare([]byte(sig), want) == 1
}

// nodeDigest writes sum as Node's Hmac.digest(encoding) does, as the
// bytes of a byte string (each byte one character U+0000–U+00FF). ok is
// false when Node's string has a character above U+00FF (it can then
// equal no header value, which is a byte string) or when Node returns a
// Buffer (an encoding it does not know, which equals no string).
func nodeDigest(encoding string, sum []byte) (out []byte, ok bool) {
	switch asciiLower(encoding) {
	case "", "hex":
		return []byte(hex.EncodeToString(sum)), true
	case "base64":
		return []byte(base64.StdEncoding.EncodeToString(sum)), true
	case "base64url":
		return []byte(base64.RawURLEncoding.EncodeToString(sum)), true
	case "binary", "latin1":
		return sum, true
	case "ascii":
		// Node clears the high bit of each byte.
		out = make([]byte, len(sum))
		for i, b := range sum {
			out[i] = b & 0x7f
		}
		return out, true
	case "ucs2", "ucs-2", "utf16le", "utf-16le":
		// Little-endian code units; an odd last byte is dropped.
		out = make([]byte, 0, len(sum)/2)
		for i := 0; i+1 < len(sum); i += 2 {
			if sum[i+1] != 0 {
				return nil, false
			}
			out = append(out, sum[i])
		}
		return out, true
	case "utf8", "utf-8":
		// V8 decodes with the same replacement rule as WHATWG; any
		// character above U+00FF (U+FFFD included) cannot match.
		text := whatwg.DecodeUTF8(sum)
		out = make([]byte, 0, len(sum))
		for _, c := range string(text) {
			if c > 0xff {
				return nil, false
			}
			out = append(out, byte(c))
		}
		return out, true
	}
	return nil, false
}

// asciiLower lower-cases ASCII letters only, as Node compares encoding
// names (Unicode folding would wrongly accept "baſe64").
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// fetchHeaderGet returns what Fetch's Headers.get(name) returns for a
// request carrying h: every value of the header (matched
// case-insensitively), each trimmed of HTTP whitespace, joined with ", ".
// ok is false when there is no such header (JavaScript's null).
func fetchHeaderGet(h http.Header, name string) (string, bool) {
	canon := canonical(name)
	values := h[canon]
	var others []string
	for k := range h {
		if k != canon && strings.EqualFold(k, name) {
			others = append(others, k)
		}
	}
	if len(others) > 0 {
		sort.Strings(others)
		values = append([]string(nil), values...)
		for _, k := range others {
			values = append(values, h[k]...)
		}
	}
	if len(values) == 0 {
		return "", false
	}
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strings.Trim(v, " \t\r\n"))
	}
	return b.String(), true
}

// readBodyKeep reads r.Body up to max bytes and replaces it with a reader
// that yields the same bytes followed by anything left unread, so the body
// stays whole for the next handler even when it is too large.
func readBodyKeep(r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	orig := r.Body
	body, err := io.ReadAll(io.LimitReader(orig, max+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), orig), orig}
	if err != nil {
		return nil, fmt.Errorf("signer: trigger: reading body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("signer: trigger: body: more than %d bytes: %w", max, ErrBodyTooLarge)
	}
	return body, nil
}
