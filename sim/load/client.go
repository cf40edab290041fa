package load

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/hooklab/hooklab/sim/load/internal/h1"
)

// A connPool keeps the attacker's idle connections: a request takes one
// (or makes one) and gives it back when answered. It keeps at most as
// many as the attack has requests in flight.
type connPool struct {
	opts h1.Options
	idle chan *h1.Conn
	// last is the Target of the last URL wireOf saw: a Source's requests
	// go to one URL, parsed once.
	last atomic.Pointer[cachedTarget]
}

type cachedTarget struct {
	scheme, host, path, rawPath, rawQuery, opaque string
	target                                        h1.Target
}

func newConnPool(n int, opts h1.Options) *connPool {
	return &connPool{opts: opts, idle: make(chan *h1.Conn, n)}
}

func (p *connPool) get() *h1.Conn {
	select {
	case c := <-p.idle:
		return c
	default:
		return h1.NewConn(p.opts)
	}
}

func (p *connPool) put(c *h1.Conn) {
	select {
	case p.idle <- c:
	default:
		c.Close()
	}
}

// closeIdle closes the idle connections.
func (p *connPool) closeIdle() {
	for {
		select {
		case c := <-p.idle:
			c.Close()
		default:
			return
		}
	}
}

// target returns u's Target, parsed once for a run of the same URL.
func (p *connPool) target(u *url.URL) (h1.Target, error) {
	if c := p.last.Load(); c != nil && c.scheme == u.Scheme && c.host == u.Host && c.path == u.Path &&
		c.rawPath == u.RawPath && c.rawQuery == u.RawQuery && c.opaque == u.Opaque {
		return c.target, nil
	}
	t, err := h1.TargetOf(u)
	if err != nil {
		return t, err
	}
	p.last.Store(&cachedTarget{scheme: u.Scheme, host: u.Host, path: u.Path, rawPath: u.RawPath, rawQuery: u.RawQuery, opaque: u.Opaque, target: t})
	return t, nil
}

// A wireRequest is a request in the attacker's own client's form, with
// the URL it was made from (for KeepRequests) and a reusable body buffer.
type wireRequest struct {
	req h1.Request
	// url or u is the request's URL.
	url  string
	u    *url.URL
	body bytes.Buffer
}

var wirePool = sync.Pool{New: func() any { return new(wireRequest) }}

// putWire returns w to wirePool, unless its body buffer grew large.
func putWire(w *wireRequest) {
	if w.body.Cap() > 1<<20 {
		return
	}
	w.req = h1.Request{}
	w.url, w.u = "", nil
	w.body.Reset()
	wirePool.Put(w)
}

// A wireSource builds its requests directly in the attacker's client's
// form, skipping *http.Request.
type wireSource interface {
	Source
	wire(seq uint64, w *wireRequest) error
}

// wireOf fills w from req, reading req's body (at most MaxRequestBody
// bytes) and closing it.
func (p *connPool) wireOf(req *http.Request, w *wireRequest) error {
	if req.URL == nil {
		return fmt.Errorf("load: request has no URL")
	}
	t, err := p.target(req.URL)
	if err != nil {
		return err
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	w.req = h1.Request{Method: method, Target: t, Host: req.Host, Header: req.Header}
	w.url, w.u = "", req.URL
	if req.Body != nil && req.Body != http.NoBody {
		if req.ContentLength > 0 && req.ContentLength <= MaxRequestBody {
			w.body.Grow(int(req.ContentLength))
		}
		n, err := io.Copy(&w.body, io.LimitReader(req.Body, MaxRequestBody+1))
		req.Body.Close()
		if err != nil {
			return fmt.Errorf("load: reading the request body: %w", err)
		}
		if n > MaxRequestBody {
			return fmt.Errorf("load: request body larger than %d MiB: send it with load.Client", MaxRequestBody>>20)
		}
		w.req.Body = w.body.Bytes()
	}
	return nil
}

// capture returns w as a Request for KeepRequests.
func (w *wireRequest) capture() *Request {
	u := w.url
	if w.u != nil {
		u = w.u.String()
	}
	out := &Request{Method: w.req.Method, URL: u, Header: w.req.Header.Clone()}
	if len(w.req.Body) > MaxRequestBody {
		out.Truncated = true
	} else if len(w.req.Body) > 0 {
		out.Body = bytes.Clone(w.req.Body)
	}
	return out
}
