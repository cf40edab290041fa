package sim

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// defaultDeliveryConcurrency is how many delivery POSTs an Ingress has in
// flight at most; it is also the most connections it keeps open to one
// host.
const defaultDeliveryConcurrency = 512

// defaultDeliveryQueue is how many deliveries wait for a free worker
// before handing on another blocks the request that causes it.
const defaultDeliveryQueue = 1024

// defaultDeliveryAttemptTimeout bounds one attempt to POST a delivery,
// from dialling to reading the answer.
const defaultDeliveryAttemptTimeout = 10 * time.Second

// defaultDeliveryMaxBackoff caps the wait between two attempts.
const defaultDeliveryMaxBackoff = 10 * time.Second

// errDelivererClosed is what enqueue returns once Close has begun.
var errDelivererClosed = errors.New("sim: deliverer closed")

// delivererConfig tunes a deliverer; a zero field means its default.
type delivererConfig struct {
	// Client posts the envelopes; nil means a client of the deliverer's
	// own on a transport sized for Concurrency. A given client is used as
	// is: its transport decides connection reuse.
	Client *http.Client
	// Concurrency is the most POSTs in flight (defaultDeliveryConcurrency).
	Concurrency int
	// Queue is how many accepted deliveries may wait for a worker, besides
	// those in flight or waiting to retry (defaultDeliveryQueue).
	Queue int
	// Attempts is the most POSTs of one delivery (DefaultDeliveryAttempts).
	Attempts int
	// Timeout bounds one attempt (defaultDeliveryAttemptTimeout).
	Timeout time.Duration
	// Backoff is the wait after the first failed attempt, before jitter
	// (DefaultDeliveryBackoff); it doubles after each further failure, up
	// to MaxBackoff (defaultDeliveryMaxBackoff). Jitter adds up to half.
	Backoff, MaxBackoff time.Duration
	// Now stamps DeliveredAt and the time part of delivery ids (time.Now).
	Now func() time.Time
	// Rand returns a number in [0, 1) for jitter (math/rand/v2's Float64).
	// It must be safe for concurrent use.
	Rand func() float64
	// IDSource gives the random part of delivery ids (crypto/rand).
	IDSource io.Reader
	// Log, if set, gets one line per delivery given up.
	Log *slog.Logger
	// Done, if set, is told how each delivery ended: delivered or given
	// up after its last attempt (not one dropped by Close).
	Done func(DeliveryOutcome)
}

// A deliverer is the one place deliveries are POSTed: a fixed pool of
// workers (the concurrency limit) over a shared keep-alive transport, fed
// by a bounded queue. Workers start with the first deliveries, one per
// delivery up to the limit, so an Ingress that delivers nothing runs none.
//
// Back-pressure: enqueue blocks while Queue+Concurrency deliveries are
// accepted and not yet done (waiting, in flight, or waiting to retry), so
// the request that causes a delivery waits for room rather than the
// deliverer growing without bound or dropping what it accepted. The
// request's context ends the wait. Blocking rather than refusing keeps
// the strict profile's promise that every match is delivered, and slows
// senders to the pace of the slowest trigger, as a real queue would.
//
// Retries: an attempt fails on a transport error, a timeout, or a non-2xx
// answer; only then, after a wait of Backoff×2^(n-1) (capped at
// MaxBackoff) plus a random jitter of up to half of it, is the same
// envelope, with the same id, POSTed again, up to Attempts times. A
// delivery waiting to retry holds no worker.
//
// The zero value is not usable; newDeliverer makes one, Close ends it.
type deliverer struct {
	cfg       delivererConfig
	client    *http.Client
	transport *http.Transport // nil when cfg.Client was given

	ctx    context.Context
	cancel context.CancelFunc

	slots   chan struct{} // one per accepted delivery not yet done
	ready   chan *job     // deliveries due for an attempt
	workers sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	started int                  // workers started
	timers  map[*job]*time.Timer // deliveries waiting to retry
	// Flush bookkeeping: every accepted delivery belongs to the epoch
	// current when it was accepted; a Flush starts a new epoch and waits
	// until no delivery of an earlier one is left.
	epoch   uint64
	open    map[uint64]int // epoch → deliveries accepted, not yet done
	flushes []flushWait
}

// A flushWait is a Flush waiting for the deliveries of epochs before
// epoch to be done.
type flushWait struct {
	epoch uint64
	done  chan struct{}
}

// A job is one delivery: its envelope, marshalled once.
type job struct {
	url, id           string
	endpoint, trigger string // for the log
	body              []byte
	attempt           int       // attempts made
	epoch             uint64    // see deliverer.epoch
	accepted          time.Time // when enqueue accepted it (only with Done)
}

