package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/hooklab/hooklab/internal/specdoc"
	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// A Manifest describes an endpoint of an existing app, which cannot make
// endpoints on demand, so that the suite can run the cases that apply to
// it. Its file form is JSON or YAML:
//
//	url: http://localhost:3000/webhooks/github   # where the app receives webhooks
//	sink: 127.0.0.1:9999                         # where the app POSTs delivery envelopes (optional)
//	endpoint:                                    # what the app does, as an EndpointSpec
//	  verify: {preset: github, secretEnv: GITHUB_WEBHOOK_SECRET}
//	  respondWith: …
//	  triggers:
//	    - id: issues
//	      filter: {headers: {x-github-event: [issues]}}
//
// A case runs when the app's endpoint is configured as the case needs:
// the same scheme (the manifest's secret is used), the same respondWith,
// and, for cases that observe triggers, triggers with the same filters
// (several identical triggers of a case share the app's one trigger with
// their filter, which must get what each would: one consumer per route). A
// case whose only trigger is unfiltered runs against an app without a
// sink, checking the answers but not the deliveries. Every other case is
// skipped with the reason: what the case needs and what the manifest has.
//
// Cases written for any preset run with the manifest's preset, and every
// request carries the headers its provider always sends, as the
// provider's fixtures declare them (package fixtures), with fresh
// delivery ids. Some FanOut cases (EventTypeRouting, ConcurrentRequests,
// IdenticalRequestsEachFire, RejectedRequestWakesNothing, and the routed
// trigger of DeliveryEnvelope) use the app's own triggers instead of
// their own: its first unfiltered one and those that route events as its
// provider's apps do, GitHub's {headers: {x-github-event: [issues]}},
// optionally with body: {action: [opened]}, and, for every other preset,
// {body: {type: [invoice.paid]}}; each is sent events of its type. The
// cases about the body limit (Robustness/OversizeBody,
// OversizeChunkedBody, LargeBody) use the manifest's endpoint.maxBody
// when it declares one.
//
// The app may have more triggers than a case asks for. Deliveries to
// them are not counted against the case; FanOut/DeliveryEnvelope checks
// the envelope of each one whose declared filter matches its request, and
// fails a delivery to one whose filter does not match, or to a trigger
// the manifest does not declare.
type Manifest struct {
	// URL is the endpoint's URL.
	URL string `json:"url"`
	// Sink is the address (host:port) the app POSTs sim.Delivery envelopes
	// to; empty when the app's deliveries cannot be observed.
	Sink string `json:"sink,omitempty"`
	// SigningKeys sign requests for an asymmetric scheme (the private
	// keys; the endpoint's secrets are the public ones).
	SigningKeys []string `json:"signingKeys,omitempty"`
	// Endpoint is the app's configuration. Its id is optional.
	Endpoint sim.EndpointSpec `json:"-"`

	// Profile is the profile of expectation the app is held to (see
	// Profiles); empty means ProfileApp. The fields below narrow
	// ProfileApp to what the app really does.
	Profile string `json:"profile,omitempty"`
	// Accept lists the statuses the app answers an accepted request with
	// (accept: {status: [200]}); empty means any 2xx.
	Accept []int `json:"-"`
	// Reject lists the statuses the app answers a request that fails
	// verification with (reject: {status: [401, 403]}); empty means any
	// 4xx other than 404.
	Reject []int `json:"-"`
	// Methods lists the methods the app serves (methods: [POST]); cases
	// that need another method send one it serves, or are skipped. Empty
	// means every method PROTOCOL.md lists.
	Methods []string `json:"methods,omitempty"`
	// Errors is the type of the app's error bodies: "json" (a JSON
	// object), "text" (a text/* content type) or "any" (not checked, the
	// default).
	Errors string `json:"errors,omitempty"`

	// Delivery is what the app promises of repeated and reordered
	// deliveries (delivery: {idempotent: true, by: "event-id", reorder:
	// true}); nil promises nothing, and the Delivery cases are skipped
	// unless Delivery(true) asks for them.
	Delivery *DeliveryPromise `json:"delivery,omitempty"`
}

