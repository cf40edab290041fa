package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// exchange is one running case: it provisions endpoints, signs and sends
// requests, observes deliveries and collects violations. Case code calls
// its methods from the case goroutine (SendAll is the one concurrent
// sender).
type exchange struct {
	t      T
	c      *check
	env    *env
	ctx    context.Context
	client *http.Client

	mu       sync.Mutex
	problems []string
	eps      []*endpointState
	notes    []string // the profile's known defects the case accepted
	// pending are the checks of deliveries judged again when the case
	// is over (see awaitDeliveries).
	pending []*pendingCheck
}

// endpointState is one provisioned endpoint of a case.
type endpointState struct {
	Endpoint
	spec     sim.EndpointSpec // effective
	asked    sim.EndpointSpec // as the case asked
	scheme   signer.Scheme
	signKeys signer.KeySet
	label    string
}

// A request is what a case sends. The zero value is a signed POST of an
// empty JSON body.
type request struct {
	// Label says what the request is, for failure output ("valid
	// signature", "body changed by one byte"). Never a secret.
	Label string
	// Method defaults to POST.
	Method string
	// Query is appended to the endpoint URL ("hub.mode=subscribe&a=1").
	Query string
	// Header holds extra headers, set before signing. Build adds every
	// header the provider of the endpoint's preset always sends (see
	// providerDefaults) that Header does not name, in any spelling.
	Header http.Header
	// ContentType defaults, when Body is non-empty, to the provider's
	// JSON content type (application/json; Stripe's has charset=utf-8).
	ContentType string
	Body        []byte
	// Unsigned sends no signature.
	Unsigned bool
	// SignOffset moves the signature's timestamp from now.
	SignOffset time.Duration
	// Keys, if set, sign instead of the endpoint's own keys.
	Keys signer.KeySet
	// After changes the signed request before it is sent (tampering).
	After func(r *http.Request)
	// Endpoint picks one of the case's endpoints by its index; default 0.
	Endpoint int
}

// A response is what came back.
type response struct {
	Request request
	Status  int
	Header  http.Header
	Body    []byte
	// Err is a transport error (no response).
	Err error
	// ID is the request's sim.RequestIDHeader value.
	ID   string
	Sent []byte // the exact body sent
	// SentHeader is the header sent, signature included.
	SentHeader http.Header
	desc       string
	ep         *endpointState
	at         time.Time // when the answer (or the transport error) came
	// rejected says the case wants the request to fail verification.
	rejected bool
}

// Errorf records a violation. It does not stop the case.
func (x *exchange) Errorf(format string, args ...any) {
	x.mu.Lock()
	x.problems = append(x.problems, fmt.Sprintf(format, args...))
	x.mu.Unlock()
}

// Fatalf records a violation and stops the case.
func (x *exchange) Fatalf(format string, args ...any) {
	x.Errorf(format, args...)
	x.t.Fatalf("%s", x.take())
}

// Skipf stops the case and reports it skipped.
func (x *exchange) Skipf(format string, args ...any) {
	x.flush()
	x.t.Skipf(format, args...)
}

// Logf writes a note to the case's log.
func (x *exchange) Logf(format string, args ...any) {
	x.t.Helper()
	x.t.Logf(format, args...)
}

// Context is the case's context.
func (x *exchange) Context() context.Context { return x.ctx }

// newSecret returns a fresh random secret in the scheme's key format, and
// the keys to sign with (for asymmetric schemes the private key, while
// the endpoint verifies with the public one).
func newSecret(s signer.Scheme) (verify, sign signer.Secret) {
	switch s.Algorithm {
	case signer.Ed25519, signer.ECDSAP256:
		priv, pub, err := signer.GenerateKey(s.Algorithm, rand.Reader)
		if err != nil {
			panic("conformance: " + err.Error())
		}
		return pub, priv
	}
	b := make([]byte, 24)
	rand.Read(b)
	var k signer.Secret
	switch s.Key {
	case signer.KeyWhsec:
		k = signer.NewSecret("whsec_" + base64Std(b))
	case signer.KeyBase64:
		k = signer.NewSecret(base64Std(b))
	default:
		k = signer.NewSecret("hl" + hex.EncodeToString(b))
	}
	return k, k
}

// newKeys returns n fresh key pairs for s: what an endpoint verifies with and
// what a sender signs with, newest first.
func newKeys(s signer.Scheme, n int) (verify, sign signer.KeySet) {
	for range n {
		v, sg := newSecret(s)
		verify, sign = append(verify, v), append(sign, sg)
	}
	return verify, sign
}