// newDeliverer makes a deliverer; its workers start as deliveries come.
func newDeliverer(cfg delivererConfig) *deliverer {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = defaultDeliveryConcurrency
	}
	if cfg.Queue <= 0 {
		cfg.Queue = defaultDeliveryQueue
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultDeliveryAttempts
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultDeliveryAttemptTimeout
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultDeliveryBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = defaultDeliveryMaxBackoff
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.IDSource == nil {
		cfg.IDSource = crand.Reader
	}
	d := &deliverer{cfg: cfg, client: cfg.Client, timers: map[*job]*time.Timer{}, open: map[uint64]int{}}
	if d.client == nil {
		d.transport = newDeliveryTransport(cfg.Concurrency)
		d.client = &http.Client{Transport: d.transport}
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	capacity := cfg.Queue + cfg.Concurrency
	d.slots = make(chan struct{}, capacity)
	d.ready = make(chan *job, capacity) // never full: slots bound what is in it
	return d
}

// newDeliveryTransport is http.DefaultTransport's settings with keep-alive
// sized for n workers: up to n connections per host, all kept idle between
// deliveries, so a burst reuses them instead of dialling anew.
func newDeliveryTransport(n int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = n
	t.MaxIdleConnsPerHost = n
	t.MaxIdleConns = max(t.MaxIdleConns, n)
	return t
}

// enqueue accepts dv for delivery to url. It sets dv.ID (unless set) and
// dv.DeliveredAt (unless set), so that the caller's copy matches the
// envelope, marshals the envelope once and queues it; it blocks while the
// deliverer is full, until there is room (nil), ctx is done (ctx's error)
// or the deliverer is closed.
func (d *deliverer) enqueue(ctx context.Context, url string, dv *Delivery) error {
	if dv.DeliveredAt.IsZero() {
		dv.DeliveredAt = d.cfg.Now()
	}
	if dv.ID == "" {
		dv.ID = d.newID(dv.DeliveredAt)
	}
	body, err := json.Marshal(dv)
	if err != nil {
		return fmt.Errorf("sim: delivery %s: %w", dv.ID, err)
	}
	j := &job{url: url, id: dv.ID, endpoint: dv.Endpoint, trigger: dv.Trigger, body: body}
	if d.cfg.Done != nil {
		j.accepted = d.cfg.Now()
	}
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("sim: delivery %s not queued: %w", dv.ID, ctx.Err())
	case <-d.ctx.Done():
		return errDelivererClosed
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		<-d.slots
		return errDelivererClosed
	}
	j.epoch = d.epoch
	d.open[j.epoch]++
	d.ready <- j
	if d.started < d.cfg.Concurrency {
		d.started++
		d.workers.Go(d.work)
	}
	return nil
}

// newID returns a fresh delivery id made at: 32 hex digits, the first 12
// the milliseconds since 1970 (so ids sort by creation), the rest random.
func (d *deliverer) newID(at time.Time) string {
	// One allocation: the 16 bytes are made in the second half of the
	// buffer and hex-encoded over it from the front (byte i is read from
	// 16+i before 2i and 2i+1 are written, both below 16+i+1).
	buf := make([]byte, 32)
	b := buf[16:]
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	if _, err := io.ReadFull(d.cfg.IDSource, b[6:]); err != nil {
		// Never expected from crypto/rand; an id unique within the process
		// still lets receivers tell deliveries apart.
		binary.BigEndian.PutUint64(b[8:], idFallback.Add(1))
	}
	const digits = "0123456789abcdef"
	for i := 0; i < 16; i++ {
		c := buf[16+i]
		buf[2*i], buf[2*i+1] = digits[c>>4], digits[c&15]
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf)) // buf is not used again
}

// idFallback numbers ids whose IDSource failed.
var idFallback atomic.Uint64

// work runs one worker: one attempt at a time until Close.
func (d *deliverer) work() {
	for {
		select {
		case <-d.ctx.Done():
			return
		case j := <-d.ready:
			d.attempt(j)
		}
	}
}

// attempt POSTs j once and then finishes it or schedules its retry.
func (d *deliverer) attempt(j *job) {
	j.attempt++
	err := d.post(j)
	if err == nil {
		d.done(j, nil)
		d.finish(j)
		return
	}
	if j.attempt >= d.cfg.Attempts || d.ctx.Err() != nil {
		d.done(j, err)
		d.giveUp(j, err)
		return
	}
	wait := backoff(j.attempt, d.cfg.Backoff, d.cfg.MaxBackoff, d.cfg.Rand())
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.finishLocked(j)
		return
	}
	d.timers[j] = time.AfterFunc(wait, func() { d.retry(j) })
}

