package listen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/record"
)

// Defaults of a Receiver.
const (
	// DefaultAddr is where hooklab listen listens, and where the example
	// specs' triggers deliver (http://127.0.0.1:9999/).
	DefaultAddr = "127.0.0.1:9999"
	// DefaultMaxBody is the largest body read; a larger one is answered
	// 413 without being read, verified, forwarded or recorded.
	DefaultMaxBody = signer.DefaultMaxBody
	// DefaultForwardTimeout bounds one forward, from sending the request
	// to the end of the app's answer.
	DefaultForwardTimeout = 30 * time.Second
	// DefaultSeed seeds the draw of Faults.
	DefaultSeed = 1
)

// An Option configures a Receiver. Options take values; when one is
// given twice the last wins.
type Option func(*options)

type options struct {
	scheme     *signer.Scheme
	keys       signer.KeySet
	signerOpts []signer.Option
	maxBody    int64
	faults     []Fault
	delay      time.Duration
	seed       int64
	forward    string
	fwdTimeout time.Duration
	client     *http.Client
	rec        *record.Writer
	out        *writer
	onEntry    func(Entry)
	now        func() time.Time
}

// Verify checks every request's signature with scheme s and keys, as
// signer.Verifier does, with opts after the Receiver's own (its clock,
// Now, and its MaxBody), so that opts may override them. With no keys the
// scheme only names the provider (for the event type) and nothing is
// verified. Default: nothing is verified; the provider is guessed.
func Verify(s signer.Scheme, keys signer.KeySet, opts ...signer.Option) Option {
	return func(o *options) { o.scheme, o.keys, o.signerOpts = &s, keys, opts }
}

// MaxBody is the largest body read, in bytes. Default DefaultMaxBody.
func MaxBody(n int64) Option { return func(o *options) { o.maxBody = n } }

// Respond makes the Receiver fail on purpose: each request draws once
// and the faults share out the draw in order (see ParseFaults). A fault
// that answers is the answer: the request is not forwarded. Default none.
func Respond(faults ...Fault) Option {
	return func(o *options) { o.faults = append([]Fault(nil), faults...) }
}

// Delay waits d before answering each request (after forwarding it). A
// sender that gives up first ends the wait. Default 0.
func Delay(d time.Duration) Option { return func(o *options) { o.delay = d } }

// Seed seeds the draw of Respond's faults, so that a run can be
// repeated. Default DefaultSeed.
func Seed(seed int64) Option { return func(o *options) { o.seed = seed } }

// Forward sends every request, byte for byte, to target, and answers the
// sender with the app's answer (502 when it gives none, 504 when it times
// out). target is an http(s) URL; when its path is empty or "/" the
// request's own path is kept, and when it has a query it replaces the
// request's (as record.Recording.Request does). Hop-by-hop headers
// (Connection and those it names, Keep-Alive, Proxy-*, TE, Trailer,
// Transfer-Encoding, Upgrade) are dropped; nothing is added. Redirects
// are passed back, not followed. Default: no forwarding, every request is
// answered 200 {"ok":true}.
func Forward(target string) Option { return func(o *options) { o.forward = target } }

// ForwardTimeout bounds one forward. Default DefaultForwardTimeout.
func ForwardTimeout(d time.Duration) Option { return func(o *options) { o.fwdTimeout = d } }

// ForwardClient forwards with c instead of the Receiver's own client
// (which follows no redirect, adds no Accept-Encoding and times out after
// ForwardTimeout).
func ForwardClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// Record writes every request whose body was read to w, with a sidecar
// saying what the Receiver learnt (provider, event, verified, answer).
// Default: nothing is recorded.
func Record(w *record.Writer) Option { return func(o *options) { o.rec = w } }

// Output writes one entry per request to w in format f. Writes are
// serialized. Default: nothing is written.
func Output(w io.Writer, f Format) Option {
	return func(o *options) { o.out = newWriter(w, f) }
}

// OnEntry calls fn with every request's entry, after Output, from the
// request's goroutine: fn must be safe for concurrent use.
func OnEntry(fn func(Entry)) Option { return func(o *options) { o.onEntry = fn } }

