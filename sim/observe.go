package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hooklab/hooklab/matcher"
	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/signer"
)

// An Observer is told what the Ingress did with each request and, later,
// how each of its deliveries ended. It watches; it changes nothing: the
// stages run the same with or without one (Config.Observer nil costs
// nothing). Its methods are called from the goroutines serving requests
// and posting deliveries, concurrently, and must not block: a slow
// Observer slows the ingress.
type Observer interface {
	// Request is called once per request to an endpoint path, after the
	// answer is written. The Trace and what it points to are the
	// Observer's to keep; the ingress does not touch them again.
	Request(t *Trace)
	// Delivery is called once per delivery posted to a trigger's deliver
	// URL, when it is delivered or given up.
	Delivery(o DeliveryOutcome)
}

// A Trace is what happened to one request: where it went, how it was
// verified, whether respondWith answered it, which triggers it woke and
// why the others did not, and the deliveries it caused.
type Trace struct {
	// Endpoint is the endpoint id, "" when the path names none.
	Endpoint string
	// Received is when the request arrived; Took how long it was served.
	Received time.Time
	Took     time.Duration
	// Method, Path and Query are the request's; URL the one the sender
	// addressed (as signatures over the URL see it).
	Method, Path, Query, URL string
	// Header is the request's header (with Host); Body is the body as
	// read, nil when it was not read (404, 405, 413).
	Header http.Header
	Body   []byte
	// Status is the answer's status code; Note says how the request
	// ended, as the log line does.
	Status int
	Note   string
	// Verification is the signature check.
	Verification VerifyTrace
	// RespondWith is nil when the endpoint has no respondWith.
	RespondWith *RespondWithTrace
	// Triggers has one entry per trigger of the endpoint, in spec order;
	// empty when the request did not reach the match stage.
	Triggers []TriggerTrace
}

// A VerifyTrace is the signature check of one request.
type VerifyTrace struct {
	// Checked: the endpoint verifies and the request reached that stage.
	Checked bool
	// Verified reports a valid signature.
	Verified bool
	// Scheme is the signer scheme's name ("github", "stripe").
	Scheme string
	// SignatureHeader is the scheme's signature header ("" for a
	// signature in the body); Header is where the problem is, the header
	// or body field the signer named on failure (the signature header
	// when verified).
	SignatureHeader, Header string
	// Reason is the signer's typed reason ("timestamp too old", "no
	// matching signature"), Detail its short explanation, Error the
	// whole message as the sender got it. Empty when verified.
	Reason, Detail, Error string
	// Key is the index, newest first, of the key of the rotation set that
	// verified the request, -1 when none did or it is not known; Keys is
	// the size of the set.
	Key, Keys int
	// Timestamp is the signature's timestamp when the scheme has one and
	// the signer exposes it (zero otherwise); Skew is Received minus it.
	Timestamp time.Time
	Skew      time.Duration
}

// A RespondWithTrace says whether respondWith's filter matched.
type RespondWithTrace struct {
	Filter         json.RawMessage
	Matched        bool
	SkipTriggering bool
	// FirstMismatch is the first line of Explanation; both empty when
	// it matched.
	FirstMismatch, Explanation string
}

// A TriggerTrace is one trigger's verdict on a request.
type TriggerTrace struct {
	ID string
	// Filter is the trigger's filter as written; nil wakes on every
	// request.
	Filter json.RawMessage
	// Fired reports that the trigger was woken.
	Fired bool
	// FirstMismatch and Explanation say why the filter did not match
	// (matcher Explain): the first mismatch, and all of them one per line.
	// Empty when it fired, or when it was not evaluated (Evaluated false:
	// the request stopped before the match stage).
	FirstMismatch, Explanation string
	Evaluated                  bool
	// Deliveries are the ids of the deliveries the trigger was handed
	// for this request (one, or none when it did not fire).
	Deliveries []string
	// Posted reports that the trigger has a deliver URL, so that a
	// DeliveryOutcome follows for each delivery; otherwise deliveries are
	// recorded only.
	Posted bool
}

// A DeliveryOutcome is how one delivery to a deliver URL ended.
type DeliveryOutcome struct {
	ID, Endpoint, Trigger string
	// Delivered: a 2xx answer; otherwise Err says why it was given up.
	Delivered bool
	Err       string
	// Attempts is the POSTs made; Latency the time from being accepted to
	// the end of the last attempt.
	Attempts int
	Latency  time.Duration
}

