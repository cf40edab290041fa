package sim

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/hooklab/hooklab/signer"
)

// DefaultMaxResponseBody is how many response body bytes Send keeps.
const DefaultMaxResponseBody = 1 << 20

// DefaultTimeout is the timeout of the client Send uses unless given
// another with the Client option.
const DefaultTimeout = 30 * time.Second

// A Result is what Send observed of one request.
type Result struct {
	Method string
	URL    string
	// Status is the response's status code; 0 when no response came.
	Status int
	Header http.Header
	// Body holds the first MaxResponseBody bytes of the response body;
	// Truncated reports that there was more.
	Body      []byte
	Truncated bool
	// BytesOut is the request body's length; BytesIn the response body's,
	// read to the end.
	BytesOut int64
	BytesIn  int64
	// ConnReused reports that the request went over a kept-alive
	// connection, so DNS, Connect and TLS are zero.
	ConnReused bool
	Timings    Timings
}

// Timings split one request's latency, each measured from the start of
// Send. A phase that did not happen (no DNS for an IP address, no TLS for
// http) is zero.
type Timings struct {
	DNS       time.Duration // name lookup
	Connect   time.Duration // TCP connect, DNS excluded
	TLS       time.Duration // TLS handshake
	FirstByte time.Duration // start to the first response byte
	Total     time.Duration // start to the end of the response body
}

