// Package h1 is the load attacker's lean HTTP/1.1 client: one persistent
// keep-alive connection per Conn, each request's head formatted from its
// method, target and header into a reused buffer and written with its
// body in one piece (over plain TCP on Linux, one writev, after which the
// client waits for the answer to be readable before its first read: see
// rawSender), and each response parsed from a reused buffer, its body
// counted and its first bytes kept.
//
// It does what the attacker needs and nothing more: no redirects, no
// proxies, no compression, no HTTP/2. A Conn is not safe for concurrent
// use; the attacker keeps one per request in flight.
package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultUserAgent is the User-Agent sent when a request has none, as
// net/http sends it.
const DefaultUserAgent = "Go-http-client/1.1"

// ErrInvalidRequest is wrapped by the error of a request that cannot be
// written: an invalid header name or value, or a target that is not an
// http or https URL. Nothing was sent.
var ErrInvalidRequest = errors.New("invalid request")

// ErrAborted is returned by a Do that Options.Context ended.
var ErrAborted = errors.New("aborted")

// A Target is where a request goes: the connection it needs and its
// request-target. Make one with ParseTarget or TargetOf; it can be reused
// for every request to the same URL.
type Target struct {
	// TLS is true for https.
	TLS bool
	// Addr is the address dialled, host:port with the scheme's default
	// port when the URL has none.
	Addr string
	// ServerName is the host name TLS verifies (no port).
	ServerName string
	// Host is the Host header: the URL's host as written.
	Host string
	// URI is the request-target: path and query.
	URI string
}

// TargetOf returns u's Target.
func TargetOf(u *url.URL) (Target, error) {
	var t Target
	switch u.Scheme {
	case "http":
	case "https":
		t.TLS = true
	default:
		return t, fmt.Errorf("h1: unsupported URL scheme %q: %w", u.Scheme, ErrInvalidRequest)
	}
	if u.Host == "" {
		return t, fmt.Errorf("h1: URL %q has no host: %w", u.Redacted(), ErrInvalidRequest)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if t.TLS {
			port = "443"
		}
	}
	t.ServerName = u.Hostname()
	t.Addr = net.JoinHostPort(t.ServerName, port)
	t.Host = u.Host
	t.URI = u.RequestURI()
	return t, nil
}

// ParseTarget parses rawURL and returns its Target.
func ParseTarget(rawURL string) (Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Target{}, fmt.Errorf("h1: %w", err)
	}
	return TargetOf(u)
}

// A Request is one request to send.
type Request struct {
	Method string
	Target Target
	// Host, when set, is sent as the Host header instead of Target.Host.
	Host string
	// Header is sent as net/http sends it: keys as they are in the map,
	// sorted; values trimmed; Host, Content-Length, Transfer-Encoding and
	// Trailer ignored (they are the client's); User-Agent from Header or
	// DefaultUserAgent, none when it is set to "".
	Header http.Header
	Body   []byte
}

// A Response is what Do read of an answer, and how much of the request
// it wrote.
type Response struct {
	// Status is the final status code (1xx answers are skipped); 0 when
	// no status line was read.
	Status int
	// BodyLen is the number of body bytes read: the whole body unless
	// Do failed while reading it.
	BodyLen int64
	// Kept is the number of the body's first bytes copied into the
	// caller's buffer.
	Kept int
	// BytesOut is the number of the request body's bytes written to the
	// connection: 0 when the request never left.
	BytesOut int64
}

