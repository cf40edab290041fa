package conformance_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/hooklab/hooklab/conformance"
)

// githubApp stands in for a user's app: it verifies GitHub's
// X-Hub-Signature-256 itself and calls OnEvent for each trigger it fires.
type githubApp struct {
	secret string
	// OnEvent is the app's dispatch hook: called with a trigger id and the
	// request, after the request was verified.
	OnEvent func(trigger string, r *http.Request)
	// fireUnverified is a defect, for the tests: the app fires "all"
	// before it checks the signature.
	fireUnverified bool
}

// Routes is the app's router.
func (a *githubApp) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/webhooks/github", a.github)
	return mux
}

func (a *githubApp) github(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	if a.fireUnverified {
		a.OnEvent("all", r)
	}
	mac := hmac.New(sha256.New, []byte(a.secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.Header.Get("X-Hub-Signature-256")), []byte(want)) {
		writeJSONError(w, http.StatusUnauthorized, "bad signature")
		return
	}
	if !a.fireUnverified {
		a.OnEvent("all", r)
	}
	if strings.EqualFold(r.Header.Get("X-GitHub-Event"), "issues") {
		a.OnEvent("issues", r)
	}
	w.WriteHeader(http.StatusAccepted)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// githubManifest is the app's manifest: what its endpoint is configured
// to do.
const githubManifest = `
url: http://localhost:3000/webhooks/github
endpoint:
  verify: {preset: github, secret: example-secret-0123456789}
  triggers:
    - id: all
    - id: issues
      filter: {headers: {x-github-event: [issues]}}
`

// This is how a user checks their own Go app: its real handler, served in
// process, with the facts of its manifest, and an Observer hooked into
// its dispatch so that the suite sees which triggers it fires.
func ExampleApp() {
	m, err := conformance.ParseManifest("app.yaml", []byte(githubManifest))
	if err != nil {
		panic(err)
	}
	app := &githubApp{secret: "example-secret-0123456789"}

	// In the user's _test.go file:
	//
	//	func TestConformance(t *testing.T) {
	//		obs := conformance.NewObserver()
	//		app.OnEvent = obs.Fired
	//		conformance.Run(t, conformance.App(app.Routes(), m, obs))
	//	}
	TestConformance := func(t conformance.T) {
		obs := conformance.NewObserver()
		app.OnEvent = obs.Fired
		conformance.RunT(t, conformance.App(app.Routes(), m, obs),
			conformance.Select("^(Verify/(ValidSignature|WrongSecret)|FanOut/(PartialMatches|DeliveryEnvelope))$"),
			conformance.Parallel(1))
	}

	// Cases the app's endpoint is not configured for are skipped, with the
	// reason.
	TestConformance(&printT{name: "TestConformance"})
	// Output:
	// --- PASS: TestConformance/Verify/ValidSignature
	// --- PASS: TestConformance/Verify/WrongSecret
	// --- PASS: TestConformance/Verify
	// --- SKIP: TestConformance/FanOut/PartialMatches
	//     skipped: the declared endpoint has no trigger with the filter {"body":{"action":["closed"]}}; the case needs 1 (closed); it has no trigger with the filter {"body":{"action":["opened"]}}; the case needs 1 (opened); it has no trigger with the filter {"headers":{"x-github-event":["push"]}}; the case needs 1 (push-event); it has no trigger with the filter {"body":{"issue":{"number":[7]}},"method":["POST"]}; the case needs 1 (post-issue-7)
	// --- PASS: TestConformance/FanOut/DeliveryEnvelope
	// --- PASS: TestConformance/FanOut
}
