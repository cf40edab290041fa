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

// A Delivery is what a trigger received: the envelope an ingress POSTs, as
// JSON, to a trigger's delivery URL. It is the neutral observation format
// for fan-out, in any language (see conformance/PROTOCOL.md).
type Delivery struct {
	// Endpoint and Trigger are the spec ids.
	Endpoint string `json:"endpoint"`
	Trigger  string `json:"trigger"`
	// Request is the request that caused the delivery, as received.
	Request DeliveredRequest `json:"request"`
	// Verification is the ingress's verification result for the request.
	Verification Verification `json:"verification"`
	// ReceivedAt is when the ingress received the request; DeliveredAt when
	// it sent this envelope.
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

// A Recorder keeps deliveries in memory, in arrival order. The zero value
// is ready to use; a Recorder is safe for concurrent use.
type Recorder struct {
	// Now stamps RecordedAt; nil means time.Now. Set it before use.
	Now func() time.Time

	mu     sync.Mutex
	ds     []Delivery
	notify chan struct{}
}

// Record adds d, stamped with RecordedAt.
func (r *Recorder) Record(d Delivery) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	d.RecordedAt = now()
	r.mu.Lock()
	r.ds = append(r.ds, d)
	if r.notify != nil {
		close(r.notify)
		r.notify = nil
	}
	r.mu.Unlock()
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

// Reset forgets every delivery.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.ds = nil
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
