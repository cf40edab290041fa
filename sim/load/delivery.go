package load

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/sim"
)

// DefaultDeliveryTimeout is how long Deliveries waits for an expected
// delivery before it counts it as lost.
const DefaultDeliveryTimeout = 10 * time.Second

// Deliveries measures end to end: it is a sink (an http.Handler taking
// sim.Delivery envelopes) that matches each delivery to the request that
// caused it, by sim.RequestIDHeader, and records the time from sending to
// delivery per trigger, counting lost and duplicated deliveries. An
// envelope whose delivery id (its "id", else its sim.DeliveryIDHeader) was
// seen in the last Timeout is a retry: answered 204 and counted as such,
// never as a duplicate; two envelopes with different ids (or none) for one
// request and trigger are a duplicate. A
// request's expected triggers are those its answer named ({"triggered":
// […]}, as the reference ingress answers), or else Expect deliveries from
// any trigger. Memory is bounded by the requests of the last Timeout. It
// is safe for concurrent use.
type Deliveries struct {
	// Expect is how many deliveries a 2xx answer that names no triggers
	// stands for; 0 means 1. Set it before use.
	Expect int
	// Timeout is how long to wait for a delivery; 0 means
	// DefaultDeliveryTimeout. Set it before use.
	Timeout time.Duration

	mu        sync.Mutex
	pending   map[string]*pend
	done      map[string]time.Time // completed ids, kept for Timeout to spot duplicates
	seen      map[string]time.Time // delivery ids, kept for Timeout to spot retries
	latency   *Histogram
	delivered uint64
	lost      uint64
	dup       uint64
	retries   uint64
	stray     uint64
	lastSweep time.Time
}

type pend struct {
	sent    time.Time // zero until the result is registered
	first   time.Time // when the entry was made
	want    map[string]int
	wantAny int
	got     map[string]int
	early   []arrival // deliveries that came before the result
}

type arrival struct {
	trigger string
	at      time.Time
}

// NewDeliveries returns an empty Deliveries.
func NewDeliveries() *Deliveries {
	return &Deliveries{pending: map[string]*pend{}, done: map[string]time.Time{}, seen: map[string]time.Time{}, latency: NewHistogram()}
}

func (d *Deliveries) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultDeliveryTimeout
}

// Sent registers a result: for a 2xx answer, the deliveries to expect.
// Only the first 2xx answer for a request id counts: a retry or a
// duplicate of the request (the same id) adds no expected delivery, so
// a receiver that delivers it again is counted as doubling.
func (d *Deliveries) Sent(r *Result) {
	if r.Dropped || !r.OK() || r.ID == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// A request sent again with the same id (a retry after a failure, a
	// duplicate) expects nothing more: its deliveries are the first 2xx
	// answer's, and any more are doubled.
	if _, ok := d.done[r.ID]; ok {
		return
	}
	p := d.pending[r.ID]
	if p == nil {
		p = &pend{first: time.Now(), got: map[string]int{}}
		d.pending[r.ID] = p
	} else if !p.sent.IsZero() {
		return
	}
	p.sent = r.Sent
	if r.Triggered != nil {
		p.want = map[string]int{}
		for _, t := range r.Triggered {
			p.want[t]++
		}
	} else {
		p.wantAny = max(d.Expect, 1)
	}
	for _, a := range p.early {
		d.latency.Record(a.at.Sub(r.Sent))
	}
	p.early = nil
	d.settle(r.ID, p)
	d.sweep(time.Now())
}