// Options configure a Conn.
type Options struct {
	// Timeout bounds one Do: dialling, writing and reading the whole
	// answer. 0 means no bound.
	Timeout time.Duration
	// DialTimeout bounds dialling and the TLS handshake within Timeout;
	// 0 means 10 s.
	DialTimeout time.Duration
	// TLSConfig is the base TLS configuration for https; ServerName is
	// set per target. nil means the defaults (system roots).
	TLSConfig *tls.Config
	// WriteBuffer bounds the buffer that joins a request's head and body
	// into one write over TLS; 0 means 64 KiB, so that a webhook is
	// written with its headers in one piece. A larger request is written
	// head, then body. Over plain TCP a request is always one writev of
	// head and body, without a copy.
	WriteBuffer int
	// Context, when it is done, ends the request in flight at once (its
	// connection's deadline is moved to the past, a dial or handshake is
	// cancelled) and makes every later Do fail with ErrAborted without
	// sending anything. nil means never.
	Context context.Context
}

// defaultIdleProbe is how long a connection may stay idle before Do
// checks that the server has not closed it.
const defaultIdleProbe = time.Second

// A Conn sends requests over one keep-alive connection, dialling again
// when it has none, when the target changes or when the server closed
// it.
type Conn struct {
	opts Options
	// mu guards nc against abort, which runs on another goroutine; the
	// goroutine using the Conn reads nc without it.
	mu      sync.Mutex
	nc      net.Conn
	aborted atomic.Bool
	// unwatch ends the watch on opts.Context set up when dialling.
	unwatch func() bool
	tlsOn   bool
	addr    string
	br      *bufio.Reader
	p       parser
	reused  bool
	// lastStart is when the last request answered on nc started.
	lastStart time.Time
	keys      []string
	// head is the request's head (and, over TLS, its body when it fits
	// WriteBuffer), formatted before anything is written.
	head []byte
	// rs sends over plain TCP (send.go); nil over TLS.
	rs *rawSender
	// dl is the read (plain TCP) or read and write (TLS) deadline last set
	// on nc, valid when dlSet: Do sets it only when it changes.
	dl    time.Time
	dlSet bool
	// idleProbe: see defaultIdleProbe; tests set it.
	idleProbe time.Duration
}

// NewConn returns a Conn with opts; it dials on its first Do.
func NewConn(opts Options) *Conn {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.WriteBuffer <= 0 {
		opts.WriteBuffer = 64 << 10
	}
	c := &Conn{opts: opts, idleProbe: defaultIdleProbe}
	c.br = bufio.NewReaderSize(nil, 16<<10)
	return c
}

// Close closes the connection, if any; the Conn may be used again.
func (c *Conn) Close() error {
	if c.unwatch != nil {
		c.unwatch()
		c.unwatch = nil
	}
	if c.nc == nil {
		return nil
	}
	err := c.nc.Close()
	c.mu.Lock()
	c.nc = nil
	c.mu.Unlock()
	c.rs, c.reused, c.dlSet = nil, false, false
	c.br.Reset(nil)
	return err
}

// Do sends req and reads its answer, copying the body's first bytes into
// keep: DoAt from now.
func (c *Conn) Do(req *Request, keep []byte) (Response, error) {
	return c.DoAt(time.Now(), req, keep)
}

