package signer

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// A Payload is one webhook delivery as a signer sees it: the exact bytes
// of the body, the headers, and the method and URL that URL-bound schemes
// sign. The zero Method means POST.
type Payload struct {
	Method string
	// URL is the full URL as the sender addressed it, query included
	// (Twilio, Square, HubSpot v2/v3 and Mandrill sign it).
	URL    string
	Header http.Header
	Body   []byte
}

func (p *Payload) method() string {
	if p.Method == "" {
		return http.MethodPost
	}
	return p.Method
}

// headerValues returns the values of header canon (a canonical name) in h,
// falling back to a case-insensitive scan for maps built by hand with
// non-canonical keys.
func headerValues(h http.Header, canon string) []string {
	if vs, ok := h[canon]; ok {
		return vs
	}
	for k, vs := range h {
		if strings.EqualFold(k, canon) {
			return vs
		}
	}
	return nil
}

// firstHeader returns the first non-empty value of a header, trimmed.
func firstHeader(h http.Header, canon string) string {
	for _, v := range headerValues(h, canon) {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// readBody reads r.Body up to max bytes and puts an identical reader back,
// so the next handler can read the body again.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("signer: reading body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if int64(len(body)) > max {
		return nil, &VerifyError{Header: "body", Reason: ErrBodyTooLarge, Detail: fmt.Sprintf("more than %d bytes", max)}
	}
	return body, nil
}

// requestURL rebuilds the URL a sender addressed a server-side request to.
func requestURL(r *http.Request) string {
	if r.URL.IsAbs() {
		return r.URL.String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	target := r.RequestURI // the request target exactly as received
	if target == "" || target[0] != '/' {
		target = r.URL.RequestURI()
	}
	return scheme + "://" + r.Host + target
}

// encode writes a raw signature as text.
func encode(e Encoding, b []byte) string {
	switch e {
	case Base64:
		return base64.StdEncoding.EncodeToString(b)
	case Base64URL:
		return base64.RawURLEncoding.EncodeToString(b)
	case Verbatim:
		return string(b)
	default:
		return hex.EncodeToString(b)
	}
}

// maxSigLen bounds a decoded signature: the longest is an ECDSA P-256 DER
// signature (72 bytes) or an Ed25519 / SHA-512 one (64 bytes).
const maxSigLen = 128

// decodeSig decodes signature text into dst (cap maxSigLen). tooLong
// reports a well-formed value that is longer than any signature, which can
// only fail to match.
func decodeSig(e Encoding, s string, dst []byte) (sig []byte, tooLong bool, err error) {
	var n int
	switch e {
	case Base64:
		n = base64.StdEncoding.DecodedLen(len(s))
	case Base64URL:
		n = base64.RawURLEncoding.DecodedLen(len(s))
	default:
		n = hex.DecodedLen(len(s))
	}
	if n > maxSigLen {
		return nil, true, nil
	}
	dst = dst[:n]
	switch e {
	case Base64:
		n, err = base64.StdEncoding.Strict().Decode(dst, []byte(s))
	case Base64URL:
		n, err = base64.RawURLEncoding.Strict().Decode(dst, []byte(s))
	default:
		if len(s)%2 == 1 {
			return nil, false, hex.ErrLength
		}
		n, err = hexDecodeString(dst, s)
	}
	if err != nil {
		return nil, false, err
	}
	return dst[:n], false, nil
}

// hexDecodeString is hex.Decode reading from a string, accepting either
// case, without copying the string.
func hexDecodeString(dst []byte, s string) (int, error) {
	for i := 0; i+1 < len(s); i += 2 {
		a, ok1 := fromHexChar(s[i])
		b, ok2 := fromHexChar(s[i+1])
		if !ok1 || !ok2 {
			return 0, hex.InvalidByteError(s[i])
		}
		dst[i/2] = a<<4 | b
	}
	return len(s) / 2, nil
}

func fromHexChar(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
