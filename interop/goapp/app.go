// Package goapp is a small GitHub webhook receiver written as Go apps
// are, against go-github's ValidatePayload, and checked by the
// conformance suite from go test (see its test): the suite's judgment
// of a real app's handler, served in process by conformance.App.
package goapp

import (
	"log"
	"net/http"

	"github.com/google/go-github/v75/github"
)

// App receives GitHub webhooks at /webhooks/github.
type App struct {
	// Secret is the webhook's secret.
	Secret []byte
	// OnEvent is called for each trigger a verified request fires: "all"
	// for every event, and the event type's own ("issues", "push", …).
	// nil means none.
	OnEvent func(trigger string, r *http.Request)
}

// Routes returns the app's router.
func (a *App) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/github", a.github)
	return mux
}

func (a *App) github(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 25<<20) // GitHub caps payloads at 25 MB
	payload, err := github.ValidatePayload(r, a.Secret)
	if err != nil {
		log.Printf("github webhook: %v", err)
		http.Error(w, "invalid webhook", http.StatusUnauthorized)
		return
	}
	_ = payload // the app's work on the event would start here
	a.fire("all", r)
	if event := github.WebHookType(r); event != "" {
		a.fire(event, r)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *App) fire(trigger string, r *http.Request) {
	if a.OnEvent != nil {
		a.OnEvent(trigger, r)
	}
}
