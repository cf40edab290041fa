package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooklab/hooklab/internal/whatwg"
	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// PathPrefix is where the Ingress serves endpoints: an endpoint with id X
// is at /hooks/X.
const PathPrefix = "/hooks/"

// A Profile is a behaviour the Ingress can follow.
type Profile string

// Strict verifies at the door: route, read the body (413 past the limit),
// respondWith, verify (401 on failure, nothing delivered), match every
// trigger, deliver to each match exactly once, answer. It is the default
// and the behaviour the conformance suite checks.
const Strict Profile = "strict"

// DefaultDeliveryAttempts is how many times the Ingress tries to POST one
// delivery before it gives up.
const DefaultDeliveryAttempts = 5

// DefaultDeliveryBackoff is the wait after the first failed delivery
// attempt; it doubles after each further failure.
const DefaultDeliveryBackoff = 100 * time.Millisecond

// Config configures an Ingress. The zero value is the strict profile with
// no faults, time.Now, no logging and a client of its own.
type Config struct {
	// Profile is the behaviour; "" means Strict.
	Profile Profile
	// Faults are defects to build in (tests of the tester only).
	Faults []Fault
	// Recorder, if set, records every delivery, in addition to the POST to
	// the trigger's Deliver URL.
	Recorder *Recorder
	// Client posts deliveries, as is. Default: a client of the Ingress's
	// own whose transport keeps DeliveryConcurrency connections alive per
	// host; each attempt is bounded by DefaultDeliveryAttemptTimeout.
	Client *http.Client
	// Now is the clock for timestamps and verification; nil means time.Now.
	Now func() time.Time
	// Log, if set, gets one line per request and one per failed delivery.
	// Secrets and bodies are never logged.
	Log *slog.Logger
	// DeliveryAttempts and DeliveryBackoff tune delivery retries; zero
	// means DefaultDeliveryAttempts and DefaultDeliveryBackoff.
	DeliveryAttempts int
	DeliveryBackoff  time.Duration
	// DeliveryConcurrency is the most delivery POSTs in flight, and
	// DeliveryQueue how many more accepted deliveries may wait before a
	// request that causes one waits for room; zero means
	// DefaultDeliveryConcurrency and DefaultDeliveryQueue.
	DeliveryConcurrency int
	DeliveryQueue       int
}

// An Ingress is the reference webhook receiver: an http.Handler that
// serves EndpointSpecs at PathPrefix+id as the configured profile says.
// It is safe for concurrent use; endpoints can be added and removed while
// it serves. Call Close to stop pending deliveries.
type Ingress struct {
	cfg    Config
	faults faultSet
	now    func() time.Time

	mu  sync.RWMutex
	eps map[string]*endpoint

	inflight atomic.Int64
	deliv    *deliverer
}

var _ http.Handler = (*Ingress)(nil)

// NewIngress builds an Ingress serving specs. An invalid spec is an error
// that names it and the JSON path of the problem.
func NewIngress(cfg Config, specs ...EndpointSpec) (*Ingress, error) {
	if cfg.Profile == "" {
		cfg.Profile = Strict
	}
	if cfg.Profile != Strict {
		return nil, fmt.Errorf("sim: unknown profile %q (have %q)", cfg.Profile, Strict)
	}
	fs, err := newFaultSet(cfg.Faults)
	if err != nil {
		return nil, err
	}
	if cfg.DeliveryAttempts <= 0 {
		cfg.DeliveryAttempts = DefaultDeliveryAttempts
	}
	if cfg.DeliveryBackoff <= 0 {
		cfg.DeliveryBackoff = DefaultDeliveryBackoff
	}
	in := &Ingress{cfg: cfg, faults: fs, now: cfg.Now, eps: map[string]*endpoint{}}
	if in.now == nil {
		in.now = time.Now
	}
	for _, s := range specs {
		if err := in.Add(s); err != nil {
			return nil, err
		}
	}
	in.deliv = newDeliverer(delivererConfig{
		Client:      cfg.Client,
		Concurrency: cfg.DeliveryConcurrency,
		Queue:       cfg.DeliveryQueue,
		Attempts:    cfg.DeliveryAttempts,
		Backoff:     cfg.DeliveryBackoff,
		Now:         in.now,
		Log:         cfg.Log,
	})
	return in, nil
}

