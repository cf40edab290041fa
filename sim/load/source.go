package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load/internal/h1"
)

// A Source builds the request for one schedule slot. It is called at the
// moment of sending, from many goroutines at once, so each request is
// freshly signed (a new timestamp and message id) and carries a unique
// sim.RequestIDHeader.
type Source interface {
	Request(ctx context.Context, seq uint64) (*http.Request, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, seq uint64) (*http.Request, error)

// Request calls f.
func (f SourceFunc) Request(ctx context.Context, seq uint64) (*http.Request, error) {
	return f(ctx, seq)
}

var _ Source = SourceFunc(nil)

// runID returns a random prefix that makes request ids unique across runs
// and shards.
func runID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func requestID(run string, seq uint64) string { return run + "-" + strconv.FormatUint(seq, 10) }

// FixtureSource renders fixture f for every request with the seed
// seed+seq (so every body differs and a run is reproducible), signs it
// with the fixture's preset and keys at the moment of sending, and sends
// it to target. opts are overrides (fixtures.Set, Query, Header, Param)
// made on every rendering before it is signed; a fixtures.Seed among them
// is ignored. The fixture is compiled once (fixtures.Fixture.Compile):
// each request is its templates' text with the seed's values in the holes,
// the overrides and one signature. Where Compile fails (a target that is
// not an absolute URL, keys the preset cannot sign with), every request
// fails with the error Fixture.Request gives.
func FixtureSource(f *fixtures.Fixture, target string, keys signer.KeySet, seed int64, opts ...fixtures.Option) Source {
	s := &fixtureSource{f: f, target: target, keys: keys, seed: seed, opts: opts, run: runID()}
	if c, err := f.Compile(target, keys, opts...); err == nil {
		s.c = c
	}
	return s
}

// A payloadSource also gives seq's delivery as a signed Payload, so that
// chaos (WithChaos) need not read a request's body back.
type payloadSource interface {
	Source
	payload(seq uint64) (signer.Payload, error)
}

type fixtureSource struct {
	f      *fixtures.Fixture
	c      *fixtures.Compiled // nil when Compile failed: requests go through f, which reports why
	target string
	keys   signer.KeySet
	seed   int64
	opts   []fixtures.Option
	run    string
}

// Origin implements Originer.
func (s *fixtureSource) Origin() string { return FixtureOrigin(s.f.Name, s.seed) }

// Origin implements Originer.
func (s *bodySource) Origin() string { return s.origin }

func (s *fixtureSource) options(seq uint64) []fixtures.Option {
	return append([]fixtures.Option{fixtures.Seed(s.seed + int64(seq))}, s.opts...)
}

// Request renders, signs and addresses slot seq's request.
func (s *fixtureSource) Request(ctx context.Context, seq uint64) (*http.Request, error) {
	var req *http.Request
	var err error
	if s.c != nil {
		req, err = s.c.Request(ctx, s.seed+int64(seq))
	} else {
		req, err = s.f.Request(ctx, s.target, s.keys, s.options(seq)...)
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set(sim.RequestIDHeader, requestID(s.run, seq))
	return req, nil
}

func (s *fixtureSource) payload(seq uint64) (signer.Payload, error) {
	var p signer.Payload
	var err error
	if s.c != nil {
		p, err = s.c.Sign(s.seed + int64(seq))
	} else {
		p, err = s.f.Sign(s.target, s.keys, s.options(seq)...)
	}
	if err != nil {
		return p, err
	}
	p.Header.Set(sim.RequestIDHeader, requestID(s.run, seq))
	return p, nil
}

// BodySource sends body to target with method (default POST) and header,
// signed with scheme and keys at the moment of sending.
func BodySource(scheme signer.Scheme, keys signer.KeySet, method, target string, header http.Header, body []byte) (Source, error) {
	sg, err := signer.NewSigner(scheme, keys)
	if err != nil {
		return nil, err
	}
	if method == "" {
		method = http.MethodPost
	}
	header = header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Content-Type") == "" && len(body) > 0 {
		header.Set("Content-Type", "application/json")
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", "hooklab-load")
	}
	s := &bodySource{sg: sg, method: method, target: target, header: header, body: body, run: runID(),
		origin: BodyOrigin(scheme.Name, body)}
	// The attacker's own client takes the target parsed once (wire); a
	// bad URL is reported by each request, as Request reports it.
	s.wt, s.wtErr = h1.ParseTarget(target)
	return s, nil
}

type bodySource struct {
	sg             *signer.Signer
	method, target string
	header         http.Header
	body           []byte
	run            string
	origin         string
	wt             h1.Target
	wtErr          error
}

// wire signs the body for slot seq at this moment, in the attacker's
// client's form: no *http.Request to build and take apart.
func (s *bodySource) wire(seq uint64, w *wireRequest) error {
	if s.wtErr != nil {
		return s.wtErr
	}
	p, err := s.payload(seq)
	if err != nil {
		return err
	}
	w.req = h1.Request{Method: s.method, Target: s.wt, Header: p.Header, Body: p.Body}
	w.url = s.target
	return nil
}

func (s *bodySource) payload(seq uint64) (signer.Payload, error) {
	// Sign returns a copy of header: the request id is set on it.
	p, err := s.sg.Sign(signer.Payload{Method: s.method, URL: s.target, Header: s.header, Body: s.body}, signer.At(time.Now()))
	if err != nil {
		return p, fmt.Errorf("signing: %w", err)
	}
	p.Header.Set(sim.RequestIDHeader, requestID(s.run, seq))
	return p, nil
}

// Request signs the body for slot seq at this moment.
func (s *bodySource) Request(ctx context.Context, seq uint64) (*http.Request, error) {
	p, err := s.payload(seq)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, s.method, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return nil, err
	}
	req.Header = p.Header
	return req, nil
}
