package fault

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/internal/whatwg"
	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// The strict profile's faults, each a replacement or wrapper of stages.
func init() {
	strict := func(name, doc string, change func(*stage.Stages)) { register(sim.Strict, name, doc, change) }

	strict("skip-verify", "accepts every request without checking its signature", func(s *stage.Stages) {
		s.Verify = func(*stage.Call) bool { return true }
	})
	strict("verify-after-trigger", "delivers to the triggers, then verifies and rejects", func(s *stage.Stages) {
		check, answer := s.Check, s.Answer
		s.Verify = func(c *stage.Call) bool {
			if c.Endpoint.Verifier == nil {
				return true
			}
			if err := check(c, stage.Payload(c)); err != nil {
				c.Verification.Reason = err.Error()
				return true // and deliver anyway
			}
			c.Verification.Verified = true
			return true
		}
		s.Answer = func(c *stage.Call) bool {
			if c.Endpoint.Verifier != nil && !c.Verification.Verified {
				stage.WriteError(c.W, http.StatusUnauthorized, "signature verification failed", c.Verification.Reason)
				c.Note = "rejected after triggering"
				return false
			}
			return answer(c)
		}
	})
	strict("case-sensitive-headers", "looks header names up case-sensitively", func(s *stage.Stages) {
		// A filter's lower-case names looked up exactly in Go's
		// canonicalised map: only names with no upper-case letter survive.
		filter, check := s.Filter, s.Check
		s.Filter = func(c *stage.Call, f *stage.Filter) bool {
			cc := *c
			cc.Req.Header = http.Header{}
			for k, vs := range c.Req.Header {
				if k == strings.ToLower(k) {
					cc.Req.Header[k] = vs
				}
			}
			return filter(&cc, f)
		}
		s.Check = func(c *stage.Call, p signer.Payload) error {
			h := p.Header.Clone()
			for _, name := range c.Endpoint.Scheme.Headers() {
				if _, ok := c.Req.Header[name]; !ok {
					delete(h, http.CanonicalHeaderKey(name))
				}
			}
			p.Header = h
			return check(c, p)
		}
	})
	strict("first-match-only", "delivers to the first matching trigger only", func(s *stage.Stages) {
		match := s.Match
		s.Match = func(c *stage.Call) bool {
			ok := match(c)
			if len(c.Matched) > 1 {
				c.Matched = c.Matched[:1]
			}
			return ok
		}
	})
	strict("ignore-skip-triggering", "triggers even when respondWith says skipTriggering", func(s *stage.Stages) {
		respond := s.Respond
		s.Respond = func(c *stage.Call) bool {
			if rw := c.Endpoint.Respond; rw != nil && rw.Skip {
				e, r := *c.Endpoint, *rw
				r.Skip = false
				e.Respond = &r
				c.Endpoint = &e
			}
			return respond(c)
		}
	})
	strict("no-respond-with", "ignores respondWith", func(s *stage.Stages) {
		s.Respond = func(*stage.Call) bool { return true }
	})
	strict("query-filter-ignored", "treats the query part of every filter as matching", func(s *stage.Stages) {
		filter := s.Filter
		var cache sync.Map // *stage.Filter → *stage.Filter without "query"
		s.Filter = func(c *stage.Call, f *stage.Filter) bool {
			g, ok := cache.Load(f)
			if !ok {
				g, _ = cache.LoadOrStore(f, withoutQuery(f))
			}
			return filter(c, g.(*stage.Filter))
		}
	})
	strict("drop-under-concurrency", "drops deliveries while more than 4 requests are in flight", func(s *stage.Stages) {
		send := s.Send
		s.Send = func(c *stage.Call, t *stage.Trigger) {
			if c.InFlight <= 4 {
				send(c, t)
			}
		}
	})
	strict("duplicate-delivery", "delivers every matching trigger twice", func(s *stage.Stages) {
		send := s.Send
		s.Send = func(c *stage.Call, t *stage.Trigger) {
			send(c, t)
			send(c, t)
		}
	})
	strict("reserialize-body", "verifies re-encoded JSON instead of the raw body", wrapCheck(func(c *stage.Call, p *signer.Payload) {
		var x any
		if json.Unmarshal(p.Body, &x) == nil {
			p.Body, _ = json.Marshal(x)
		}
	}))
	strict("no-tolerance", "never checks the timestamp's age", func(s *stage.Stages) {
		s.Check = otherVerifier(s.Check, func(e *stage.Endpoint) (*signer.Verifier, error) {
			return signer.NewVerifier(e.Scheme, e.Secrets, append(e.VerifyOptions[:len(e.VerifyOptions):len(e.VerifyOptions)], signer.Tolerance(0))...)
		})
	})
	strict("first-key-only", "verifies with the newest secret only", func(s *stage.Stages) {
		s.Check = otherVerifier(s.Check, func(e *stage.Endpoint) (*signer.Verifier, error) {
			return signer.NewVerifier(e.Scheme, e.Secrets[:1], e.VerifyOptions...)
		})
	})
	strict("repeated-header-unverified", "lets a request through unverified when its signature header is sent twice (fails open on a list of values)", func(s *stage.Stages) {
		check := s.Check
		s.Check = func(c *stage.Call, p signer.Payload) error {
			if len(p.Header.Values(c.Endpoint.Scheme.Header)) > 1 {
				return nil
			}
			return check(c, p)
		}
	})
	strict("any-method", "accepts every method, TRACE and made-up ones included", func(s *stage.Stages) {
		s.Allow = func(string) bool { return true }
	})
	strict("unknown-endpoint-ok", "answers 200 for an endpoint it does not serve", func(s *stage.Stages) {
		route := s.Route
		s.Route = func(c *stage.Call) bool {
			if id, ok := stage.EndpointID(c.R.URL.Path); ok && c.Lookup(id) == nil {
				c.W.Header().Set("Content-Type", "application/json; charset=utf-8")
				c.W.Write([]byte(`{"ok":true}` + "\n"))
				c.Note = "unknown endpoint answered 200"
				return false
			}
			return route(c)
		}
	})
	strict("parse-json-first", "answers 400 to a body with a JSON content type that does not parse", func(s *stage.Stages) {
		read := s.Read
		s.Read = func(c *stage.Call) bool {
			if !read(c) {
				return false
			}
			if strings.Contains(c.R.Header.Get("Content-Type"), "json") && !json.Valid(c.Req.Body) {
				stage.WriteError(c.W, http.StatusBadRequest, "invalid JSON body", "")
				c.Note = "body is not JSON"
				return false
			}
			return true
		}
	})
	strict("utf8-decode-body", "verifies the body decoded as UTF-8 text, not the raw bytes", wrapCheck(func(c *stage.Call, p *signer.Payload) {
		p.Body = whatwg.DecodeUTF8(p.Body)
	}))
	strict("leak-expected-signature", "puts the expected signature in its 401 answer", func(s *stage.Stages) {
		check := s.Check
		s.Check = func(c *stage.Call, p signer.Payload) error {
			err := check(c, p)
			if err != nil {
				err = leakError{err, expected(c)}
			}
			return err
		}
	})
	strict("json-content-type-only", "evaluates body filters only for a case-sensitive application/json content type", func(s *stage.Stages) {
		filter := s.Filter
		s.Filter = func(c *stage.Call, f *stage.Filter) bool {
			if !strings.Contains(c.Req.Header.Get("Content-Type"), "application/json") {
				cc := *c
				cc.Req.Body = nil // body filters then never match
				return filter(&cc, f)
			}
			return filter(c, f)
		}
	})
	strict("url-without-query", "verifies URL-signed schemes over the URL without its query", wrapCheck(func(c *stage.Call, p *signer.Payload) {
		p.URL, _, _ = strings.Cut(p.URL, "?")
	}))
	strict("sha1-fallback", "falls back to GitHub's SHA-1 signature when the SHA-256 one is missing", func(s *stage.Stages) {
		check := s.Check
		s.Check = func(c *stage.Call, p signer.Payload) error {
			err := check(c, p)
			if err != nil && c.Endpoint.Scheme.Name == "github" && errors.Is(err, signer.ErrMissingHeader) {
				sha1, _ := signer.Preset("github-sha1")
				return signer.Verify(sha1, c.Endpoint.Secrets, p)
			}
			return err
		}
	})
	registerWithState(sim.Strict, "dedup-by-body", "answers 200 and delivers nothing for a body it has seen before, as if a content hash were an idempotency key", func() func(*stage.Stages) {
		var (
			mu   sync.Mutex
			seen = map[[sha256.Size]byte]bool{}
		)
		return func(s *stage.Stages) {
			read := s.Read
			s.Read = func(c *stage.Call) bool {
				if !read(c) {
					return false
				}
				sum := sha256.Sum256(c.Req.Body)
				mu.Lock()
				dup := seen[sum]
				seen[sum] = true
				mu.Unlock()
				if dup {
					c.W.Header().Set("Content-Type", "application/json")
					c.W.Write([]byte(`{"ok":true,"duplicate":true}` + "\n"))
					c.Note = "duplicate body dropped"
					return false
				}
				return true
			}
		}
	})
	registerWithState(sim.Strict, "shared-trigger-table", "keeps one trigger table for every endpoint, so a request to one endpoint wakes the triggers of others", func() func(*stage.Stages) {
		var (
			mu    sync.Mutex
			table []stage.Trigger
		)
		return func(s *stage.Stages) {
			match := s.Match
			s.Match = func(c *stage.Call) bool {
				mu.Lock()
				for _, t := range c.Endpoint.Triggers {
					if !slices.ContainsFunc(table, func(have stage.Trigger) bool { return have.ID == t.ID }) {
						table = append(table, t)
					}
				}
				e := *c.Endpoint
				e.Triggers = slices.Clone(table)
				mu.Unlock()
				c.Endpoint = &e
				return match(c)
			}
		}
	})
	registerWithState(sim.Strict, "late-delivery-of-rejected", "answers 401 to a bad signature, then delivers the rejected request to every matching trigger 1 s later, from a queue that outlives the endpoint", lateDeliveryOfRejected)
	strict("no-content-limit", "reads bodies of any size instead of answering 413", func(s *stage.Stages) {
		read := s.Read
		s.Read = func(c *stage.Call) bool {
			e := *c.Endpoint
			e.MaxBody = 1 << 40
			c.Endpoint = &e
			return read(c)
		}
	})
}

