package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/signer"
)

// presetApp is a small receiver of one provider's webhooks, written as
// apps are: it serves POST only, reads the body with a 1 MiB cap,
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
}

func (a *presetApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the body", http.StatusBadRequest)
		return
	}
	p := signer.Payload{Method: r.Method, URL: "http://" + r.Host + r.URL.RequestURI(), Header: r.Header, Body: body}
	if err := signer.Verify(a.scheme, a.keys, p); err != nil {
		http.Error(w, "Webhook Error: signature verification failed", http.StatusBadRequest)
		return
	}
	a.OnEvent("all", r)
	for _, id := range a.route(r.Header, body) {
		a.OnEvent(id, r)
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
				switch r.Status {
				case conformance.StatusFail:
					t.Logf("FAIL %s:\n%s", r.Case.ID(), strings.Join(r.Problems, "\n"))
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
