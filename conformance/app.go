package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hooklab/hooklab/sim"
)

// App is an existing Go app in process: its real handler h (its whole
// router), with the facts of manifest m (the endpoint's verify scheme and
// secret, respondWith, maxBody and triggers, as DeclaredTarget reads
// them). For each case the suite runs, h is served on a loopback port of
// its own, and the case's requests go to m.URL's path and query there;
// m.URL's scheme and host are ignored, and m.Sink is not used. A case runs
// when the endpoint is configured as it needs, as for DeclaredTarget, and
// is skipped with the reason when not.
//
// The app's deliveries are observed through obs: the test sets the app's
// dispatch hook to obs.Fired, which turns each trigger the app fires into
// a sim.Delivery envelope for the suite. A nil obs observes nothing: the
// cases whose only trigger is unfiltered then check the answers but not
// the deliveries, and the other cases with triggers are skipped.
//
// A nil h or m is an error of every Provision.
func App(h http.Handler, m *Manifest, obs *Observer) Target {
	if h == nil || m == nil {
		return TargetFunc(func(context.Context, sim.EndpointSpec) (Endpoint, error) {
			return Endpoint{}, errors.New("conformance: App needs a handler and a manifest, got nil")
		})
	}
	return &appTarget{h: h, m: *m, obs: obs}
}

type appTarget struct {
	h   http.Handler
	m   Manifest
	obs *Observer
}

// profile implements profiled.
func (a *appTarget) profile() (string, *Manifest) { return a.m.profile() }

// preferredPreset implements presetPreferrer.
func (a *appTarget) preferredPreset() string { return a.m.preset() }

// declaredMaxBody is the app's body limit, for the cases about it; 0
// when the manifest declares none.
func (a *appTarget) declaredMaxBody() int64 { return a.m.Endpoint.MaxBody }

// declaredTriggers implements declaredApp: the app fires its other
// triggers too when their filters match a request.
func (a *appTarget) declaredTriggers() []sim.TriggerSpec { return a.m.Endpoint.Triggers }

// Provision serves the app for one case, when its endpoint is configured
// as spec needs.
func (a *appTarget) Provision(ctx context.Context, spec sim.EndpointSpec) (Endpoint, error) {
	u, err := url.Parse(a.m.URL)
	if err != nil {
		return Endpoint{}, fmt.Errorf("conformance: App: the manifest's url: %w", err)
	}
	deliver := ""
	if len(spec.Triggers) > 0 {
		deliver = spec.Triggers[0].Deliver
	}
	m := a.m
	m.Sink = ""
	if a.obs != nil && deliver != "" {
		// DeclaredTarget matches triggers only for an app with a sink:
		// the observer POSTs to the suite's sink, so it is the app's.
		du, err := url.Parse(deliver)
		if err != nil {
			return Endpoint{}, fmt.Errorf("conformance: App: the case's deliver URL: %w", err)
		}
		m.Sink = du.Host
	}
	ep, err := DeclaredTarget(&m).Provision(ctx, spec)
	var na *NotApplicableError
	if errors.As(err, &na) && a.obs == nil {
		// DeclaredTarget's reason names the manifest's sink; App's
		// deliveries are seen by an Observer instead.
		return Endpoint{}, &NotApplicableError{Reason: strings.Replace(na.Reason, "has no sink", "has no Observer (App's obs is nil)", 1)}
	}
	if err != nil {
		return Endpoint{}, err
	}
	if ep.Unobserved != "" {
		ep.Unobserved = "conformance.App was given no Observer"
	}
	st := &appEndpoint{deliver: deliver, verified: m.Endpoint.Verify != nil}
	if ep.Spec != nil {
		st.endpoint = ep.Spec.ID
	}
	if st.endpoint == "" {
		// A Manifest made in Go may have no id; an envelope needs one.
		st.endpoint = "declared"
	}
	srv, err := sim.NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ar := &appRequest{ep: st, received: time.Now().UTC()}
		ar.body.rc = r.Body
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &ar.body
		}
		a.h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), appRequestKey{}, ar)))
	}))
	if err != nil {
		return Endpoint{}, fmt.Errorf("conformance: App: %w", err)
	}
	ep.URL = srv.URL + u.RequestURI()
	ep.Close = func() error {
		srv.Close()
		return st.err()
	}
	return ep, nil
}

