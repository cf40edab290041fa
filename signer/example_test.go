package signer_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/hooklab/hooklab/signer"
)

func ExampleSign() {
	signed, err := signer.Sign(signer.GitHub(), signer.Keys("It's a Secret to Everybody"),
		signer.Payload{Body: []byte("Hello, World!")})
	if err != nil {
		panic(err)
	}
	fmt.Println(signed.Header.Get("X-Hub-Signature-256"))
	// Output: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
}

func ExampleSign_stripe() {
	now := time.Unix(1700000000, 0)
	signed, err := signer.Sign(signer.Stripe(), signer.Keys("test_secret"),
		signer.Payload{Body: []byte(`{"id":"evt_123","type":"test.event"}`)}, signer.At(now))
	if err != nil {
		panic(err)
	}
	fmt.Println(signed.Header.Get("Stripe-Signature"))
	// Output: t=1700000000,v1=0d5ab1ae6f6210b0443b4b2a6107a0abd8e9b51bed340831464bce9d9ccc73b3
}

func ExampleVerifier_VerifyRequest() {
	v, err := signer.NewVerifier(signer.GitHub(), signer.Keys("s3cret"))
	if err != nil {
		panic(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.VerifyRequest(r); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "accepted")
	})

	r := httptest.NewRequest("POST", "/hook", strings.NewReader(`{"zen":"hi"}`))
	r.Header.Set("X-Hub-Signature-256", "sha256=0000")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 401 signer: github: X-Hub-Signature-256: no matching signature
}

func ExampleVerify() {
	delivery := signer.Payload{
		Header: http.Header{"Stripe-Signature": {"t=1700000000,v1=0d5ab1ae6f6210b0443b4b2a6107a0abd8e9b51bed340831464bce9d9ccc73b3"}},
		Body:   []byte(`{"id":"evt_123","type":"test.event"}`),
	}
	// Ten minutes later the signature still matches, but the delivery is stale.
	err := signer.Verify(signer.Stripe(), signer.Keys("test_secret"), delivery, signer.At(time.Unix(1700000600, 0)))
	fmt.Println(errors.Is(err, signer.ErrTimestampTooOld))
	fmt.Println(err)
	// Output:
	// true
	// signer: stripe: Stripe-Signature: timestamp too old: older than 5m0s
}

func ExampleScheme_custom() {
	// A provider that signs "<ts>|<body>" with HMAC-SHA512 into
	// "X-Acme-Signature: ts=<unix>;sig=<base64>".
	acme := signer.Scheme{
		Name:      "acme",
		Algorithm: signer.HMACSHA512,
		Message:   "{ts}|{body}",
		Encoding:  signer.Base64,
		Header:    "X-Acme-Signature",
		Syntax:    signer.Syntax{Kind: signer.KeyValue, Separator: ";", SignatureKey: "sig", TimestampKey: "ts"},
		Timestamp: signer.Timestamp{Source: signer.TimestampInHeader},
		Tolerance: 5 * time.Minute,
	}
	now := time.Unix(1700000000, 0)
	signed, err := signer.Sign(acme, signer.Keys("k"), signer.Payload{Body: []byte("{}")}, signer.At(now))
	if err != nil {
		panic(err)
	}
	fmt.Println(signed.Header.Get("X-Acme-Signature")[:17])
	fmt.Println(signer.Verify(acme, signer.Keys("k"), signed, signer.At(now)))
	// Output:
	// ts=1700000000;sig
	// <nil>
}

func ExampleSecret() {
	s := signer.NewSecret("whsec_live_value")
	fmt.Println(s)
	fmt.Printf("%v %s %#v\n", s, s, s)
	// Output:
	// [REDACTED]
	// [REDACTED] [REDACTED] signer.Secret([REDACTED])
}