// Provision makes one endpoint for the case from spec, as the target
// does. The suite gives it an id and points its triggers at the sink.
// signKeys are the sender's keys (for asymmetric schemes the private
// keys); nil means spec.Verify.Secrets. It returns the endpoint's index
// for Request.Endpoint. When the target cannot make such an endpoint
// (NotApplicableError) the case is skipped; any other error stops it.
func (x *exchange) Provision(spec sim.EndpointSpec, signKeys signer.KeySet) int {
	x.t.Helper()
	i, reason := x.TryProvision(spec, signKeys)
	if i < 0 {
		x.Skipf("skipped: %s", reason)
	}
	return i
}

// TryProvision is Provision for cases that loop over several endpoints
// (one per preset): when the target cannot make this one it returns -1
// and the reason instead of skipping the case. Other errors stop the case.
func (x *exchange) TryProvision(spec sim.EndpointSpec, signKeys signer.KeySet) (int, string) {
	x.t.Helper()
	x.mu.Lock()
	n := len(x.eps)
	x.mu.Unlock()
	if spec.Verify != nil && spec.Verify.Preset == targetPreset {
		// The case runs with the target's preset: fresh keys of it.
		p := x.preset()
		s, err := signer.Preset(p)
		if err != nil {
			x.Fatalf("conformance: the target's preset: %v", err)
		}
		v := *spec.Verify
		var sign signer.KeySet
		v.Preset = p
		v.Secrets, sign = newKeys(s, 1)
		spec.Verify = &v
		if spec.Source == targetPreset {
			spec.Source = p
		}
		if signKeys == nil {
			signKeys = sign
		}
	}
	suffix := make([]byte, 3)
	rand.Read(suffix)
	spec.ID = strings.ToLower(kebab(x.c.Group)+"-"+kebab(x.c.Name)) + fmt.Sprintf("-%d-%x", n, suffix)
	spec.Triggers = append([]sim.TriggerSpec(nil), spec.Triggers...)
	for i := range spec.Triggers {
		spec.Triggers[i].Deliver = x.env.sinkURL
	}
	st := &endpointState{asked: spec, spec: spec}
	if spec.Verify != nil {
		if signKeys == nil {
			signKeys = spec.Verify.Secrets
		}
		st.signKeys = signKeys
	}
	ctx, cancel := context.WithTimeout(x.ctx, x.env.opts.timeout)
	defer cancel()
	ep, err := provision(ctx, x.env.target, spec)
	if err != nil {
		var na *NotApplicableError
		if errors.As(err, &na) {
			return -1, na.Reason
		}
		x.Fatalf("Provision(%s) = %v, want an endpoint", spec.ID, redact(err.Error(), spec))
	}
	st.Endpoint = ep
	if ep.Spec != nil {
		st.spec = *ep.Spec
		if ep.Spec.Verify != nil && len(ep.Spec.Verify.Secrets) > 0 {
			st.signKeys = ep.Spec.Verify.Secrets
		}
	}
	if ep.SignKeys != nil {
		st.signKeys = ep.SignKeys
	}
	if reason, ok := ep.Skip[x.c.ID()]; ok {
		x.closeEndpoint(st)
		x.Skipf("skipped: %s", reason)
	}
	if st.spec.Verify != nil {
		s, err := resolve(st.spec.Verify)
		if err != nil {
			x.closeEndpoint(st)
			x.Fatalf("endpoint %s: %v", spec.ID, err)
		}
		st.scheme = s
		st.label = s.Name
	} else {
		st.label = "unverified"
	}
	x.mu.Lock()
	x.eps = append(x.eps, st)
	x.mu.Unlock()
	return n, ""
}

func (x *exchange) closeEndpoint(st *endpointState) {
	if st.Close != nil {
		if err := st.Close(); err != nil {
			x.t.Logf("closing endpoint %s: %v", st.spec.ID, err)
		}
	}
}

// Scheme returns the scheme of endpoint i.
func (x *exchange) Scheme(i int) signer.Scheme { return x.eps[i].scheme }

// URL returns the URL of endpoint i.
func (x *exchange) URL(i int) string { return x.eps[i].URL }

