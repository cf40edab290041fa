package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// examplesDir holds the sample spec files shipped for users.
const examplesDir = "../examples/specs"

// compact returns specs with every filter in compact JSON, so that specs
// read from differently spaced files compare equal.
func compact(t testing.TB, specs []sim.EndpointSpec) []sim.EndpointSpec {
	t.Helper()
	c := func(raw json.RawMessage) json.RawMessage {
		if raw == nil {
			return nil
		}
		var b bytes.Buffer
		require.NoError(t, json.Compact(&b, raw), "filter %s", raw)
		return b.Bytes()
	}
	out := make([]sim.EndpointSpec, len(specs))
	for i, s := range specs {
		if s.RespondWith != nil {
			rw := *s.RespondWith
			rw.Filter = c(rw.Filter)
			s.RespondWith = &rw
		}
		s.Triggers = append([]sim.TriggerSpec(nil), s.Triggers...)
		for j := range s.Triggers {
			s.Triggers[j].Filter = c(s.Triggers[j].Filter)
		}
		out[i] = s
	}
	return out
}

// shapesGH and shapesSlack are what testdata/specs/*.{json,yaml} declare.
func shapesGH() sim.EndpointSpec {
	return sim.EndpointSpec{
		ID:      "gh",
		Source:  "github.com",
		Verify:  &sim.VerifySpec{Preset: "github", Secrets: signer.Keys("s3cret")},
		MaxBody: 65536,
		Triggers: []sim.TriggerSpec{
			{
				ID:      "issues-opened",
				Filter:  json.RawMessage(`{"headers":{"x-github-event":["issues"]},"body":{"action":["opened"]}}`),
				Deliver: "http://127.0.0.1:9999/deliveries",
			},
			{ID: "all"},
		},
	}
}

func shapesSlack() sim.EndpointSpec {
	return sim.EndpointSpec{
		ID:     "slack",
		Source: "slack.com",
		Verify: &sim.VerifySpec{Preset: "slack", Secrets: signer.Keys("new-signing-secret", "old-signing-secret"), Tolerance: 2 * time.Minute},
		RespondWith: &sim.RespondWithSpec{
			Filter:         json.RawMessage(`{"body":{"type":["url_verification"]}}`),
			SkipTriggering: true,
			Response: sim.ResponseSpec{
				Status:  200,
				Headers: map[string]string{"Content-Type": "text/plain"},
				Body:    `{{body "challenge"}}`,
			},
		},
		Triggers: []sim.TriggerSpec{{ID: "events"}},
	}
}

// TestParseSpecsDocumentShapes checks that the three document shapes, in
// JSON and in YAML, read to the same specs.
func TestParseSpecsDocumentShapes(t *testing.T) {
	both := []sim.EndpointSpec{shapesGH(), shapesSlack()}
	tests := []struct {
		file string
		want []sim.EndpointSpec
	}{
		{"endpoints.json", both},
		{"endpoints.yaml", both},
		{"list.json", both},
		{"list.yaml", both},
		{"one.json", both[:1]},
		{"one.yaml", both[:1]},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "specs", tt.file)
			got, err := sim.LoadSpecs(path)
			require.NoError(t, err, "LoadSpecs(%s)", path)
			assert.Equal(t, compact(t, tt.want), compact(t, got), "LoadSpecs(%s)", path)
		})
	}
}

