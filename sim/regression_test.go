package sim_test

// Regression tests for bugs found in package sim by review and probing:
// each failed before its fix.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// parseWithin fails t if ParseSpecs has not returned within d.
func parseWithin(t *testing.T, d time.Duration, name, data string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := sim.ParseSpecs(name, []byte(data)); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("ParseSpecs(%q) has not returned after %s", data, d)
		return nil
	}
}

// Bug 1 (fixed): a YAML alias that refers to its own anchor makes yamlToJSON
// recurse for ever (specfile.go, case yaml.AliasNode), growing the path
// string at each level, until the goroutine stack overflows: a fatal
// error, not a panic, so the process dies. POST /endpoints with this body
// kills `hooklab serve --control`.
func TestRegressionYAMLSelfReferentialAliasIsAnError(t *testing.T) {
	err := parseWithin(t, 5*time.Second, "a.yaml", "id: gh\ntriggers: &t [*t]\n")
	require.Error(t, err)
	assert.ErrorIs(t, err, sim.ErrInvalidSpec)
}

// Bug 2 (fixed): aliases are expanded without a bound (the "billion laughs"):
// 7 levels of 9 aliases, 338 bytes, take 27 s; 9 levels take hours and
// gigabytes. Also reachable through the control API.
func TestRegressionYAMLAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("id: gh\nsource: &a0 x\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	err := parseWithin(t, 5*time.Second, "laughs.yaml", b.String())
	require.Error(t, err)
	assert.ErrorIs(t, err, sim.ErrInvalidSpec)
}

// Bug 3 (fixed): an unknown key inside a trigger, respondWith or its response is
// reported at the endpoint (or with no path at all), on the endpoint's
// line: decodeError (specfile.go) only looks for the key at the top level
// and under "verify".
func TestRegressionUnknownNestedKeyNamesItsPath(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"a.yaml", "endpoints:\n  - id: gh\n    triggers:\n      - id: t\n        deliverr: http://x\n",
			`a.yaml:5: endpoints[0].triggers[0].deliverr: unknown key (want one of id, filter, deliver)`},
		{"b.yaml", "id: gh\nrespondWith:\n  filter: {}\n  response:\n    stauts: 200\n",
			`b.yaml:5: respondWith.response.stauts: unknown key (want one of status, headers, body)`},
		{"c.json", "{\"id\": \"gh\",\n \"respondWith\": {\"filter\": {},\n  \"skipTrigering\": true}}",
			`c.json:3: respondWith.skipTrigering: unknown key (want one of filter, skipTriggering, response)`},
	}
	for _, tt := range tests {
		_, err := sim.ParseSpecs(tt.name, []byte(tt.data))
		assert.EqualError(t, err, tt.want)
	}
}

// Bug 4 (fixed): a wrong type inside a list names a path without the index
// ("triggers.id"), which is not a path of the document:
// json.UnmarshalTypeError.Field has no indices.
func TestRegressionWrongTypeInAListNamesTheIndex(t *testing.T) {
	_, err := sim.ParseSpecs("a.yaml", []byte("id: gh\ntriggers:\n  - id: a\n  - id: 5\n"))
	assert.EqualError(t, err, `a.yaml:4: triggers[1].id: want a string, got JSON number`)
}

// Bug 5 (fixed): a YAML file with several documents ("---") is read as its first
// document only; the endpoints of the others are silently dropped.
func TestRegressionYAMLSecondDocumentIsNotDropped(t *testing.T) {
	specs, err := sim.ParseSpecs("a.yaml", []byte("id: a\n---\nid: b\n"))
	if err == nil {
		assert.Len(t, specs, 2, "both documents' endpoints, or an error")
	}
}

// Bug 6 (fixed): Flush (and Close) call WaitGroup.Wait while ServeHTTP calls
// WaitGroup.Add from zero: "calls with a positive delta that occur when
// the counter is zero must happen before a Wait". go test -race reports a
// race in Ingress.deliver/Flush; the Ingress is documented as safe for
// concurrent use.
func TestRegressionFlushWhileServingIsRaceFree(t *testing.T) {
	in, err := sim.NewIngress(sim.Config{Recorder: &sim.Recorder{}}, sim.EndpointSpec{ID: "open", Triggers: []sim.TriggerSpec{{ID: "all"}}})
	require.NoError(t, err)
	defer in.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 2000 {
				in.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hooks/open", strings.NewReader("{}")))
			}
		}()
		go func() {
			defer wg.Done()
			for range 2000 {
				in.Flush(context.Background())
			}
		}()
	}
	wg.Wait()
}

// BUG 7 (hazard): slog's JSON handler marshals a VerifySpec (or an
// EndpointSpec holding one) with MarshalJSON, secrets in clear. STYLE rule
// 25 wants secrets to redact themselves in slog.
func TestRegressionSlogJSONNeverShowsSecrets(t *testing.T) {
	v := sim.VerifySpec{Preset: "github", Secrets: signer.Keys("SLOG-SECRET-1")}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "verify", v, "spec", sim.EndpointSpec{ID: "gh", Verify: &v})
	assert.NotContains(t, buf.String(), "SLOG-SECRET-1")
}

// BUG 8 (minor): through Handler, "/hooks" is answered 307 by ServeMux
// (to "/hooks/"), and "/hooks//gh" or "/hooks/./gh" 307 to the cleaned
// path, where the Ingress alone answers 404. A webhook sender that
// follows a 307 re-POSTs to another URL, which breaks URL-signed schemes.
func TestRegressionHandlerAnswers404ForPathsTheIngressRejects(t *testing.T) {
	in, err := sim.NewIngress(sim.Config{}, sim.EndpointSpec{ID: "gh"})
	require.NoError(t, err)
	defer in.Close()
	h := sim.Handler(in)
	for _, p := range []string{"/hooks", "/hooks//gh", "/hooks/./gh"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", p, strings.NewReader("{}")))
		assert.Equal(t, http.StatusNotFound, w.Code, "POST %s", p)
	}
}

var _ = errors.New
