package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/signer"
)

// presetApp is a small receiver of one provider's webhooks, written as
// apps are: it serves POST only, reads the body with a 1 MiB cap (413
// over it),
// verifies it with signer.VerifyRequest for its preset, then dispatches
// the event the way that provider's apps route them (route), calling
// OnEvent for "all" and for each handler the event reaches.
type presetApp struct {
	scheme signer.Scheme
	keys   signer.KeySet
	// status is the app's answer to an accepted request.
	status int
	// route returns the handlers, besides "all", an event reaches.
	route   func(h http.Header, body []byte) []string
	OnEvent func(trigger string, r *http.Request)
	// fireFirst is a defect, for the tests: the app runs its handlers
	// before it verifies the request.
	fireFirst bool
	// limit, when set, replaces the 1 MiB cap (a defect, for the tests,
	// when it is not the manifest's maxBody).
	limit int64
}

func (a *presetApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	limit := int64(1 << 20)
	if a.limit > 0 {
		limit = a.limit
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the body", http.StatusBadRequest)
		return
	}
	dispatch := func() {
		a.OnEvent("all", r)
		for _, id := range a.route(r.Header, body) {
			a.OnEvent(id, r)
		}
	}
	if a.fireFirst {
		dispatch()
	}
	p := signer.Payload{Method: r.Method, URL: "http://" + r.Host + r.URL.RequestURI(), Header: r.Header, Body: body}
	if err := signer.Verify(a.scheme, a.keys, p); err != nil {
		http.Error(w, "Webhook Error: signature verification failed", http.StatusBadRequest)
		return
	}
	if !a.fireFirst {
		dispatch()
	}
	w.WriteHeader(a.status)
}

// routeGitHub routes as GitHub apps do: by X-GitHub-Event, then by the
// payload's action ("issues" and "issues-opened" for issues.opened).
func routeGitHub(h http.Header, body []byte) []string {
	event := h.Get("X-GitHub-Event")
	if event == "" {
		return nil
	}
	out := []string{event}
	var p struct {
		Action string `json:"action"`
	}
	if json.Unmarshal(body, &p) == nil && p.Action != "" {
		out = append(out, event+"-"+p.Action)
	}
	return out
}

// routeByType routes as Stripe and Standard Webhooks apps do: by the
// event's type ("invoice.paid" reaches the handler "invoice.paid").
func routeByType(_ http.Header, body []byte) []string {
	var p struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &p) != nil || p.Type == "" {
		return nil
	}
	return []string{p.Type}
}

// The preset apps' manifests: the triggers are the app's handlers, with
// the filters that describe its routing.
const (
	githubRoutedManifest = `
url: http://localhost:3000/webhooks/github
methods: [POST]
endpoint:
  verify: {preset: github, secret: github-app-secret-0123456789}
  maxBody: 1048576
  triggers:
    - id: all
    - id: issues
      filter: {headers: {x-github-event: [issues]}}
    - id: issues-opened
      filter: {headers: {x-github-event: [issues]}, body: {action: [opened]}}
    - id: push
      filter: {headers: {x-github-event: [push]}}
`
	stripeRoutedManifest = `
url: http://localhost:4242/webhook
methods: [POST]
endpoint:
  verify: {preset: stripe, secret: whsec_c3RyaXBlLWFwcC1zZWNyZXQtMDEyMzQ1Njc4OQ==}
  maxBody: 1048576
  triggers:
    - id: all
    - id: invoice.paid
      filter: {body: {type: [invoice.paid]}}
    - id: charge.refunded
      filter: {body: {type: [charge.refunded]}}
`
	standardWebhooksRoutedManifest = `
url: http://localhost:8080/webhooks
methods: [POST]
endpoint:
  verify: {preset: standard-webhooks, secret: whsec_c3RhbmRhcmQtYXBwLXNlY3JldC0wMTIzNDU2Nzg5}
  maxBody: 1048576
  triggers:
    - id: all
    - id: invoice.paid
      filter: {body: {type: [invoice.paid]}}
    - id: invoice.voided
      filter: {body: {type: [invoice.voided]}}
`
)

