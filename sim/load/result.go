package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// A Result is what happened to one schedule slot: a request sent and its
// answer, or a slot dropped because too many requests were in flight.
type Result struct {
	// Seq numbers the slot from 0 (shards number theirs i, i+n, i+2n …).
	Seq uint64 `json:"seq"`
	// ID is the request's sim.RequestIDHeader value.
	ID string `json:"id,omitempty"`
	// Intended is when the schedule said to send; Sent when the request
	// was sent (zero for a dropped slot).
	Intended time.Time `json:"intended"`
	Sent     time.Time `json:"sent,omitzero"`
	// Latency runs from Intended to the end of the response: what a sender
	// on that schedule experienced, corrected for coordinated omission.
	Latency time.Duration `json:"latency_ns"`
	// Uncorrected runs from Sent to the end of the response.
	Uncorrected time.Duration `json:"uncorrected_ns"`
	// Status is the response status; 0 when no response came.
	Status int `json:"status"`
	// ErrorKind classifies a failure (see ErrorKind); Error is its text.
	ErrorKind string `json:"error_kind,omitempty"`
	Error     string `json:"error,omitempty"`
	BytesOut  int64  `json:"bytes_out"`
	BytesIn   int64  `json:"bytes_in"`
	// Body holds the first MaxFailureBody bytes of the response body of
	// an answer that is not 2xx, so a report can show why requests failed;
	// nil for a 2xx answer.
	Body []byte `json:"body,omitempty"`
	// Dropped reports a slot that was not sent: max in flight was reached.
	Dropped bool `json:"dropped,omitempty"`
	// Triggered lists the trigger ids the answer named (the reference
	// ingress's {"triggered": […]}), the deliveries to expect.
	Triggered []string `json:"triggered,omitzero"`
	// Under chaos (WithChaos): Attempt numbers a delivery's attempts (1
	// the first, 2… the provider-style retries; 0 without retries);
	// Duplicate marks the byte-for-byte copy of attempt 1; Reordered a
	// slot that sent another delivery than its own (Seq); GaveUp the last
	// attempt of a delivery whose every attempt failed.
	Attempt   int  `json:"attempt,omitempty"`
	Duplicate bool `json:"duplicate,omitempty"`
	Reordered bool `json:"reordered,omitempty"`
	GaveUp    bool `json:"gave_up,omitempty"`
	// Request is the request as sent, when the attacker was given
	// KeepRequests(true); nil otherwise and for a dropped slot.
	Request *Request `json:"request,omitempty"`
}

// extra reports a request beyond a slot's first: a retry or a copy.
func (r *Result) extra() bool { return r.Attempt > 1 || r.Duplicate }

// OK reports a 2xx answer.
func (r *Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// An Encoder writes Results as JSON lines. It buffers: call Flush.
type Encoder struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &Encoder{w: bw, enc: json.NewEncoder(bw)}
}

// Encode writes one Result as a line.
func (e *Encoder) Encode(r *Result) error { return e.enc.Encode(r) }

// Flush writes what is buffered.
func (e *Encoder) Flush() error { return e.w.Flush() }

// A Decoder reads Results written by an Encoder.
type Decoder struct {
	s    *bufio.Scanner
	line int
	name string
}

// NewDecoder returns a Decoder reading from r; name is used in errors.
func NewDecoder(r io.Reader, name string) *Decoder {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 16<<20)
	return &Decoder{s: s, name: name}
}

// Decode reads the next Result; io.EOF at the end. A bad line is an error
// that names the file and the line.
func (d *Decoder) Decode(r *Result) error {
	for d.s.Scan() {
		d.line++
		b := d.s.Bytes()
		if len(b) == 0 {
			continue
		}
		*r = Result{}
		if err := json.Unmarshal(b, r); err != nil {
			return fmt.Errorf("%s:%d: not a result: %v", d.name, d.line, err)
		}
		return nil
	}
	if err := d.s.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", d.name, d.line+1, err)
	}
	return io.EOF
}

// Line returns the number of the line the last Decode read (from 1).
func (d *Decoder) Line() int { return d.line }
