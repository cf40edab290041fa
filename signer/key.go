package signer

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// macState is a keyed hash with its scratch space, pooled per key so that
// a steady stream of verifications does not allocate.
type macState struct {
	h       hash.Hash
	sum     []byte
	scratch []byte
}

// key is one secret, turned into what the scheme's algorithm needs.
type key struct {
	raw   []byte // HMAC key, plain-hash secret, or encoded token
	pool  *sync.Pool
	edPub ed25519.PublicKey
	edKey ed25519.PrivateKey
	ecPub *ecdsa.PublicKey
	ecKey *ecdsa.PrivateKey
}

// hashFunc returns the hash of an HMAC or plain-hash algorithm.
func hashFunc(a Algorithm) func() hash.Hash {
	switch a {
	case HMACSHA1:
		return sha1.New
	case HMACSHA384:
		return sha512.New384
	case HMACSHA512:
		return sha512.New
	default:
		return sha256.New
	}
}

// decodeKey turns a symmetric secret's text into key bytes.
func decodeKey(f KeyFormat, b []byte) ([]byte, error) {
	switch f {
	case KeyWhsec:
		s := strings.TrimPrefix(string(b), "v1,")
		s = strings.TrimPrefix(s, "whsec_")
		return decodeBase64Lenient(s)
	case KeyBase64:
		return decodeBase64Lenient(string(b))
	case KeyHTMLEntities:
		return []byte(htmlSpecialCharsDecode(string(b))), nil
	default:
		return b, nil
	}
}

// decodeBase64Lenient accepts standard base64 with or without padding, the
// way the providers' libraries read their own secrets.
func decodeBase64Lenient(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("secret is not base64")
	}
	return b, nil
}

// htmlSpecialCharsDecode reverses PHP's htmlspecialchars with ENT_QUOTES,
// as wp_specialchars_decode does for WooCommerce secrets.
var htmlSpecialChars = strings.NewReplacer(
	"&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#039;", "'", "&#39;", "'", "&#x27;", "'", "&amp;", "&",
)

func htmlSpecialCharsDecode(s string) string { return htmlSpecialChars.Replace(s) }

// newKey compiles one secret for signing (private) or verifying (public).
func (s Scheme) newKey(sec Secret, signing bool) (key, error) {
	switch s.Algorithm {
	case Ed25519:
		if signing {
			k, err := parseEd25519Private(sec.Bytes())
			return key{edKey: k}, err
		}
		k, err := parseEd25519Public(sec.Bytes())
		return key{edPub: k}, err
	case ECDSAP256:
		if signing {
			k, err := parseECDSAPrivate(sec.Bytes())
			return key{ecKey: k}, err
		}
		k, err := parseECDSAPublic(sec.Bytes())
		return key{ecPub: k}, err
	}
	raw, err := decodeKey(s.Key, sec.Bytes())
	if err != nil {
		return key{}, err
	}
	if s.Algorithm == Token {
		return key{raw: []byte(encode(s.encoding(), raw))}, nil
	}
	k := key{raw: raw}
	if s.Algorithm != SHA256 {
		hf := hashFunc(s.Algorithm)
		k.pool = &sync.Pool{New: func() any { return &macState{h: hmac.New(hf, raw)} }}
	}
	return k, nil
}

// keyring is a KeySet compiled for one scheme.
type keyring struct {
	s    Scheme
	t    template
	keys []key
}

// newKeyring validates s and compiles keys; empty secrets are dropped and
// none at all is ErrMissingSecret.
func newKeyring(s Scheme, ks KeySet, signing bool) (*keyring, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	t, _ := parseTemplate(s.message())
	ks = ks.nonEmpty()
	if len(ks) == 0 {
		return nil, &VerifyError{Scheme: s.Name, Reason: ErrMissingSecret, Detail: "no non-empty secret given"}
	}
	r := &keyring{s: s, t: t, keys: make([]key, len(ks))}
	for i, sec := range ks {
		k, err := s.newKey(sec, signing)
		if err != nil {
			// The error text is ours and never quotes the secret.
			return nil, fmt.Errorf("signer: %s: key %d: %v: %w", s.Name, i+1, err, ErrInvalidKey)
		}
		r.keys[i] = k
	}
	return r, nil
}

// digest computes the raw signature of p under k for symmetric algorithms.
// When st is not nil the sum lives in it and the caller must hand it back
// with k.release(st) once done with sum.
func (r *keyring) digest(k *key, p *parts) (sum []byte, st *macState) {
	switch r.s.Algorithm {
	case SHA256:
		h := sha256.New()
		p.secret = k.raw
		r.t.writeTo(h, p, nil)
		p.secret = nil
		return h.Sum(nil), nil
	case Token:
		return k.raw, nil
	}
	st = k.pool.Get().(*macState)
	st.h.Reset()
	st.scratch = r.t.writeTo(st.h, p, st.scratch)
	st.sum = st.h.Sum(st.sum[:0])
	return st.sum, st
}

// release returns a pooled hash state.
func (k *key) release(st *macState) {
	if st != nil {
		k.pool.Put(st)
	}
}
