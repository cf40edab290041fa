package load

import (
	"context"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load/internal/h1"
)

// Defaults of the Attacker.
const (
	// DefaultMaxInFlight bounds the requests an open-loop attack has in
	// flight; a slot that comes due past it is dropped and counted.
	DefaultMaxInFlight = 1000
	// DefaultTimeout bounds one request.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxBody is how much of an answer is read to find the
	// triggered ids; the rest is read and discarded.
	DefaultMaxBody = 64 << 10
	// MaxFailureBody is how much of a failure answer's body a Result
	// keeps (Result.Body).
	MaxFailureBody = 512
)

// LoadGCPercent is the garbage collector's target that TuneGC sets: the
// heap may grow by 400% of the live heap between collections (Go's
// default is 100%).
const LoadGCPercent = 400

// TuneGC sets the garbage collector's target percentage
// (runtime/debug.SetGCPercent) to LoadGCPercent, unless the GOGC
// environment variable is set, and returns a function that restores the
// previous target. A load generator allocates a few KiB per request, all
// of it short-lived, over a small live heap (tens of MiB: histograms,
// series, buffers), so collecting less often costs little memory and
// leaves more CPU for sending, which matters most on a machine shared
// with the target. It changes a process-wide setting: call it from a
// program's main path, not from a library.
func TuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	prev := debug.SetGCPercent(LoadGCPercent)
	return func() { debug.SetGCPercent(prev) }
}

// An Attacker sends requests on a schedule (open loop: Pacer) or as fast
// as Workers can (closed loop), and reports each as a Result. Create it
// with NewAttacker; it is safe to Stop from another goroutine.
type Attacker struct {
	options
	stop     chan struct{}
	stopCtx  context.Context // done when stopped: ends chaos's retry waits
	cancel   context.CancelFunc
	stopOnce sync.Once
	stopped  atomic.Bool
	inflight atomic.Int64
	// conns are the idle connections of the HTTP/1.1 client, used when
	// no Client was given.
	conns *connPool
	// Run's hooks (run.go): the schedule's anchor, and Abort's context.
	anchor   time.Time
	abortCtx context.Context
	abortFn  context.CancelFunc
}

// An Option changes how an Attacker works. Options take values; when the
// same option is given twice, the last one wins.
type Option func(*options)

type options struct {
	client      *http.Client
	timeout     time.Duration
	maxInFlight int
	workers     int
	shard, of   uint64
	chaos       *sim.Chaos
	// keepRequests: see KeepRequests (request.go).
	keepRequests bool
}

// WithChaos makes the attacker misbehave as webhook providers do (see
// sim.Chaos): slot k sends delivery c.Order(k) (Reorder), a failed
// attempt is retried on c.Retry's schedule, and c.Duplicated deliveries
// are sent a second time, byte for byte, once their attempts are over.
// Every retry and copy is a Result of its own (Attempt, Duplicate); a
// slot stays in flight, and counts against MaxInFlight, until its
// delivery is over. Stop ends the waits between attempts. c must be
// valid (c.Validate) and is not copied: do not change it during a run.
// nil, or a Chaos that changes nothing, sends as without it.
func WithChaos(c *sim.Chaos) Option {
	return func(o *options) {
		o.chaos = nil
		if c.Enabled() {
			o.chaos = c
		}
	}
}

// MaxInFlight bounds the requests in flight in open loop; values below 1
// mean 1. Default DefaultMaxInFlight.
func MaxInFlight(n int) Option { return func(o *options) { o.maxInFlight = max(n, 1) } }

// Workers sets the closed-loop concurrency: each worker sends its next
// request when the previous one is answered; values below 1 mean 1.
// Default 1.
func Workers(n int) Option { return func(o *options) { o.workers = max(n, 1) } }

// Client makes the attacker send with c (net/http), for what its own
// client does not do: HTTP/2, proxies, a custom transport. Default (nil):
// the attacker's own HTTP/1.1 client, lean enough that its cost stays
// small beside the target's: a keep-alive connection per request in
// flight, the Timeout per request, no redirects followed, no
// compression asked for. Timeout does not apply to c; c.Timeout does.
func Client(c *http.Client) Option { return func(o *options) { o.client = c } }

// Timeout bounds one request of the attacker's own client (dialling,
// writing and reading the whole answer); values below 1 mean
// DefaultTimeout. It does not apply to a Client given as an option.
func Timeout(d time.Duration) Option {
	return func(o *options) {
		o.timeout = d
		if d <= 0 {
			o.timeout = DefaultTimeout
		}
	}
}

// Shard makes the attacker run shard i of n (from 0): every n-th slot of
// the schedule, starting at slot i, so n machines share one schedule. Run
// reports a shard's requested rate as its 1/n share. An i or n out of
// range (n < 1, i < 0 or i >= n) leaves the setting as it was. Default 0
// of 1.
func Shard(i, n int) Option {
	return func(o *options) {
		if n >= 1 && i >= 0 && i < n {
			o.shard, o.of = uint64(i), uint64(n)
		}
	}
}