// wrapCheck is a fault that changes the payload verification reads.
func wrapCheck(change func(c *stage.Call, p *signer.Payload)) func(*stage.Stages) {
	return func(s *stage.Stages) {
		check := s.Check
		s.Check = func(c *stage.Call, p signer.Payload) error {
			change(c, &p)
			return check(c, p)
		}
	}
}

// otherVerifier replaces Check by a verifier built from each endpoint,
// once per endpoint.
func otherVerifier(check func(*stage.Call, signer.Payload) error, build func(*stage.Endpoint) (*signer.Verifier, error)) func(*stage.Call, signer.Payload) error {
	var cache sync.Map // the endpoint's *signer.Verifier → the fault's
	return func(c *stage.Call, p signer.Payload) error {
		v, ok := cache.Load(c.Endpoint.Verifier)
		if !ok {
			w, err := build(c.Endpoint)
			if err != nil {
				return check(c, p)
			}
			v, _ = cache.LoadOrStore(c.Endpoint.Verifier, w)
		}
		return v.(*signer.Verifier).Verify(p)
	}
}

// withoutQuery is f without its "query" key.
func withoutQuery(f *stage.Filter) *stage.Filter {
	var m map[string]json.RawMessage
	if json.Unmarshal(f.Raw, &m) != nil {
		return f
	}
	if _, ok := m["query"]; !ok {
		return f
	}
	delete(m, "query")
	b, _ := json.Marshal(m)
	g, err := matcher.ParseRequestFilter(b)
	if err != nil {
		return f
	}
	return &stage.Filter{RequestFilter: g, Raw: b}
}

