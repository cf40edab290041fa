package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The profiles of expectation: what a run holds the target to.
const (
	// ProfileStrict holds the target to the contract of PROTOCOL.md: a
	// rejection is 401 with a JSON error, an accepted request any 2xx. It
	// is the default for a control-API target and the reference.
	ProfileStrict = "strict"
	// ProfileTriggerDevV2 holds the target to what Trigger.dev v2 does,
	// its known defects included (the platform answers 200 before any
	// run verifies; a body that is not JSON wakes nothing): a target that
	// passes it behaves as Trigger.dev v2 does. Each case that accepts
	// such a defect says so in CaseResult.Expected.
	ProfileTriggerDevV2 = "triggerdev-v2"
	// ProfileApp holds a receiver in the wild to what its provider
	// requires: accepted is any 2xx, rejected any 4xx other than 404, an
	// error body may be of any type; a manifest narrows these (see
	// Manifest). It is the default for Declared and App targets.
	ProfileApp = "app"
)

// Profiles returns the names of the profiles of expectation.
func Profiles() []string { return []string{ProfileStrict, ProfileTriggerDevV2, ProfileApp} }

// Profile sets the profile of expectation (ProfileStrict,
// ProfileTriggerDevV2 or ProfileApp). Default: the target's own (a
// manifest's profile field), else ProfileApp for Declared and App
// targets and ProfileStrict for the others.
func Profile(name string) Option {
	return func(o *options) {
		if !slices.Contains(Profiles(), name) {
			o.profileErr = fmt.Errorf("conformance: unknown profile %q (want %s)", name, strings.Join(Profiles(), ", "))
			return
		}
		o.profile = name
	}
}

// errorBodies says what type an error answer's body must have.
const (
	errorsJSON = "json" // a JSON object
	errorsText = "text" // a text/* content type
	errorsAny  = "any"  // not checked
)

// rules is a profile of expectation, with what a manifest says of the
// app it describes.
type rules struct {
	name string
	// accept lists the statuses of an accepted request; nil means any
	// 2xx.
	accept []int
	// reject lists the statuses of a request that fails verification;
	// nil means any 4xx other than 404.
	reject []int
	// errors is what an error answer's body must be: errorsJSON,
	// errorsText or errorsAny.
	errors string
	// methods lists the methods the target serves; nil means every method
	// of PROTOCOL.md.
	methods []string
	// verifyInRun is Trigger.dev v2's flow: the platform answers a
	// request before any run verifies it, so a request that fails
	// verification is answered as an accepted one, and the deliveries it
	// causes are marked verification.verified: false.
	verifyInRun bool
	// emptyAnswer is Trigger.dev v2's normal answer: 200 with an empty
	// body.
	emptyAnswer bool
}

// profileRules returns the rules of a profile, with a manifest's knobs
// when the target has them.
func profileRules(name string, m *Manifest) rules {
	switch name {
	case ProfileTriggerDevV2:
		return rules{name: name, accept: []int{http.StatusOK}, reject: []int{http.StatusOK}, errors: errorsAny, verifyInRun: true, emptyAnswer: true}
	case ProfileApp:
		r := rules{name: name, errors: errorsAny}
		if m != nil {
			r.accept, r.reject, r.methods = m.Accept, m.Reject, m.Methods
			if m.Errors != "" {
				r.errors = m.Errors
			}
		}
		return r
	}
	return rules{name: ProfileStrict, reject: []int{http.StatusUnauthorized}, errors: errorsJSON}
}

// is reports whether the run's profile is name.
func (r rules) is(name string) bool { return r.name == name }

// serves reports whether the target serves method.
func (r rules) serves(method string) bool {
	return r.methods == nil || slices.Contains(r.methods, method)
}

// statusList is "200", "200 or 204", "any 2xx".
func statusList(ss []int, dflt string) string {
	if len(ss) == 0 {
		return dflt
	}
	var parts []string
	for _, s := range ss {
		parts = append(parts, strconv.Itoa(s))
	}
	return strings.Join(parts, " or ")
}

// WantAccepted checks the answer to a request the target must accept:
// the profile's accepted status (any 2xx unless a manifest narrows it;
// Trigger.dev v2's 200 with an empty body).
func (x *exchange) WantAccepted(r *response) bool {
	if !x.ok(r) {
		return false
	}
	rl := x.env.rules
	okStatus := r.Status/100 == 2
	if rl.accept != nil {
		okStatus = slices.Contains(rl.accept, r.Status)
	}
	if !okStatus {
		x.Errorf("%s: status = %d, want %s%s", r.desc, r.Status, statusList(rl.accept, "2xx"), bodyNote(r))
		return false
	}
	if rl.emptyAnswer && len(r.Body) > 0 {
		x.Errorf("%s: body = %q, want the empty body of Trigger.dev v2's answer", r.desc, truncate(string(r.Body), 120))
		return false
	}
	return true
}

