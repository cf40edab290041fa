package signer

import (
	"crypto/rand"
	"io"
	"time"
)

// DefaultMaxBody is the largest body VerifyRequest and SignRequest read,
// in bytes, unless MaxBody says otherwise.
const DefaultMaxBody = 10 << 20

// An Option changes how Sign or Verify works. Options take values; when
// the same option is given twice, the last one wins.
type Option func(*options)

type options struct {
	now          func() time.Time
	tolerance    time.Duration
	hasTolerance bool
	maxBody      int64
	id           string
	url          string
	rand         io.Reader
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now, maxBody: DefaultMaxBody, rand: rand.Reader}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Now sets the clock that signing stamps and verification checks
// timestamps against. Default time.Now.
func Now(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// At fixes the clock at t; shorthand for Now(func() time.Time { return t }).
// The timestamp Sign writes keeps t's location (Box writes the offset).
func At(t time.Time) Option { return Now(func() time.Time { return t }) }

// Tolerance overrides the scheme's default accepted clock skew. Zero turns
// the timestamp check off; the timestamp is still signed and parsed.
func Tolerance(d time.Duration) Option {
	return func(o *options) { o.tolerance, o.hasTolerance = d, true }
}

// MaxBody limits how many body bytes VerifyRequest and SignRequest read.
// Default DefaultMaxBody.
func MaxBody(n int64) Option { return func(o *options) { o.maxBody = n } }

// ID sets the message id Sign writes ({id}, or Mailgun's token). Default: a
// fresh random id in the scheme's style.
func ID(id string) Option { return func(o *options) { o.id = id } }

// URL sets the public URL VerifyRequest uses for URL-bound schemes
// (Twilio, Square, HubSpot v2/v3, Mandrill) instead of rebuilding it from
// the request, which behind a TLS-terminating proxy gives the wrong scheme
// or host.
func URL(u string) Option { return func(o *options) { o.url = u } }

// Rand sets the source of randomness for generated ids and ECDSA
// signatures. Default crypto/rand.Reader.
func Rand(r io.Reader) Option {
	return func(o *options) {
		if r != nil {
			o.rand = r
		}
	}
}