// leakError is a verification error with the signature that was expected.
type leakError struct {
	err    error
	leaked string
}

func (e leakError) Error() string { return e.err.Error() + e.leaked }
func (e leakError) Unwrap() error { return e.err }

// expected returns what leak-expected-signature leaks: the signature
// headers the endpoint's first key would have written.
func expected(c *stage.Call) string {
	e := c.Endpoint
	p := signer.Payload{Method: c.Req.Method, URL: c.Req.URL, Header: http.Header{}, Body: c.Req.Body}
	signed, err := signer.Sign(e.Scheme, e.Secrets[:1], p, signer.Now(c.Now))
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, name := range e.Scheme.Headers() {
		if v := signed.Header.Get(name); v != "" {
			b.WriteString("; expected " + name + ": " + v)
		}
	}
	return b.String()
}

// lateDelay is how long late-delivery-of-rejected waits before it
// delivers a request it rejected.
const lateDelay = time.Second

// lateDeliveryOfRejected builds late-delivery-of-rejected: the strict
// verify answers 401, and 1 s later the rejected request goes to every
// trigger its filters match, marked verified: false, as a receiver does
// that queues every request for a background worker and checks the
// signature only on the answer path. The late deliveries do not go
// through the Ingress's deliverer, which Ingress.Close stops (the
// conformance suite closes an endpoint when its case ends): the fault
// posts them with a client of its own, as a job queue that outlives the
// endpoint would, and hands the ones to a trigger without a delivery URL
// to the Send decision, which records them.
func lateDeliveryOfRejected() func(*stage.Stages) {
	client := &http.Client{Timeout: 10 * time.Second}
	return func(s *stage.Stages) {
		verify, match, send, drain := s.Verify, s.Match, s.Send, s.Drain
		// The queue is honest about what it holds: the Ingress's Drain
		// waits for it, as an in-process app's would.
		var queue heldBack
		s.Drain = func(ctx context.Context) error {
			if err := queue.wait(ctx); err != nil {
				return err
			}
			if drain != nil {
				return drain(ctx)
			}
			return nil
		}
		s.Verify = func(c *stage.Call) bool {
			if verify(c) {
				return true
			}
			if c.Endpoint == nil || c.Endpoint.Verifier == nil || c.Verification.Verified {
				return false
			}
			late := &stage.Call{
				R:            c.R.WithContext(context.WithoutCancel(c.R.Context())),
				Received:     c.Received,
				Now:          c.Now,
				Lookup:       c.Lookup,
				Endpoint:     c.Endpoint,
				Req:          c.Req,
				Verification: c.Verification,
			}
			// The request's headers and body are handed back when it is
			// answered.
			late.Req.Header = c.Req.Header.Clone()
			late.Req.Body = bytes.Clone(c.Req.Body)
			done := queue.hold()
			time.AfterFunc(lateDelay, func() {
				defer done()
				match(late)
				for _, t := range late.Matched {
					if t.Deliver == "" {
						send(late, t)
						continue
					}
					postLate(client, late, t)
				}
			})
			return false
		}
	}
}