// Now sets the clock of entries and of verification. Default time.Now.
func Now(now func() time.Time) Option { return func(o *options) { o.now = now } }

// A Receiver is the handler of hooklab listen. Build it with New; it is
// safe for concurrent use.
type Receiver struct {
	o        options
	verifier *signer.Verifier
	chooser  *chooser
	forward  *url.URL
	seq      atomic.Int64

	mu    sync.Mutex
	stats Stats
}

var _ http.Handler = (*Receiver)(nil)

// Stats counts what a Receiver has seen.
type Stats struct {
	// Requests counts every request, answered or refused.
	Requests int `json:"requests"`
	// Verified and NotVerified count the verdicts (the Receiver's, or
	// for a delivery envelope the ingress's); unchecked requests count
	// in neither.
	Verified    int `json:"verified"`
	NotVerified int `json:"not_verified"`
	// Deliveries counts delivery envelopes.
	Deliveries int `json:"deliveries"`
	// Injected counts requests a Fault answered.
	Injected int `json:"injected"`
	// Forwarded counts forwards the app answered; ForwardErrors those it
	// did not (refused, timed out).
	Forwarded     int `json:"forwarded"`
	ForwardErrors int `json:"forward_errors"`
	// Recorded counts requests recorded; RecordErrors those that could
	// not be.
	Recorded     int `json:"recorded"`
	RecordErrors int `json:"record_errors"`
}

// New returns a Receiver. Its errors are a bad Forward URL or a scheme
// and keys that signer.NewVerifier refuses.
func New(opts ...Option) (*Receiver, error) {
	o := options{maxBody: DefaultMaxBody, seed: DefaultSeed, fwdTimeout: DefaultForwardTimeout, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.maxBody <= 0 {
		return nil, fmt.Errorf("listen: MaxBody %d: want a positive number of bytes", o.maxBody)
	}
	rcv := &Receiver{o: o, chooser: newChooser(o.faults, o.seed)}
	if o.scheme != nil && len(o.keys) > 0 {
		vopts := append([]signer.Option{signer.Now(o.now), signer.MaxBody(o.maxBody)}, o.signerOpts...)
		v, err := signer.NewVerifier(*o.scheme, o.keys, vopts...)
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		rcv.verifier = v
	}
	if o.forward != "" {
		u, err := url.Parse(o.forward)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("listen: forward URL %s: want http(s)://host[:port][/path]", quote(o.forward))
		}
		rcv.forward = u
		if rcv.o.client == nil {
			rcv.o.client = &http.Client{
				Transport: &http.Transport{
					DisableCompression:    true,
					MaxIdleConnsPerHost:   64,
					IdleConnTimeout:       90 * time.Second,
					ResponseHeaderTimeout: o.fwdTimeout,
				},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
				Timeout:       o.fwdTimeout,
			}
		}
	}
	return rcv, nil
}

// Stats returns the counts so far.
func (rcv *Receiver) Stats() Stats {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return rcv.stats
}

// Summary is one line for the end of a run: "12 requests: 10 verified,
// 2 not verified; 3 failed on purpose; 12 recorded".
func (s Stats) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d request%s", s.Requests, plural(s.Requests))
	var parts []string
	if s.Verified+s.NotVerified > 0 {
		parts = append(parts, fmt.Sprintf("%d verified, %d not verified", s.Verified, s.NotVerified))
	}
	if s.Deliveries > 0 {
		parts = append(parts, fmt.Sprintf("%d deliver%s", s.Deliveries, map[bool]string{true: "y", false: "ies"}[s.Deliveries == 1]))
	}
	if s.Injected > 0 {
		parts = append(parts, fmt.Sprintf("%d failed on purpose", s.Injected))
	}
	if s.Forwarded+s.ForwardErrors > 0 {
		parts = append(parts, fmt.Sprintf("%d forwarded, %d forward errors", s.Forwarded, s.ForwardErrors))
	}
	if s.Recorded+s.RecordErrors > 0 {
		parts = append(parts, fmt.Sprintf("%d recorded", s.Recorded))
		if s.RecordErrors > 0 {
			parts[len(parts)-1] += fmt.Sprintf(", %d not recorded", s.RecordErrors)
		}
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, "; "))
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// okBody is the answer when nothing else answers.
var okBody = []byte(`{"ok":true}` + "\n")