// Add starts serving spec. It is an error if the spec is invalid or its id
// is already served.
func (in *Ingress) Add(spec EndpointSpec) error {
	e, err := compile(spec, in.now)
	if err != nil {
		if spec.ID != "" {
			return fmt.Errorf("sim: endpoint %q: %w", spec.ID, err)
		}
		return fmt.Errorf("sim: endpoint: %w", err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, ok := in.eps[spec.ID]; ok {
		return fmt.Errorf("sim: endpoint %q: %w", spec.ID, ErrEndpointExists)
	}
	in.eps[spec.ID] = e
	return nil
}

// ErrEndpointExists is returned by Add for an id already served.
var ErrEndpointExists = errors.New("endpoint already exists")

// Remove stops serving the endpoint id and reports whether it was served.
func (in *Ingress) Remove(id string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	_, ok := in.eps[id]
	delete(in.eps, id)
	return ok
}

// Endpoints returns the ids served, sorted.
func (in *Ingress) Endpoints() []string {
	in.mu.RLock()
	defer in.mu.RUnlock()
	ids := make([]string, 0, len(in.eps))
	for id := range in.eps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Close cancels delivery attempts and retries, gives up deliveries still
// queued, and waits for the deliverer to stop. The Ingress must not serve
// after Close.
func (in *Ingress) Close() error {
	return in.deliv.Close()
}

// Flush waits until every delivery started so far has been made or given
// up, or ctx is done.
func (in *Ingress) Flush(ctx context.Context) error {
	return in.deliv.Flush(ctx)
}

const allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

var methodAllowed = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// ServeHTTP handles one request to PathPrefix+id.
func (in *Ingress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.inflight.Add(1)
	defer in.inflight.Add(-1)
	start := in.now()
	lw := &loggedWriter{ResponseWriter: w, status: http.StatusOK}
	var note string
	defer func() {
		if in.cfg.Log != nil {
			in.cfg.Log.Info(r.Method+" "+r.URL.Path, "status", lw.status, "note", note, "took", in.now().Sub(start).Round(time.Microsecond))
		}
	}()
	note = in.serveStrict(lw, r, start)
}

// serveStrict is the strict profile; it returns a note for the log line.
func (in *Ingress) serveStrict(w http.ResponseWriter, r *http.Request, received time.Time) string {
	id, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		writeError(w, http.StatusNotFound, "unknown endpoint", "no endpoint is served at "+r.URL.Path)
		return "no such path"
	}
	in.mu.RLock()
	ep := in.eps[id]
	in.mu.RUnlock()
	if ep == nil && in.faults[UnknownEndpointOK] {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(`{"ok":true}` + "\n"))
		return "unknown endpoint answered 200"
	}
	if ep == nil {
		writeError(w, http.StatusNotFound, "unknown endpoint", fmt.Sprintf("no endpoint %q", id))
		return "unknown endpoint"
	}
	if !methodAllowed[r.Method] && !in.faults[AnyMethod] {
		w.Header().Set("Allow", allowedMethods)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed", r.Method+" is not one of "+allowedMethods)
		return "bad method"
	}

	body, status, err := in.readBody(r, ep.maxBody)
	if err != nil {
		writeError(w, status, err.Error(), "")
		return "body: " + err.Error()
	}
	req := matcher.Request{Method: r.Method, URL: requestURL(r), Header: r.Header.Clone(), Body: body}
	if r.Host != "" {
		req.Header.Set("Host", r.Host)
	}
	if in.faults[ParseJSONFirst] && strings.Contains(r.Header.Get("Content-Type"), "json") && !json.Valid(body) {
		writeError(w, http.StatusBadRequest, "invalid JSON body", "")
		return "body is not JSON"
	}

	var early *declared
	if rw := ep.respond; rw != nil && !in.faults[NoRespondWith] {
		if in.match(rw.filter, rw.noQuery, req) {
			d, err := rw.render(req)
			if err != nil {
				writeError(w, http.StatusInternalServerError, err.Error(), "")
				return "respondWith failed"
			}
			if rw.skip && !in.faults[IgnoreSkipTriggering] {
				d.write(w)
				return "respondWith, skipTriggering"
			}
			if d.status != http.StatusOK {
				// As Trigger.dev: only a 200 handler response goes on to trigger.
				d.write(w)
				return "respondWith, not 200"
			}
			early = d
		}
	}

	ver := Verification{}
	var verr error
	if ep.verifier != nil && !in.faults[SkipVerify] {
		verr = in.verify(ep, req)
		if verr != nil {
			ver.Reason = verr.Error()
			if in.faults[LeakExpectedSignature] {
				ver.Reason += in.expected(ep, req)
			}
			if !in.faults[VerifyAfterTrigger] {
				writeError(w, http.StatusUnauthorized, "signature verification failed", ver.Reason)
				return "rejected"
			}
		} else {
			ver.Verified = true
		}
	}

	var ids []string
	shared := true // the first delivery may keep req.Header, later ones get copies
	for i := range ep.triggers {
		t := &ep.triggers[i]
		if t.filter != nil && !in.match(t.filter, t.noQuery, req) {
			continue
		}
		ids = append(ids, t.id)
		if !(in.faults[DropUnderConcurrency] && in.inflight.Load() > 4) {
			n := 1
			if in.faults[DuplicateDelivery] {
				n = 2
			}
			for range n {
				d := req
				if !shared {
					d.Header = req.Header.Clone()
				}
				shared = false
				in.deliver(r.Context(), ep, t, d, ver, received)
			}
		}
		if in.faults[FirstMatchOnly] {
			break
		}
	}
	if verr != nil { // VerifyAfterTrigger
		writeError(w, http.StatusUnauthorized, "signature verification failed", ver.Reason)
		return "rejected after triggering"
	}
	if early != nil {
		early.write(w)
		return fmt.Sprintf("respondWith, triggered %d", len(ids))
	}
	if ids == nil {
		ids = []string{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	b, _ := json.Marshal(struct {
		OK        bool     `json:"ok"`
		Endpoint  string   `json:"endpoint"`
		Triggered []string `json:"triggered"`
	}{true, id, ids})
	w.Write(append(b, '\n'))
	return fmt.Sprintf("triggered %d", len(ids))
}

// readBody reads at most max bytes: the status to answer with on error.
func (in *Ingress) readBody(r *http.Request, max int64) ([]byte, int, error) {
	if r.Body == nil {
		return nil, 0, nil
	}
	if in.faults[NoContentLimit] {
		max = 1 << 40
	}
	if r.ContentLength > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes is over the limit of %d", r.ContentLength, max)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("reading body: %v", err)
	}
	if int64(len(body)) > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is over the limit of %d bytes", max)
	}
	return body, 0, nil
}

// match applies a filter, with the faults that change matching.
func (in *Ingress) match(f, noQuery *matcher.RequestFilter, req matcher.Request) bool {
	if in.faults[QueryFilterIgnored] {
		f = noQuery
	}
	if in.faults[JSONContentTypeOnly] && !strings.Contains(req.Header.Get("Content-Type"), "application/json") {
		req.Body = nil // body filters then never match
	}
	if in.faults[CaseSensitiveHeaders] {
		// A filter's lower-case names looked up exactly in Go's
		// canonicalised map: only names with no upper-case letter survive.
		h := http.Header{}
		for k, vs := range req.Header {
			if k == strings.ToLower(k) {
				h[k] = vs
			}
		}
		req.Header = h
	}
	return f.Match(req)
}

// verify checks req's signature, with the faults that change verification.
func (in *Ingress) verify(ep *endpoint, req matcher.Request) error {
	v := ep.verifier
	switch {
	case in.faults[NoTolerance]:
		v = ep.loose
	case in.faults[FirstKeyOnly]:
		v = ep.first
	}
	p := signer.Payload{Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body}
	if in.faults[UTF8DecodeBody] {
		p.Body = whatwg.DecodeUTF8(p.Body)
	}
	if in.faults[URLWithoutQuery] {
		p.URL, _, _ = strings.Cut(p.URL, "?")
	}
	if in.faults[ReserializeBody] {
		var x any
		if json.Unmarshal(req.Body, &x) == nil {
			p.Body, _ = json.Marshal(x)
		}
	}
	if in.faults[FirstHeaderValueOnly] {
		h := p.Header.Clone()
		for _, name := range ep.scheme.Headers() {
			if vs := h.Values(name); len(vs) > 1 {
				h.Set(name, vs[0])
			}
		}
		p.Header = h
	}
	if in.faults[CaseSensitiveHeaders] {
		h := p.Header.Clone()
		for _, name := range ep.scheme.Headers() {
			if _, ok := req.Header[name]; !ok {
				delete(h, http.CanonicalHeaderKey(name))
			}
		}
		p.Header = h
	}
	err := v.Verify(p)
	if err != nil && in.faults[SHA1Fallback] && ep.scheme.Name == signer.GitHub.Name && errors.Is(err, signer.ErrMissingHeader) {
		return signer.Verify(signer.GitHubSHA1, ep.spec.Verify.Secrets, p)
	}
	return err
}

// expected returns what the LeakExpectedSignature fault leaks: the
// signature headers the endpoint's first key would have written.
func (in *Ingress) expected(ep *endpoint, req matcher.Request) string {
	p := signer.Payload{Method: req.Method, URL: req.URL, Header: http.Header{}, Body: req.Body}
	signed, err := signer.Sign(ep.scheme, ep.spec.Verify.Secrets[:1], p, signer.Now(in.now))
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, name := range ep.scheme.Headers() {
		if v := signed.Header.Get(name); v != "" {
			b.WriteString("; expected " + name + ": " + v)
		}
	}
	return b.String()
}

// deliver records one delivery and hands it to the deliverer; it waits
// while the deliverer is full (back-pressure), until ctx is done.
func (in *Ingress) deliver(ctx context.Context, ep *endpoint, t *trigger, req matcher.Request, ver Verification, received time.Time) {
	d := Delivery{
		Endpoint:     ep.spec.ID,
		Trigger:      t.id,
		Request:      DeliveredRequest{Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body},
		Verification: ver,
		ReceivedAt:   received,
		DeliveredAt:  in.now(),
	}
	if t.deliver == "" {
		d.ID = in.deliv.newID()
	} else if err := in.deliv.enqueue(ctx, t.deliver, &d); err != nil && in.cfg.Log != nil {
		in.cfg.Log.Warn("delivery not queued", "endpoint", d.Endpoint, "trigger", d.Trigger, "id", d.ID, "err", err.Error())
	}
	if in.cfg.Recorder != nil {
		in.cfg.Recorder.Record(d)
	}
}

// hostOf returns "scheme://host/…" for a URL, for logs.
func hostOf(raw string) string {
	u, err := parseHTTPURL(raw)
	if err != nil {
		return "(delivery URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// requestURL rebuilds the URL the sender addressed, honouring
// X-Forwarded-Proto as Trigger.dev does.
func requestURL(r *http.Request) string {
	if r.URL.IsAbs() {
		return r.URL.String()
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

type loggedWriter struct {
	http.ResponseWriter
	status int
}

func (w *loggedWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
