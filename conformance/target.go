package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// A Target makes endpoints for the suite: the implementation under test.
// Provision is called once per case with that case's spec and must return
// a fresh endpoint configured as the spec says, which no other case
// shares. Every trigger in the spec has a Deliver URL; when a request
// wakes a trigger, the implementation must POST a sim.Delivery envelope
// there (see PROTOCOL.md).
type Target interface {
	Provision(ctx context.Context, spec sim.EndpointSpec) (Endpoint, error)
}

// TargetFunc adapts a function to Target.
type TargetFunc func(ctx context.Context, spec sim.EndpointSpec) (Endpoint, error)

// Provision calls f.
func (f TargetFunc) Provision(ctx context.Context, spec sim.EndpointSpec) (Endpoint, error) {
	return f(ctx, spec)
}

var _ Target = TargetFunc(nil)

// An Endpoint is what Provision made.
type Endpoint struct {
	// URL is where the suite sends the case's requests.
	URL string
	// Close releases what Provision made; nil means nothing to release.
	Close func() error
	// Spec, if set, is the endpoint's real configuration when it differs
	// from the spec asked for (a declared target's secret and trigger
	// ids). The suite signs with its secret and expects its trigger ids.
	Spec *sim.EndpointSpec
	// SignKeys, if set, are the keys the suite signs with when they are
	// not Spec's secrets (for an asymmetric scheme, the private keys).
	SignKeys signer.KeySet
	// Unobserved, if set, says why the endpoint's deliveries cannot be
	// observed; the suite then checks only the answers to its requests and
	// logs that it did not check deliveries.
	Unobserved string
	// Skip lists case ids ("Robustness/UnknownEndpoint") the endpoint
	// cannot take part in, each with the reason. They are reported as
	// skipped.
	Skip map[string]string
	// Drain, if set, waits until every delivery caused by a request the
	// endpoint answered before the call has been POSTed to its deliver
	// URL (and answered) or given up, or ctx is done (its error); it
	// must be safe to call from several goroutines, and after Close. A
	// target in process that knows its queues sets it (the reference
	// does: sim.Ingress.Drain); the suite then judges a request's
	// deliveries as soon as Drain returns, where without it a case waits
	// until the sink has been quiet for the quiet period (see Quiet), and
	// the sweep at the end of the run waits for Drain instead of the late
	// window (see LateWindow). A Drain that returns early, with a
	// delivery still to come, lets the suite miss it: leave it nil unless
	// it covers every queue the endpoint's deliveries pass through.
	Drain func(ctx context.Context) error
}

// A NotApplicableError from Provision means the target cannot make the
// endpoint a case needs; the case is skipped with Reason.
type NotApplicableError struct{ Reason string }

func (e *NotApplicableError) Error() string { return "not applicable: " + e.Reason }

// HandlerTarget is a Go implementation in process: newHandler builds an
// http.Handler for one spec, which the suite serves on a loopback port at
// sim.PathPrefix + spec.ID. Routing between endpoints is the suite's, so
// Robustness/UnknownEndpoint is skipped.
func HandlerTarget(newHandler func(spec sim.EndpointSpec) (http.Handler, error)) Target {
	return TargetFunc(func(ctx context.Context, spec sim.EndpointSpec) (Endpoint, error) {
		h, err := newHandler(spec)
		if err != nil {
			return Endpoint{}, err
		}
		mux := http.NewServeMux()
		mux.Handle(sim.PathPrefix+spec.ID, h)
		srv, err := sim.NewServer("", mux)
		if err != nil {
			return Endpoint{}, err
		}
		return Endpoint{
			URL:   srv.URL + sim.PathPrefix + spec.ID,
			Close: srv.Close,
			Skip:  map[string]string{"Robustness/UnknownEndpoint": "a HandlerTarget serves one endpoint; the suite does the routing"},
		}, nil
	})
}

// Reference is the reference ingress, sim.Ingress, with the zero Config:
// the strict profile, the suite's baseline, which passes every case. Each
// endpoint gets an ingress and a loopback server of its own, and a Drain
// (sim.Ingress.Drain), so that the suite waits for no quiet period.
func Reference() Target { return ReferenceWith(sim.Config{}) }

// ReferenceWith is the reference ingress built with cfg (a profile, a
// clock, a Recorder …), each endpoint with an ingress and a loopback
// server of its own. Its profile of expectation is cfg's profile:
// ProfileTriggerDevV2 for sim.TriggerDevV2, else ProfileStrict. Without
// cfg.Client, its ingresses post deliveries through one client, so that
// they share the connections to the suite's sink.
func ReferenceWith(cfg sim.Config) Target {
	if cfg.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		cfg.Client = &http.Client{Transport: tr}
	}
	return reference{cfg}
}

