package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// strict is the strict profile: the reference's own contract, verified at
// the door. Each method is one stage; s is the profile's Stages, through
// which the stages reach the shared decisions (Allow, Filter, Check, Send)
// so that a wrapper of one is seen by all.
type strict struct {
	in *Ingress
	s  *stage.Stages
}

func strictStages(in *Ingress) *stage.Stages {
	p := &strict{in: in, s: &stage.Stages{}}
	*p.s = stage.Stages{
		Route: p.route, Read: p.read, Respond: p.respond, Verify: p.verify,
		Dedup: p.dedup, Match: p.match, Deliver: p.deliver, Answer: p.answer,
		Allow:  allowMethod,
		Filter: matchFilter,
		Check:  checkSignature,
		Send:   in.send,
	}
	return p.s
}

const allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

// allowMethod is Stages.Allow of the strict profile: the methods of RFC
// 9110 a webhook sender may use; TRACE, CONNECT and made-up ones are 405.
func allowMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return true
	}
	return false
}

// matchFilter is Stages.Filter: the request filter over the request as
// received, its body read through the call's Scan, so that respondWith's
// filter and every trigger's share one pass over it.
func matchFilter(c *stage.Call, f *stage.Filter) bool { return f.MatchScan(c.Req, &c.Scan) }

// checkSignature is Stages.Check: the endpoint's verifier.
func checkSignature(c *stage.Call, p signer.Payload) error { return c.Endpoint.Verifier.Verify(p) }

// route finds the endpoint (404 when there is none) and checks the method
// (405).
func (p *strict) route(c *stage.Call) bool {
	id, ok := stage.EndpointID(c.R.URL.Path)
	if !ok {
		writeUnknownEndpoint(c.W, p.in, c.R.URL.Path, "no endpoint is served at "+c.R.URL.Path)
		c.Note = "no such path"
		return false
	}
	if c.Endpoint = c.Lookup(id); c.Endpoint == nil {
		writeUnknownEndpoint(c.W, p.in, c.R.URL.Path, fmt.Sprintf("no endpoint %q", id))
		c.Note = "unknown endpoint"
		return false
	}
	if !p.s.Allow(c.R.Method) {
		c.W.Header().Set("Allow", allowedMethods)
		stage.WriteError(c.W, http.StatusMethodNotAllowed, "method not allowed", c.R.Method+" is not one of "+allowedMethods)
		c.Note = "bad method"
		return false
	}
	return true
}

// maxServedListed bounds the endpoints a 404 lists.
const maxServedListed = 20

