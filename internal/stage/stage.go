// Package stage is the contract between the reference ingress (package
// sim) and what replaces or wraps its stages: the profiles in sim and the
// faults in internal/fault.
//
// A request passes through seven steps in order — Route, Read, Respond,
// Verify, Match, Deliver, Answer — each a Step over one Call, with an
// eighth, Dedup, between Verify and Match in a profile that has it. A step that
// answers the request itself returns false, and the steps after it do not
// run. Steps reach the three decisions a fault most often bends (is a
// method allowed, does a filter match, does a payload verify) and the hand
// off of one delivery through the Stages value, never directly, so that a
// fault can replace one of them for every step that uses it.
package stage

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// PathPrefix is where endpoints are served: an endpoint with id X is at
// /hooks/X.
const PathPrefix = "/hooks/"

// A Step is one stage of the pipeline. It returns false when it has
// answered the request and the pipeline ends.
type Step func(c *Call) bool

// Stages is a profile: the steps and the decisions they share.
// Steps call the decisions through the Stages value they were built with,
// so a wrapper installed later is seen by every step.
type Stages struct {
	Route, Read, Respond, Verify, Match, Deliver, Answer Step
	// Dedup, if set, runs between Verify and Match: it answers a delivery
	// the endpoint has already taken (see Endpoint.Dedup).
	Dedup Step

	// Allow reports whether the ingress serves a method.
	Allow func(method string) bool
	// Filter reports whether a request filter matches the call's request.
	Filter func(c *Call, f *Filter) bool
	// Check verifies a payload against the call's endpoint; nil error
	// means verified.
	Check func(c *Call, p signer.Payload) error
	// Send hands one delivery of the call's request to a trigger.
	Send func(c *Call, t *Trigger)
	// Drain, if set, waits until the deliveries the stages hold outside
	// the ingress's deliverer (a fault's own queue) for requests answered
	// before the call have been made or dropped, or ctx is done (its
	// error). A change that holds deliveries of its own sets it, calling
	// the Drain it replaces. It may be called after the ingress is closed.
	Drain func(ctx context.Context) error
}

// Run passes c through the steps in order until one answers.
func (s *Stages) Run(c *Call) {
	for _, step := range [...]Step{s.Route, s.Read, s.Respond, s.Verify, s.Dedup, s.Match, s.Deliver, s.Answer} {
		if step != nil && !step(c) {
			return
		}
	}
}

// A Call is one request on its way through the stages. Route sets
// Endpoint, Read sets Req, Respond may set Early, Verify sets
// Verification, Match sets Matched.
type Call struct {
	W        http.ResponseWriter
	R        *http.Request
	Received time.Time
	// Now is the ingress's clock.
	Now func() time.Time
	// InFlight counts the requests being served, this one included.
	InFlight int64
	// Lookup returns the endpoint served under an id, or nil.
	Lookup func(id string) *Endpoint

	Endpoint *Endpoint
	Req      matcher.Request
	// Scan is Req's body as every filter of the call reads it, built by
	// the first filter that reads the body (Filter through
	// RequestFilter.MatchScan) and shared by the rest. A change that
	// gives a filter another body needs nothing more: a Scan rebuilds
	// itself for a body other than the one it was built for.
	Scan         matcher.Scan
	Early        *Response
	Verification Verification
	Matched      []*Trigger
	// Sent counts deliveries handed off.
	Sent int
	// HostAdded says that Read added Host to R.Header itself, which
	// Req.Header then is, rather than copying the headers: the ingress
	// takes it out again when the request is answered, so whatever keeps
	// Req.Header past the answer (a recorded delivery, a trace, a late
	// fault) keeps a copy.
	HostAdded bool
	// BodyBuf, when Read set it, is the reused buffer Req.Body is in: the
	// ingress takes it back when the request is answered, so whatever
	// keeps Req.Body past the answer keeps a copy.
	BodyBuf *[]byte
	// Note says, for the log line, how the request ended.
	Note string
}

// A Verification is the verdict on the call's signature.
type Verification struct {
	// Verified reports a valid signature. False with an empty Reason means
	// the endpoint verifies nothing.
	Verified bool
	// Reason says why verification failed; it never holds a secret.
	Reason string
}

// An Endpoint is an endpoint spec compiled for serving. It is shared by
// every request and must not be changed; a wrapper that needs another
// endpoint for one call copies it.
type Endpoint struct {
	ID      string
	MaxBody int64
	// Verifier is nil when the endpoint verifies nothing. Scheme, Secrets
	// and VerifyOptions are what it was built from.
	Verifier      *signer.Verifier
	Scheme        signer.Scheme
	Secrets       signer.KeySet
	VerifyOptions []signer.Option
	// Respond is nil without respondWith.
	Respond  *Responder
	Triggers []Trigger
	// Dedup is nil unless the endpoint de-duplicates deliveries (a spec's
	// dedup field).
	Dedup *Dedup
	// State is what the profile keeps for the endpoint, built once when the
	// endpoint is added (the triggerdev-v2 profile's dispatchers and event
	// ids); nil for a profile that keeps nothing.
	State any
}

// A Dedup is an endpoint's memory of the delivery ids it has taken.
type Dedup struct {
	// Source says where ID looks ("header:X-Github-Delivery", "body:id").
	Source string
	// ID returns the delivery id of a request, "" when it carries none.
	ID func(matcher.Request) string
	// First records id as taken at the given time and reports whether it
	// was not taken before within the endpoint's window. It is safe for
	// concurrent use: of two calls with one id, one alone gets true.
	First func(id string, at time.Time) bool
}

// A Filter is a compiled request filter and the JSON it came from.
type Filter struct {
	*matcher.RequestFilter
	Raw json.RawMessage
}

// A Trigger is one trigger of an endpoint.
type Trigger struct {
	ID string
	// Filter is nil for a trigger woken by every request.
	Filter *Filter
	// Deliver is the URL deliveries are posted to; "" records only.
	Deliver string
}

// A Responder is a compiled respondWith.
type Responder struct {
	Filter *Filter
	Skip   bool
	// Render builds the declared response for a request.
	Render func(matcher.Request) (*Response, error)
}

// A Response is an answer declared by respondWith.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Write sends the response.
func (r *Response) Write(w http.ResponseWriter) {
	for k, vs := range r.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(r.Status)
	w.Write(r.Body)
}

// EndpointID returns the endpoint id in a request path, and false when the
// path is not PathPrefix followed by one segment.
func EndpointID(path string) (string, bool) {
	id, ok := strings.CutPrefix(path, PathPrefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// Payload is what verification reads of the call's request.
func Payload(c *Call) signer.Payload {
	return signer.Payload{Method: c.Req.Method, URL: c.Req.URL, Header: c.Req.Header, Body: c.Req.Body}
}

// WriteError writes a JSON error body {"error": msg, "reason": reason}.
func WriteError(w http.ResponseWriter, status int, msg, reason string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Error  string `json:"error"`
		Reason string `json:"reason,omitempty"`
	}{msg, reason})
	w.Write(append(b, '\n'))
}

// Wrap is set by package sim: it adds a change of stages to a *sim.Config
// (passed as any, since this package cannot name it). Each change runs,
// in order, on the stages of every Ingress built from that Config. It is
// how internal/fault builds a broken reference without sim exporting a
// way to.
var Wrap func(cfg any, change func(*Stages))
