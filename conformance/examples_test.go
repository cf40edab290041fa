package conformance_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
)

// exampleSecrets are the environment variables the example manifests read
// their secrets from, with a valid secret for each preset.
var exampleSecrets = map[string]string{
	"GITHUB_WEBHOOK_SECRET":    "example-github-secret-0123456789",
	"STRIPE_WEBHOOK_SECRET":    "whsec_example0123456789abcdef",
	"STANDARD_WEBHOOKS_SECRET": "whsec_" + base64.StdEncoding.EncodeToString([]byte("example-standard-webhooks-key-32")),
}

// exampleManifests returns the paths of examples/manifests, having set
// the environment variables they read.
func exampleManifests(t *testing.T) []string {
	t.Helper()
	for k, v := range exampleSecrets {
		t.Setenv(k, v)
	}
	var paths []string
	for _, pat := range []string{"*.yaml", "*.yml", "*.json"} {
		m, err := filepath.Glob(filepath.Join("..", "examples", "manifests", pat))
		require.NoError(t, err)
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	require.NotEmpty(t, paths, "examples/manifests has no manifest")
	return paths
}

// TestExampleManifestsAreValid loads every example manifest as the
// command does, and checks that there is one per kind of app.
func TestExampleManifestsAreValid(t *testing.T) {
	presets := map[string]string{}
	for _, path := range exampleManifests(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := conformance.Declared(path)
			require.NoError(t, err)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			m, err := conformance.ParseManifest(path, data)
			require.NoError(t, err)
			require.NotNil(t, m.Endpoint.Verify, "an example app verifies signatures")
			assert.NotEmpty(t, m.Endpoint.Verify.Secrets, "the secret comes from secretEnv")
			assert.NotEmpty(t, m.Endpoint.Triggers, "an example app runs at least one handler")
			presets[m.Endpoint.Verify.Preset] = filepath.Base(path)
		})
	}
	for _, want := range []string{"github", "stripe", "standard-webhooks"} {
		assert.Contains(t, presets, want, "no example manifest for a %s app", want)
	}
}

// TestExampleManifestsDescribeAWorkingApp runs the suite on each example
// manifest against the reference ingress configured as the manifest says
// (its URL and sink moved to free local addresses): a correct app so
// described must fail nothing, and the suite must run cases on it (and,
// for the GitHub app, whose preset the FanOut cases use, a FanOut case).
func TestExampleManifestsDescribeAWorkingApp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite once per example manifest")
	}
	for _, path := range exampleManifests(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			m, err := conformance.ParseManifest(path, data)
			require.NoError(t, err)
			app := m.Endpoint
			if m.Sink != "" {
				m.Sink = freeAddr(t)
				app.Triggers = append(app.Triggers[:0:0], app.Triggers...)
				for i := range app.Triggers {
					app.Triggers[i].Deliver = "http://" + m.Sink + "/deliveries"
				}
			}
			m.URL = startApp(t, app)
			rep, err := conformance.Check(context.Background(), conformance.DeclaredTarget(m),
				conformance.Select("^(Verify|FanOut)/"))
			require.NoError(t, err)
			p, f, _ := rep.Counts()
			assert.Zero(t, f)
			assert.Positive(t, p, "no case ran on the app the manifest describes")
			if m.Sink != "" && m.Endpoint.Verify.Preset == "github" {
				ran := false
				for _, c := range rep.Cases {
					ran = ran || c.Case.Group == conformance.GroupFanOut && c.Status == conformance.StatusPass
				}
				assert.True(t, ran, "a github manifest with a sink must get a FanOut case run")
			}
		})
	}
}
