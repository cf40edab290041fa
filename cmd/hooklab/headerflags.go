package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hooklab/hooklab/signer"
)

// The --header and --content-type flags of sign, send and load, and the
// headers they give before and after signing.

// headerField is one --header.
type headerField struct{ name, value string }

// headerFlags collects repeated --header 'Name: value' flags in order.
type headerFlags []headerField

func (*headerFlags) String() string { return "" }

// Set parses "Name: value". The name must be an HTTP token; the value may
// be empty but may not contain a line break. Spaces around the value are
// dropped, as HTTP does.
func (h *headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return errors.New(`want "Name: value"`)
	}
	name = strings.TrimSpace(name)
	if !isToken(name) {
		return errors.New("the header name is not an HTTP token")
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return errors.New("the header value contains a line break or NUL")
	}
	*h = append(*h, headerField{name: name, value: strings.Trim(value, " \t")})
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// buildHeader turns the --header and --content-type flags into the header
// given to the signer. A Host header is taken out and returned apart (it
// overrides the URL's host in the raw HTTP output).
func buildHeader(fields headerFlags, contentType stringFlag, s signer.Scheme) (http.Header, string, error) {
	h := make(http.Header)
	host := ""
	for _, f := range fields {
		switch http.CanonicalHeaderKey(f.name) {
		case "Content-Length":
			return nil, "", usageErrorf("-header: Content-Length is computed from the body")
		case "Transfer-Encoding":
			return nil, "", usageErrorf("-header: Transfer-Encoding is not supported; the body is sent with a Content-Length")
		case "Host":
			host = f.value
			continue
		}
		h.Add(f.name, f.value)
	}
	if contentType.set {
		if h.Get("Content-Type") != "" {
			return nil, "", usageErrorf("give -content-type or a Content-Type -header, not both")
		}
		if strings.ContainsAny(contentType.value, "\r\n\x00") {
			return nil, "", usageErrorf("-content-type: contains a line break or NUL")
		}
		h.Set("Content-Type", contentType.value)
	} else if len(h.Values("Content-Type")) == 0 {
		ct := defaultContentType
		if strings.Contains(s.Message, "{params}") {
			ct = defaultFormContentType
		}
		h.Set("Content-Type", ct)
	}
	return h, host, nil
}

// afterSigning checks the --header fields set on a request after it is
// signed and returns them as a header whose names replace the request's
// own; a Host is returned apart. Content-Length and Transfer-Encoding
// follow from the body, and a header the scheme writes (its signatures,
// timestamp, message id and fixed headers) is refused: it would replace
// the signature silently.
func afterSigning(fields headerFlags, s signer.Scheme, signed bool) (http.Header, string, error) {
	reserved := map[string]bool{}
	if signed {
		for _, name := range s.Headers() {
			reserved[http.CanonicalHeaderKey(name)] = true
		}
	}
	h := make(http.Header)
	host := ""
	for _, f := range fields {
		switch name := http.CanonicalHeaderKey(f.name); {
		case name == "Content-Length":
			return nil, "", usageErrorf("-header: Content-Length is computed from the body")
		case name == "Transfer-Encoding":
			return nil, "", usageErrorf("-header: Transfer-Encoding is not supported; the body is sent with a Content-Length")
		case name == "Host":
			host = f.value
		case reserved[name]:
			return nil, "", usageErrorf("-header: %s is written by the signature (preset %s) and cannot be replaced", name, s.Name)
		default:
			h.Add(name, f.value)
		}
	}
	return h, host, nil
}