// DoAt is Do for a request that started at now, as the caller measured
// it: Options.Timeout counts from now. On error the Response says how far
// it got (the status, when it was read). A request is sent again, once,
// only when the connection was reused and nothing of it was written.
func (c *Conn) DoAt(now time.Time, req *Request, keep []byte) (Response, error) {
	var resp Response
	if c.isAborted() {
		return resp, ErrAborted
	}
	var deadline time.Time
	if c.opts.Timeout > 0 {
		deadline = now.Add(c.opts.Timeout)
	}
	t := &req.Target
	// The head is formatted before anything is dialled or written: an
	// invalid request sends nothing and leaves the connection in step.
	headLen, err := c.format(req)
	if err != nil {
		return resp, err
	}
	if c.nc != nil && (c.addr != t.Addr || c.tlsOn != t.TLS || !c.alive(now)) {
		c.Close()
	}
	for attempt := 0; ; attempt++ {
		if c.nc == nil {
			if err := c.dial(t, deadline); err != nil {
				return resp, err
			}
		}
		if err := c.setDeadline(deadline); err != nil {
			c.Close()
			return resp, fmt.Errorf("h1: setting the deadline on %s: %w", t.Addr, err)
		}
		// After the deadline is set: an abort from now on moves it.
		if c.aborted.Load() {
			c.Close()
			return resp, ErrAborted
		}
		written, err := c.send(headLen, req.Body, deadline)
		resp.BytesOut = min(max(written-int64(headLen), 0), int64(len(req.Body)))
		if err == nil {
			break
		}
		reused := c.reused
		c.Close()
		if reused && written == 0 && attempt == 0 {
			continue
		}
		return resp, fmt.Errorf("h1: writing the request to %s: %w", t.Addr, err)
	}
	c.p.br, c.p.keep = c.br, keep
	err = c.p.read(req.Method, &resp)
	c.p.keep = nil
	if err != nil || c.p.close {
		c.Close()
		if err != nil {
			return resp, fmt.Errorf("h1: reading the answer from %s: %w", t.Addr, err)
		}
		return resp, nil
	}
	c.reused = true
	c.lastStart = now
	return resp, nil
}

// setDeadline bounds the request by deadline: over plain TCP the read
// deadline (a write never blocks there but in send's fallback, which sets
// its own), over TLS both; unchanged deadlines are not set again.
func (c *Conn) setDeadline(deadline time.Time) error {
	if c.dlSet && c.dl.Equal(deadline) {
		return nil
	}
	var err error
	if c.rs != nil {
		err = c.nc.SetReadDeadline(deadline)
	} else {
		err = c.nc.SetDeadline(deadline)
	}
	c.dl, c.dlSet = deadline, err == nil
	return err
}

// send writes the request: the head formatted in c.head (headLen bytes)
// and body. It returns the bytes written.
func (c *Conn) send(headLen int, body []byte, deadline time.Time) (int64, error) {
	if c.rs != nil {
		return c.rs.send(c.head[:headLen], body, deadline)
	}
	if len(c.head) > headLen {
		// format joined the body to the head: one write.
		n, err := c.nc.Write(c.head)
		return int64(n), err
	}
	bufs := net.Buffers{c.head[:headLen], body}
	return bufs.WriteTo(c.nc)
}

// alive reports whether an idle connection is still open at now: when
// c.idleProbe has passed since its last request started, it peeks for
// the server's close, waiting at most a millisecond.
func (c *Conn) alive(now time.Time) bool {
	if c.br.Buffered() > 0 {
		return false // bytes nobody asked for: the connection is out of step
	}
	if now.Sub(c.lastStart) < c.idleProbe {
		return true
	}
	c.dlSet = false // the probe's deadline replaces the request's
	if c.nc.SetReadDeadline(time.Now().Add(time.Millisecond)) != nil {
		return false
	}
	_, err := c.br.Peek(1)
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isAborted reports whether opts.Context is done.
func (c *Conn) isAborted() bool {
	return c.aborted.Load() || (c.opts.Context != nil && c.opts.Context.Err() != nil)
}

// abort ends the request in flight: opts.Context is done.
func (c *Conn) abort() {
	c.aborted.Store(true)
	c.mu.Lock()
	if c.nc != nil {
		c.nc.SetDeadline(time.Unix(1, 0))
	}
	c.mu.Unlock()
}

func (c *Conn) dial(t *Target, deadline time.Time) error {
	ctx := c.opts.Context
	if ctx == nil {
		ctx = context.Background()
	} else if c.unwatch == nil {
		c.unwatch = context.AfterFunc(ctx, c.abort)
	}
	d := net.Dialer{Timeout: c.opts.DialTimeout, Deadline: deadline, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return fmt.Errorf("h1: %w", err)
	}
	if t.TLS {
		cfg := &tls.Config{}
		if c.opts.TLSConfig != nil {
			cfg = c.opts.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = t.ServerName
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, cfg)
		hd := time.Now().Add(c.opts.DialTimeout)
		if !deadline.IsZero() && deadline.Before(hd) {
			hd = deadline
		}
		tc.SetDeadline(hd)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return fmt.Errorf("h1: TLS handshake with %s: %w", t.Addr, err)
		}
		nc = tc
	}
	c.mu.Lock()
	c.nc = nc
	c.mu.Unlock()
	c.addr, c.tlsOn, c.reused, c.dlSet = t.Addr, t.TLS, false, false
	c.rs = newRawSender(nc)
	c.br.Reset(nc)
	return nil
}