// A DeliveryPromise is what a manifest says of how an app handles a
// delivery the provider sends again (a retry, a duplicate) and
// deliveries that arrive out of order. With Idempotent, the cases of the
// Delivery group run against the app (conformance/RULES.md D1–D3).
type DeliveryPromise struct {
	// Idempotent promises one action per event id: a delivery whose id
	// the app has taken before is answered 2xx and acted on no more.
	Idempotent bool `json:"idempotent"`
	// By is where the app reads the id: "event-id" (sim.DedupByEventID,
	// the default: where the endpoint's preset carries it, see
	// sim.PresetIDSource), "header:NAME" or "body:PATH".
	By string `json:"by,omitempty"`
	// Reorder promises that an older event arriving after a newer one is
	// taken all the same (no "latest id wins" cursor).
	Reorder bool `json:"reorder,omitempty"`

	// source is By resolved against the endpoint's verification.
	source sim.IDSource
}

// Source returns where the app reads the id, as ParseManifest resolved
// By against the endpoint's verification; the zero IDSource for a
// promise not made by ParseManifest.
func (p *DeliveryPromise) Source() sim.IDSource { return p.source }

// parseDelivery reads a manifest's delivery promise, with errors at its
// JSON path.
func parseDelivery(raw json.RawMessage, verify *sim.VerifySpec, fail func(path, format string, args ...any) error) (*DeliveryPromise, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return nil, fail("delivery", "want an object {idempotent: true, by: \"event-id\", reorder: true}")
	}
	p := &DeliveryPromise{}
	for _, k := range sortedKeys(v) {
		var err error
		switch k {
		case "idempotent":
			err = json.Unmarshal(v[k], &p.Idempotent)
		case "reorder":
			err = json.Unmarshal(v[k], &p.Reorder)
		case "by":
			if err = json.Unmarshal(v[k], &p.By); err != nil {
				return nil, fail("delivery.by", `want a string: "event-id", "header:NAME" or "body:PATH"`)
			}
		default:
			return nil, fail("delivery."+k, "unknown key (want idempotent, by, reorder)")
		}
		if err != nil {
			return nil, fail("delivery."+k, "want true or false")
		}
	}
	src, err := sim.DedupSpec{By: p.By}.Source(verify)
	if err != nil {
		if p.By == "" { // by defaults to event-id
			return nil, fail("delivery", "by (default %s): %v", sim.DedupByEventID, err)
		}
		return nil, fail("delivery.by", "%v", err)
	}
	p.source = src
	return p, nil
}

// deliveryPromiser is a target that says what it promises of repeated
// and reordered deliveries (a manifest's delivery knob).
type deliveryPromiser interface {
	deliveryPromise() *DeliveryPromise
}

func (d *declared) deliveryPromise() *DeliveryPromise { return d.m.Delivery }

// promisesDelivery reports whether target promises idempotent delivery.
func promisesDelivery(target Target) bool {
	p, ok := target.(deliveryPromiser)
	return ok && p.deliveryPromise() != nil && p.deliveryPromise().Idempotent
}

// profile implements profiled: the manifest's profile, app by default.
func (m *Manifest) profile() (string, *Manifest) {
	if m.Profile == "" {
		return ProfileApp, m
	}
	return m.Profile, m
}

type declared struct {
	m     Manifest
	canon map[string]string // trigger id -> canonical filter
}

