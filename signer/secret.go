package signer

import (
	"fmt"
	"log/slog"
)

// redacted is what every printing and marshalling path of a Secret shows.
const redacted = "[REDACTED]"

// A Secret is key material: a shared HMAC secret, a token, or an
// asymmetric key in one of the textual forms the scheme accepts.
//
// A Secret redacts itself: String, GoString, Format, LogValue,
// MarshalText and MarshalJSON all print a fixed mask, so it cannot leak
// through fmt, log/slog, encoding/json or an error message. Only Bytes
// reveals the value. The zero Secret is empty; verifying or signing with
// only empty secrets fails with ErrMissingSecret.
type Secret struct {
	b []byte
}

// NewSecret returns a Secret holding the bytes of s as written (its UTF-8
// bytes; the scheme's KeyFormat decides how they become a key).
func NewSecret(s string) Secret { return Secret{b: []byte(s)} }

// SecretBytes returns a Secret holding a copy of b.
func SecretBytes(b []byte) Secret { return Secret{b: append([]byte(nil), b...)} }

// Bytes returns the secret's bytes. The caller must not modify them.
func (s Secret) Bytes() []byte { return s.b }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return len(s.b) == 0 }

// String returns a fixed mask, never the secret.
func (s Secret) String() string { return redacted }

// GoString returns a fixed mask, so %#v does not print the secret.
func (s Secret) GoString() string { return "signer.Secret(" + redacted + ")" }

// Format prints a fixed mask for every verb.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// LogValue implements slog.LogValuer with a fixed mask.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler with a fixed mask.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON implements json.Marshaler with a fixed mask.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// A KeySet is an ordered list of secrets used for key rotation, newest
// first.
//
// A sender signs with the newest key, or, where the scheme carries several
// signatures (Stripe's repeated v1, Standard Webhooks' list, Box's two
// headers), with every key, as providers do while a secret is rolled. A
// receiver accepts a delivery that any key verifies.
type KeySet []Secret

// Keys returns a KeySet of the given secrets, written as text, newest
// first.
func Keys(secrets ...string) KeySet {
	ks := make(KeySet, len(secrets))
	for i, s := range secrets {
		ks[i] = NewSecret(s)
	}
	return ks
}

// nonEmpty returns the keys that hold bytes.
func (ks KeySet) nonEmpty() KeySet {
	out := make(KeySet, 0, len(ks))
	for _, k := range ks {
		if !k.IsZero() {
			out = append(out, k)
		}
	}
	return out
}