// Build signs r for its endpoint and returns the request to send, and its
// request id.
func (x *exchange) Build(r request) (*http.Request, string, error) {
	if r.Endpoint >= len(x.eps) {
		return nil, "", fmt.Errorf("case has no endpoint %d", r.Endpoint)
	}
	st := x.eps[r.Endpoint]
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	u := st.URL
	if r.Query != "" {
		if strings.Contains(u, "?") {
			u += "&" + r.Query
		} else {
			u += "?" + r.Query
		}
	}
	h := http.Header{}
	for k, vs := range r.Header {
		h[k] = append([]string(nil), vs...)
	}
	var pd *providerDefaults
	if st.spec.Verify != nil && st.spec.Verify.Scheme == nil {
		pd = defaultsOf(st.spec.Verify.Preset)
	}
	if len(r.Body) > 0 && !hasHeader(h, "Content-Type") {
		ct := r.ContentType
		if ct == "" {
			ct = pd.contentType()
		}
		h.Set("Content-Type", ct)
	}
	if err := pd.apply(h, st.scheme); err != nil {
		return nil, "", err
	}
	if !hasHeader(h, "User-Agent") {
		h.Set("User-Agent", "hooklab-conformance")
	}
	id := newRequestID()
	h.Set(sim.RequestIDHeader, id)
	p := signer.Payload{Method: method, URL: u, Header: h, Body: r.Body}
	if !r.Unsigned && st.spec.Verify != nil {
		keys := st.signKeys
		if r.Keys != nil {
			keys = r.Keys
		}
		opts := []signer.Option{signer.At(time.Now().Add(r.SignOffset))}
		if id := h.Get(st.scheme.IDHeader); st.scheme.IDHeader != "" && id != "" {
			// The case chose the message id (a retry keeps it).
			opts = append(opts, signer.ID(id))
		}
		var err error
		p, err = signer.Sign(st.scheme, keys, p, opts...)
		if err != nil {
			return nil, "", fmt.Errorf("signing: %w", err)
		}
	}
	var body io.Reader
	if len(p.Body) > 0 || (method != http.MethodGet && method != http.MethodHead) {
		body = bytes.NewReader(p.Body)
	}
	req, err := http.NewRequestWithContext(x.ctx, method, p.URL, body)
	if err != nil {
		return nil, "", err
	}
	for k, vs := range p.Header {
		req.Header[k] = vs
	}
	if host := p.Header.Get("Host"); host != "" {
		req.Host = host
	}
	if r.After != nil {
		r.After(req)
	}
	return req, id, nil
}

// Send signs and sends r and returns what came back; a transport error is
// in Response.Err (and is a violation unless the case expects it, see
// WantNoTransportError).
func (x *exchange) Send(r request) *response {
	req, id, err := x.Build(r)
	resp := &response{Request: r, ID: id}
	if r.Endpoint < len(x.eps) {
		resp.ep = x.eps[r.Endpoint]
	}
	resp.desc = x.describe(r, req)
	if err != nil {
		resp.Err, resp.at = err, time.Now()
		x.Errorf("%s: %v", resp.desc, err)
		return resp
	}
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			resp.Sent, _ = io.ReadAll(b)
		}
	}
	resp.SentHeader = req.Header.Clone()
	hr, err := x.client.Do(req)
	if err != nil {
		resp.Err, resp.at = err, time.Now()
		return resp
	}
	defer hr.Body.Close()
	resp.Status, resp.Header = hr.StatusCode, hr.Header
	resp.Body, resp.Err = io.ReadAll(io.LimitReader(hr.Body, 1<<20))
	resp.at = time.Now()
	return resp
}

// SendAll sends every request with at most parallel in flight.
func (x *exchange) SendAll(rs []request, parallel int) []*response {
	out := make([]*response, len(rs))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i := range rs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = x.Send(rs[i])
		}()
	}
	wg.Wait()
	return out
}

func (x *exchange) describe(r request, req *http.Request) string {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	path := "?"
	if req != nil {
		path = req.URL.RequestURI()
	}
	label := r.Label
	if r.Endpoint < len(x.eps) {
		label = x.eps[r.Endpoint].label + ": " + label
	}
	return fmt.Sprintf("%s %s (%s)", method, path, label)
}

// describe returns the request's description for failure lines.
func (r *response) String() string { return r.desc }

// ok reports a response, logging a transport error as a violation.
func (x *exchange) ok(r *response) bool {
	if r.Err != nil && r.Status == 0 {
		x.Errorf("%s: %v", r.desc, r.Err)
		return false
	}
	return true
}

// WantStatus checks the response status.
func (x *exchange) WantStatus(r *response, want int) bool {
	if !x.ok(r) {
		return false
	}
	if r.Status != want {
		x.Errorf("%s: status = %d, want %d%s", r.desc, r.Status, want, bodyNote(r))
		return false
	}
	return true
}