// Declared reads a manifest file (see Manifest) and returns its Target.
// Errors name the file, the line and the path of the problem.
func Declared(path string) (Target, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer f.Close()
	// One byte more than a manifest may have: a larger file is refused
	// without reading it whole.
	data, err := io.ReadAll(io.LimitReader(f, specdoc.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	m, err := ParseManifest(path, data)
	if err != nil {
		return nil, err
	}
	return DeclaredTarget(m), nil
}

// DeclaredTarget returns the Target of a manifest.
func DeclaredTarget(m *Manifest) Target {
	d := &declared{m: *m, canon: map[string]string{}}
	for _, t := range m.Endpoint.Triggers {
		d.canon[t.ID] = canonical(t.Filter)
	}
	return d
}

// ParseManifest parses a manifest; name is the file name used in errors,
// and says whether data is YAML (.yaml, .yml) or JSON (otherwise, unless
// data does not start like JSON). Errors name the file, the line and the
// path of the problem.
//
// A manifest is read within the bounds of a spec (sim.ParseSpecs): at
// most 1 MiB, nested at most 64 deep, YAML aliases adding at most 1 MiB
// when expanded, and no key twice in one object.
func ParseManifest(name string, data []byte) (*Manifest, error) {
	doc, top, fail, err := decodeDocument(name, data, "a manifest object with url and endpoint")
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(top) {
		switch k {
		case "url", "sink", "signingKeys", "endpoint", "profile", "accept", "reject", "methods", "errors", "delivery":
		default:
			return nil, fail(k, "unknown key (want url, sink, signingKeys, endpoint, profile, accept, reject, methods, errors, delivery)")
		}
	}
	m := &Manifest{}
	if err := parseExpectations(top, m, fail); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		key  string
		dst  any
		want string
	}{{"url", &m.URL, "a string"}, {"sink", &m.Sink, "a string"}, {"signingKeys", &m.SigningKeys, "a list of strings"}} {
		if raw, ok := top[f.key]; ok {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return nil, fail(f.key, "want %s", f.want)
			}
		}
	}
	if m.URL == "" {
		return nil, manifestError(name, doc.Line(""), "url", errors.New("missing"))
	}
	if !strings.HasPrefix(m.URL, "http://") && !strings.HasPrefix(m.URL, "https://") {
		return nil, fail("url", "%q is not an http(s) URL", m.URL)
	}
	raw, ok := top["endpoint"]
	if !ok {
		return nil, manifestError(name, doc.Line(""), "endpoint", errors.New("missing"))
	}
	// The endpoint, with an id, goes to sim.ParseSpecs as JSON; its errors
	// are mapped back to this file's lines.
	var ep map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ep); err != nil || ep == nil {
		return nil, fail("endpoint", "want an endpoint spec object")
	}
	if _, ok := ep["endpoints"]; ok {
		return nil, fail("endpoint.endpoints", "unknown key: the manifest describes one endpoint")
	}
	if _, ok := ep["id"]; !ok {
		ep["id"] = json.RawMessage(`"declared"`)
	}
	js, err := json.Marshal(ep)
	if err != nil {
		return nil, fail("endpoint", "%v", err)
	}
	specs, err := sim.ParseSpecs(name+" (endpoint)", js)
	if err != nil {
		var se *sim.SpecError
		if errors.As(err, &se) {
			return nil, fail(specdoc.JoinPath("endpoint", se.Path), "%v", se.Err)
		}
		return nil, err
	}
	m.Endpoint = specs[0]
	if raw, ok := top["delivery"]; ok {
		if m.Delivery, err = parseDelivery(raw, m.Endpoint.Verify, fail); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// decodeDocument decodes a manifest or expectation file (JSON or YAML,
// within specdoc's bounds) into its top-level object, and returns a
// function that makes an error at a JSON path of it, "name:line: path:
// problem"; want says what the top level must be.
func decodeDocument(name string, data []byte, want string) (*specdoc.Doc, map[string]json.RawMessage, func(path, format string, args ...any) error, error) {
	doc, err := specdoc.Decode(data, specdoc.IsYAML(name, data))
	if err != nil {
		var de *specdoc.Error
		if errors.As(err, &de) {
			return nil, nil, nil, manifestError(name, de.Line, de.Path, de.Err)
		}
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	fail := func(path, format string, args ...any) error {
		return manifestError(name, doc.Line(path), path, fmt.Errorf(format, args...))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc.JSON, &top); err != nil || top == nil {
		return nil, nil, nil, fmt.Errorf("%s: want %s", name, want)
	}
	return doc, top, fail, nil
}

// manifestError is "name:line: path: err", without the line when it is
// not known (0) and without the path when it is the whole manifest.
func manifestError(name string, line int, path string, err error) error {
	where := name
	if line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	if path != "" {
		where += ": " + path
	}
	return fmt.Errorf("%s: %w", where, err)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// profile implements profiled.
func (d *declared) profile() (string, *Manifest) { return d.m.profile() }

// SinkAddr is where the app delivers; the suite's sink listens there.
func (d *declared) SinkAddr() string { return d.m.Sink }

// Provision returns the app's endpoint when it is configured as spec
// needs, and a *NotApplicableError saying how it differs when not.
func (d *declared) Provision(ctx context.Context, spec sim.EndpointSpec) (Endpoint, error) {
	app := d.m.Endpoint
	na := func(format string, args ...any) (Endpoint, error) {
		return Endpoint{}, &NotApplicableError{Reason: "the declared endpoint " + fmt.Sprintf(format, args...)}
	}
	eff := app
	eff.Triggers = nil
	switch {
	case spec.Verify == nil && app.Verify != nil:
		return na("verifies signatures; the case needs one that does not")
	case spec.Verify != nil && app.Verify == nil:
		return na("does not verify signatures")
	case spec.Verify != nil:
		want, have := schemeName(spec.Verify), schemeName(app.Verify)
		if want != have {
			return na("verifies %s; the case needs %s", have, want)
		}
		if len(spec.Verify.Secrets) > len(app.Verify.Secrets) {
			return na("has %d secret(s); the case needs %d (key rotation)", len(app.Verify.Secrets), len(spec.Verify.Secrets))
		}
		if spec.Verify.Tolerance != 0 && spec.Verify.Tolerance != app.Verify.Tolerance {
			return na("declares a tolerance of %s; the case needs %s", app.Verify.Tolerance, spec.Verify.Tolerance)
		}
	}
	if spec.RespondWith != nil {
		want := canonicalAny(spec.RespondWith)
		if app.RespondWith == nil {
			return na("has no respondWith; the case needs %s", truncate(want, maxShapeLen))
		}
		if have := canonicalAny(app.RespondWith); want != have {
			return na("has the respondWith %s; the case needs %s", truncate(have, maxShapeLen), truncate(want, maxShapeLen))
		}
	}
	if spec.Dedup != nil {
		if p := d.m.Delivery; p == nil || !p.Idempotent {
			return na("promises no idempotent delivery (the manifest's delivery: {idempotent: true})")
		}
	}
	if spec.MaxBody != 0 && spec.MaxBody != app.MaxBody {
		return na("declares maxBody %d; the case needs %d", app.MaxBody, spec.MaxBody)
	}
	ep := Endpoint{URL: d.m.URL, Spec: &eff}
	if len(d.m.SigningKeys) > 0 {
		ep.SignKeys = signer.Keys(d.m.SigningKeys...)
	}
	onlyUnfiltered := len(spec.Triggers) == 1 && canonical(spec.Triggers[0].Filter) == ""
	switch {
	case len(spec.Triggers) == 0:
	case d.m.Sink == "" && onlyUnfiltered:
		ep.Unobserved = "the manifest declares no sink"
	case d.m.Sink == "":
		return na("has no sink, so the deliveries this case checks cannot be observed")
	default:
		used := map[string]bool{}
		missing := false
		for _, t := range spec.Triggers {
			want := canonical(t.Filter)
			found, shared := "", ""
			for _, at := range app.Triggers {
				if d.canon[at.ID] != want {
					continue
				}
				if !used[at.ID] {
					found = at.ID
					break
				}
				if shared == "" {
					shared = at.ID
				}
			}
			if found == "" && shared != "" {
				// One consumer per route: the app's one handler with
				// this filter stands for every identical trigger the
				// case asks for (see consumers).
				found = shared
			}
			if found == "" {
				missing = true
				continue
			}
			used[found] = true
			eff.Triggers = append(eff.Triggers, sim.TriggerSpec{ID: found, Filter: t.Filter})
		}
		if missing {
			return Endpoint{}, &NotApplicableError{Reason: d.triggerShortfall(spec.Triggers)}
		}
	}
	return ep, nil
}

// triggerShortfall says, for each filter the case's triggers need and
// the app declares no trigger with, which of the case's triggers need it
// (at most reasonListMax, then "…"): "the declared endpoint has no
// trigger with the filter {"body":{"action":["opened"]}}; the case needs
// 3 (opened-1, opened-2, opened-3)". Filters are compared as canonical
// JSON. Several identical triggers of a case share the app's one
// trigger with their filter (one consumer per route), so only a filter
// the app lacks falls short.
func (d *declared) triggerShortfall(asked []sim.TriggerSpec) string {
	need := map[string][]string{}
	var order []string
	for _, t := range asked {
		f := canonical(t.Filter)
		if need[f] == nil {
			order = append(order, f)
		}
		need[f] = append(need[f], t.ID)
	}
	have := map[string][]string{}
	for _, t := range d.m.Endpoint.Triggers {
		have[d.canon[t.ID]] = append(have[d.canon[t.ID]], t.ID)
	}
	var parts []string
	for _, f := range order {
		n := need[f]
		if len(have[f]) > 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("has no trigger with the filter %s; the case needs %d (%s)",
			orAll(f), len(n), idList(n)))
	}
	return "the declared endpoint " + strings.Join(parts, "; it ")
}

// idList joins ids with ", ", cut after reasonListMax of them with "…".
func idList(ids []string) string {
	if len(ids) > reasonListMax {
		return strings.Join(ids[:reasonListMax], ", ") + ", …"
	}
	return strings.Join(ids, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// declaredApp is implemented by a target that stands for an existing app
// (a manifest): Provision maps the case's triggers onto some of the app's
// declared triggers, and the app delivers to the others as well when
// their filters match a request. declaredTriggers returns them all, as
// the manifest declares them.
type declaredApp interface {
	declaredTriggers() []sim.TriggerSpec
}

func (d *declared) declaredTriggers() []sim.TriggerSpec { return d.m.Endpoint.Triggers }

// preferredPreset implements presetPreferrer: the cases written for any
// preset run with the one the app verifies with.
func (d *declared) preferredPreset() string { return d.m.preset() }

// declaredMaxBody is the app's body limit, for the cases about it; 0
// when the manifest declares none.
func (d *declared) declaredMaxBody() int64 { return d.m.Endpoint.MaxBody }

// preset returns the preset the manifest's endpoint verifies with; ""
// when it verifies with none, or with a scheme of its own.
func (m *Manifest) preset() string {
	if v := m.Endpoint.Verify; v != nil && v.Scheme == nil {
		return v.Preset
	}
	return ""
}

// An otherTrigger is a trigger of a declared app that the case did not
// ask for, and whether its declared filter matches a request.
type otherTrigger struct {
	ID      string
	Filter  string // canonical JSON; "" for every request
	Matches bool
}

// otherTriggers returns the triggers of endpoint st that its case did not
// ask for, with whether each one's declared filter matches req, when the
// target stands for an existing app; nil for any other target, whose
// endpoints have only the triggers the case asked for.
func otherTriggers(t Target, st *endpointState, req matcher.Request) ([]otherTrigger, error) {
	app, ok := t.(declaredApp)
	if !ok || st == nil || st.Spec == nil {
		return nil, nil
	}
	var out []otherTrigger
	for _, tr := range app.declaredTriggers() {
		if hasTrigger(st.spec, tr.ID) {
			continue
		}
		o := otherTrigger{ID: tr.ID, Filter: canonical(tr.Filter), Matches: true}
		if o.Filter != "" {
			f, err := matcher.ParseRequestFilter(tr.Filter)
			if err != nil {
				return nil, fmt.Errorf("declared trigger %q: filter: %w", tr.ID, err)
			}
			o.Matches = f.Match(req)
		}
		out = append(out, o)
	}
	return out, nil
}

// maxShapeLen is how much of a respondWith a skip reason quotes.
const maxShapeLen = 160

func schemeName(v *sim.VerifySpec) string {
	if v.Scheme != nil {
		return v.Scheme.Name
	}
	return v.Preset
}

// canonical returns a filter's JSON with sorted keys; "" for an empty
// filter.
func canonical(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func canonicalAny(v any) string {
	b, _ := json.Marshal(v)
	return canonical(b)
}

func orAll(s string) string {
	if s == "" {
		return "{} (every request)"
	}
	return s
}