// reference is the target of ReferenceWith.
type reference struct{ cfg sim.Config }

// profile implements profiled.
func (r reference) profile() (string, *Manifest) {
	if r.cfg.Profile == sim.TriggerDevV2 {
		return ProfileTriggerDevV2, nil
	}
	return ProfileStrict, nil
}

// Provision implements Target.
func (r reference) Provision(ctx context.Context, spec sim.EndpointSpec) (Endpoint, error) {
	if spec.Dedup != nil && r.cfg.Profile != "" && r.cfg.Profile != sim.Strict {
		return Endpoint{}, &NotApplicableError{Reason: fmt.Sprintf("the reference's %s profile has no dedup (Trigger.dev v2 de-duplicates only by its idempotency-key header, conformance/RULES.md T4)", r.cfg.Profile)}
	}
	in, err := sim.NewIngress(r.cfg, spec)
	if err != nil {
		return Endpoint{}, err
	}
	srv, err := sim.NewServer("", sim.Handler(in))
	if err != nil {
		in.Close()
		return Endpoint{}, err
	}
	return Endpoint{URL: srv.URL + sim.PathPrefix + spec.ID, Close: func() error {
		srv.Close()
		return in.Close()
	}, Drain: in.Drain}, nil
}

// An HTTPOption configures HTTPTarget.
type HTTPOption func(*httpOptions)

type httpOptions struct{ token string }

// ControlToken sends token as "Authorization: Bearer <token>" on every
// control API call, as hooklab serve --control-token requires. It is
// never sent to the endpoints the control API creates, nor printed.
func ControlToken(token string) HTTPOption { return func(o *httpOptions) { o.token = token } }

