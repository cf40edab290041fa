package signer

import (
	"errors"
	"strings"
)

// Sentinel errors. Verification errors are *VerifyError values that wrap
// exactly one of these; branch on them with errors.Is.
var (
	// ErrMissingSecret: no non-empty secret was given. Verification fails
	// closed.
	ErrMissingSecret = errors.New("missing secret")
	// ErrMissingHeader: a header (or body field) the scheme needs is absent
	// or empty.
	ErrMissingHeader = errors.New("missing header")
	// ErrMalformedHeader: a header or body field is present but cannot be
	// read: wrong prefix, no signature of the scheme's version, bad
	// encoding, unparsable timestamp.
	ErrMalformedHeader = errors.New("malformed header")
	// ErrNoMatch: the signatures were readable but none matches the bytes
	// received under any key.
	ErrNoMatch = errors.New("no matching signature")
	// ErrTimestampTooOld: the signature matches but the timestamp is older
	// than the tolerance.
	ErrTimestampTooOld = errors.New("timestamp too old")
	// ErrTimestampInFuture: the signature matches but the timestamp is
	// further in the future than the tolerance.
	ErrTimestampInFuture = errors.New("timestamp in the future")
	// ErrBodyTooLarge: the request body is larger than the MaxBody limit.
	ErrBodyTooLarge = errors.New("body too large")
	// ErrInvalidKey: a secret cannot be turned into a key in the scheme's
	// format (bad base64, not an Ed25519 or P-256 key).
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidScheme: the Scheme value is incomplete or inconsistent.
	ErrInvalidScheme = errors.New("invalid scheme")
	// ErrUnknownPreset: no preset has that name.
	ErrUnknownPreset = errors.New("unknown preset")
)

// A VerifyError says why a delivery did not verify. Its text names the
// scheme, the header (or body field) and the reason, and never contains a
// secret or an expected signature.
type VerifyError struct {
	// Scheme is the scheme's name.
	Scheme string
	// Header is where the problem is: a header name, or "body: <path>".
	Header string
	// Reason is one of the sentinel errors.
	Reason error
	// Detail is a short human explanation; it never quotes a secret or an
	// expected signature.
	Detail string
}

// Error implements error: "signer: stripe: Stripe-Signature: malformed header: no t= pair".
func (e *VerifyError) Error() string {
	var b strings.Builder
	b.WriteString("signer: ")
	if e.Scheme != "" {
		b.WriteString(e.Scheme)
		b.WriteString(": ")
	}
	if e.Header != "" {
		b.WriteString(e.Header)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the sentinel reason.
func (e *VerifyError) Unwrap() error { return e.Reason }
