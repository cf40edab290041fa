package listen_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/listen"
)

// BenchmarkReceive compares a Receiver with a bare handler that only
// reads the body and answers 200, on the same signed Stripe delivery:
// report the ratios of ns/op (go test -bench Receive ./sim/listen).
func BenchmarkReceive(b *testing.B) {
	p, keys := signed(b, "stripe/invoice.paid")
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})
	now := func() time.Time { return fixedNow }
	mk := func(opts ...listen.Option) http.Handler {
		rcv, err := listen.New(append(opts, listen.Now(now))...)
		if err != nil {
			b.Fatal(err)
		}
		return rcv
	}
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"Bare", bare},
		{"Guess", mk()},
		{"GuessVerify", mk(listen.Verify(signer.Stripe(), keys))},
		{"GuessVerifyText", mk(listen.Verify(signer.Stripe(), keys), listen.Output(io.Discard, listen.Text))},
		{"GuessVerifyJSON", mk(listen.Verify(signer.Stripe(), keys), listen.Output(io.Discard, listen.JSONLines))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p.Body)))
			for b.Loop() {
				r := httptest.NewRequest("POST", "/webhooks/stripe", bytes.NewReader(p.Body))
				r.Header = p.Header
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
