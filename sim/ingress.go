package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooklab/hooklab/internal/stage"
)

// PathPrefix is where the Ingress serves endpoints: an endpoint with id X
// is at /hooks/X.
const PathPrefix = stage.PathPrefix

// A Profile is a behaviour the Ingress can follow: a composition of
// stages (route, read, respondWith, verify, match, deliver, answer).
type Profile string

// Strict verifies at the door: route, read the body (413 past the limit),
// respondWith, verify (401 on failure, nothing delivered), match every
// trigger, deliver to each match exactly once, answer. It is the default
// and the behaviour the conformance suite checks.
const Strict Profile = "strict"

// Profiles returns every profile, with a phrase that says what it is.
func Profiles() map[Profile]string {
	m := map[Profile]string{}
	for p, def := range profiles {
		m[p] = def.doc
	}
	return m
}

// A profileDef builds a profile's stages for one Ingress.
type profileDef struct {
	doc    string
	stages func(in *Ingress) *stage.Stages
	// prepare, if set, builds an endpoint's State when it is added.
	prepare func(e *stage.Endpoint) error
}

var profiles = map[Profile]profileDef{
	Strict: {doc: "verifies at the door: 401 and nothing delivered for a bad signature, 413 past maxBody, JSON answers", stages: strictStages},
	TriggerDevV2: {doc: "Trigger.dev v2 as it ships: 200 to the sender, verification per run, the dispatcher's filter rules, no body limit",
		stages: triggerDevStages, prepare: prepareTriggerDev},
}

// DefaultDeliveryAttempts is how many times the Ingress tries to POST one
// delivery before it gives up.
const DefaultDeliveryAttempts = 5

// DefaultDeliveryBackoff is the wait after the first failed delivery
// attempt; it doubles after each further failure.
const DefaultDeliveryBackoff = 100 * time.Millisecond

// Config configures an Ingress. The zero value is the strict profile with
// time.Now, no logging and a client of its own.
type Config struct {
	// Profile is the behaviour; "" means Strict.
	Profile Profile
	// DeliverHosts are the hosts, besides loopback, that triggers'
	// deliver URLs may name; Add refuses a spec that names another.
	DeliverHosts []string
	// Recorder, if set, records every delivery, in addition to the POST to
	// the trigger's Deliver URL.
	Recorder *Recorder
	// Client posts deliveries. Default: 10 s timeout per attempt.
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
	// request that causes one waits for room; zero means 512 and 1024.
	// Each attempt has 10 s; the wait between attempts doubles up to 10 s,
	// plus up to half again at random.
	DeliveryConcurrency int
	DeliveryQueue       int

	// Observer, if set, is told what happened to every request to an
	// endpoint path and how each delivery ended (see Trace). Nil costs
	// nothing.
	Observer Observer

	// changes are applied to the profile's stages (internal/fault).
	changes []func(*stage.Stages)
}

func init() {
	stage.Wrap = func(cfg any, change func(*stage.Stages)) {
		c := cfg.(*Config)
		c.changes = append(c.changes[:len(c.changes):len(c.changes)], change)
	}
}