// observe builds the Trace of call c, answered with status, and hands it
// to the observer. It runs after the stages and reads what they left in
// c; what the stages do not keep (the signer's typed error, the key that
// matched, filter explanations) it works out again, here, at the
// observer's cost only.
func (in *Ingress) observe(c *stage.Call, lw *loggedWriter) {
	r := c.R
	t := &Trace{
		Received: c.Received, Took: in.now().Sub(c.Received),
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, URL: requestURL(r),
		Status: lw.status, Note: c.Note,
		Verification: VerifyTrace{Key: -1},
	}
	if c.Req.Header != nil {
		t.Header, t.Body = c.Req.Header, c.Req.Body
		if c.HostAdded { // the request's own map, which the observer keeps
			t.Header = c.Req.Header.Clone()
		}
		if c.BodyBuf != nil { // a buffer the next request reuses
			t.Body = bytes.Clone(c.Req.Body)
		}
	} else {
		t.Header = r.Header.Clone()
		if r.Host != "" {
			t.Header.Set("Host", r.Host)
		}
	}
	e := c.Endpoint
	if e == nil {
		in.cfg.Observer.Request(t)
		return
	}
	t.Endpoint = e.ID
	read := c.Req.Header != nil
	if rw := e.Respond; rw != nil {
		rt := &RespondWithTrace{Filter: rw.Filter.Raw, SkipTriggering: rw.Skip}
		if read {
			ex := rw.Filter.Explain(c.Req)
			rt.Matched = ex == nil || len(ex.Mismatches) == 0
			if !rt.Matched {
				rt.FirstMismatch, rt.Explanation = ex.Mismatches[0].String(), ex.String()
			}
		}
		t.RespondWith = rt
	}
	if e.Verifier != nil && read {
		t.Verification = verifyTrace(c, e)
	}
	matched := map[*stage.Trigger]bool{}
	for _, m := range c.Matched {
		matched[m] = true
	}
	evaluated := lw.matchRan
	for i := range e.Triggers {
		tr := &e.Triggers[i]
		tt := TriggerTrace{ID: tr.ID, Fired: matched[tr], Posted: tr.Deliver != "", Evaluated: evaluated}
		if tr.Filter != nil {
			tt.Filter = tr.Filter.Raw
		}
		for _, s := range lw.sent {
			if s.trigger == tr.ID {
				tt.Deliveries = append(tt.Deliveries, s.id)
			}
		}
		if !tt.Fired && evaluated && tr.Filter != nil {
			if ex := tr.Filter.Explain(c.Req); ex != nil && len(ex.Mismatches) > 0 {
				tt.FirstMismatch, tt.Explanation = ex.Mismatches[0].String(), ex.String()
			}
		}
		t.Triggers = append(t.Triggers, tt)
	}
	in.cfg.Observer.Request(t)
}

// verifyTrace works out the signature check of c from the endpoint's
// verifier: the typed error the stage turned into a reason, and which key
// of a rotation set verified.
func verifyTrace(c *stage.Call, e *stage.Endpoint) VerifyTrace {
	v := VerifyTrace{Checked: true, Verified: c.Verification.Verified, Scheme: e.Scheme.Name, SignatureHeader: e.Scheme.Header,
		Header: e.Scheme.Header, Key: -1, Keys: len(e.Secrets)}
	if ts, ok := signedAt(e.Scheme, c.Req); ok {
		v.Timestamp, v.Skew = ts, c.Received.Sub(ts)
	}
	if !v.Verified {
		// The stage kept the error's text; its typed parts come from the
		// verifier again.
		var ve *signer.VerifyError
		if err := e.Verifier.Verify(stage.Payload(c)); errors.As(err, &ve) {
			v.Header, v.Reason, v.Detail = ve.Header, ve.Reason.Error(), ve.Detail
		}
		v.Error = c.Verification.Reason
		if v.Reason == "" {
			v.Reason = c.Verification.Reason
		}
		return v
	}
	if len(e.Secrets) == 1 {
		v.Key = 0
		return v
	}
	for i, k := range e.Secrets {
		one, err := signer.NewVerifier(e.Scheme, signer.KeySet{k}, e.VerifyOptions...)
		if err == nil && one.Verify(stage.Payload(c)) == nil {
			v.Key = i
			break
		}
	}
	return v
}

// A sentDelivery is one delivery handed off for the call being served.
type sentDelivery struct{ trigger, id string }

// signedAt reads the timestamp a request carries for scheme s, for the
// trace only (verification reads it itself): from its header, from the
// key-value pair of the signature header (Stripe's t=), or from the body.
func signedAt(s signer.Scheme, r matcher.Request) (time.Time, bool) {
	var raw string
	switch s.Timestamp.Source {
	case signer.TimestampHeader:
		raw = r.Header.Get(s.Timestamp.Header)
	case signer.TimestampInHeader:
		sep := strings.TrimSpace(s.Syntax.Separator)
		if sep == "" {
			sep = ","
		}
		for _, kv := range strings.Split(r.Header.Get(s.Header), sep) {
			if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == s.Syntax.TimestampKey {
				raw = v
				break
			}
		}
	case signer.TimestampInBody:
		raw = gjson.GetBytes(r.Body, s.Timestamp.Path).String()
	}
	if raw == "" {
		return time.Time{}, false
	}
	switch s.Timestamp.Format {
	case signer.RFC3339, signer.RFC3339Nano:
		t, err := time.Parse(time.RFC3339Nano, raw)
		return t, err == nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return time.Time{}, false
	}
	if s.Timestamp.Format == signer.UnixMillis {
		return time.UnixMilli(n), true
	}
	return time.Unix(n, 0), true
}
