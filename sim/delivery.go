package sim

import (
	"context"
	"strings"
	"sync"
	"time"
)

// RequestIDHeader is the header a sender sets to a unique value on every
// request so that deliveries can be matched to the request that caused
// them, whatever the implementation under test. The conformance suite and
// the load generator set it; an ingress needs only to pass the request's
// headers through.
const RequestIDHeader = "Hooklab-Request-Id"

// DeliveryIDHeader carries a delivery's id on every attempt to POST its
// envelope; it equals the envelope's "id" field. A retry of a delivery has
// the same id, a second delivery has another, so a receiver can tell one
// from the other (see Recorder).
const DeliveryIDHeader = "Hooklab-Delivery-Id"

// DeliveryAttemptHeader carries the attempt number, from 1, of the POST of
// a delivery envelope.
const DeliveryAttemptHeader = "Hooklab-Delivery-Attempt"

// A Delivery is what a trigger received: the envelope an ingress POSTs, as
// JSON, to a trigger's delivery URL. It is the neutral observation format
// for fan-out, in any language (see conformance/PROTOCOL.md).
type Delivery struct {
	// ID identifies the delivery: the same on every attempt to POST it
	// (and in its DeliveryIDHeader), different for every other delivery.
	// Empty means the ingress gave no id; every envelope then counts as a
	// delivery of its own.
	ID string `json:"id,omitempty"`
	// Endpoint and Trigger are the spec ids.
	Endpoint string `json:"endpoint"`
	Trigger  string `json:"trigger"`
	// Request is the request that caused the delivery, as received.
	Request DeliveredRequest `json:"request"`
	// Verification is the ingress's verification result for the request.
	Verification Verification `json:"verification"`
	// ReceivedAt is when the ingress received the request; DeliveredAt when
	// it handed the delivery on, the same on every attempt (the envelope is
	// made once).
	ReceivedAt  time.Time `json:"receivedAt"`
	DeliveredAt time.Time `json:"deliveredAt"`
	// RecordedAt is when a Recorder recorded the delivery; it is not part
	// of the envelope.
	RecordedAt time.Time `json:"-"`
}

// RequestID returns the request's RequestIDHeader value.
func (d *Delivery) RequestID() string {
	if vs := d.Request.Header[RequestIDHeader]; len(vs) > 0 {
		return vs[0]
	}
	// Implementations in other languages may send names in any case.
	for k, vs := range d.Request.Header {
		if len(vs) > 0 && strings.EqualFold(k, RequestIDHeader) {
			return vs[0]
		}
	}
	return ""
}

// A DeliveredRequest is a received request. Body is the exact bytes,
// base64 in JSON.
type DeliveredRequest struct {
	Method string              `json:"method"`
	URL    string              `json:"url"`
	Header map[string][]string `json:"headers"`
	Body   []byte              `json:"body"`
}

// A Verification is an ingress's verdict on a request's signature.
type Verification struct {
	// Verified reports a valid signature. False with an empty Reason means
	// the endpoint verifies nothing.
	Verified bool `json:"verified"`
	// Reason says why verification failed; it never holds a secret.
	Reason string `json:"reason,omitempty"`
}

// A Recorder keeps deliveries in memory, in arrival order. It tells a
// retry from a delivery by Delivery.ID: an envelope whose id was recorded
// before is a retry, counted by Retries and not kept again; envelopes with
// different ids (or none) are different deliveries, so a delivery made
// twice stays visible. The zero value is ready to use; a Recorder is safe
// for concurrent use.
type Recorder struct {
	// Now stamps RecordedAt; nil means time.Now. Set it before use.
	Now func() time.Time

	mu      sync.Mutex
	ds      []Delivery
	ids     map[string]struct{}
	retries int
	notify  chan struct{}
}

// Record adds d, stamped with RecordedAt, and reports true; or, when a
// delivery with d's (non-empty) ID was recorded before, counts a retry and
// reports false.
func (r *Recorder) Record(d Delivery) bool {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	d.RecordedAt = now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if d.ID != "" {
		if _, ok := r.ids[d.ID]; ok {
			r.retries++
			return false
		}
		if r.ids == nil {
			r.ids = map[string]struct{}{}
		}
		r.ids[d.ID] = struct{}{}
	}
	r.ds = append(r.ds, d)
	if r.notify != nil {
		close(r.notify)
		r.notify = nil
	}
	return true
}

// Retries returns how many envelopes repeated a delivery already recorded.
func (r *Recorder) Retries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retries
}

// Deliveries returns a copy of every delivery recorded so far.
func (r *Recorder) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.ds...)
}

// From returns a copy of the deliveries recorded after the first i.
func (r *Recorder) From(i int) []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i >= len(r.ds) {
		return nil
	}
	return append([]Delivery(nil), r.ds[i:]...)
}

// Len returns how many deliveries were recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ds)
}

// Reset forgets every delivery, and the retries counted.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.ds, r.ids, r.retries = nil, nil, 0
	r.mu.Unlock()
}

// Wait blocks until at least n deliveries have been recorded, or ctx is
// done; it returns the deliveries recorded by then and ctx's error if it
// gave up.
func (r *Recorder) Wait(ctx context.Context, n int) ([]Delivery, error) {
	for {
		r.mu.Lock()
		if len(r.ds) >= n {
			ds := append([]Delivery(nil), r.ds...)
			r.mu.Unlock()
			return ds, nil
		}
		if r.notify == nil {
			r.notify = make(chan struct{})
		}
		ch := r.notify
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return r.Deliveries(), ctx.Err()
		}
	}
}