// presetAppRun runs the suite against a preset app declared by
// manifest, and returns the report.
func presetAppRun(t *testing.T, manifest string, status int, route func(http.Header, []byte) []string, opts ...conformance.Option) *conformance.Report {
	t.Helper()
	m, err := conformance.ParseManifest("app.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.Preset(m.Endpoint.Verify.Preset)
	if err != nil {
		t.Fatal(err)
	}
	app := &presetApp{scheme: s, keys: m.Endpoint.Verify.Secrets, status: status, route: route}
	obs := conformance.NewObserver()
	app.OnEvent = obs.Fired
	u, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(u.Path, app)
	rep, err := conformance.Check(context.Background(), conformance.App(mux, m, obs), opts...)
	if rep == nil {
		t.Fatalf("Check = %v, want a report", err)
	}
	return rep
}

// presetAppCases are the cases that run against an app of any preset
// that routes events by type, observed by an Observer.
var presetAppCases = []string{
	"Robustness/UnknownEndpoint", "Robustness/UnsupportedMethod", "Robustness/SlowClient", "Robustness/RejectionLeaksNoSecret",
	"Robustness/InvalidUTF8Body", "Robustness/KeepAliveSequence", "Robustness/LargeBody",
	"Robustness/OversizeBody", "Robustness/OversizeChunkedBody",
	"FanOut/IdenticalRequestsEachFire", "FanOut/ConcurrentRequests", "FanOut/DeliveryEnvelope",
	"FanOut/RejectedRequestWakesNothing", "FanOut/EventTypeRouting",
}

// TestPresetAppsCoverage runs the whole suite against a GitHub, a Stripe
// and a Standard Webhooks app (each verifying with signer.Verify and
// routing events as its provider's apps do): it fails no case, and runs
// every case written for any preset; the counts are logged.
func TestPresetAppsCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite three times")
	}
	for _, c := range []struct {
		name     string
		manifest string
		status   int
		route    func(http.Header, []byte) []string
	}{
		{"github", githubRoutedManifest, http.StatusAccepted, routeGitHub},
		{"stripe", stripeRoutedManifest, http.StatusOK, routeByType},
		{"standard-webhooks", standardWebhooksRoutedManifest, http.StatusNoContent, routeByType},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := presetAppRun(t, c.manifest, c.status, c.route)
			p, f, s := rep.Counts()
			t.Logf("%s: %d passed, %d failed, %d skipped", c.name, p, f, s)
			reasons := map[string]int{}
			for _, r := range rep.Cases {
				if slices.Contains(presetAppCases, r.Case.ID()) && r.Status != conformance.StatusPass {
					t.Errorf("%s = %s (%s), want pass: the case runs with the app's preset and handlers", r.Case.ID(), r.Status, truncateReason(r.Reason))
				}
				switch r.Status {
				case conformance.StatusFail:
					t.Errorf("FAIL %s:\n%s", r.Case.ID(), strings.Join(r.Problems, "\n"))
				case conformance.StatusSkip:
					t.Logf("SKIP %s: %s", r.Case.ID(), truncateReason(r.Reason))
					reasons[r.Case.Group]++
				}
			}
			var groups []string
			for g := range reasons {
				groups = append(groups, g)
			}
			sort.Strings(groups)
			for _, g := range groups {
				t.Logf("skipped in %s: %d", g, reasons[g])
			}
		})
	}
}