// WantRejected checks the answer to a request that fails verification:
// under strict 401 with a JSON error; under app any 4xx but 404 (or the
// manifest's reject statuses) with the manifest's error body; under
// triggerdev-v2 the answer of an accepted request, since the platform
// answers before any run verifies (the deliveries it causes must then be
// marked verification.verified: false, see WantDeliveries).
func (x *exchange) WantRejected(r *response) bool {
	rl := x.env.rules
	r.rejected = true
	if rl.verifyInRun {
		x.expected("Trigger.dev v2 answers a request before any run verifies it: a request that fails verification is answered 200, and each run it starts fails verification (conformance/RULES.md T2)")
		return x.WantAccepted(r)
	}
	if !x.ok(r) {
		return false
	}
	okStatus := r.Status/100 == 4 && r.Status != http.StatusNotFound
	if rl.reject != nil {
		okStatus = slices.Contains(rl.reject, r.Status)
	}
	if !okStatus {
		x.Errorf("%s: status = %d, want %s%s", r.desc, r.Status, statusList(rl.reject, "4xx (not 404)"), bodyNote(r))
		return false
	}
	return x.wantErrorBody(r)
}

// WantError checks an error answer of a given status (404, 405, 413):
// the status, and the body the profile wants of errors.
func (x *exchange) WantError(r *response, status int) bool {
	return x.WantStatus(r, status) && x.wantErrorBody(r)
}

// wantErrorBody checks an error answer's body against the profile.
func (x *exchange) wantErrorBody(r *response) bool {
	switch x.env.rules.errors {
	case errorsJSON:
		return x.WantJSONError(r)
	case errorsText:
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "text/") {
			x.Errorf("%s: error Content-Type = %q, want text/* (the manifest says errors: text)", r.desc, ct)
			return false
		}
	}
	return true
}

// expected notes that the case accepted a known defect of the run's
// profile as its expected behaviour; the note is in
// CaseResult.Expected. Each note is kept once.
func (x *exchange) expected(note string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if slices.Contains(x.notes, note) {
		return
	}
	x.notes = append(x.notes, note)
	if e, ok := x.t.(interface{ expected(string) }); ok {
		e.expected(note)
		return
	}
	x.t.Logf("expected under profile %s: %s", x.env.rules.name, note)
}

// A profiled target has a profile of its own, and may narrow the rules
// of the app profile (a manifest's knobs).
type profiled interface {
	profile() (name string, m *Manifest)
}

// targetRules returns the rules a run holds target to: the named profile,
// else the target's own, else strict.
func targetRules(target Target, name string) rules {
	var m *Manifest
	if p, ok := target.(profiled); ok {
		own, man := p.profile()
		m = man
		if name == "" {
			name = own
		}
	}
	if name == "" {
		name = ProfileStrict
	}
	return profileRules(name, m)
}

// parseExpectations reads a manifest's profile, accept, reject, methods
// and errors into m; fail makes an error at a JSON path.
func parseExpectations(top map[string]json.RawMessage, m *Manifest, fail func(path, format string, args ...any) error) error {
	if raw, ok := top["profile"]; ok {
		if err := json.Unmarshal(raw, &m.Profile); err != nil || !slices.Contains(Profiles(), m.Profile) {
			return fail("profile", "want one of %s", strings.Join(Profiles(), ", "))
		}
	}
	for _, f := range []struct {
		key string
		dst *[]int
	}{{"accept", &m.Accept}, {"reject", &m.Reject}} {
		raw, ok := top[f.key]
		if !ok {
			continue
		}
		var v map[string]json.RawMessage
		if err := json.Unmarshal(raw, &v); err != nil || v == nil {
			return fail(f.key, "want an object {status: [...]}")
		}
		for k := range v {
			if k != "status" {
				return fail(f.key+"."+k, "unknown key (want status)")
			}
		}
		var ss []int
		if err := json.Unmarshal(v["status"], &ss); err != nil || len(ss) == 0 {
			return fail(f.key+".status", "want a non-empty list of HTTP statuses")
		}
		for i, s := range ss {
			lo := 200
			if f.key == "reject" {
				lo = 400
			}
			if s < lo || s > lo+99 {
				return fail(fmt.Sprintf("%s.status[%d]", f.key, i), "%d is not a %dxx status", s, lo/100)
			}
		}
		*f.dst = ss
	}
	if raw, ok := top["methods"]; ok {
		if err := json.Unmarshal(raw, &m.Methods); err != nil || len(m.Methods) == 0 {
			return fail("methods", "want a non-empty list of HTTP methods")
		}
		for i, meth := range m.Methods {
			if !slices.Contains(servedMethods, meth) {
				return fail(fmt.Sprintf("methods[%d]", i), "%q is not one of %s", meth, strings.Join(servedMethods, ", "))
			}
		}
	}
	if raw, ok := top["errors"]; ok {
		if err := json.Unmarshal(raw, &m.Errors); err != nil || (m.Errors != errorsJSON && m.Errors != errorsText && m.Errors != errorsAny) {
			return fail("errors", "want json, text or any")
		}
	}
	if m.Profile != "" && m.Profile != ProfileApp && (m.Accept != nil || m.Reject != nil || m.Methods != nil || m.Errors != "") {
		return fail("profile", "accept, reject, methods and errors narrow the app profile only, not %s", m.Profile)
	}
	return nil
}

// servedMethods are the methods PROTOCOL.md says an endpoint serves.
var servedMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