// TestParseSpecsErrors checks the exact error for every invalid spec file
// in testdata/spec-errors.txtar: the file, the line and the JSON path of
// the problem, and why. The expected errors are in
// testdata/TestParseSpecsErrors.golden, one per line, in archive order;
// -update rewrites it.
func TestParseSpecsErrors(t *testing.T) {
	ar, err := txtar.ParseFile(filepath.Join("testdata", "spec-errors.txtar"))
	require.NoError(t, err)
	golden := filepath.Join("testdata", t.Name()+".golden")
	var want []string
	if !*update {
		b, err := os.ReadFile(golden)
		require.NoError(t, err, "run with -update to create it")
		want = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		require.Len(t, want, len(ar.Files), "%s: one line per file of the archive", golden)
	}
	var got []string
	for i, f := range ar.Files {
		t.Run(f.Name, func(t *testing.T) {
			specs, err := sim.ParseSpecs(f.Name, f.Data)
			require.Error(t, err, "ParseSpecs(%s) = %d specs, want an error", f.Name, len(specs))
			assert.Nil(t, specs)
			got = append(got, err.Error())
			assert.ErrorIs(t, err, sim.ErrInvalidSpec)
			var se *sim.SpecError
			if assert.ErrorAs(t, err, &se) {
				assert.Equal(t, f.Name, se.File)
				assert.True(t, strings.HasPrefix(err.Error(), f.Name+":"), "error %q names the file", err)
			}
			if !*update {
				assert.Equal(t, want[i], err.Error(), "ParseSpecs(%s)", f.Name)
			}
		})
	}
	if *update {
		require.Len(t, got, len(ar.Files), "-update needs every case: run it without a subtest filter")
		require.NoError(t, os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644))
	}
}

// TestParseSpecsYAMLAnchors checks that a YAML anchor defined once can be
// reused for several filters.
func TestParseSpecsYAMLAnchors(t *testing.T) {
	data := `
id: gh
triggers:
  - id: a
    filter: &issues {headers: {x-github-event: [issues]}}
  - id: b
    filter: *issues
`
	specs, err := sim.ParseSpecs("anchors.yaml", []byte(data))
	require.NoError(t, err)
	require.Len(t, specs, 1)
	require.Len(t, specs[0].Triggers, 2)
	assert.JSONEq(t, `{"headers":{"x-github-event":["issues"]}}`, string(specs[0].Triggers[1].Filter))
}

// TestParseSpecsSecretEnv checks secretEnv: the secrets come from an
// environment variable, comma-separated and newest first.
func TestParseSpecsSecretEnv(t *testing.T) {
	const name = "HOOKLAB_SIM_TEST_SECRETS"
	data := []byte("id: gh\nverify:\n  preset: github\n  secretEnv: " + name + "\n")

	t.Setenv(name, "new-secret,old-secret")
	specs, err := sim.ParseSpecs("env.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, signer.Keys("new-secret", "old-secret"), specs[0].Verify.Secrets)

	os.Unsetenv(name)
	_, err = sim.ParseSpecs("env.yaml", data)
	assert.EqualError(t, err, "env.yaml:4: verify.secretEnv: environment variable "+name+" is not set")
	assert.ErrorIs(t, err, sim.ErrInvalidSpec)
}

// TestLoadSpecs checks reading from disk: YAML by extension (.yaml and
// .yml), JSON by content, and a missing file, which is not an invalid
// spec.
func TestLoadSpecs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
		return p
	}
	for _, p := range []string{
		write("a.yml", "id: gh\n"),
		write("a.yaml", "id: gh\n"),
		write("a.spec", `{"id": "gh"}`),
		write("b.spec", "id: gh\n"), // not JSON: read as YAML
	} {
		specs, err := sim.LoadSpecs(p)
		require.NoError(t, err, "LoadSpecs(%s)", p)
		assert.Equal(t, []sim.EndpointSpec{{ID: "gh"}}, specs, "LoadSpecs(%s)", p)
	}

	p := write("bad.yml", "id: gh\nmaxBody: big\n")
	_, err := sim.LoadSpecs(p)
	assert.EqualError(t, err, p+":2: maxBody: want an integer, got JSON string", "errors name the path as given")

	missing := filepath.Join(dir, "missing.yaml")
	_, err = sim.LoadSpecs(missing)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.NotErrorIs(t, err, sim.ErrInvalidSpec)
	assert.True(t, strings.HasPrefix(err.Error(), "sim: open "+missing+": "), "LoadSpecs(%s) = %q", missing, err)
}

