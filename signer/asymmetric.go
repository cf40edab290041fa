package signer

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Asymmetric keys are given as text. Ed25519 private keys: 64 hex digits
// (the seed) or 128 (seed and public key), "whsk_" followed by base64 of
// either, or a PKCS #8 PEM block. Ed25519 public keys: 64 hex digits,
// "whpk_" followed by base64, base64 of the 32 bytes, or a PKIX PEM block;
// a private key given where a public one is wanted yields its public half,
// except 64 hex digits, which always mean a public key. ECDSA P-256 keys:
// PEM, or base64 of DER (SEC 1 or PKCS #8 for private keys, PKIX for public
// keys, as SendGrid shows its verification key).

func parseEd25519Private(b []byte) (ed25519.PrivateKey, error) {
	s := strings.TrimSpace(string(b))
	if blk, _ := pem.Decode([]byte(s)); blk != nil {
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, errors.New("PEM block is not a PKCS #8 private key")
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("PEM key is not Ed25519")
		}
		return ek, nil
	}
	var raw []byte
	var err error
	if rest, ok := strings.CutPrefix(s, "whsk_"); ok {
		raw, err = decodeBase64Lenient(rest)
	} else {
		raw, err = hex.DecodeString(s)
		if err != nil {
			raw, err = decodeBase64Lenient(s)
		}
	}
	if err != nil {
		return nil, errors.New("Ed25519 private key is neither hex nor base64")
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		k := ed25519.NewKeyFromSeed(raw[:32])
		if string(k[32:]) != string(raw[32:]) {
			return nil, errors.New("Ed25519 private key halves do not match")
		}
		return k, nil
	}
	return nil, fmt.Errorf("Ed25519 private key has %d bytes, want 32 or 64", len(raw))
}

func parseEd25519Public(b []byte) (ed25519.PublicKey, error) {
	s := strings.TrimSpace(string(b))
	if blk, _ := pem.Decode([]byte(s)); blk != nil {
		if blk.Type == "PRIVATE KEY" {
			k, err := parseEd25519Private(b)
			if err != nil {
				return nil, err
			}
			return k.Public().(ed25519.PublicKey), nil
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, errors.New("PEM block is not a PKIX public key")
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("PEM key is not Ed25519")
		}
		return ek, nil
	}
	if strings.HasPrefix(s, "whsk_") {
		k, err := parseEd25519Private(b)
		if err != nil {
			return nil, err
		}
		return k.Public().(ed25519.PublicKey), nil
	}
	var raw []byte
	var err error
	if rest, ok := strings.CutPrefix(s, "whpk_"); ok {
		raw, err = decodeBase64Lenient(rest)
	} else {
		raw, err = hex.DecodeString(s)
		if err != nil {
			raw, err = decodeBase64Lenient(s)
		}
	}
	if err != nil {
		return nil, errors.New("Ed25519 public key is neither hex nor base64")
	}
	switch len(raw) {
	case ed25519.PublicKeySize:
		return ed25519.PublicKey(raw), nil
	case ed25519.PrivateKeySize:
		return ed25519.PublicKey(append([]byte(nil), raw[32:]...)), nil
	}
	return nil, fmt.Errorf("Ed25519 public key has %d bytes, want 32", len(raw))
}

// derBytes reads a PEM block or base64 DER.
func derBytes(b []byte) ([]byte, string, error) {
	s := strings.TrimSpace(string(b))
	if blk, _ := pem.Decode([]byte(s)); blk != nil {
		return blk.Bytes, blk.Type, nil
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, "", errors.New("key is neither PEM nor base64 DER")
	}
	return der, "", nil
}

func parseECDSAPrivate(b []byte) (*ecdsa.PrivateKey, error) {
	der, _, err := derBytes(b)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return checkP256(k)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("not an EC private key (SEC 1 or PKCS #8)")
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("PKCS #8 key is not ECDSA")
	}
	return checkP256(ek)
}

func checkP256(k *ecdsa.PrivateKey) (*ecdsa.PrivateKey, error) {
	if k.Curve != elliptic.P256() {
		return nil, errors.New("ECDSA key is not on P-256")
	}
	return k, nil
}

func parseECDSAPublic(b []byte) (*ecdsa.PublicKey, error) {
	der, typ, err := derBytes(b)
	if err != nil {
		return nil, err
	}
	if typ == "EC PRIVATE KEY" || typ == "PRIVATE KEY" {
		k, err := parseECDSAPrivate(b)
		if err != nil {
			return nil, err
		}
		return &k.PublicKey, nil
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		if pk, err2 := parseECDSAPrivate(b); err2 == nil {
			return &pk.PublicKey, nil
		}
		return nil, errors.New("not a PKIX public key")
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("public key is not ECDSA P-256")
	}
	return ek, nil
}

// GenerateKey makes a fresh key pair for an asymmetric algorithm (Ed25519
// or ECDSAP256) from random, returning the private key in a form Sign reads
// and the public key in a form Verify reads: hex for Ed25519 (Discord's
// form), base64 DER for ECDSA (SendGrid's form).
func GenerateKey(a Algorithm, random io.Reader) (private, public Secret, err error) {
	switch a {
	case Ed25519:
		pub, priv, err := ed25519.GenerateKey(random)
		if err != nil {
			return Secret{}, Secret{}, err
		}
		return NewSecret(hex.EncodeToString(priv.Seed())), NewSecret(hex.EncodeToString(pub)), nil
	case ECDSAP256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), random)
		if err != nil {
			return Secret{}, Secret{}, err
		}
		privDER, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return Secret{}, Secret{}, err
		}
		pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			return Secret{}, Secret{}, err
		}
		return NewSecret(base64.StdEncoding.EncodeToString(privDER)), NewSecret(base64.StdEncoding.EncodeToString(pubDER)), nil
	}
	return Secret{}, Secret{}, fmt.Errorf("signer: GenerateKey: %q is not an asymmetric algorithm", a)
}
