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

// expectedFailures are the conformance cases this app fails: none. The
// suite used to fail it for rules no GitHub receiver need follow: a
// bogus then a valid X-Hub-Signature-256 (Header.Get reads the first
// value only and rejects, which is safe: RULES.md S11) and an empty body
// sent without the Content-Type GitHub always sends (RULES.md S3).
var expectedFailures = map[string]expectedFailure{}

// expectedPolicyFailures are the cases of the opt-in Policy group this app
// fails: hooklab's own rules, which GitHub does not require.
var expectedPolicyFailures = map[string]expectedFailure{
	// go-github v75's ValidatePayload falls back to the SHA-1
	// X-Hub-Signature and takes a sha1= value in X-Hub-Signature-256:
	// GitHub still sends the SHA-1 header, so this is a policy finding
	// (RULES.md P1), not a conformance failure.
	"Policy/AlgorithmDowngrade": {"go-github accepts SHA-1 signatures (an algorithm downgrade)",
		[]string{"status = 204, want 4xx", "deliveries to all = 1, want 0"}},
}

// TestConformance runs the whole suite on the app's real handler: every
// case passes or is skipped with a reason (its endpoint is not configured
// as the case needs), except the expected failures above, which must still
// fail, so that a change of the app, of go-github or of the suite shows.
func TestConformance(t *testing.T) {
	rep := checkApp(t, expectedFailures)
	p, f, s := rep.Counts()
	t.Logf("goapp: %d passed, %d failed (all expected), %d skipped", p, f, s)
	if p == 0 {
		t.Error("no case passed")
	}
}

// TestPolicy runs the opt-in Policy cases on the app: its policy findings
// are the expectedPolicyFailures.
func TestPolicy(t *testing.T) {
	rep := checkApp(t, expectedPolicyFailures, conformance.Policy(true), conformance.Select("^Policy/"))
	p, f, s := rep.PolicyCounts()
	t.Logf("goapp policy: %d passed, %d failed (all expected), %d skipped", p, f, s)
	if c := len(rep.Cases); c == 0 {
		t.Error("no Policy case ran")
	}
}

// checkApp runs the suite on the app with opts and checks every case
// against expected: a failure not in it, or a case in it that did not
// fail, is an error.
func checkApp(t *testing.T, expected map[string]expectedFailure, opts ...conformance.Option) *conformance.Report {
	t.Helper()
	m, err := conformance.ParseManifest("goapp.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	app := &App{Secret: []byte("goapp-secret-0123456789")}
	obs := conformance.NewObserver()
	app.OnEvent = obs.Fired
	rep, _ := conformance.Check(context.Background(), conformance.App(app.Routes(), m, obs), append([]conformance.Option{conformance.Name("goapp")}, opts...)...)
	seen := map[string]bool{}
	for _, c := range rep.Cases {
		id := c.Case.ID()
		seen[id] = true
		want, isExpected := expected[id]
		switch {
		case c.Status == conformance.StatusFail && !isExpected:
			t.Errorf("%s failed:\n%s", id, strings.Join(c.Problems, "\n"))
		case c.Status == conformance.StatusFail:
			for _, p := range c.Problems {
				if first, _, _ := strings.Cut(p, "\n"); !containsAny(first, want.problems) {
					t.Errorf("%s failed, but not only as expected (%s):\n%s", id, want.cause, p)
				}
			}
			t.Logf("%s failed as expected: %s", id, want.cause)
		case isExpected:
			t.Errorf("%s = %s, want the expected failure (%s): update the expected failures", id, c.Status, want.cause)
		case c.Status == conformance.StatusSkip && c.Reason == "":
			t.Errorf("%s skipped without a reason", id)
		}
	}
	for id := range expected {
		if !seen[id] {
			t.Errorf("expected failure %s is no case of the run", id)
		}
	}
	if err := obs.Err(); err != nil {
		t.Errorf("the observer: %v", err)
	}
	return rep
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