// NewAttacker returns an Attacker configured by opts.
func NewAttacker(opts ...Option) *Attacker {
	o := options{maxInFlight: DefaultMaxInFlight, workers: 1, of: 1, timeout: DefaultTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	a := &Attacker{options: o, stop: make(chan struct{})}
	a.stopCtx, a.cancel = context.WithCancel(context.Background())
	a.abortCtx, a.abortFn = context.WithCancel(context.Background())
	if a.client == nil {
		a.conns = newConnPool(max(a.maxInFlight, a.workers), h1.Options{Timeout: a.timeout, Context: a.abortCtx})
	}
	return a
}

// Stop ends the attack: no new request is sent, those in flight finish
// and the results channel closes. It reports whether this call stopped it.
func (a *Attacker) Stop() bool {
	done := false
	a.stopOnce.Do(func() {
		a.stopped.Store(true)
		close(a.stop)
		a.cancel()
		done = true
	})
	return done
}

// Attack sends requests from src for duration d and returns their
// results, which the caller must drain. With a Pacer it runs open loop:
// request n is sent when the schedule says, whatever happened to earlier
// ones, and latency is measured from that intended moment; a slot that
// comes due while MaxInFlight requests are in flight is dropped. With a
// nil Pacer it runs closed loop with Workers. The channel closes when the
// run ends, ctx is done or Stop is called, after every request in flight
// has finished.
func (a *Attacker) Attack(ctx context.Context, src Source, p Pacer, d time.Duration) <-chan *Result {
	out := make(chan *Result, 4096)
	go func() {
		defer close(out)
		if a.conns != nil {
			defer a.conns.closeIdle()
		}
		if p == nil {
			a.closedLoop(ctx, src, d, out)
		} else {
			a.openLoop(ctx, src, p, d, out)
		}
	}()
	return out
}

func (a *Attacker) openLoop(ctx context.Context, src Source, p Pacer, d time.Duration, out chan<- *Result) {
	sem := make(chan struct{}, a.maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	start := a.scheduleStart()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var prev time.Duration
	for slot := a.shard; ; slot += a.of {
		due, ok := Due(p, slot, prev, d)
		if !ok {
			return
		}
		prev = due
		intended := start.Add(due)
		if wait := time.Until(intended); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-a.stop:
				return
			case <-ctx.Done():
				return
			}
		} else if a.stopped.Load() || ctx.Err() != nil {
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			out <- &Result{Seq: slot, Intended: intended, Dropped: true}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if a.chaos != nil {
				a.chaosHit(ctx, src, slot, intended, out)
				return
			}
			out <- a.hit(ctx, src, slot, intended)
		}()
	}
}

func (a *Attacker) closedLoop(ctx context.Context, src Source, d time.Duration, out chan<- *Result) {
	var wg sync.WaitGroup
	var next atomic.Uint64
	deadline := time.Now().Add(d)
	for range a.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !a.stopped.Load() && ctx.Err() == nil {
				// One clock read: the end of the run, and the moment this
				// request was due.
				now := time.Now()
				if !now.Before(deadline) {
					return
				}
				slot := a.shard + next.Add(1)*a.of - a.of
				if a.chaos != nil {
					a.chaosHit(ctx, src, slot, now, out)
					continue
				}
				out <- a.hit(ctx, src, slot, now)
			}
		}()
	}
	wg.Wait()
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, DefaultMaxBody); return &b }}

// hit builds, sends and measures one request.
func (a *Attacker) hit(ctx context.Context, src Source, slot uint64, intended time.Time) *Result {
	r := &Result{Seq: slot, Intended: intended}
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	if ws, ok := src.(wireSource); ok && a.conns != nil {
		w := wirePool.Get().(*wireRequest)
		defer putWire(w)
		if err := ws.wire(slot, w); err != nil {
			r.Sent = time.Now()
			r.ErrorKind, r.Error = ErrBuild, err.Error()
			return r
		}
		a.send(w, r, intended)
		return r
	}
	// In-flight requests finish after Stop and after ctx is done: only the
	// client timeout or Abort ends a request in flight.
	req, err := src.Request(a.abortCtx, slot)
	if err != nil {
		r.Sent = time.Now()
		r.ErrorKind, r.Error = ErrBuild, err.Error()
		return r
	}
	a.do(req, r, intended)
	return r
}

