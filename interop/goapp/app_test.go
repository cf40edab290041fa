package goapp

import (
	"context"
	"io"
	"log"
	"os"
	"testing"

	"github.com/hooklab/hooklab/conformance"
)

// manifest is the app's endpoint as the suite needs to know it.
const manifest = `
url: http://localhost:8080/webhooks/github
methods: [POST]
endpoint:
  verify: {preset: github, secret: goapp-secret-0123456789}
  triggers:
    - id: all
    - id: issues
      filter: {headers: {x-github-event: [issues]}}
`

func TestMain(m *testing.M) {
	log.SetOutput(io.Discard) // the app logs every request it rejects
	os.Exit(m.Run())
}

// TestConformance runs the whole suite on the app's real handler, the
// opt-in Policy cases included: every case passes or is skipped with a
// reason (its endpoint is not configured as the case needs), except the
// expected failures of goapp.expect.yaml, which must still fail as
// listed, so that a change of the app, of go-github or of the suite
// shows.
func TestConformance(t *testing.T) {
	m, err := conformance.ParseManifest("goapp.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	expect, err := conformance.ReadExpectations("goapp.expect.yaml")
	if err != nil {
		t.Fatal(err)
	}
	app := &App{Secret: []byte("goapp-secret-0123456789")}
	obs := conformance.NewObserver()
	app.OnEvent = obs.Fired
	rep, _ := conformance.Check(context.Background(), conformance.App(app.Routes(), m, obs), conformance.Name("goapp"), conformance.Policy(true))
	j := expect.Judge(rep)
	for _, mm := range j.Mismatches {
		t.Error(mm)
	}
	for _, f := range j.NotRun {
		t.Errorf("expected failure %s did not run", f.Case)
	}
	for _, f := range j.Seen {
		t.Logf("%s failed as expected: %s", f.Case, f.Cause)
	}
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusSkip && c.Reason == "" {
			t.Errorf("%s skipped without a reason", c.Case.ID())
		}
	}
	p, f, s := rep.Counts()
	pp, pf, ps := rep.PolicyCounts()
	t.Logf("goapp: %d passed, %d failed, %d skipped; policy: %d passed, %d failed, %d skipped; %d failures expected", p, f, s, pp, pf, ps, len(j.Seen))
	if p == 0 {
		t.Error("no case passed")
	}
	if err := obs.Err(); err != nil {
		t.Errorf("the observer: %v", err)
	}
}