// postLate posts one delivery envelope of c's request to t's delivery
// URL, once; a failure is dropped, as a fire-and-forget queue drops it.
func postLate(client *http.Client, c *stage.Call, t *stage.Trigger) {
	id := make([]byte, 16)
	rand.Read(id)
	d := sim.Delivery{
		ID:           hex.EncodeToString(id),
		Endpoint:     c.Endpoint.ID,
		Trigger:      t.ID,
		Request:      sim.DeliveredRequest{Method: c.Req.Method, URL: c.Req.URL, Header: c.Req.Header.Clone(), Body: c.Req.Body},
		Verification: sim.Verification{Verified: c.Verification.Verified, Reason: c.Verification.Reason},
		ReceivedAt:   c.Received,
		DeliveredAt:  c.Now(),
	}
	body, err := json.Marshal(d)
	if err != nil {
		return
	}
	req, err := http.NewRequest(http.MethodPost, t.Deliver, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(sim.DeliveryIDHeader, d.ID)
	req.Header.Set(sim.DeliveryAttemptHeader, "1")
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
}

// heldBack is a queue's deliveries held back for later, for
// Stages.Drain. It is safe for concurrent use; the zero value is empty.
type heldBack struct {
	mu   sync.Mutex
	next uint64
	held map[uint64]chan struct{}
}

// hold adds one delivery; done, called once, says it was made or dropped.
func (h *heldBack) hold() (done func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil {
		h.held = map[uint64]chan struct{}{}
	}
	id, ch := h.next, make(chan struct{})
	h.next++
	h.held[id] = ch
	return func() {
		h.mu.Lock()
		delete(h.held, id)
		h.mu.Unlock()
		close(ch)
	}
}

// wait waits until every delivery held when it was called is done, or
// ctx is done (its error); deliveries held since do not hold it up.
func (h *heldBack) wait(ctx context.Context) error {
	h.mu.Lock()
	chs := make([]chan struct{}, 0, len(h.held))
	for _, ch := range h.held {
		chs = append(chs, ch)
	}
	h.mu.Unlock()
	for _, ch := range chs {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
