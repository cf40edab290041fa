package signer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"sync"

	"github.com/hooklab/hooklab/signer"
)

var ecdsaOnce = sync.OnceValues(func() (signer.Secret, signer.Secret) {
	// A fixed P-256 key so tests are deterministic (d = 0x42…42).
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), []byte("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"))
	if err != nil {
		panic(err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return signer.NewSecret(base64.StdEncoding.EncodeToString(priv)), signer.NewSecret(base64.StdEncoding.EncodeToString(pub))
})

// testECDSAKeys returns a fixed P-256 key pair as SendGrid-style base64 DER.
func testECDSAKeys() (private, public signer.Secret) { return ecdsaOnce() }
