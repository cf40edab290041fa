package signer_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
)

// benchBody returns n bytes of JSON-ish text.
func benchBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i%36]
	}
	b[0], b[n-1] = '{', '}'
	return b
}

var benchSizes = []int{1 << 10, 64 << 10}

// BenchmarkVerify compares verification with the presets against a bare
// crypto/hmac baseline over the same bytes, in one run:
//
//	go test ./signer -run '^$' -bench Verify -benchmem -count 10 | tee new.txt
//	benchstat new.txt
func BenchmarkVerify(b *testing.B) {
	now := time.Unix(1700000000, 0)
	for _, size := range benchSizes {
		body := benchBody(size)
		name := strconv.Itoa(size>>10) + "KiB"

		b.Run("baseline-crypto-hmac/"+name, func(b *testing.B) {
			key := []byte("test_secret")
			m := hmac.New(sha256.New, key)
			m.Write(body)
			want := hex.EncodeToString(m.Sum(nil))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				m := hmac.New(sha256.New, key)
				m.Write(body)
				sig, _ := hex.DecodeString(want)
				if !hmac.Equal(m.Sum(nil), sig) {
					b.Fatal("baseline mismatch")
				}
			}
		})

		for _, s := range []signer.Scheme{signer.GitHub(), signer.Stripe(), signer.StandardWebhooks()} {
			keys := signer.Keys("test_secret")
			if s.Key == signer.KeyWhsec {
				keys = signer.Keys("whsec_c2VjcmV0LWJ5dGVz")
			}
			p, err := signer.Sign(s, keys, signer.Payload{Body: body, Header: http.Header{}}, signer.At(now), signer.ID("msg_123"))
			if err != nil {
				b.Fatal(err)
			}
			v, err := signer.NewVerifier(s, keys, signer.At(now))
			if err != nil {
				b.Fatal(err)
			}
			b.Run(s.Name+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := v.Verify(p); err != nil {
						b.Fatal(err)
					}
				}
			})
			// One-shot: signer.Verify compiles the scheme and keys per call.
			b.Run(s.Name+"-oneshot/"+name, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := signer.Verify(s, keys, p, signer.At(now)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSign measures signing, which the load generator does per request.
func BenchmarkSign(b *testing.B) {
	now := time.Unix(1700000000, 0)
	body := benchBody(1 << 10)
	for _, s := range []signer.Scheme{signer.GitHub(), signer.Stripe(), signer.StandardWebhooks()} {
		keys := signer.Keys("test_secret")
		if s.Key == signer.KeyWhsec {
			keys = signer.Keys("whsec_c2VjcmV0LWJ5dGVz")
		}
		sg, err := signer.NewSigner(s, keys, signer.At(now), signer.ID("msg_123"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.Name+"/1KiB", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sg.Sign(signer.Payload{Body: body}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