// An Ingress is the reference webhook receiver: an http.Handler that
// serves EndpointSpecs at PathPrefix+id as the configured profile says.
// It is safe for concurrent use; endpoints can be added and removed while
// it serves. Call Close to stop pending deliveries.
type Ingress struct {
	cfg    Config
	stages *stage.Stages
	now    func() time.Time
	lookup func(id string) *stage.Endpoint

	mu    sync.RWMutex
	eps   map[string]*stage.Endpoint
	specs map[string]EndpointSpec

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
	def, ok := profiles[cfg.Profile]
	if !ok {
		names := make([]string, 0, len(profiles))
		for p := range profiles {
			names = append(names, strconv.Quote(string(p)))
		}
		sort.Strings(names)
		return nil, fmt.Errorf("sim: unknown profile %q (have %s)", cfg.Profile, strings.Join(names, ", "))
	}
	if cfg.DeliveryAttempts <= 0 {
		cfg.DeliveryAttempts = DefaultDeliveryAttempts
	}
	if cfg.DeliveryBackoff <= 0 {
		cfg.DeliveryBackoff = DefaultDeliveryBackoff
	}
	in := &Ingress{cfg: cfg, now: cfg.Now, eps: map[string]*stage.Endpoint{}, specs: map[string]EndpointSpec{}}
	in.lookup = func(id string) *stage.Endpoint {
		in.mu.RLock()
		defer in.mu.RUnlock()
		return in.eps[id]
	}
	if in.now == nil {
		in.now = time.Now
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
	in.stages = def.stages(in)
	for _, change := range cfg.changes {
		change(in.stages)
	}
	if cfg.Observer != nil {
		in.deliv.cfg.Done = cfg.Observer.Delivery
		// The observer learns that the match stage ran by wrapping it, as
		// a fault would: the stage itself is unchanged.
		if match := in.stages.Match; match != nil {
			in.stages.Match = func(c *stage.Call) bool {
				if lw, ok := c.W.(*loggedWriter); ok {
					lw.matchRan = true
				}
				return match(c)
			}
		}
	}
	for _, s := range specs {
		if err := in.Add(s); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// Add starts serving spec. It is an error if the spec is invalid or its id
// is already served.
func (in *Ingress) Add(spec EndpointSpec) error {
	e, err := compile(spec, in.now)
	if err == nil && spec.Dedup != nil && in.cfg.Profile != Strict {
		// Trigger.dev v2 keeps only its own de-duplication, by the
		// idempotency-key and x-request-id headers, before verification
		// (conformance/RULES.md T4); a profile reproduces the platform.
		err = specErrorf("dedup", "the %s profile has no dedup (Trigger.dev v2 de-duplicates by its idempotency-key header only); serve the endpoint with the strict profile", in.cfg.Profile)
	}
	if err == nil {
		err = checkDeliverHosts(spec, in.cfg.DeliverHosts)
	}
	if prepare := profiles[in.cfg.Profile].prepare; err == nil && prepare != nil {
		err = prepare(e)
	}
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
	in.specs[spec.ID] = spec
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
	delete(in.specs, id)
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

// Specs returns the specs of the endpoints served, sorted by id. They
// hold the endpoints' secrets: never print them whole.
func (in *Ingress) Specs() []EndpointSpec {
	in.mu.RLock()
	defer in.mu.RUnlock()
	specs := make([]EndpointSpec, 0, len(in.specs))
	for _, s := range in.specs {
		specs = append(specs, s)
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].ID < specs[j].ID })
	return specs
}

// Close cancels delivery retries and attempts in flight, drops what is
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

// ServeHTTP passes one request through the profile's stages.
func (in *Ingress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := in.inflight.Add(1)
	start := in.now()
	// What the stages share — the writer, the call, room for the usual few
	// matched triggers — comes from a pool, zeroed when it was put back.
	st := servings.Get().(*serving)
	st.lw.ResponseWriter, st.lw.status = w, http.StatusOK
	lw, c := &st.lw, &st.c
	*c = stage.Call{W: lw, R: r, Received: start, Now: in.now, InFlight: n, Lookup: in.lookup, Matched: st.matched[:0]}
	defer func() {
		if c.HostAdded { // the caller gets its request back as it gave it
			delete(r.Header, "Host")
		}
		if c.BodyBuf != nil {
			bodyBufs.Put(c.BodyBuf)
		}
		*st = serving{} // nothing of this request stays reachable from the pool
		servings.Put(st)
		in.inflight.Add(-1)
	}()
	in.stages.Run(c)
	if in.cfg.Observer != nil {
		in.observe(c, lw)
	}
	if in.cfg.Log != nil {
		in.cfg.Log.Info(r.Method+" "+r.URL.Path, "status", lw.status, "note", c.Note, "took", in.now().Sub(start).Round(time.Microsecond))
	}
}

// servings holds what ServeHTTP needs for one request; nothing keeps a
// pointer into a serving past the answer (a trace, a recorded delivery
// and a late fault copy what they keep).
var servings = sync.Pool{New: func() any { return new(serving) }}

// serving is what ServeHTTP needs for one request.
type serving struct {
	lw      loggedWriter
	c       stage.Call
	matched [4]*stage.Trigger
}

// send hands one delivery of c's request to t: the Stages.Send of every
// profile.
func (in *Ingress) send(c *stage.Call, t *stage.Trigger) {
	req := c.Req
	if in.cfg.Recorder != nil {
		// The recorder keeps the delivery past the answer: its own headers
		// and body. An envelope is marshaled before deliver returns.
		req.Header = req.Header.Clone()
		if c.BodyBuf != nil {
			req.Body = bytes.Clone(req.Body)
		}
	}
	c.Sent++
	d := Delivery{
		Endpoint:     c.Endpoint.ID,
		Trigger:      t.ID,
		Request:      DeliveredRequest{Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body},
		Verification: Verification{Verified: c.Verification.Verified, Reason: c.Verification.Reason},
		ReceivedAt:   c.Received,
	}
	id := in.deliver(c.R.Context(), t, d)
	if lw, ok := c.W.(*loggedWriter); ok && in.cfg.Observer != nil {
		lw.sent = append(lw.sent, sentDelivery{trigger: t.ID, id: id})
	}
}

// deliver queues d for t's deliver URL, with the request's context for
// back-pressure, and records it; it returns the delivery's id. d is taken
// by value so that it stays off the heap when it is only recorded.
func (in *Ingress) deliver(ctx context.Context, t *stage.Trigger, d Delivery) string {
	d.DeliveredAt = in.now()
	if t.Deliver == "" {
		d.ID = in.deliv.newID(d.DeliveredAt)
	} else {
		q := d // escapes into the queue's envelope
		if err := in.deliv.enqueue(ctx, t.Deliver, &q); err != nil && in.cfg.Log != nil {
			in.cfg.Log.Warn("delivery not queued", "endpoint", q.Endpoint, "trigger", q.Trigger, "id", q.ID, "err", err.Error())
		}
		d = q
	}
	if in.cfg.Recorder != nil {
		in.cfg.Recorder.Record(d)
	}
	return d.ID
}

// hostOf returns "scheme://host/…" for a URL, for logs: the URL may carry
// a token.
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

// A loggedWriter is the ResponseWriter the stages write to: it keeps the
// status for the log line and, with an Observer, what the observer learns
// while the stages run.
type loggedWriter struct {
	http.ResponseWriter
	status int
	// matchRan and sent are set only with an Observer: the match stage
	// ran; the deliveries handed off.
	matchRan bool
	sent     []sentDelivery
}

// jsonContentType is the Content-Type of the ingress's own answers.
const jsonContentType = "application/json; charset=utf-8"

func (w *loggedWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