// TestEndpointSpecValidate checks Validate on specs written in Go: the
// error names the JSON path inside the spec and wraps ErrInvalidSpec.
func TestEndpointSpecValidate(t *testing.T) {
	gh := func(mod func(*sim.EndpointSpec)) sim.EndpointSpec {
		s := ghSpec(trig("all", ""))
		mod(&s)
		return s
	}
	tests := []struct {
		name    string
		spec    sim.EndpointSpec
		wantErr string
	}{
		{"Valid", ghSpec(trig("all", "")), ""},
		{"MissingID", gh(func(s *sim.EndpointSpec) { s.ID = "" }), "id: missing"},
		{"IDWithSlash", gh(func(s *sim.EndpointSpec) { s.ID = "a/b" }), `id: "a/b": want letters, digits and -._~ only`},
		{"IDWithAllowedPunctuation", gh(func(s *sim.EndpointSpec) { s.ID = "A-z_0.9~" }), ""},
		{"NegativeMaxBody", gh(func(s *sim.EndpointSpec) { s.MaxBody = -1 }), "maxBody: -1 is out of range: want 1 to 1073741824 bytes, or 0 for the default of 1048576"},
		// max+1 in io.LimitReader overflowed: every body read as empty.
		{"MaxBodyOverflows", gh(func(s *sim.EndpointSpec) { s.MaxBody = math.MaxInt64 }), "maxBody: 9223372036854775807 is out of range: want 1 to 1073741824 bytes, or 0 for the default of 1048576"},
		{"MaxBodyOverOneGiB", gh(func(s *sim.EndpointSpec) { s.MaxBody = 1<<30 + 1 }), "maxBody: 1073741825 is out of range: want 1 to 1073741824 bytes, or 0 for the default of 1048576"},
		{"UnknownPreset", gh(func(s *sim.EndpointSpec) { s.Verify.Preset = "gihub" }), `verify.preset: unknown preset "gihub" (hooklab presets lists them)`},
		{"PresetAndScheme", gh(func(s *sim.EndpointSpec) { sc := signer.GitHub(); s.Verify.Scheme = &sc }), `verify: both "preset" and "scheme"`},
		{"NeitherPresetNorScheme", gh(func(s *sim.EndpointSpec) { s.Verify.Preset = "" }), `verify: want "preset" or "scheme"`},
		{"CustomScheme", gh(func(s *sim.EndpointSpec) {
			sc := signer.GitHub()
			sc.Name = "mine"
			s.Verify.Preset, s.Verify.Scheme = "", &sc
		}), ""},
		{"NoSecret", gh(func(s *sim.EndpointSpec) { s.Verify.Secrets = nil }), `verify: no secret: want "secret" or "secrets"`},
		{"EmptySecret", gh(func(s *sim.EndpointSpec) { s.Verify.Secrets = signer.Keys("new", "") }), "verify.secrets[1]: empty"},
		{"NegativeTolerance", gh(func(s *sim.EndpointSpec) { s.Verify.Tolerance = -time.Second }), "verify.tolerance: -1s is negative"},
		{"TriggerWithoutID", gh(func(s *sim.EndpointSpec) { s.Triggers = append(s.Triggers, sim.TriggerSpec{}) }), "triggers[1].id: missing"},
		{"DuplicateTrigger", gh(func(s *sim.EndpointSpec) { s.Triggers = append(s.Triggers, trig("all", "")) }), `triggers[1].id: "all" used twice`},
		{"NullFilterMatchesAll", gh(func(s *sim.EndpointSpec) { s.Triggers[0].Filter = json.RawMessage("null") }), ""},
		{"FilterPath", gh(func(s *sim.EndpointSpec) {
			s.Triggers[0].Filter = json.RawMessage(`{"body":{"pull_request":{"labels":{"name":[{"$between":[1]}]}}}}`)
		}), "triggers[0].filter.body.pull_request.labels.name[0]: $between wants [number, number], got a list"},
		{"FilterNotJSON", gh(func(s *sim.EndpointSpec) { s.Triggers[0].Filter = json.RawMessage(`{"method":`) }), "triggers[0].filter: "},
		{"DeliverNotHTTP", gh(func(s *sim.EndpointSpec) { s.Triggers[0].Deliver = "mailto:ops@example.com" }), `triggers[0].deliver: "mailto:ops@example.com" is not an http(s) URL`},
		{"DeliverHTTPS", gh(func(s *sim.EndpointSpec) { s.Triggers[0].Deliver = "https://sink.example.com/d" }), ""},
		{"RespondWithoutFilter", gh(func(s *sim.EndpointSpec) { s.RespondWith = &sim.RespondWithSpec{SkipTriggering: true} }),
			"respondWith.filter: missing: without a filter Trigger.dev never calls the handler"},
		{"RespondWithNullFilter", gh(func(s *sim.EndpointSpec) { s.RespondWith = &sim.RespondWithSpec{Filter: json.RawMessage("null")} }),
			"respondWith.filter: missing: without a filter Trigger.dev never calls the handler"},
		{"RespondWithBadFilter", gh(func(s *sim.EndpointSpec) {
			s.RespondWith = &sim.RespondWithSpec{Filter: json.RawMessage(`{"headers":{"X-Upper":["a"]}}`)}
		}), `respondWith.filter.headers.X-Upper: header names must be lower-case: the reference lower-cases the request's names, so "X-Upper" never matches (write "x-upper")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, sim.ErrInvalidSpec)
			if strings.HasSuffix(tt.wantErr, ": ") {
				assert.True(t, strings.HasPrefix(err.Error(), tt.wantErr), "Validate() = %q, want prefix %q", err, tt.wantErr)
			} else {
				assert.EqualError(t, err, tt.wantErr)
			}
			assert.NotContains(t, err.Error(), ghSecret)
		})
	}
}

// roundTripSpecs use every field of the spec format.
func roundTripSpecs() []sim.EndpointSpec {
	custom := signer.GitHub()
	custom.Name = "custom-gh"
	custom.Tolerance = 0
	return []sim.EndpointSpec{
		{
			ID:      "gh",
			Source:  "github.com",
			Verify:  &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(ghSecret, "old-"+ghSecret), Tolerance: 90 * time.Second},
			MaxBody: 4096,
			RespondWith: &sim.RespondWithSpec{
				Filter:         json.RawMessage(`{"headers":{"x-github-event":["ping"]}}`),
				SkipTriggering: true,
				Response: sim.ResponseSpec{
					Status:  202,
					Headers: map[string]string{"Content-Type": "text/plain", "X-Sig": `{{hmac "sha256" rawBody}}`},
					Body:    `pong {{json (body "zen")}}`,
				},
			},
			Triggers: []sim.TriggerSpec{
				{ID: "opened", Filter: json.RawMessage(`{"method":["POST"],"query":{"t":["a"]},"body":{"action":["opened"],"n":[{"$gt":1}]}}`), Deliver: "https://sink.example.com/d?x=1"},
				{ID: "all"},
			},
		},
		{ID: "custom", Verify: &sim.VerifySpec{Scheme: &custom, Secrets: signer.Keys("c-secret")}},
		{ID: "open"},
	}
}

// TestSpecRoundTripThroughJSON checks that specs marshalled to JSON (the
// control API's wire format, secrets in clear on purpose) and parsed back
// are equal.
func TestSpecRoundTripThroughJSON(t *testing.T) {
	specs := roundTripSpecs()
	for _, shape := range []string{"list", "endpoints", "one"} {
		t.Run(shape, func(t *testing.T) {
			var v any = specs
			want := specs
			switch shape {
			case "endpoints":
				v = map[string]any{"endpoints": specs}
			case "one":
				v, want = specs[0], specs[:1]
			}
			b, err := json.Marshal(v)
			require.NoError(t, err)
			assert.Contains(t, string(b), `"secrets":["`+ghSecret+`","old-`+ghSecret+`"]`, "the wire format carries the secrets")
			assert.Contains(t, string(b), `"tolerance":"1m30s"`)
			got, err := sim.ParseSpecs("roundtrip.json", b)
			require.NoError(t, err, "ParseSpecs(%s)", b)
			assert.Equal(t, compact(t, want), compact(t, got))
		})
	}
}

// TestVerifySpecNeverPrintsSecrets checks every fmt verb on a VerifySpec,
// a pointer to one, and specs holding one.
func TestVerifySpecNeverPrintsSecrets(t *testing.T) {
	v := sim.VerifySpec{Preset: "github", Secrets: signer.Keys(ghSecret, "old-"+ghSecret), Tolerance: 90 * time.Second}
	assert.Equal(t, "{github secrets:2 tolerance:1m30s}", fmt.Sprint(v))
	custom := signer.Stripe()
	custom.Name = "mine"
	assert.Equal(t, "{mine secrets:1 tolerance:0s}", fmt.Sprint(sim.VerifySpec{Scheme: &custom, Secrets: signer.Keys(ghSecret)}))

	spec := ghSpec(trig("all", ""))
	spec.Verify = &v
	values := map[string]any{"value": v, "pointer": &v, "spec": spec, "specs": []sim.EndpointSpec{spec}, "specPointer": &spec}
	for name, x := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, x)
			assert.NotContains(t, out, ghSecret, "Sprintf(%q, %s)", verb, name)
			assert.NotContains(t, out, fmt.Sprintf("%x", ghSecret), "Sprintf(%q, %s) in hex", verb, name)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("spec", "verify", v, "spec", spec)
	assert.NotContains(t, buf.String(), ghSecret, "slog text handler")
}

// TestExampleSpecs loads every sample spec under examples/specs and drives
// each through an Ingress: the handshakes of handshakes.yaml, GitHub's
// ping and issues, Stripe's events signed with the current and the
// previous secret.
func TestExampleSpecs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	loaded := map[string][]sim.EndpointSpec{}
	for _, f := range files {
		specs, err := sim.LoadSpecs(f)
		if assert.NoError(t, err, "LoadSpecs(%s)", f) {
			assert.NotEmpty(t, specs, "LoadSpecs(%s)", f)
			// The specs deliver to a listen sink (127.0.0.1:9999); the
			// tests observe deliveries with a Recorder instead.
			for i := range specs {
				for j := range specs[i].Triggers {
					specs[i].Triggers[j].Deliver = ""
				}
			}
			loaded[filepath.Base(f)] = specs
		}
	}
	for _, name := range []string{"github.yaml", "handshakes.yaml", "stripe.json"} {
		require.Contains(t, loaded, name, "examples/specs/%s", name)
	}

	t.Run("handshakes.yaml", func(t *testing.T) {
		var ids []string
		for _, s := range loaded["handshakes.yaml"] {
			ids = append(ids, s.ID)
		}
		assert.Equal(t, []string{"meta", "slack", "twitch", "zoom"}, ids)
		runHandshakes(t, loaded["handshakes.yaml"])
	})

	t.Run("github.yaml", func(t *testing.T) {
		specs := loaded["github.yaml"]
		secret := string(specs[0].Verify.Secrets[0].Bytes())
		tests := []struct {
			name    string
			req     func(t *testing.T, url string) *http.Request
			wantIDs []string
		}{
			{"Ping", fixtureRequest("github/ping", secret), []string{"ping"}},
			{"IssueOpened", fixtureRequest("github/issues", secret), []string{"issue-opened", "issues"}},
			{"IssueLabeledBug", func(t *testing.T, url string) *http.Request {
				r, err := http.NewRequest("POST", url, strings.NewReader(`{"action":"labeled","label":{"name":"bug"},"issue":{"number":7}}`))
				require.NoError(t, err)
				r.Header.Set("X-GitHub-Event", "issues")
				require.NoError(t, signer.SignRequest(r, signer.GitHub(), signer.Keys(secret)))
				return r
			}, []string{"issue-labeled-bug", "issues"}},
			{"Push", fixtureRequest("github/push", secret), nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				driveOverHTTP(t, specs, "/hooks/github", tt.req, tt.wantIDs)
			})
		}
	})

	t.Run("stripe.json", func(t *testing.T) {
		specs := loaded["stripe.json"]
		current := string(specs[0].Verify.Secrets[0].Bytes())
		previous := string(specs[0].Verify.Secrets[1].Bytes())
		tests := []struct {
			name    string
			req     func(t *testing.T, url string) *http.Request
			wantIDs []string
		}{
			{"CheckoutCompleted", fixtureRequest("stripe/checkout.session.completed", current), []string{"checkout-completed", "all"}},
			{"InvoicePaidSignedWithPreviousSecret", fixtureRequest("stripe/invoice.paid", previous), []string{"invoices", "all"}},
			{"TestModePaymentIsNotLive", fixtureRequest("stripe/payment_intent.succeeded", current), []string{"all"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				driveOverHTTP(t, specs, "/hooks/stripe", tt.req, tt.wantIDs)
			})
		}
	})
}

// fixtureRequest signs a fixture with secret on the fixed clock.
func fixtureRequest(name, secret string) func(t *testing.T, url string) *http.Request {
	return func(t *testing.T, url string) *http.Request {
		f, err := fixtures.Lookup(name)
		require.NoError(t, err)
		r, err := f.Request(context.Background(), url, signer.Keys(secret), fixtures.Seed(7), fixtures.Now(fixedNow))
		require.NoError(t, err)
		return r
	}
}

// driveOverHTTP serves specs on a loopback server, sends the request and
// checks that it was accepted and woke exactly wantIDs, in spec order.
func driveOverHTTP(t *testing.T, specs []sim.EndpointSpec, path string, req func(t *testing.T, url string) *http.Request, wantIDs []string) {
	t.Helper()
	in, rec := newIngress(t, sim.Config{}, specs...)
	srv := httptest.NewServer(sim.Handler(in))
	defer srv.Close()
	r := req(t, srv.URL+path)
	resp, err := srv.Client().Do(r)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", r.Method, path, b)
	id := strings.TrimPrefix(path, sim.PathPrefix)
	assert.Equal(t, okBody(id, wantIDs...), string(b), "%s %s", r.Method, path)
	flush(t, in)
	assert.Equal(t, len(wantIDs), rec.Len(), "deliveries")
	for _, d := range rec.Deliveries() {
		assert.True(t, d.Verification.Verified, "delivery to %s verified", d.Trigger)
	}
}

// TestSpecErrorFormat checks SpecError's text with and without a line and
// a path, and what it unwraps to.
func TestSpecErrorFormat(t *testing.T) {
	cause := errors.New("unknown preset \"x\"")
	tests := []struct {
		err  *sim.SpecError
		want string
	}{
		{&sim.SpecError{File: "hooks.yaml", Line: 12, Path: "endpoints[0].verify.preset", Err: cause}, `hooks.yaml:12: endpoints[0].verify.preset: unknown preset "x"`},
		{&sim.SpecError{File: "hooks.yaml", Path: "id", Err: cause}, `hooks.yaml: id: unknown preset "x"`},
		{&sim.SpecError{File: "hooks.yaml", Line: 3, Err: cause}, `hooks.yaml:3: unknown preset "x"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
		assert.ErrorIs(t, tt.err, sim.ErrInvalidSpec)
		assert.ErrorIs(t, tt.err, cause)
	}
}