func truncateReason(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// presetAppCase runs the cases matching sel against a preset app and
// returns their results by id.
func presetAppCase(t *testing.T, manifest string, route func(http.Header, []byte) []string, wrap func(http.Handler) http.Handler, sel string) map[string]conformance.CaseResult {
	t.Helper()
	m, err := conformance.ParseManifest("app.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.Preset(m.Endpoint.Verify.Preset)
	if err != nil {
		t.Fatal(err)
	}
	app := &presetApp{scheme: s, keys: m.Endpoint.Verify.Secrets, status: http.StatusOK, route: route}
	obs := conformance.NewObserver()
	app.OnEvent = obs.Fired
	u, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = app
	if wrap != nil {
		h = wrap(h)
	}
	mux := http.NewServeMux()
	mux.Handle(u.Path, h)
	// The app delivers in its handler, before it answers: the late
	// sweep need not wait long.
	rep, _ := conformance.Check(context.Background(), conformance.App(mux, m, obs), conformance.Select(sel), conformance.LateWindow(100*time.Millisecond))
	if rep == nil {
		t.Fatal("Check returned no report")
	}
	out := map[string]conformance.CaseResult{}
	for _, r := range rep.Cases {
		out[r.Case.ID()] = r
	}
	return out
}

func TestRequestsCarryTheProvidersHeaders(t *testing.T) {
	for _, c := range []struct {
		name     string
		manifest string
		// want are headers every request must carry with these values
		// ("" for any non-empty value); fresh are headers whose value
		// must differ on every request.
		want  map[string]string
		fresh []string
	}{
		{"github", githubRoutedManifest, map[string]string{
			"Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": "", "X-GitHub-Hook-ID": "",
			"X-GitHub-Hook-Installation-Target-Type": "repository",
		}, []string{"X-GitHub-Delivery"}},
		{"stripe", stripeRoutedManifest, map[string]string{
			"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
		}, nil},
		{"standard-webhooks", standardWebhooksRoutedManifest, map[string]string{
			"Content-Type": "application/json", "webhook-id": "",
		}, []string{"webhook-id"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []http.Header
			record := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					seen = append(seen, r.Header.Clone())
					mu.Unlock()
					next.ServeHTTP(w, r)
				})
			}
			res := presetAppCase(t, c.manifest, routeByType, record, "^Robustness/KeepAliveSequence$")
			if r := res["Robustness/KeepAliveSequence"]; r.Status != conformance.StatusPass {
				t.Errorf("Robustness/KeepAliveSequence = %s (%s %v), want pass", r.Status, r.Reason, r.Problems)
			}
			if len(seen) != 25 {
				t.Fatalf("requests seen = %d, want 25", len(seen))
			}
			values := map[string]map[string]bool{}
			for i, h := range seen {
				if strings.HasPrefix(h.Get("User-Agent"), "hooklab") && c.name != "standard-webhooks" {
					t.Errorf("request %d: User-Agent = %q, want the provider's", i, h.Get("User-Agent"))
				}
				for k, v := range c.want {
					got := h.Get(k)
					if got == "" || v != "" && got != v {
						t.Errorf("request %d: header %s = %q, want %q", i, k, got, v)
					}
				}
				for _, k := range c.fresh {
					if values[k] == nil {
						values[k] = map[string]bool{}
					}
					values[k][h.Get(k)] = true
				}
			}
			for _, k := range c.fresh {
				if len(values[k]) != len(seen) {
					t.Errorf("header %s: %d distinct values in %d requests, want one per request", k, len(values[k]), len(seen))
				}
			}
		})
	}
}

func TestCaseHeadersWinOverTheProvidersDefaults(t *testing.T) {
	// HeaderNameCaseInsensitive sends X-GitHub-Event: issues under three
	// spellings; the default (issues too) must not be added beside them,
	// and PartialMatches' and NoneMatchAccepted's own values are kept.
	var mu sync.Mutex
	events := map[string]int{}
	record := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			events[strings.Join(r.Header.Values("X-GitHub-Event"), "|")]++
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	presetAppCase(t, githubRoutedManifest, routeGitHub, record, "^Filter/HeaderNameCaseInsensitive$")
	if events["issues"] != 3 || len(events) != 1 {
		t.Errorf("X-GitHub-Event values seen = %v, want issues in each of 3 requests, once", events)
	}
}