// do sends req and measures it into r, from intended.
func (a *Attacker) do(req *http.Request, r *Result, intended time.Time) {
	if a.conns != nil {
		w := wirePool.Get().(*wireRequest)
		defer putWire(w)
		if err := a.conns.wireOf(req, w); err != nil {
			r.ID = req.Header.Get(sim.RequestIDHeader)
			r.Sent = time.Now()
			r.ErrorKind, r.Error = ErrBuild, err.Error()
			return
		}
		a.send(w, r, intended)
		return
	}
	r.ID = req.Header.Get(sim.RequestIDHeader)
	if a.keepRequests {
		var err error
		if r.Request, err = captureRequest(req); err != nil {
			r.Sent = time.Now()
			r.ErrorKind, r.Error = ErrBuild, err.Error()
			return
		}
	}
	r.BytesOut = max(req.ContentLength, 0)
	r.Sent = time.Now()
	resp, err := a.client.Do(a.abortable(req))
	if err != nil {
		end := time.Now()
		r.Uncorrected, r.Latency = end.Sub(r.Sent), end.Sub(intended)
		r.ErrorKind, r.Error = ErrorKind(err), err.Error()
		return
	}
	r.Status = resp.StatusCode
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	n, _ := io.ReadFull(resp.Body, buf)
	rest, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	end := time.Now()
	r.BytesIn = int64(n) + rest
	r.Uncorrected, r.Latency = end.Sub(r.Sent), end.Sub(intended)
	if err != nil {
		r.ErrorKind, r.Error = ErrorKind(err), err.Error()
		return
	}
	answered(r, buf[:n])
}

// send sends w with the attacker's own client and measures it into r,
// from intended.
func (a *Attacker) send(w *wireRequest, r *Result, intended time.Time) {
	r.ID = w.req.Header.Get(sim.RequestIDHeader)
	if a.keepRequests {
		r.Request = w.capture()
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	c := a.conns.get()
	r.Sent = time.Now()
	resp, err := c.DoAt(r.Sent, &w.req, buf)
	end := time.Now()
	a.conns.put(c)
	r.Status, r.BytesIn, r.BytesOut = resp.Status, resp.BodyLen, resp.BytesOut
	r.Uncorrected, r.Latency = end.Sub(r.Sent), end.Sub(intended)
	if err != nil {
		r.ErrorKind, r.Error = ErrorKind(err), err.Error()
		if a.abortCtx.Err() != nil {
			r.ErrorKind = ErrAborted
		}
		return
	}
	answered(r, buf[:resp.Kept])
}

// answered fills r from the first bytes of its answer's body: the
// failure body of a non-2xx answer, the triggered ids of a 2xx one.
func answered(r *Result, body []byte) {
	if len(body) == 0 {
		return
	}
	if !r.OK() {
		r.Body = append([]byte(nil), body[:min(len(body), MaxFailureBody)]...)
		return
	}
	if t := gjson.GetBytes(body, "triggered"); t.IsArray() {
		r.Triggered = []string{}
		for _, id := range t.Array() {
			r.Triggered = append(r.Triggered, id.String())
		}
	}
}

// chaosHit sends slot's delivery under a.chaos: its attempts and its
// copy, each a Result on out.
func (a *Attacker) chaosHit(ctx context.Context, src Source, slot uint64, intended time.Time, out chan<- *Result) {
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	c := a.chaos
	seq := c.Order(slot)
	var first signer.Payload
	var err error
	if ps, ok := src.(payloadSource); ok {
		first, err = ps.payload(seq)
	} else {
		var req *http.Request
		if req, err = src.Request(context.WithoutCancel(ctx), seq); err == nil {
			first, err = sim.RequestPayload(req)
		}
	}
	if err != nil {
		out <- &Result{Seq: slot, Intended: intended, Sent: time.Now(), ErrorKind: ErrBuild, Error: err.Error(), Reordered: seq != slot}
		return
	}
	// A cancelled ctx or Stop ends the waits between attempts; the
	// Results already sent tell what happened.
	wait, cancel := context.WithCancel(a.stopCtx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	_ = c.Deliver(wait, seq, first, func(req *http.Request, at sim.Attempt) (string, bool) {
		due := intended
		if at.N > 1 || at.Duplicate {
			due = at.Due
		}
		r := &Result{Seq: slot, Intended: due, Duplicate: at.Duplicate, Reordered: seq != slot}
		if c.Retry != nil && !at.Duplicate {
			r.Attempt = at.N
		}
		a.do(req, r, due)
		reason, failed := retryReason(r)
		r.GaveUp = failed && at.Last && c.Retry != nil && !at.Duplicate
		out <- r
		return reason, failed
	})
}

// retryReason says whether r failed, as sim.Failed does for Send.
func retryReason(r *Result) (string, bool) {
	switch r.ErrorKind {
	case "":
		if r.OK() {
			return "", false
		}
		return sim.ReasonHTTPError, true
	case ErrTimeout:
		return sim.ReasonTimeout, true
	case ErrRefused, ErrReset, ErrDNS, ErrTLS:
		return sim.ReasonConnectionFailed, true
	}
	return sim.ReasonUnknown, true
}
