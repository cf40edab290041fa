package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// relayWithout forwards every delivery envelope it receives to sink, with
// the request header name removed: an app whose handler for one trigger
// builds a wrong envelope.
func relayWithout(t *testing.T, sink, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d sim.Delivery
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for k := range d.Request.Header {
			if strings.EqualFold(k, name) {
				delete(d.Request.Header, k)
			}
		}
		b, err := json.Marshal(d)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp, err := http.Post("http://"+sink+"/deliveries", "application/json", bytes.NewReader(b))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDeclaredDeliveryEnvelopeJudgesEveryDeclaredTrigger checks
// FanOut/DeliveryEnvelope against a declared GitHub app with more
// triggers than the case asks for: a delivery to a declared trigger whose
// filter matches the request is judged by its envelope (an app that
// routes issues by action, as real ones do, passes), and a delivery to a
// declared trigger whose filter does not match, or to a trigger the
// manifest does not declare, fails the case.
func TestDeclaredDeliveryEnvelopeJudgesEveryDeclaredTrigger(t *testing.T) {
	const secret = "declared-app-secret-0123456789"
	issues := json.RawMessage(`{"headers":{"x-github-event":["issues"]}}`)
	issuesOpened := json.RawMessage(`{"headers":{"x-github-event":["issues"]},"body":{"action":["opened"]}}`)
	issuesClosed := json.RawMessage(`{"headers":{"x-github-event":["issues"]},"body":{"action":["closed"]}}`)
	push := json.RawMessage(`{"headers":{"x-github-event":["push"]}}`)
	type trigger struct {
		id     string
		filter json.RawMessage
		relay  string // a header the app's envelope for this trigger drops
	}
	tests := []struct {
		name     string
		app      []trigger // what the app really does
		manifest []trigger // what its manifest declares
		want     conformance.Status
		problem  string // a substring of the failure, when it fails
	}{
		{
			name:     "a trigger routed by action that also matches passes",
			app:      []trigger{{id: "all"}, {id: "issues", filter: issues}, {id: "issues-opened", filter: issuesOpened}, {id: "push", filter: push}},
			manifest: []trigger{{id: "all"}, {id: "issues", filter: issues}, {id: "issues-opened", filter: issuesOpened}, {id: "push", filter: push}},
			want:     conformance.StatusPass,
		},
		{
			name:     "a second unfiltered trigger passes",
			app:      []trigger{{id: "all"}, {id: "audit"}, {id: "issues", filter: issues}},
			manifest: []trigger{{id: "all"}, {id: "audit"}, {id: "issues", filter: issues}},
			want:     conformance.StatusPass,
		},
		{
			name:     "a matching declared trigger's envelope is checked",
			app:      []trigger{{id: "all"}, {id: "issues", filter: issues}, {id: "issues-opened", filter: issuesOpened, relay: "X-Github-Event"}},
			manifest: []trigger{{id: "all"}, {id: "issues", filter: issues}, {id: "issues-opened", filter: issuesOpened}},
			want:     conformance.StatusFail,
			problem:  "delivery to the declared trigger issues-opened (its filter matches the request): header X-Github-Event missing",
		},
		{
			name:     "a declared trigger whose filter does not match must get none",
			app:      []trigger{{id: "all"}, {id: "issues", filter: issues}, {id: "issues-closed"}},
			manifest: []trigger{{id: "all"}, {id: "issues", filter: issues}, {id: "issues-closed", filter: issuesClosed}},
			want:     conformance.StatusFail,
			problem:  `delivery to the declared trigger "issues-closed", whose filter {"body":{"action":["closed"]},"headers":{"x-github-event":["issues"]}} does not match the request, want none`,
		},
		{
			name:     "a trigger the manifest does not declare must get none",
			app:      []trigger{{id: "all"}, {id: "issues", filter: issues}, {id: "stray"}, {id: "push", filter: push}},
			manifest: []trigger{{id: "all"}, {id: "issues", filter: issues}, {id: "push", filter: push}},
			want:     conformance.StatusFail,
			problem:  `trigger = "stray", want one of the endpoint's trigger ids ["all", "issues", "push"]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := freeAddr(t)
			app := sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)}}
			for _, tr := range tt.app {
				deliver := "http://" + sink + "/deliveries"
				if tr.relay != "" {
					deliver = relayWithout(t, sink, tr.relay)
				}
				app.Triggers = append(app.Triggers, sim.TriggerSpec{ID: tr.id, Filter: tr.filter, Deliver: deliver})
			}
			m := &conformance.Manifest{URL: startApp(t, app), Sink: sink,
				Endpoint: sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)}}}
			for _, tr := range tt.manifest {
				m.Endpoint.Triggers = append(m.Endpoint.Triggers, sim.TriggerSpec{ID: tr.id, Filter: tr.filter})
			}
			rep, _ := conformance.Check(context.Background(), conformance.DeclaredTarget(m),
				conformance.Select("^FanOut/DeliveryEnvelope$"))
			require.Len(t, rep.Cases, 1)
			c := rep.Cases[0]
			problems := strings.Join(c.Problems, "\n")
			require.Equal(t, tt.want, c.Status, "FanOut/DeliveryEnvelope: status = %s, want %s; problems:\n%s\nreason: %s", c.Status, tt.want, problems, c.Reason)
			if tt.problem != "" {
				assert.Contains(t, problems, tt.problem)
			}
			assert.NotContains(t, problems, secret)
		})
	}
}

// TestDeclaredSkipReasonSaysWhatTheCaseNeedsAndTheManifestHas checks that
// a case needing a shape the declared app lacks (triggers, a respondWith)
// is skipped with what the case needs and what the manifest has, not
// with the name of a filter the manifest does have.
func TestDeclaredSkipReasonSaysWhatTheCaseNeedsAndTheManifestHas(t *testing.T) {
	const secret = "declared-app-secret-0123456789"
	issues := json.RawMessage(`{"headers":{"x-github-event":["issues"]}}`)
	manifest := func(rw *sim.RespondWithSpec) *conformance.Manifest {
		return &conformance.Manifest{URL: "http://127.0.0.1:1/hooks", Sink: "127.0.0.1:1",
			Endpoint: sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
				RespondWith: rw, Triggers: []sim.TriggerSpec{{ID: "all"}, {ID: "issues", Filter: issues}}}}
	}
	push := json.RawMessage(`{"headers":{"x-github-event":["push"]}}`)
	ping := &sim.RespondWithSpec{Filter: json.RawMessage(`{"headers": {"x-github-event": ["ping"]}}`), Response: sim.ResponseSpec{Body: "pong"}}
	tests := []struct {
		name        string
		appRespond  *sim.RespondWithSpec // the manifest's
		caseRespond *sim.RespondWithSpec // the case's
		triggers    []sim.TriggerSpec    // the case's
		want        string
	}{
		{
			name:     "a filter the manifest lacks",
			triggers: []sim.TriggerSpec{{ID: "all"}, {ID: "opened", Filter: json.RawMessage(`{"body": {"action": ["opened"]}}`)}},
			want:     `the declared endpoint has no trigger with the filter {"body":{"action":["opened"]}}; the case needs 1 (opened)`,
		},
		{
			name: "identical triggers share the app's one, a missing filter falls short",
			triggers: []sim.TriggerSpec{{ID: "a"}, {ID: "b"}, {ID: "i-1", Filter: issues}, {ID: "i-2", Filter: issues},
				{ID: "push", Filter: json.RawMessage(`{"headers":{"x-github-event":["push"]}}`)}},
			want: `the declared endpoint has no trigger with the filter {"headers":{"x-github-event":["push"]}}; the case needs 1 (push)`,
		},
		{
			name: "many triggers are cut",
			triggers: []sim.TriggerSpec{{ID: "t1", Filter: push}, {ID: "t2", Filter: push}, {ID: "t3", Filter: push},
				{ID: "t4", Filter: push}, {ID: "t5", Filter: push}, {ID: "t6", Filter: push}},
			want: `the declared endpoint has no trigger with the filter {"headers":{"x-github-event":["push"]}}; the case needs 6 (t1, t2, t3, t4, …)`,
		},
		{
			name:        "a respondWith the manifest lacks",
			caseRespond: ping,
			want:        `the declared endpoint has no respondWith; the case needs {"filter":{"headers":{"x-github-event":["ping"]}},"response":{"body":"pong"}}`,
		},
		{
			name:        "a different respondWith",
			appRespond:  &sim.RespondWithSpec{Filter: json.RawMessage(`{"method":["GET"]}`), Response: sim.ResponseSpec{Status: 204}},
			caseRespond: ping,
			want: `the declared endpoint has the respondWith {"filter":{"method":["GET"]},"response":{"status":204}}; ` +
				`the case needs {"filter":{"headers":{"x-github-event":["ping"]}},"response":{"body":"pong"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := sim.EndpointSpec{ID: "case", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys("the-case-secret-0123456789")},
				RespondWith: tt.caseRespond, Triggers: tt.triggers}
			ep, err := conformance.DeclaredTarget(manifest(tt.appRespond)).Provision(context.Background(), spec)
			var na *conformance.NotApplicableError
			require.ErrorAs(t, err, &na, "Provision = %+v, %v, want a NotApplicableError", ep, err)
			assert.Equal(t, tt.want, na.Reason)
		})
	}
	t.Run("in a run", func(t *testing.T) {
		m := manifest(nil)
		m.Sink = freeAddr(t)
		// RejectedRequestWakesNothing runs with a declared app's own
		// triggers; EveryMatchExactlyOnce needs three identical ones.
		rep, err := conformance.Check(context.Background(), conformance.DeclaredTarget(m), conformance.Select("^FanOut/EveryMatchExactlyOnce$"))
		require.NoError(t, err)
		require.Len(t, rep.Cases, 1)
		assert.Equal(t, conformance.StatusSkip, rep.Cases[0].Status)
		assert.Contains(t, rep.Cases[0].Reason, `the declared endpoint has no trigger with the filter {"body":{"action":["opened"]}}; the case needs 3 (opened-1, opened-2, opened-3)`)
	})
}