func TestEventTypeRoutingJudgesRouters(t *testing.T) {
	// ignoresAction routes issues.closed to issues-opened too.
	ignoresAction := func(h http.Header, body []byte) []string {
		out := routeGitHub(h, body)
		if h.Get("X-GitHub-Event") == "issues" && !slices.Contains(out, "issues-opened") {
			out = append(out, "issues-opened")
		}
		return out
	}
	// everyHandler runs every handler for every event.
	everyHandler := func(http.Header, []byte) []string {
		return []string{"invoice.paid", "charge.refunded"}
	}
	// typeTwice runs the handler of the event's type twice.
	typeTwice := func(h http.Header, body []byte) []string {
		out := routeByType(h, body)
		return append(out, out...)
	}
	for _, c := range []struct {
		name     string
		manifest string
		route    func(http.Header, []byte) []string
		want     conformance.Status
	}{
		{"github routed by event and action", githubRoutedManifest, routeGitHub, conformance.StatusPass},
		{"github ignoring the action", githubRoutedManifest, ignoresAction, conformance.StatusFail},
		{"stripe routed by type", stripeRoutedManifest, routeByType, conformance.StatusPass},
		{"stripe running every handler", stripeRoutedManifest, everyHandler, conformance.StatusFail},
		{"standard webhooks routed by type", standardWebhooksRoutedManifest, routeByType, conformance.StatusPass},
		{"standard webhooks running a handler twice", standardWebhooksRoutedManifest, typeTwice, conformance.StatusFail},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := presetAppCase(t, c.manifest, c.route, nil, "^FanOut/EventTypeRouting$")["FanOut/EventTypeRouting"]
			if r.Status != c.want {
				t.Errorf("FanOut/EventTypeRouting = %s (%s %v), want %s", r.Status, r.Reason, r.Problems, c.want)
			}
		})
	}
}

func TestHandlersFiredBeforeVerificationAreCaught(t *testing.T) {
	for _, c := range []struct {
		name     string
		manifest string
		route    func(http.Header, []byte) []string
	}{
		{"github", githubRoutedManifest, routeGitHub},
		{"stripe", stripeRoutedManifest, routeByType},
		{"standard-webhooks", standardWebhooksRoutedManifest, routeByType},
	} {
		for _, fireFirst := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fireFirst=%t", c.name, fireFirst), func(t *testing.T) {
				wrap := func(h http.Handler) http.Handler {
					h.(*presetApp).fireFirst = fireFirst
					return h
				}
				r := presetAppCase(t, c.manifest, c.route, wrap, "^FanOut/RejectedRequestWakesNothing$")["FanOut/RejectedRequestWakesNothing"]
				want := conformance.StatusPass
				if fireFirst {
					want = conformance.StatusFail
				}
				if r.Status != want {
					t.Errorf("FanOut/RejectedRequestWakesNothing = %s (%s %v), want %s", r.Status, r.Reason, r.Problems, want)
				}
			})
		}
	}
}

func TestDeclaredBodyLimitIsJudged(t *testing.T) {
	for _, c := range []struct {
		name  string
		limit int64
		// want is each case's status; OversizeChunkedBody sends 4×maxBody,
		// which a cap of 2×maxBody still refuses.
		want map[string]conformance.Status
	}{
		{"the app caps bodies at its declared maxBody", 1 << 20, map[string]conformance.Status{
			"Robustness/OversizeBody": conformance.StatusPass, "Robustness/OversizeChunkedBody": conformance.StatusPass}},
		{"the app caps bodies at twice its declared maxBody", 2 << 20, map[string]conformance.Status{
			"Robustness/OversizeBody": conformance.StatusFail, "Robustness/OversizeChunkedBody": conformance.StatusPass}},
		{"the app caps bodies at eight times its declared maxBody", 8 << 20, map[string]conformance.Status{
			"Robustness/OversizeBody": conformance.StatusFail, "Robustness/OversizeChunkedBody": conformance.StatusFail}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wrap := func(h http.Handler) http.Handler {
				h.(*presetApp).limit = c.limit
				return h
			}
			res := presetAppCase(t, stripeRoutedManifest, routeByType, wrap, "^Robustness/Oversize(Chunked)?Body$")
			for id, want := range c.want {
				if r := res[id]; r.Status != want {
					t.Errorf("%s = %s (%s %v), want %s", id, r.Status, r.Reason, r.Problems, want)
				}
			}
		})
	}
}