// WantBody checks the response body exactly.
func (x *exchange) WantBody(r *response, want string) bool {
	if !x.ok(r) {
		return false
	}
	if string(r.Body) != want {
		x.Errorf("%s: body = %q, want %q", r.desc, truncate(string(r.Body), 200), want)
		return false
	}
	return true
}

// WantHeader checks one response header.
func (x *exchange) WantHeader(r *response, name, want string) bool {
	if !x.ok(r) {
		return false
	}
	if got := r.Header.Get(name); got != want {
		x.Errorf("%s: header %s = %q, want %q", r.desc, name, got, want)
		return false
	}
	return true
}

// WantJSONError checks that an error answer has a JSON body.
func (x *exchange) WantJSONError(r *response) bool {
	if !x.ok(r) {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if !strings.Contains(ct, "json") || !jsonObject(r.Body) {
		x.Errorf("%s: error body = %q (Content-Type %q), want a JSON object", r.desc, truncate(string(r.Body), 120), ct)
		return false
	}
	return true
}

func bodyNote(r *response) string {
	if len(r.Body) == 0 {
		return ""
	}
	// On one line: a body's own line breaks must not look like more
	// problems.
	return "\n        body: " + truncate(oneLine.Replace(strings.TrimSpace(string(r.Body))), 200)
}

// oneLine shows line breaks as \n and \r.
var oneLine = strings.NewReplacer("\r", `\r`, "\n", `\n`)

// sprintf is fmt.Sprintf.
var sprintf = fmt.Sprintf

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// WantDeliveries checks that the requests of rs caused exactly want[id]
// deliveries to each trigger id (trigger ids as the case's spec names
// them; a trigger not in want must get none), each carrying the request's
// exact method and body. It waits for the expected deliveries (see
// awaitDeliveries); extra ones are caught when the case is over, after
// the settle time, and by the sweep at the end of the run.
func (x *exchange) WantDeliveries(want map[string]int, rs ...*response) bool {
	for _, r := range rs {
		if r.ep != nil && r.ep.Unobserved != "" {
			x.Logf("%s: deliveries not checked: %s", r.desc, r.ep.Unobserved)
			return true
		}
	}
	want = x.consumers(rs, want)
	total := 0
	for _, n := range want {
		total += n
	}
	total *= len(rs)
	return x.awaitDeliveries(rs, want, total, func(got map[string][]sim.Delivery, errorf, logf func(string, ...any)) {
		x.judgeDeliveries(want, rs, got, errorf, logf)
	})
}

// judgeDeliveries is the judgment of WantDeliveries on got, the
// deliveries of rs by request id: problems through errorf (at most
// maxDeliveryLines of them, then a count), notes through logf.
func (x *exchange) judgeDeliveries(want map[string]int, rs []*response, got map[string][]sim.Delivery, errorf0, logf func(string, ...any)) {
	lines := 0
	errorf := func(format string, args ...any) {
		if lines++; lines <= maxDeliveryLines {
			errorf0(format, args...)
		}
	}
	defer func() {
		if lines > maxDeliveryLines {
			errorf0("… and %d more delivery problems like these", lines-maxDeliveryLines)
		}
	}()
	for _, r := range rs {
		counts, rejected := map[string]int{}, map[string]int{}
		for _, d := range got[r.ID] {
			if r.ep != nil && r.ep.Spec != nil && !hasTrigger(r.ep.spec, d.Trigger) {
				// A declared app's trigger the case did not ask for.
				continue
			}
			name := x.askedTrigger(r.ep, d.Trigger)
			if r.rejected && x.env.rules.verifyInRun && markedRejected(d) {
				// Trigger.dev v2: the run the rejected request started
				// failed verification, as WantRejected noted.
				logf("%s: delivery to %s marked verification.verified: false (the run failed verification, as this profile expects)", r.desc, name)
				continue
			}
			counts[name]++
			if markedRejected(d) {
				rejected[name]++
				if !r.rejected {
					errorf("%s: delivery to %s marked verification.verified: false (reason %q), want a request that verifies", r.desc, name, truncate(d.Verification.Reason, 120))
				}
			}
			if d.Request.Method != methodOf(r.Request) {
				errorf("%s: delivery to %s: method = %q, want %q", r.desc, name, d.Request.Method, methodOf(r.Request))
			}
			if !bytes.Equal(d.Request.Body, r.Sent) {
				errorf("%s: delivery to %s: body = %q, want the request's exact %d bytes", r.desc, name, truncate(string(d.Request.Body), 80), len(r.Sent))
			}
		}
		names := map[string]bool{}
		for k := range want {
			names[k] = true
		}
		for k := range counts {
			names[k] = true
		}
		var sorted []string
		for k := range names {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if counts[k] != want[k] {
				note := ""
				if n := rejected[k]; n > 0 {
					note = fmt.Sprintf(" (%d marked verification.verified: false: delivered although the receiver rejected it)", n)
				}
				errorf("%s: deliveries to %s = %d%s, want %d", r.desc, k, counts[k], note, want[k])
			}
		}
	}
}

// maxDeliveryLines caps the problems one WantDeliveries call reports.
const maxDeliveryLines = 20

// WantNoDeliveries checks that the requests of rs caused no delivery.
func (x *exchange) WantNoDeliveries(rs ...*response) bool { return x.WantDeliveries(nil, rs...) }

// consumers folds want onto the consumers of the endpoint of rs: where a
// declared app has one handler for several identical triggers the case
// asked for (one consumer per route, as apps are written), they are one
// consumer, which must get what each of them would (the most any of them
// wants), under the name askedTrigger gives it. Elsewhere want is
// returned as it is.
func (x *exchange) consumers(rs []*response, want map[string]int) map[string]int {
	if len(rs) == 0 || rs[0].ep == nil || rs[0].ep.Spec == nil || want == nil {
		return want
	}
	st := rs[0].ep
	real := map[string]string{} // asked id -> the app's trigger
	for i, t := range st.asked.Triggers {
		if i < len(st.spec.Triggers) {
			real[t.ID] = st.spec.Triggers[i].ID
		}
	}
	out := map[string]int{}
	folded := map[string][]string{}
	for k, n := range want {
		name := k
		if id, ok := real[k]; ok {
			name = x.askedTrigger(st, id)
		}
		out[name] = max(out[name], n)
		folded[name] = append(folded[name], k)
	}
	for name, ks := range folded {
		if len(ks) > 1 {
			sort.Strings(ks)
			x.Logf("triggers %s have one consumer in the declared app (its trigger %s): it must get what each would", strings.Join(ks, ", "), real[name])
		}
	}
	return out
}

// askedTrigger maps a delivered trigger id back to the case's name for it.
func (x *exchange) askedTrigger(st *endpointState, id string) string {
	if st == nil {
		return id
	}
	for i, t := range st.spec.Triggers {
		if t.ID == id && i < len(st.asked.Triggers) {
			return st.asked.Triggers[i].ID
		}
	}
	return id
}

func methodOf(r request) string {
	if r.Method == "" {
		return http.MethodPost
	}
	return r.Method
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// flush hands collected problems to t, once, with the case's rule,
// reference and source.
func (x *exchange) flush() {
	if msg := x.take(); msg != "" {
		x.t.Errorf("%s", msg)
	}
}

// take returns the collected problems as one failure message, with the
// case's rule, reference and source, and forgets them.
func (x *exchange) take() string {
	x.mu.Lock()
	ps := x.problems
	x.problems = nil
	x.mu.Unlock()
	if len(ps) == 0 {
		return ""
	}
	specs := x.specs()
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(redactAll(p, specs))
	}
	fmt.Fprintf(&b, "\n    rule: %s\n    ref:  %s\n    case: %s", x.c.Rule, x.c.Reference, x.c.Source)
	return b.String()
}

// redact removes every secret of spec from s.
func redact(s string, spec sim.EndpointSpec) string { return redactAll(s, []sim.EndpointSpec{spec}) }

func redactAll(s string, specs []sim.EndpointSpec) string {
	for _, spec := range specs {
		if spec.Verify == nil {
			continue
		}
		for _, k := range spec.Verify.Secrets {
			if b := k.Bytes(); len(b) >= 4 {
				s = strings.ReplaceAll(s, string(b), "[secret]")
			}
		}
	}
	return s
}

func jsonObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 1 && b[0] == '{' && b[len(b)-1] == '}'
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// resolve returns the scheme a VerifySpec names.
func resolve(v *sim.VerifySpec) (signer.Scheme, error) {
	if v.Scheme != nil {
		return *v.Scheme, nil
	}
	return signer.Preset(v.Preset)
}

// SignKeys returns the keys requests to endpoint i are signed with: the
// case's own, or a declared endpoint's.
func (x *exchange) SignKeys(i int) signer.KeySet { return x.eps[i].signKeys }
