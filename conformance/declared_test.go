package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// startApp serves spec with the reference ingress, standing in for an
// existing app, and returns its endpoint URL.
func startApp(t *testing.T, spec sim.EndpointSpec, faults ...string) string {
	t.Helper()
	var fs []fault.Fault
	for _, name := range faults {
		f, err := fault.Lookup(sim.Strict, name)
		require.NoError(t, err)
		fs = append(fs, f)
	}
	cfg, err := fault.With(sim.Config{}, fs...)
	require.NoError(t, err)
	in, err := sim.NewIngress(cfg, spec)
	require.NoError(t, err)
	srv, err := sim.NewServer("", sim.Handler(in))
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close(); in.Close() })
	return srv.URL + sim.PathPrefix + spec.ID
}

// freeAddr returns a free loopback address below Linux's ephemeral port
// range, so that no other connection takes it before the suite's sink
// binds it.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 200 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	t.Fatal("no free port in 20000–31999")
	return ""
}

func writeManifest(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "manifest.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

func statuses(rep *conformance.Report) map[string]conformance.Status {
	out := map[string]conformance.Status{}
	for _, c := range rep.Cases {
		out[c.Case.ID()] = c.Status
	}
	return out
}

func TestDeclaredGitHubAppWithoutSinkRunsWhatApplies(t *testing.T) {
	secret := "declared-app-secret-0123456789"
	app := sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
		Triggers: []sim.TriggerSpec{{ID: "all"}}}
	url := startApp(t, app)
	t.Setenv("HOOKLAB_TEST_SECRET", secret)
	path := writeManifest(t, map[string]any{"url": url, "endpoint": map[string]any{
		"verify": map[string]any{"preset": "github", "secretEnv": "HOOKLAB_TEST_SECRET"}}})

	target, err := conformance.Declared(path)
	require.NoError(t, err)
	rep, err := conformance.Check(context.Background(), target)
	require.NoError(t, err, "a correct app must not fail any case that applies")
	p, f, s := rep.Counts()
	assert.Zero(t, f)
	assert.Positive(t, p, "cases that apply to a github endpoint must run")
	assert.Positive(t, s, "cases that need triggers or other schemes must be skipped")
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusSkip {
			assert.NotEmpty(t, c.Reason, "%s skipped without a reason", c.Case.ID())
		}
		for _, p := range c.Problems {
			assert.NotContains(t, p, secret)
		}
	}
	st := statuses(rep)
	assert.Equal(t, conformance.StatusSkip, st["FanOut/PartialMatches"], "fan-out needs a sink and matching triggers")
}

func TestDeclaredCatchesABrokenApp(t *testing.T) {
	secret := "declared-app-secret-0123456789"
	app := sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
		Triggers: []sim.TriggerSpec{{ID: "all"}}}
	url := startApp(t, app, "skip-verify")
	path := writeManifest(t, map[string]any{"url": url, "endpoint": map[string]any{
		"verify": map[string]any{"preset": "github", "secret": secret}}})
	target, err := conformance.Declared(path)
	require.NoError(t, err)
	rep, err := conformance.Check(context.Background(), target, conformance.Select("^Verify/"))
	require.Error(t, err)
	var ce *conformance.CaseError
	require.True(t, errors.As(err, &ce))
	_, f, _ := rep.Counts()
	assert.Positive(t, f)
	assert.NotContains(t, err.Error(), secret)
}

func TestDeclaredWithSinkObservesTriggers(t *testing.T) {
	sink := freeAddr(t)
	secret := "declared-app-secret-0123456789"
	filter := json.RawMessage(`{"body":{"action":["opened"]}}`)
	app := sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
		Triggers: []sim.TriggerSpec{
			{ID: "everything", Deliver: "http://" + sink + "/d"},
			{ID: "opened", Filter: filter, Deliver: "http://" + sink + "/d"},
		}}
	url := startApp(t, app)
	path := writeManifest(t, map[string]any{"url": url, "sink": sink, "endpoint": map[string]any{
		"verify":   map[string]any{"preset": "github", "secret": secret},
		"triggers": []any{map[string]any{"id": "everything"}, map[string]any{"id": "opened", "filter": filter}},
	}})
	target, err := conformance.Declared(path)
	require.NoError(t, err)
	rep, err := conformance.Check(context.Background(), target, conformance.Select("^(Verify|FanOut|Robustness)/"))
	require.NoError(t, err)
	p, _, _ := rep.Counts()
	assert.Positive(t, p)
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusPass {
			return
		}
	}
	t.Fatal("no case ran")
}

