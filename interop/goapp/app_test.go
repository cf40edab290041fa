package goapp

import (
	"context"
	"io"
	"log"
	"os"
	"strings"
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

// An expectedFailure is a case the app fails: why, and what the first
// line of each of its problems holds (one of them), so that the case
// failing for another reason shows.
type expectedFailure struct {
	cause    string
	problems []string
}

// expectedFailures are the cases this app fails: one defect of go-github,
// the rest the suite judging the app by Trigger.dev's and hooklab's
// conventions, which a GitHub receiver need not follow.
var expectedFailures = map[string]expectedFailure{
	// A defect of go-github v75: ValidatePayload falls back to the SHA-1
	// X-Hub-Signature and takes a sha1= value in X-Hub-Signature-256.
	"Verify/AlgorithmDowngrade": {"go-github accepts SHA-1 signatures (an algorithm downgrade)",
		[]string{"status = 204, want 4xx", "deliveries to all = 1, want 0"}},

	// Header.Get reads the first X-Hub-Signature-256 only, so a bogus value
	// then the valid one is rejected: safe, and GitHub sends one header;
	// the suite reads a repeated header as a list (RFC 9110 §5.3).
	"Verify/DuplicatedHeader": {"the first of two signature headers only",
		[]string{"status = 401, want 2xx", "deliveries to all = 0, want 1"}},
	// ValidatePayload needs a Content-Type (GitHub always sends one); the
	// suite sends an empty body without one.
	"Verify/EmptyBody": {"no Content-Type: ValidatePayload refuses the request",
		[]string{"status = 401, want 2xx", "deliveries to all = 0, want 1"}},
}

// TestConformance runs the whole suite on the app's real handler: every
// case passes or is skipped with a reason (its endpoint is not configured
// as the case needs), except the expected failures above, which must still
// fail, so that a change of the app, of go-github or of the suite shows.
func TestConformance(t *testing.T) {
	m, err := conformance.ParseManifest("goapp.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	app := &App{Secret: []byte("goapp-secret-0123456789")}
	obs := conformance.NewObserver()
	app.OnEvent = obs.Fired
	rep, _ := conformance.Check(context.Background(), conformance.App(app.Routes(), m, obs), conformance.Name("goapp"))
	seen := map[string]bool{}
	for _, c := range rep.Cases {
		id := c.Case.ID()
		seen[id] = true
		want, expected := expectedFailures[id]
		switch {
		case c.Status == conformance.StatusFail && !expected:
			t.Errorf("%s failed:\n%s", id, strings.Join(c.Problems, "\n"))
		case c.Status == conformance.StatusFail:
			for _, p := range c.Problems {
				if first, _, _ := strings.Cut(p, "\n"); !containsAny(first, want.problems) {
					t.Errorf("%s failed, but not only as expected (%s):\n%s", id, want.cause, p)
				}
			}
			t.Logf("%s failed as expected: %s", id, want.cause)
		case expected:
			t.Errorf("%s = %s, want the expected failure (%s): update expectedFailures", id, c.Status, want.cause)
		case c.Status == conformance.StatusSkip && c.Reason == "":
			t.Errorf("%s skipped without a reason", id)
		}
	}
	for id := range expectedFailures {
		if !seen[id] {
			t.Errorf("expected failure %s is no case of the suite", id)
		}
	}
	p, f, s := rep.Counts()
	t.Logf("goapp: %d passed, %d failed (all expected), %d skipped", p, f, s)
	if p == 0 {
		t.Error("no case passed")
	}
	if err := obs.Err(); err != nil {
		t.Errorf("the observer: %v", err)
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