// excluded are the header keys the client writes itself (net/http's
// reqWriteExcludeHeader).
func excluded(k string) bool {
	switch k {
	case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

// format validates req and formats its head into c.head, returning its
// length; over TLS it appends the body too when the whole request fits
// Options.WriteBuffer, so that it is written in one piece. Nothing is
// written.
func (c *Conn) format(req *Request) (headLen int, err error) {
	if !validMethod(req.Method) {
		return 0, fmt.Errorf("h1: invalid method %q: %w", req.Method, ErrInvalidRequest)
	}
	c.keys = c.keys[:0]
	for k, vv := range req.Header {
		if !validName(k) {
			return 0, fmt.Errorf("h1: invalid header field name %q: %w", k, ErrInvalidRequest)
		}
		for _, v := range vv {
			if !validValue(v) {
				return 0, fmt.Errorf("h1: invalid header field value for %q: %w", k, ErrInvalidRequest)
			}
		}
		if !excluded(k) {
			c.keys = append(c.keys, k)
		}
	}
	slices.Sort(c.keys)
	host := req.Host
	if host == "" {
		host = req.Target.Host
	}
	if !validValue(host) {
		return 0, fmt.Errorf("h1: invalid Host %q: %w", host, ErrInvalidRequest)
	}
	b := c.head[:0]
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.Target.URI...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	if ua, ok := req.Header["User-Agent"]; !ok || len(ua) == 0 {
		b = append(b, "User-Agent: "+DefaultUserAgent+"\r\n"...)
	} else if ua[0] != "" {
		b = appendField(b, "User-Agent", ua[0])
	}
	if len(req.Body) > 0 || bodyExpected(req.Method) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(req.Body)), 10)
		b = append(b, "\r\n"...)
	}
	for _, k := range c.keys {
		for _, v := range req.Header[k] {
			b = appendField(b, k, v)
		}
	}
	b = append(b, "\r\n"...)
	headLen = len(b)
	if req.Target.TLS && len(b)+len(req.Body) <= c.opts.WriteBuffer {
		b = append(b, req.Body...)
	}
	c.head = b
	return headLen, nil
}

// bodyExpected reports whether net/http sends Content-Length: 0 for an
// empty body with method.
func bodyExpected(method string) bool {
	return method == "POST" || method == "PUT" || method == "PATCH"
}

// appendField appends "k: v\r\n" with v trimmed of spaces and tabs.
func appendField(b []byte, k, v string) []byte {
	b = append(b, k...)
	b = append(b, ": "...)
	b = append(b, trim(v)...)
	return append(b, "\r\n"...)
}

func trim(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// tokenChar marks the bytes that may appear in a token (RFC 9110
// tchar): a table, as every header name of every request is checked.
var tokenChar = func() (t [256]bool) {
	for b := 0; b < 256; b++ {
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
			t[b] = true
		}
		switch b {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			t[b] = true
		}
	}
	return t
}()

// isToken reports whether b may appear in a token (RFC 9110 tchar).
func isToken(b byte) bool { return tokenChar[b] }

func validName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isToken(k[i]) {
			return false
		}
	}
	return true
}

func validMethod(m string) bool { return validName(m) }

// validValue reports whether v has no control bytes but tab (as
// net/http's httpguts.ValidHeaderFieldValue).
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}