// OK reports a 2xx status.
func (r *Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// An Option changes how Send sends.
type Option func(*options)

type options struct {
	client  *http.Client
	maxBody int64
}

// Client sets the HTTP client. Default a client of its own with
// DefaultTimeout and no redirects followed (a webhook sender does not
// follow them).
func Client(c *http.Client) Option {
	return func(o *options) {
		if c != nil {
			o.client = c
		}
	}
}

// MaxResponseBody sets how many response body bytes the Result keeps.
// Default DefaultMaxResponseBody.
func MaxResponseBody(n int64) Option { return func(o *options) { o.maxBody = n } }

var defaultClient = &http.Client{
	Timeout:       DefaultTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Send fires req and captures the response and its timings. It returns an
// error when no response came (refused, reset, timeout, TLS failure), with
// the Result filled as far as it got. Send logs nothing and its errors
// name the URL's host, never the request's headers or body, so a signing
// secret cannot leak through it.
func Send(ctx context.Context, req *http.Request, opts ...Option) (*Result, error) {
	o := options{client: defaultClient, maxBody: DefaultMaxResponseBody}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	res := &Result{Method: req.Method, URL: req.URL.String(), BytesOut: max(req.ContentLength, 0)}
	var start, dnsStart, connStart, tlsStart time.Time
	trace := &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { dnsStart = time.Now() },
		DNSDone:           func(httptrace.DNSDoneInfo) { res.Timings.DNS = time.Since(dnsStart) },
		ConnectStart:      func(string, string) { connStart = time.Now() },
		ConnectDone:       func(string, string, error) { res.Timings.Connect = time.Since(connStart) },
		TLSHandshakeStart: func() { tlsStart = time.Now() },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { res.Timings.TLS = time.Since(tlsStart) },
		GotConn:           func(i httptrace.GotConnInfo) { res.ConnReused = i.Reused },
		GotFirstResponseByte: func() {
			res.Timings.FirstByte = time.Since(start)
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	start = time.Now()
	resp, err := o.client.Do(req)
	if err != nil {
		res.Timings.Total = time.Since(start)
		return res, fmt.Errorf("sim: %s %s: %w", req.Method, req.URL.Host, unwrapURLError(err))
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	res.Header = resp.Header
	body, err := io.ReadAll(io.LimitReader(resp.Body, o.maxBody))
	res.Body = body
	res.BytesIn = int64(len(body))
	if err == nil {
		var rest int64
		rest, err = io.Copy(io.Discard, resp.Body)
		res.BytesIn += rest
		res.Truncated = rest > 0
	}
	res.Timings.Total = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("sim: %s %s: reading the response: %w", req.Method, req.URL.Host, err)
	}
	return res, nil
}

// unwrapURLError drops *url.Error's wrapping, whose text repeats the whole
// URL (which may carry a token in its query).
func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// MaxReorder is the largest Chaos.Reorder window.
const MaxReorder = 1 << 20

// Chaos makes a sender misbehave as webhook providers do, so a receiver's
// idempotency and ordering can be tested: some deliveries sent twice,
// deliveries out of order, failed attempts retried on a provider's
// schedule. The zero value sends every delivery once, in order. Its
// choices are a function of Seed and the delivery's number, never of
// timing, so a run repeats exactly and shards of one run agree. It is
// safe for concurrent use once set up.
type Chaos struct {
	// Duplicate is the share of deliveries (0 to 1) sent a second time:
	// a byte-for-byte copy of the first attempt (same id, same
	// RequestIDHeader, same signature), sent when the delivery's attempts
	// are over.
	Duplicate float64
	// Reorder shuffles deliveries within each window of Reorder
	// consecutive ones (0 or 1: in order); at most MaxReorder.
	Reorder int
	// Retry, when set, retries a failed attempt (Failed) on the policy's
	// schedule, as RetryPolicy.Prepare builds it.
	Retry *RetryPolicy
	// TimeScale multiplies the retry delays: 0.001 turns minutes into
	// tens of milliseconds. 0 means 1 (the provider's real schedule).
	TimeScale float64
	// Signer signs retries anew (for a policy with FreshSignature); nil
	// sends the first attempt's bytes with the retry headers.
	Signer *signer.Signer
	// Seed seeds the choices of Duplicate and Reorder.
	Seed int64
}

// Validate reports a setting out of range.
func (c *Chaos) Validate() error {
	switch {
	case !(c.Duplicate >= 0 && c.Duplicate <= 1):
		return fmt.Errorf("sim: chaos: duplicate ratio %g: want 0 to 1", c.Duplicate)
	case c.Reorder < 0 || c.Reorder > MaxReorder:
		return fmt.Errorf("sim: chaos: reorder window %d: want 0 to %d", c.Reorder, MaxReorder)
	case !(c.TimeScale >= 0 && c.TimeScale <= 1e6):
		return fmt.Errorf("sim: chaos: time scale %g: want a number from 0 (meaning 1) to 1e6", c.TimeScale)
	}
	return nil
}

// Enabled reports whether c changes anything.
func (c *Chaos) Enabled() bool {
	return c != nil && (c.Duplicate > 0 || c.Reorder > 1 || c.Retry != nil)
}

// Order returns the number of the delivery to send in position pos: a
// permutation of each window [kW, (k+1)W) of Reorder, chosen by Seed.
// Without Reorder it returns pos.
func (c *Chaos) Order(pos uint64) uint64 {
	if c == nil || c.Reorder <= 1 {
		return pos
	}
	w := uint64(c.Reorder)
	block, off := pos/w, pos%w
	return block*w + permute(off, w, uint64(c.Seed)^block*0x9e3779b97f4a7c15)
}

// Duplicated reports whether delivery seq is sent twice.
func (c *Chaos) Duplicated(seq uint64) bool {
	if c == nil || c.Duplicate <= 0 {
		return false
	}
	u := float64(mix64(uint64(c.Seed)^0xd1b54a32d192ed03^seq*0xbf58476d1ce4e5b9)>>11) / (1 << 53)
	return u < c.Duplicate
}

// permute is a pseudo-random permutation of [0, n) keyed by key: a
// four-round Feistel network over the smallest even number of bits that
// covers n, walking the cycle until the value falls inside [0, n).
func permute(x, n, key uint64) uint64 {
	bits := 0
	for (uint64(1) << bits) < n {
		bits++
	}
	half := (bits + 1) / 2
	mask := uint64(1)<<half - 1
	for {
		l, r := x>>half, x&mask
		for round := range uint64(4) {
			l, r = r, l^(mix64(key^round*0x94d049bb133111eb^r)&mask)
		}
		x = l<<half | r
		if x < n {
			return x
		}
	}
}

// mix64 is splitmix64's finalizer: a bijection that scrambles bits.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// An Attempt describes one request of a delivery under Chaos.
type Attempt struct {
	// N is 1 for the first attempt, 2… for retries.
	N int
	// Duplicate marks the byte-for-byte copy of attempt 1.
	Duplicate bool
	// Reason is, for a retry, why the attempt before failed (a Reason…
	// constant).
	Reason string
	// Due is when the attempt was due: for a retry, the failure of the
	// one before plus its (scaled) delay.
	Due time.Time
	// Last reports that no retry follows this attempt, failed or not.
	Last bool
}

// Deliver sends delivery seq, whose first attempt is first (already
// signed), under c: send is called with each request and says whether it
// failed (and why; Failed classifies a Send's outcome). A failed attempt
// is retried after the policy's delay times TimeScale until one succeeds
// or the attempts run out; then, if Duplicated(seq), the copy is sent.
// The requests are bound to a context that ctx's cancellation does not
// reach (an attempt under way finishes); ctx ends the waits between
// attempts, and Deliver then returns its error without the copy.
func (c *Chaos) Deliver(ctx context.Context, seq uint64, first signer.Payload, send func(*http.Request, Attempt) (reason string, failed bool)) error {
	reqCtx := context.WithoutCancel(ctx)
	maxN := 1
	if c.Retry != nil {
		maxN = c.Retry.MaxAttempts()
	}
	scale := c.TimeScale
	if scale == 0 {
		scale = 1
	}
	p := first
	a := Attempt{N: 1, Due: time.Now(), Last: maxN == 1}
	for {
		req, err := PayloadRequest(reqCtx, p)
		if err != nil {
			return err
		}
		reason, failed := send(req, a)
		if !failed || a.Last {
			break
		}
		n := a.N + 1
		wait := c.Retry.Delay(n, scale)
		due := time.Now().Add(wait)
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
		if p, err = c.Retry.Prepare(first, n, reason, c.Signer, time.Now()); err != nil {
			return err
		}
		a = Attempt{N: n, Reason: reason, Due: due, Last: n == maxN}
	}
	if c.Duplicated(seq) {
		req, err := PayloadRequest(reqCtx, first)
		if err != nil {
			return err
		}
		send(req, Attempt{N: 1, Duplicate: true, Due: time.Now(), Last: true})
	}
	return nil
}

// PayloadRequest makes p a request bound to ctx: its method (default
// POST), URL, a copy of its header, and its body (with GetBody, so it
// can be sent again).
func PayloadRequest(ctx context.Context, p signer.Payload) (*http.Request, error) {
	method := p.Method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader
	if len(p.Body) > 0 || (method != http.MethodGet && method != http.MethodHead) {
		body = bytes.NewReader(p.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.URL, body)
	if err != nil {
		return nil, fmt.Errorf("sim: request: %w", unwrapURLError(err))
	}
	req.Header = p.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	return req, nil
}

// RequestPayload returns req as a Payload: method, URL, header (req's own,
// not a copy) and body. It reads the body through GetBody when req has
// one, else reads it (at most DefaultMaxResponseBody×10 bytes) and puts
// it back, so req can still be sent.
func RequestPayload(req *http.Request) (signer.Payload, error) {
	p := signer.Payload{Method: req.Method, URL: req.URL.String(), Header: req.Header}
	if req.Body == nil || req.Body == http.NoBody {
		return p, nil
	}
	const limit = 10 * DefaultMaxResponseBody
	rc := req.Body
	if req.GetBody != nil {
		var err error
		if rc, err = req.GetBody(); err != nil {
			return p, fmt.Errorf("sim: %s %s: body: %w", req.Method, req.URL.Host, err)
		}
		defer rc.Close()
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return p, fmt.Errorf("sim: %s %s: body: %w", req.Method, req.URL.Host, err)
	}
	if len(b) > limit {
		return p, fmt.Errorf("sim: %s %s: body over %d bytes", req.Method, req.URL.Host, limit)
	}
	if req.GetBody == nil {
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	p.Body = b
	return p, nil
}