// writeUnknownEndpoint answers 404 to a request for path, which names no
// endpoint of in: {"error": "unknown endpoint", "reason", "path",
// "served": the paths of the first maxServedListed endpoints served, in
// id order, and "served_more": how many more there are}. An endpoint's
// path holds its id alone, never a secret.
func writeUnknownEndpoint(w http.ResponseWriter, in *Ingress, path, reason string) {
	ids := in.Endpoints()
	more := 0
	if len(ids) > maxServedListed {
		ids, more = ids[:maxServedListed], len(ids)-maxServedListed
	}
	served := make([]string, len(ids))
	for i, id := range ids {
		served[i] = PathPrefix + url.PathEscape(id)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	b, _ := json.Marshal(struct {
		Error      string   `json:"error"`
		Reason     string   `json:"reason"`
		Path       string   `json:"path"`
		Served     []string `json:"served"`
		ServedMore int      `json:"served_more,omitempty"`
	}{"unknown endpoint", reason, path, served, more})
	w.Write(append(b, '\n'))
}

// read reads the body up to the endpoint's limit (413 past it) and builds
// the request that filters and verification see.
func (p *strict) read(c *stage.Call) bool {
	buf := bodyBufs.Get().(*[]byte)
	body, status, err := readBody(c.R, c.Endpoint.MaxBody, (*buf)[:0])
	if err != nil {
		bodyBufs.Put(buf)
		stage.WriteError(c.W, status, err.Error(), "")
		c.Note = "body: " + err.Error()
		return false
	}
	if cap(body) > 0 && cap(body) <= maxPooledBody {
		*buf, c.BodyBuf = body[:0], buf // body's buffer, the pool's or a larger one
	} else {
		bodyBufs.Put(buf) // unused: no body, or one large enough to leave to the collector
	}
	c.Req, c.HostAdded = receivedRequest(c.R, body)
	return true
}

// respond answers with the declared response when respondWith's filter
// matches: at once with skipTriggering or a status other than 200 (as
// Trigger.dev), otherwise after the triggers are woken.
func (p *strict) respond(c *stage.Call) bool {
	rw := c.Endpoint.Respond
	if rw == nil || !p.s.Filter(c, rw.Filter) {
		return true
	}
	resp, err := rw.Render(c.Req)
	if err != nil {
		renderFailed(c, err)
		return false
	}
	switch {
	case rw.Skip:
		resp.Write(c.W)
		c.Note = "respondWith, skipTriggering"
		return false
	case resp.Status != http.StatusOK:
		resp.Write(c.W)
		c.Note = "respondWith, not 200"
		return false
	}
	c.Early = resp
	return true
}

// renderFailed answers a respondWith that could not be rendered: 400 when
// the request gave a value the response refuses to use (a handshake token
// that is no opaque token), 500 otherwise (a response over its limit, a
// template error).
func renderFailed(c *stage.Call, err error) {
	if errors.Is(err, errRequestInput) {
		stage.WriteError(c.W, http.StatusBadRequest, err.Error(), "")
		c.Note = "respondWith refused the request: " + err.Error()
		return
	}
	stage.WriteError(c.W, http.StatusInternalServerError, err.Error(), "")
	c.Note = "respondWith failed: " + err.Error()
}

// verify checks the signature: 401 with the reason, nothing delivered.
func (p *strict) verify(c *stage.Call) bool {
	if c.Endpoint.Verifier == nil {
		return true
	}
	if err := p.s.Check(c, stage.Payload(c)); err != nil {
		c.Verification.Reason = err.Error()
		stage.WriteError(c.W, http.StatusUnauthorized, "signature verification failed", c.Verification.Reason)
		c.Note = "rejected"
		return false
	}
	c.Verification.Verified = true
	return true
}

// dedup answers a delivery whose id the endpoint has already taken (a
// spec's dedup): 200, respondWith's response if one matched, and no
// trigger woken. It runs after verify, so only a verified delivery's id
// is remembered: a forged request never keeps the real one out. A
// request without an id is a new event.
func (p *strict) dedup(c *stage.Call) bool {
	d := c.Endpoint.Dedup
	if d == nil {
		return true
	}
	id := d.ID(c.Req)
	if id == "" || d.First(id, c.Received) {
		return true
	}
	c.Note = "duplicate, by " + d.Source
	if c.Early != nil {
		c.Early.Write(c.W)
		return false
	}
	c.W.Header().Set("Content-Type", "application/json; charset=utf-8")
	b, _ := json.Marshal(struct {
		OK        bool     `json:"ok"`
		Endpoint  string   `json:"endpoint"`
		Triggered []string `json:"triggered"`
		Duplicate bool     `json:"duplicate"`
	}{true, c.Endpoint.ID, []string{}, true})
	c.W.Write(append(b, '\n'))
	return false
}

// match collects every trigger whose filter matches, in spec order.
func (p *strict) match(c *stage.Call) bool {
	for i := range c.Endpoint.Triggers {
		t := &c.Endpoint.Triggers[i]
		if t.Filter == nil || p.s.Filter(c, t.Filter) {
			c.Matched = append(c.Matched, t)
		}
	}
	return true
}

// deliver hands each matched trigger its delivery, once.
func (p *strict) deliver(c *stage.Call) bool {
	for _, t := range c.Matched {
		p.s.Send(c, t)
	}
	return true
}

// answer sends respondWith's response, or {"ok":true,…} naming the
// triggers woken.
func (p *strict) answer(c *stage.Call) bool {
	if c.Early != nil {
		c.Early.Write(c.W)
		c.Note = fmt.Sprintf("respondWith, triggered %d", len(c.Matched))
		return true
	}
	c.W.Header().Set("Content-Type", jsonContentType)
	bp := answerBufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"ok":true,"endpoint":`...)
	b = appendJSONString(b, c.Endpoint.ID)
	b = append(b, `,"triggered":[`...)
	for i, t := range c.Matched {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, t.ID)
	}
	b = append(b, "]}\n"...)
	c.W.Write(b)
	if cap(b) <= maxPooledAnswer {
		*bp = b
		answerBufs.Put(bp)
	}
	c.Note = triggeredNote(len(c.Matched))
	return true
}

// answerBufs holds the buffers answers are built in; one larger than
// maxPooledAnswer is left to the collector.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledAnswer = 64 << 10

// triggeredNotes are the notes of answers that woke few triggers.
var triggeredNotes = func() (n [16]string) {
	for i := range n {
		n[i] = "triggered " + strconv.Itoa(i)
	}
	return n
}()

// triggeredNote is the log note of an answer that woke n triggers.
func triggeredNote(n int) string {
	if n < len(triggeredNotes) {
		return triggeredNotes[n]
	}
	return "triggered " + strconv.Itoa(n)
}

// appendJSONString appends s as encoding/json writes a string: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// bodyBufs holds the buffers request bodies are read into; the ingress
// takes one back when it has answered (stage.Call.BodyBuf).
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledBody is the largest buffer kept in bodyBufs.
const maxPooledBody = 64 << 10

// readBody reads at most max bytes into dst's room (a larger buffer when
// it has too little): the status to answer with on error.
func readBody(r *http.Request, max int64, dst []byte) ([]byte, int, error) {
	if r.Body == nil {
		return nil, 0, nil
	}
	if r.ContentLength > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes is over the limit of %d", r.ContentLength, max)
	}
	body, err := readAtMost(r.Body, r.ContentLength, max+1, dst)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("reading body: %v", err)
	}
	if int64(len(body)) > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is over the limit of %d bytes", max)
	}
	return body, 0, nil
}

// maxPrealloc bounds the buffer readAtMost makes up front from a
// declared length: a sender that declares a large body and sends it
// slowly gets the buffer grown as its bytes arrive, not at once.
const maxPrealloc = 64 << 10

// readAtMost reads r to EOF or until it has n bytes, as
// io.ReadAll(io.LimitReader(r, n)) does, appending to dst[:0]. A declared
// length (size >= 0) sizes the buffer, so a body that is as long as it
// says is read into dst when it has the room, else into one allocation.
func readAtMost(r io.Reader, size, n int64, dst []byte) ([]byte, error) {
	c := int64(512)
	if size >= 0 {
		c = size + 1 // room to see EOF without growing
	}
	c = min(c, n, maxPrealloc)
	b := dst[:0]
	if int64(cap(b)) < c {
		b = make([]byte, 0, c)
	}
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
		room := b[len(b):cap(b)]
		if left := n - int64(len(b)); int64(len(room)) > left {
			room = room[:left]
		}
		m, err := r.Read(room)
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// receivedRequest is r as filters and verification see it: the URL the
// sender addressed, the headers with Host, the body read. A server's
// request keeps Host out of its headers; receivedRequest adds it to
// r.Header itself (hostAdded), as copying every header for it would cost
// more than the rest of reading, and the ingress takes it out again when
// it has answered. A header map that already holds another Host, or none,
// is copied instead.
func receivedRequest(r *http.Request, body []byte) (req matcher.Request, hostAdded bool) {
	req = matcher.Request{Method: r.Method, URL: requestURL(r), Header: r.Header, Body: body}
	if r.Host == "" {
		req.Header = cloneWithHost(r.Header, "")
		return req, false
	}
	if r.Header == nil {
		req.Header = cloneWithHost(nil, r.Host)
		return req, false
	}
	if _, ok := r.Header["Host"]; ok {
		req.Header = cloneWithHost(r.Header, r.Host)
		return req, false
	}
	r.Header["Host"] = []string{r.Host}
	return req, true
}

// cloneWithHost is h.Clone() with Host set to host unless host is "", as
// Header.Set would, but in one map sized for it and one slice for every
// value.
func cloneWithHost(h http.Header, host string) http.Header {
	if h == nil && host == "" {
		return nil
	}
	nv, nk := 0, len(h)
	for _, vs := range h {
		nv += len(vs)
	}
	if host != "" {
		nv++
		nk++
	}
	sv := make([]string, nv)
	out := make(http.Header, nk)
	for k, vs := range h {
		if vs == nil {
			out[k] = nil // Clone keeps a nil value nil
			continue
		}
		n := copy(sv, vs)
		out[k] = sv[:n:n]
		sv = sv[n:]
	}
	if host != "" {
		sv[0] = host
		out["Host"] = sv[:1:1]
	}
	return out
}