func TestParseManifestErrorsNameFileLineAndPath(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"no url", "endpoint: {id: x}\n", "m.yaml:1: url: missing"},
		{"bad url", "url: ftp://x\nendpoint: {id: x}\n", `m.yaml:1: url: "ftp://x" is not an http(s) URL`},
		{"unknown key", "url: http://x\nendpoints: []\n", "m.yaml:2: endpoints: unknown key"},
		{"unknown preset", "url: http://x\nendpoint:\n  verify:\n    preset: gihub\n    secret: s\n", "m.yaml:4: endpoint.verify.preset: unknown preset \"gihub\""},
		{"bad filter", "url: http://x\nendpoint:\n  triggers:\n    - id: a\n      filter:\n        method: [FETCH]\n", "m.yaml:6: endpoint.triggers[0].filter.method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := conformance.ParseManifest("m.yaml", []byte(tt.data))
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "got %q, want prefix %q", err, tt.want)
		})
	}
}

func ExampleDeclared() {
	// A manifest describes an app that already runs; the suite runs the
	// cases that apply to it and skips the rest with the reason.
	manifest := `
url: http://127.0.0.1:1/webhooks/github
endpoint:
  verify: {preset: github, secret: example-secret}
`
	m, err := conformance.ParseManifest("github.yaml", []byte(manifest))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.URL, m.Endpoint.Verify.Preset, len(m.Endpoint.Verify.Secrets))
	// Output: http://127.0.0.1:1/webhooks/github github 1
}

// TestParseManifestRefusesAliasAmplification checks that a manifest whose
// YAML aliases would expand past the budget (issue 10's 257 KB file under
// "endpoint", 3.2 GB before the bound) is refused, naming the file, the
// line and the path of the alias that crossed it.
func TestParseManifestRefusesAliasAmplification(t *testing.T) {
	var b strings.Builder
	b.WriteString("url: http://127.0.0.1:1/hooks\nendpoint:\n  source: &s \"")
	b.WriteString(strings.Repeat("x", 200_000))
	b.WriteString("\"\n  triggers:\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "    - {id: t%d, deliver: *s}\n", i)
	}
	m, err := conformance.ParseManifest("bomb.yaml", []byte(b.String()))
	require.Error(t, err, "ParseManifest(bomb.yaml) = %+v, want an error", m)
	assert.EqualError(t, err, "bomb.yaml:10: endpoint.triggers[5].deliver: YAML aliases expand past 1048576 bytes (alias *s, anchored at line 3); "+
		"write the value out or use fewer aliases")
}

// TestParseManifestRejectsDuplicateKeys checks that a key given twice is
// an error in a JSON manifest as in a YAML one, at the top and inside the
// endpoint's filters, naming the line of the second and the path.
func TestParseManifestRejectsDuplicateKeys(t *testing.T) {
	tests := []struct {
		name, file, data, want string
	}{
		{"JSON url twice", "m.json", "{\"url\": \"http://127.0.0.1:1/a\",\n \"url\": \"http://127.0.0.1:1/b\",\n \"endpoint\": {}}",
			"m.json:2: url: duplicate key (first at line 1)"},
		{"JSON inside a filter", "m.json", "{\"url\": \"http://127.0.0.1:1/a\", \"endpoint\": {\"triggers\": [{\"id\": \"t\",\n \"filter\": {\"method\": [\"POST\"], \"method\": [\"PUT\"]}}]}}",
			"m.json:2: endpoint.triggers[0].filter.method: duplicate key (first at line 2)"},
		{"YAML endpoint twice", "m.yaml", "url: http://127.0.0.1:1/a\nendpoint: {}\nendpoint: {id: x}\n",
			"m.yaml:3: endpoint: duplicate key (first at line 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := conformance.ParseManifest(tt.file, []byte(tt.data))
			require.Error(t, err, "ParseManifest(%s) = %+v, want an error", tt.file, m)
			assert.EqualError(t, err, tt.want)
		})
	}
}

// TestDeclaredRefusesALargeManifest checks that a manifest file past the
// bound of a document is refused, naming the file, without reading it
// whole.
func TestDeclaredRefusesALargeManifest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	data := "url: http://127.0.0.1:1/hooks\nendpoint: {}\n" + strings.Repeat("# padding\n", 200_000)
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	_, err := conformance.Declared(path)
	assert.EqualError(t, err, path+": the document has more than 1048576 bytes")
}