// ServeHTTP takes one delivery envelope.
func (d *Deliveries) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, sim.DefaultSinkMaxBody+1))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "want a POSTed delivery envelope", http.StatusBadRequest)
		return
	}
	trigger := gjson.GetBytes(body, "trigger").String()
	deliveryID := gjson.GetBytes(body, "id").String()
	if deliveryID == "" {
		deliveryID = r.Header.Get(sim.DeliveryIDHeader)
	}
	id := ""
	gjson.GetBytes(body, "request.headers").ForEach(func(k, v gjson.Result) bool {
		if strings.EqualFold(k.String(), sim.RequestIDHeader) {
			id = v.Get("0").String()
			return false
		}
		return true
	})
	if trigger == "" {
		http.Error(w, `not a delivery envelope: no "trigger"`, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	d.mu.Lock()
	defer d.mu.Unlock()
	if deliveryID != "" {
		if _, ok := d.seen[deliveryID]; ok {
			d.retries++
			return
		}
		d.seen[deliveryID] = now
	}
	if id == "" {
		d.stray++
		return
	}
	if _, ok := d.done[id]; ok {
		d.dup++
		return
	}
	p := d.pending[id]
	if p == nil {
		p = &pend{first: now, got: map[string]int{}}
		d.pending[id] = p
	}
	p.got[trigger]++
	if p.got[trigger] > 1 {
		d.dup++
		return
	}
	d.delivered++
	if p.sent.IsZero() {
		p.early = append(p.early, arrival{trigger, now})
		return
	}
	d.latency.Record(now.Sub(p.sent))
	d.settle(id, p)
}

// settle retires an entry whose expected deliveries all arrived.
func (d *Deliveries) settle(id string, p *pend) {
	if p.sent.IsZero() {
		return
	}
	if p.want != nil {
		for t := range p.want {
			if p.got[t] == 0 {
				return
			}
		}
		for t := range p.got {
			if _, ok := p.want[t]; !ok {
				return // a trigger the answer did not name: keep it for Close to judge
			}
		}
	} else {
		n := 0
		for _, c := range p.got {
			n += c
		}
		if n < p.wantAny {
			return
		}
	}
	delete(d.pending, id)
	d.done[id] = time.Now()
}

// sweep counts as lost what is older than the timeout, and forgets
// completed ids older than it; at most once a second.
func (d *Deliveries) sweep(now time.Time) {
	if now.Sub(d.lastSweep) < time.Second {
		return
	}
	d.lastSweep = now
	limit := now.Add(-d.timeout())
	for id, p := range d.pending {
		if p.first.Before(limit) {
			d.expire(p)
			delete(d.pending, id)
		}
	}
	for id, t := range d.done {
		if t.Before(limit) {
			delete(d.done, id)
		}
	}
	for id, t := range d.seen {
		if t.Before(limit) {
			delete(d.seen, id)
		}
	}
}

// expire counts what an entry still lacks as lost.
func (d *Deliveries) expire(p *pend) {
	switch {
	case p.sent.IsZero():
		// Deliveries for a request that never got a 2xx answer (or whose
		// result never came): not expected, so not lost.
		d.stray += uint64(len(p.early))
	case p.want != nil:
		for t, n := range p.want {
			if p.got[t] < n {
				d.lost += uint64(n - p.got[t])
			}
		}
	default:
		n := 0
		for _, c := range p.got {
			n += c
		}
		if n < p.wantAny {
			d.lost += uint64(p.wantAny - n)
		}
	}
}

// Close counts every delivery still missing as lost; call it after the
// grace period that follows the last request.
func (d *Deliveries) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, p := range d.pending {
		d.expire(p)
		delete(d.pending, id)
	}
}

// Pending reports how many requests still wait for a delivery.
func (d *Deliveries) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, p := range d.pending {
		if !p.sent.IsZero() {
			n++
		}
	}
	return n
}

// DeliveryMetrics are the end-to-end figures.
type DeliveryMetrics struct {
	// Latency runs from sending a request to a trigger's delivery.
	Latency   *Histogram `json:"latency"`
	Delivered uint64     `json:"delivered"`
	Lost      uint64     `json:"lost"`
	// Duplicated counts double deliveries: deliveries beyond the first of
	// a request id and trigger, each with a delivery id of its own (or
	// none); a receiver that does not deduplicate a request sent twice
	// (load's WithChaos duplicates and retries) delivers it twice.
	Duplicated uint64 `json:"duplicated"`
	// Retries counts envelopes that repeated a delivery id already seen:
	// the ingress retrying one delivery, not delivering twice.
	Retries uint64 `json:"retries"`
	// Stray counts deliveries for requests that were not expected to
	// cause any (no request id, or no 2xx answer).
	Stray uint64 `json:"stray"`
}

// Metrics returns a copy of the figures so far.
func (d *Deliveries) Metrics() *DeliveryMetrics {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := NewHistogram()
	h.Merge(d.latency)
	return &DeliveryMetrics{Latency: h, Delivered: d.delivered, Lost: d.lost, Duplicated: d.dup, Retries: d.retries, Stray: d.stray}
}

// Merge adds o to m.
func (m *DeliveryMetrics) Merge(o *DeliveryMetrics) {
	m.Latency.Merge(o.Latency)
	m.Delivered += o.Delivered
	m.Lost += o.Lost
	m.Duplicated += o.Duplicated
	m.Retries += o.Retries
	m.Stray += o.Stray
}