// HTTPTarget is an implementation in any language that speaks the control
// API of PROTOCOL.md at controlURL: POST {controlURL}/endpoints with a
// spec creates an endpoint and answers {"url": …}, or 501 with a JSON
// {"reason": …} when it cannot (the case is then skipped with that
// reason); DELETE {controlURL}/endpoints/{id} removes it. Each control
// call is bounded by 30 seconds; POST also by the case's context, DELETE
// not, so that a stopped run still removes its endpoints. HTTPTarget
// does not check that controlURL is a control API: call ProbeControl
// first, as hooklab conformance --target does, to get one clear error
// rather than a failure in every case.
func HTTPTarget(controlURL string, opts ...HTTPOption) Target {
	var o httpOptions
	for _, opt := range opts {
		opt(&o)
	}
	base := strings.TrimRight(controlURL, "/")
	client := &http.Client{Timeout: 30 * time.Second}
	auth := func(req *http.Request) {
		if o.token != "" {
			req.Header.Set("Authorization", "Bearer "+o.token)
		}
	}
	return TargetFunc(func(ctx context.Context, spec sim.EndpointSpec) (Endpoint, error) {
		body, err := json.Marshal(spec)
		if err != nil {
			return Endpoint{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+sim.ControlPath, bytes.NewReader(body))
		if err != nil {
			return Endpoint{}, fmt.Errorf("control API: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		auth(req)
		resp, err := client.Do(req)
		if err != nil {
			return Endpoint{}, fmt.Errorf("control API: %w", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode == http.StatusNotImplemented {
			// The implementation cannot make this endpoint (a preset it
			// does not support): the case is skipped with its reason.
			var e struct {
				Error  string `json:"error"`
				Reason string `json:"reason"`
			}
			json.Unmarshal(b, &e)
			reason := e.Reason
			if reason == "" {
				reason = e.Error
			}
			if reason == "" {
				reason = "the implementation answered 501 Not Implemented"
			}
			return Endpoint{}, &NotApplicableError{Reason: reason}
		}
		if resp.StatusCode/100 != 2 {
			return Endpoint{}, fmt.Errorf("control API: POST %s%s = %d, want 201: %s", base, sim.ControlPath, resp.StatusCode, bytes.TrimSpace(b))
		}
		var created struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(b, &created); err != nil || created.URL == "" {
			return Endpoint{}, fmt.Errorf("control API: POST %s%s answered %q, want {\"url\": …}", base, sim.ControlPath, bytes.TrimSpace(b))
		}
		del := func() error {
			req, err := http.NewRequest(http.MethodDelete, base+sim.ControlPath+"/"+spec.ID, nil)
			if err != nil {
				return err
			}
			auth(req)
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("control API: %w", err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("control API: DELETE %s%s/%s = %d, want 204", base, sim.ControlPath, spec.ID, resp.StatusCode)
			}
			return nil
		}
		return Endpoint{URL: created.URL, Close: del}, nil
	})
}

// DefaultProbeTimeout bounds ProbeControl's request when ctx has no
// earlier deadline.
const DefaultProbeTimeout = 5 * time.Second

// ErrNotControlAPI is wrapped by ProbeControl's error when something
// answered at the URL, but not as a control API does.
var ErrNotControlAPI = errors.New("not a conformance control API")

// ErrControlUnauthorized is wrapped by ProbeControl's error when the
// control API answered 401 or 403: it wants a bearer token (ControlToken)
// or refused the one sent.
var ErrControlUnauthorized = errors.New("the control API refused the call")

// ProbeControl checks that controlURL is the base of a control API of
// PROTOCOL.md, as HTTPTarget needs, before any case runs: GET
// {controlURL}/endpoints must answer 200 with a JSON object whose
// "endpoints" is a list (of ids). It sends that one request, with the
// ControlToken of opts, bounded by ctx and by DefaultProbeTimeout, and
// reads at most 1 MiB of the answer.
//
// The error says what went wrong: nothing listens (the *net.OpError of
// the dial), no answer in time (wrapping context.DeadlineExceeded), a
// token wanted or refused (ErrControlUnauthorized), or an answer that is
// not a control API's (wrapping ErrNotControlAPI, with the status and the
// start of the body). It never holds the token. To
// wait for a server that is starting, call it until it returns nil.
func ProbeControl(ctx context.Context, controlURL string, opts ...HTTPOption) error {
	var o httpOptions
	for _, opt := range opts {
		opt(&o)
	}
	u := strings.TrimRight(controlURL, "/") + sim.ControlPath
	ctx, cancel := context.WithTimeout(ctx, DefaultProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("control API: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	// A client of its own: no connection kept from a server that is
	// starting, and no redirect followed (the control API has none).
	client := &http.Client{
		Transport:     &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	// The bound the probe had, not the time it took: on a loaded machine
	// the deadline fires late, and the message names what was allowed.
	dl, _ := ctx.Deadline()
	budget := time.Until(dl).Round(100 * time.Millisecond)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return &noAnswerError{fmt.Sprintf("control API: GET %s: no answer within %v", u, budget)}
		}
		return fmt.Errorf("control API: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return &noAnswerError{fmt.Sprintf("control API: GET %s: the answer did not end within %v", u, budget)}
		}
		return fmt.Errorf("control API: GET %s: reading the answer: %w", u, err)
	}
	const want = `want 200 with {"endpoints": [...]}`
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		hint := "it wants a bearer token"
		if o.token != "" {
			hint = "the bearer token sent is not its"
		}
		return fmt.Errorf("%w: GET %s = %s: %s", ErrControlUnauthorized, u, resp.Status, hint)
	default:
		return fmt.Errorf("%w: GET %s = %s, %s%s", ErrNotControlAPI, u, resp.Status, want, bodyStart(b))
	}
	var list struct {
		Endpoints json.RawMessage `json:"endpoints"`
	}
	if err := json.Unmarshal(b, &list); err != nil || !bytes.HasPrefix(bytes.TrimSpace(list.Endpoints), []byte("[")) {
		return fmt.Errorf("%w: GET %s = %s, %s%s", ErrNotControlAPI, u, resp.Status, want, bodyStart(b))
	}
	return nil
}

// noAnswerError is a probe that timed out; it wraps
// context.DeadlineExceeded.
type noAnswerError struct{ msg string }

func (e *noAnswerError) Error() string { return e.msg }
func (e *noAnswerError) Unwrap() error { return context.DeadlineExceeded }

// bodyStart is ", got" and the start of an answer's body, quoted, for an
// error.
func bodyStart(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ", and an empty body"
	}
	const max = 120
	if len(b) > max {
		return fmt.Sprintf(", got %q…", b[:max])
	}
	return fmt.Sprintf(", got %q", b)
}

// provision calls the target and classifies its error.
func provision(ctx context.Context, t Target, spec sim.EndpointSpec) (Endpoint, error) {
	ep, err := t.Provision(ctx, spec)
	if err != nil {
		return ep, err
	}
	if ep.URL == "" {
		return ep, errors.New("Provision returned an Endpoint with no URL")
	}
	return ep, nil
}