// An Observer turns the triggers an app fires into the delivery envelopes
// the suite checks (see App). Its zero value is ready to use, as is
// NewObserver's. It is safe for concurrent use.
type Observer struct {
	client *http.Client

	mu   sync.Mutex
	errs []error
}

// NewObserver returns an Observer.
func NewObserver() *Observer {
	return &Observer{client: defaultObserverClient}
}

// defaultObserverClient POSTs envelopes, each bounded by 30 seconds.
var defaultObserverClient = &http.Client{Timeout: 30 * time.Second}

// Fired tells the suite that the app fired its trigger id for r, the
// request the app's handler was given (or one derived from it, with its
// context). The app calls it from its own dispatch, after it verified the
// request, once for each trigger it fires; it may read r's body before.
// Fired POSTs a sim.Delivery envelope to the case's sink before it
// returns: the request's method, absolute URL, headers, the body bytes
// the app read, the endpoint's id, trigger id, and a verified
// verification when the endpoint verifies signatures.
//
// A trigger fired for a case that asked for no trigger is not delivered:
// the case checks no delivery of it. A request not served by App, or an
// envelope the sink did not take, is an error, which the endpoint's Close
// returns (the suite logs it) and Err returns.
func (o *Observer) Fired(trigger string, r *http.Request) {
	if r == nil {
		o.fail(fmt.Errorf("conformance: Observer.Fired(%q): a nil request", trigger))
		return
	}
	ar, ok := r.Context().Value(appRequestKey{}).(*appRequest)
	if !ok {
		o.fail(fmt.Errorf("conformance: Observer.Fired(%q): %s %s was not served by conformance.App (pass the request the app's handler got)", trigger, r.Method, r.URL.Path))
		return
	}
	if ar.ep.deliver == "" {
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	d := sim.Delivery{
		ID:       newDeliveryID(),
		Endpoint: ar.ep.endpoint,
		Trigger:  trigger,
		Request: sim.DeliveredRequest{
			Method: r.Method,
			URL:    scheme + "://" + r.Host + r.URL.RequestURI(),
			Header: r.Header.Clone(),
			Body:   ar.body.bytes(),
		},
		Verification: sim.Verification{Verified: ar.ep.verified},
		ReceivedAt:   ar.received,
		DeliveredAt:  time.Now().UTC(),
	}
	if err := o.post(ar.ep.deliver, &d); err != nil {
		err = fmt.Errorf("conformance: Observer.Fired(%q): %w", trigger, err)
		ar.ep.fail(err)
		o.fail(err)
	}
}

// Err returns the errors of Fired so far, joined; nil when there were
// none.
func (o *Observer) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return errors.Join(o.errs...)
}

func (o *Observer) fail(err error) {
	o.mu.Lock()
	o.errs = append(o.errs, err)
	o.mu.Unlock()
}

func (o *Observer) post(deliver string, d *sim.Delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, deliver, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(sim.DeliveryIDHeader, d.ID)
	client := o.client
	if client == nil {
		client = defaultObserverClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s = %s, want 2xx", deliver, resp.Status)
	}
	return nil
}

func newDeliveryID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// appEndpoint is what the observer needs of one provisioned endpoint.
type appEndpoint struct {
	endpoint string // the endpoint's id, for the envelope
	deliver  string // the sink's URL; "" when the case asked for no trigger
	verified bool   // the endpoint verifies signatures

	mu   sync.Mutex
	errs []error
}

func (e *appEndpoint) fail(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

func (e *appEndpoint) err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return errors.Join(e.errs...)
}

type appRequestKey struct{}

// appRequest is one request served by App, in its context.
type appRequest struct {
	ep       *appEndpoint
	received time.Time
	body     teeBody
}

// teeBody keeps a copy of what the app reads of a request's body.
type teeBody struct {
	rc  io.ReadCloser
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	t.mu.Lock()
	t.buf.Write(p[:n])
	t.mu.Unlock()
	return n, err
}

func (t *teeBody) Close() error { return t.rc.Close() }

func (t *teeBody) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf.Bytes())
}
