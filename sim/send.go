package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"time"
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
