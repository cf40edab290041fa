package conformance_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
)

// githubVerified reads r's body and reports whether X-Hub-Signature-256
// is its HMAC with secret.
func githubVerified(secret string, r *http.Request) ([]byte, bool) {
	body, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return body, hmac.Equal([]byte(r.Header.Get("X-Hub-Signature-256")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil))))
}

// plainApp is a GitHub receiver as many are written: 204 when the
// signature is right, http.Error's text/plain 403 when not.
func plainApp(secret string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/github", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := githubVerified(secret, r); !ok {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// TestProfilesJudgeOneAppByTheirOwnRules runs one app under each
// profile and manifest knob: the app profile takes any 4xx rejection and
// 2xx acceptance, strict wants PROTOCOL.md's 401 with a JSON error, and
// each knob narrows the app profile to what the manifest says.
func TestProfilesJudgeOneAppByTheirOwnRules(t *testing.T) {
	const base = "url: http://localhost:3000/webhooks/github\nendpoint:\n  verify: {preset: github, secret: plain-secret-0123456789}\n  triggers: [{id: all}]\n"
	tests := []struct {
		name     string
		knobs    string
		opts     []conformance.Option
		wantFail map[string]string // case id -> a problem it must have; the others pass
	}{
		{name: "AppProfileByDefault"},
		{name: "ManifestSaysApp", knobs: "profile: app\n"},
		{
			name: "StrictOption", opts: []conformance.Option{conformance.Profile(conformance.ProfileStrict)},
			wantFail: map[string]string{"Verify/WrongSecret": "status = 403, want 401"},
		},
		{
			name: "ManifestStrict", knobs: "profile: strict\n",
			wantFail: map[string]string{"Verify/WrongSecret": "status = 403, want 401"},
		},
		{
			name: "RejectStatusNarrowed", knobs: "reject: {status: [400, 401]}\n",
			wantFail: map[string]string{"Verify/WrongSecret": "status = 403, want 400 or 401"},
		},
		{name: "RejectStatusMet", knobs: "reject: {status: [403]}\n"},
		{
			name: "AcceptStatusNarrowed", knobs: "accept: {status: [200]}\n",
			wantFail: map[string]string{"Verify/ValidSignature": "status = 204, want 200"},
		},
		{
			name: "JSONErrorsRequired", knobs: "errors: json\n",
			wantFail: map[string]string{"Verify/WrongSecret": "want a JSON object"},
		},
		{name: "TextErrorsRequired", knobs: "errors: text\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := conformance.ParseManifest("app.yaml", []byte(base+tt.knobs))
			require.NoError(t, err)
			opts := append([]conformance.Option{conformance.Select("^Verify/(ValidSignature|WrongSecret)$")}, tt.opts...)
			rep, _ := conformance.Check(context.Background(), conformance.App(plainApp("plain-secret-0123456789"), m, nil), opts...)
			require.Len(t, rep.Cases, 2)
			for _, c := range rep.Cases {
				want, fails := tt.wantFail[c.Case.ID()]
				if !fails {
					assert.Equal(t, conformance.StatusPass, c.Status, "%s: %s", c.Case.ID(), strings.Join(c.Problems, "\n"))
					continue
				}
				assert.Equal(t, conformance.StatusFail, c.Status, c.Case.ID())
				assert.Contains(t, strings.Join(c.Problems, "\n"), want, c.Case.ID())
			}
		})
	}
}

func TestProfileUnknownIsASetupError(t *testing.T) {
	_, err := conformance.Check(context.Background(), conformance.Reference(), conformance.Profile("lenient"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown profile "lenient" (want strict, triggerdev-v2, app)`)
}

func TestParseManifestExpectationKnobErrorsNameThePath(t *testing.T) {
	const base = "url: http://localhost:3000/hook\nendpoint:\n  verify: {preset: github, secret: s-0123456789}\n"
	tests := []struct {
		knobs, want string
	}{
		{"profile: lenient\n", "app.yaml:1: profile: want one of strict, triggerdev-v2, app"},
		{"reject: {status: [200]}\n", "app.yaml:1: reject.status[0]: 200 is not a 4xx status"},
		{"accept: {status: [401]}\n", "app.yaml:1: accept.status[0]: 401 is not a 2xx status"},
		{"accept: {status: []}\n", "accept.status: want a non-empty list of HTTP statuses"},
		{"accept: {code: [200]}\n", "accept.code: unknown key (want status)"},
		{"accept: 200\n", "accept: want an object {status: [...]}"},
		{"methods: [POST, TRACE]\n", `methods[1]: "TRACE" is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS`},
		{"methods: []\n", "methods: want a non-empty list of HTTP methods"},
		{"errors: xml\n", "errors: want json, text or any"},
		{"profile: strict\nerrors: text\n", "profile: accept, reject, methods and errors narrow the app profile only, not strict"},
	}
	for _, tt := range tests {
		t.Run(tt.knobs, func(t *testing.T) {
			_, err := conformance.ParseManifest("app.yaml", []byte(tt.knobs+base))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// routedApp verifies like plainApp, answers 204 and fires its handlers
// through fire: "all" for every verified request, "opened" for action
// opened, twice when double is set (a defect).
func routedApp(secret string, fire func(string, *http.Request), double bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/github", func(w http.ResponseWriter, r *http.Request) {
		body, ok := githubVerified(secret, r)
		if !ok {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fire("all", r)
		if strings.Contains(string(body), `"action":"opened"`) {
			fire("opened", r)
			if double {
				fire("opened", r)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// TestOneConsumerPerRoute checks that a case's identical triggers map to
// an app's one handler with their filter, which must then be woken
// exactly once: the case runs instead of being skipped, and still
// catches a handler run twice.
func TestOneConsumerPerRoute(t *testing.T) {
	const manifest = "url: http://localhost:3000/webhooks/github\nendpoint:\n  verify: {preset: github, secret: routed-secret-0123456789}\n" +
		"  triggers:\n    - id: all\n    - id: opened\n      filter: {body: {action: [opened]}}\n"
	for _, tt := range []struct {
		name   string
		double bool
		want   conformance.Status
	}{{"OnceEach", false, conformance.StatusPass}, {"HandlerRunTwice", true, conformance.StatusFail}} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := conformance.ParseManifest("app.yaml", []byte(manifest))
			require.NoError(t, err)
			obs := conformance.NewObserver()
			app := routedApp("routed-secret-0123456789", obs.Fired, tt.double)
			rep, _ := conformance.Check(context.Background(), conformance.App(app, m, obs), conformance.Select("^FanOut/EveryMatchExactlyOnce$"))
			require.Len(t, rep.Cases, 1)
			c := rep.Cases[0]
			assert.Equal(t, tt.want, c.Status, "%s %s", c.Reason, strings.Join(c.Problems, "\n"))
			if tt.double {
				assert.Contains(t, strings.Join(c.Problems, "\n"), "deliveries to opened-1 = 2, want 1")
			}
			require.NoError(t, obs.Err())
		})
	}
}