// ServeHTTP receives one request: reads its body (413 beyond MaxBody),
// guesses the provider, verifies, finds the event, answers as a Fault
// says or forwards or answers 200 {"ok":true}, records it, waits Delay,
// answers, and writes its entry.
func (rcv *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := rcv.o.now()
	e := &Entry{
		Seq:    int(rcv.seq.Add(1)),
		Time:   start,
		Remote: r.RemoteAddr,
		Method: r.Method,
		Target: requestTarget(r),
	}
	defer func() { rcv.finish(e, start) }()

	if r.ContentLength > rcv.o.maxBody {
		rcv.tooLarge(w, r, e)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, rcv.o.maxBody+1))
	if int64(len(body)) > rcv.o.maxBody {
		rcv.tooLarge(w, r, e)
		return
	}
	e.Bytes = len(body)
	if err != nil {
		e.Status = http.StatusBadRequest
		writeJSON(w, e.Status, map[string]string{"error": "reading the body failed"})
		return
	}

	if d := asDelivery(r, body); d != nil {
		rcv.describeDelivery(e, d, r)
	} else {
		rcv.describe(e, r, body)
	}

	status, header, answer := http.StatusOK, http.Header{"Content-Type": {"application/json"}}, okBody
	if f := rcv.chooser.pick(); f != nil {
		e.Injected = true
		status, answer = f.Status, []byte(fmt.Sprintf(`{"error":"failure on purpose","status":%d,"by":"hooklab listen --respond"}`+"\n", f.Status))
	} else if rcv.forward != nil {
		status, header, answer = rcv.forwardTo(r, body, e)
	}
	e.Status = status

	if rcv.o.rec != nil {
		rcv.record(e, r, body)
	}
	if rcv.o.delay > 0 {
		t := time.NewTimer(rcv.o.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	if status == http.StatusNoContent || status == http.StatusNotModified {
		answer = nil
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(status)
	w.Write(answer)
}

// requestTarget is the path and query as sent.
func requestTarget(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

func (rcv *Receiver) tooLarge(w http.ResponseWriter, r *http.Request, e *Entry) {
	e.TooLarge, e.Bytes = true, int(rcv.o.maxBody)
	e.Guess = GuessProvider(r.Header, r.URL.RawQuery, nil)
	e.Status = http.StatusRequestEntityTooLarge
	w.Header().Set("Connection", "close")
	writeJSON(w, e.Status, map[string]string{"error": fmt.Sprintf("body over %d bytes", rcv.o.maxBody)})
}

// describe fills in the guess, the verdict and the event of a request.
func (rcv *Receiver) describe(e *Entry, r *http.Request, body []byte) {
	e.Guess = GuessProvider(r.Header, r.URL.RawQuery, body)
	provider := e.Guess.Provider
	if provider == "" {
		provider = e.Guess.Family
	}
	if rcv.o.scheme != nil {
		e.Preset = rcv.o.scheme.Name
		e.Event = EventType(e.Preset, r.Header, body)
	}
	if e.Event == "" {
		e.Event = EventType(provider, r.Header, body)
	}
	if rcv.verifier == nil {
		return
	}
	p := signer.Payload{Method: r.Method, Header: r.Header, Body: body}
	if rcv.o.scheme.NeedsURL() {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		p.URL = scheme + "://" + r.Host + requestTarget(r)
	}
	ok := true
	if err := rcv.verifier.Verify(p); err != nil {
		ok = false
		e.Reason = strings.TrimPrefix(err.Error(), "signer: ")
	}
	e.Verified = &ok
}

// asDelivery returns the delivery envelope r carries, or nil when r is
// not one: a POST whose JSON body has an endpoint, a trigger and a request.
func asDelivery(r *http.Request, body []byte) *sim.Delivery {
	if r.Method != http.MethodPost || len(body) == 0 || body[0] != '{' || !bytes.Contains(body, []byte(`"trigger"`)) {
		return nil
	}
	var d sim.Delivery
	if json.Unmarshal(body, &d) != nil || d.Endpoint == "" || d.Trigger == "" || d.Request.Method == "" {
		return nil
	}
	if d.ID == "" {
		d.ID = r.Header.Get(sim.DeliveryIDHeader)
	}
	return &d
}

// describeDelivery fills in an envelope's entry from the original request.
func (rcv *Receiver) describeDelivery(e *Entry, d *sim.Delivery, r *http.Request) {
	attempt, _ := strconv.Atoi(r.Header.Get(sim.DeliveryAttemptHeader))
	e.Delivery = &Delivery{ID: d.ID, Endpoint: d.Endpoint, Trigger: d.Trigger, Attempt: attempt, Method: d.Request.Method, URL: d.Request.URL}
	h := http.Header(d.Request.Header)
	var query string
	if u, err := url.Parse(d.Request.URL); err == nil {
		query = u.RawQuery
	}
	e.Guess = GuessProvider(h, query, d.Request.Body)
	provider := e.Guess.Provider
	if provider == "" {
		provider = e.Guess.Family
	}
	e.Event = EventType(provider, h, d.Request.Body)
	if d.Verification.Verified || d.Verification.Reason != "" {
		ok := d.Verification.Verified
		e.Verified, e.Reason = &ok, d.Verification.Reason
	}
}

// record writes the request; the sidecar gets what the entry says.
func (rcv *Receiver) record(e *Entry, r *http.Request, body []byte) {
	meta := record.Meta{
		ReceivedAt: e.Time, RemoteAddr: e.Remote,
		Provider: e.Guess.Provider, Event: e.Event,
		Verified: e.Verified, Reason: e.Reason, Status: e.Status,
	}
	// The preset verified with is the provider, unless the headers say
	// it is another.
	if e.Preset != "" && (e.Guess.Name() == "" || e.Guess.Provider == e.Preset || slices.Contains(e.Guess.Candidates, e.Preset)) {
		meta.Provider = e.Preset
	}
	var notes []string
	if meta.Provider == "" && e.Guess.Name() != "" {
		notes = append(notes, "provider guessed: "+e.Guess.Name())
	}
	if e.Delivery != nil {
		notes = append(notes, "delivery "+e.Delivery.Endpoint+"/"+e.Delivery.Trigger)
	}
	if e.Injected {
		notes = append(notes, "failed on purpose")
	}
	if f := e.Forward; f != nil {
		if f.Error != "" {
			notes = append(notes, "forward to "+f.URL+" failed: "+f.Error)
		} else {
			notes = append(notes, fmt.Sprintf("forwarded to %s: %d", f.URL, f.Status))
		}
	}
	meta.Note = strings.Join(notes, "; ")
	path, err := rcv.o.rec.Write(record.New(r, body, meta))
	if err != nil {
		e.RecordError = err.Error()
		return
	}
	e.Recorded = path
}

// finish completes e, counts it and writes it out.
func (rcv *Receiver) finish(e *Entry, start time.Time) {
	e.Took = ms(rcv.o.now().Sub(start))
	rcv.mu.Lock()
	s := &rcv.stats
	s.Requests++
	if e.Verified != nil {
		if *e.Verified {
			s.Verified++
		} else {
			s.NotVerified++
		}
	}
	if e.Delivery != nil {
		s.Deliveries++
	}
	if e.Injected {
		s.Injected++
	}
	if e.Forward != nil {
		if e.Forward.Error != "" {
			s.ForwardErrors++
		} else {
			s.Forwarded++
		}
	}
	if e.Recorded != "" {
		s.Recorded++
	}
	if e.RecordError != "" {
		s.RecordErrors++
	}
	rcv.mu.Unlock()
	if rcv.o.out != nil {
		rcv.o.out.write(e)
	}
	if rcv.o.onEntry != nil {
		rcv.o.onEntry(*e)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