// retry puts j back in the ready queue once its backoff is over.
func (d *deliverer) retry(j *job) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.timers[j]; !ok {
		return // Close stopped it and finished j
	}
	delete(d.timers, j)
	if d.closed {
		d.finishLocked(j)
		return
	}
	d.ready <- j // never blocks: j holds a slot
}

// backoff is the wait after failed attempt n (from 1): w = base×2^(n-1),
// capped at limit, plus r×w/2 of jitter, so the wait lies in [w, 1.5w):
// never shorter than the configured backoff, growing with every failure
// until the cap, and spread out for deliveries that failed together. r is
// in [0, 1).
func backoff(n int, base, limit time.Duration, r float64) time.Duration {
	w := base
	for i := 1; i < n && w < limit; i++ {
		w *= 2
	}
	w = min(w, limit)
	return w + time.Duration(r*float64(w/2))
}

// post makes one attempt: nil on a 2xx answer.
func (d *deliverer) post(j *job) error {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url, bytes.NewReader(j.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(DeliveryIDHeader, j.id)
	req.Header.Set(DeliveryAttemptHeader, strconv.Itoa(j.attempt))
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	// Read a short answer to the end so that the connection is reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: status %d", hostOf(j.url), resp.StatusCode)
	}
	return nil
}

// done tells cfg.Done how j ended; err is nil when it was delivered.
func (d *deliverer) done(j *job, err error) {
	if d.cfg.Done == nil {
		return
	}
	o := DeliveryOutcome{ID: j.id, Endpoint: j.endpoint, Trigger: j.trigger, Delivered: err == nil, Attempts: j.attempt, Latency: d.cfg.Now().Sub(j.accepted)}
	if err != nil {
		// The URL may carry a token: name its host only.
		o.Err = strings.ReplaceAll(err.Error(), j.url, hostOf(j.url))
	}
	d.cfg.Done(o)
}

// giveUp finishes a delivery that will not be attempted again.
func (d *deliverer) giveUp(j *job, err error) {
	if d.cfg.Log != nil {
		// The URL may carry a token: log its host only.
		msg := strings.ReplaceAll(err.Error(), j.url, hostOf(j.url))
		d.cfg.Log.Warn("delivery failed", "endpoint", j.endpoint, "trigger", j.trigger, "id", j.id, "attempts", j.attempt, "err", msg)
	}
	d.finish(j)
}

func (d *deliverer) finish(j *job) {
	d.mu.Lock()
	d.finishLocked(j)
	d.mu.Unlock()
}

func (d *deliverer) finishLocked(j *job) {
	<-d.slots
	if d.open[j.epoch]--; d.open[j.epoch] > 0 {
		return
	}
	delete(d.open, j.epoch)
	// Release the Flushes that no longer wait for anything.
	oldest := d.epoch
	for e := range d.open { // a few epochs at most: one per Flush in progress
		oldest = min(oldest, e)
	}
	kept := d.flushes[:0]
	for _, f := range d.flushes {
		if f.epoch <= oldest {
			close(f.done)
		} else {
			kept = append(kept, f)
		}
	}
	d.flushes = kept
}

// Flush waits until every delivery enqueued before it was called is done
// (delivered or given up), or ctx is done; deliveries enqueued since do
// not hold it up.
func (d *deliverer) Flush(ctx context.Context) error {
	select {
	case <-d.flushPoint():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flushPoint starts a new epoch and returns a channel closed once every
// delivery of the earlier ones is done.
func (d *deliverer) flushPoint() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	done := make(chan struct{})
	if len(d.open) == 0 {
		close(done)
		return done
	}
	d.epoch++
	d.flushes = append(d.flushes, flushWait{epoch: d.epoch, done: done})
	return done
}

// Close cancels attempts in flight and retries to come, gives up what is
// still queued, and waits for the workers to end; enqueue then fails.
// Call Flush first to let queued deliveries go out.
func (d *deliverer) Close() error {
	d.cancel()
	d.mu.Lock()
	d.closed = true
	for j, t := range d.timers {
		t.Stop()
		delete(d.timers, j)
		d.finishLocked(j)
	}
	d.mu.Unlock()
	d.workers.Wait()
	for {
		select {
		case j := <-d.ready:
			d.finish(j)
		default:
			if d.transport != nil {
				d.transport.CloseIdleConnections()
			}
			return nil
		}
	}
}
