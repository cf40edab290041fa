package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/hooklab/hooklab/sim"
)

// maxServedBody bounds what servedPath reads of the answer it asks for.
const maxServedBody = 64 << 10

// servedPath picks where to send a fixture of provider when the target URL
// has no path and is a hooklab serve instance: it GETs the target's
// /hooks/, which serve's strict profile answers 404 with the paths it
// serves ({"error": "unknown endpoint", "served": [...]}), and returns the
// one path whose endpoint id is the provider or starts with it and '-'
// ("/hooks/github", "/hooks/github-prod"). It returns "" when the target
// answers anything else, or when no endpoint or several match.
func servedPath(ctx context.Context, client *http.Client, target, provider string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	probe := *u
	probe.Path, probe.RawPath, probe.RawQuery = sim.PathPrefix, "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, probe.String(), nil)
	if err != nil {
		return ""
	}
	res, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		return ""
	}
	var answer struct {
		Error  string   `json:"error"`
		Served []string `json:"served"`
	}
	if json.NewDecoder(io.LimitReader(res.Body, maxServedBody)).Decode(&answer) != nil || answer.Error != "unknown endpoint" {
		return ""
	}
	return pickServed(answer.Served, provider)
}

// pickServed returns the one path of served ("/hooks/<id>") whose id is
// provider or starts with provider and '-', or "" when none or several
// are.
func pickServed(served []string, provider string) string {
	found := ""
	for _, p := range served {
		id, ok := strings.CutPrefix(p, sim.PathPrefix)
		if !ok || id == "" || strings.ContainsAny(id, "/?#") {
			continue
		}
		if id != provider && !strings.HasPrefix(id, provider+"-") {
			continue
		}
		if found != "" {
			return ""
		}
		found = p
	}
	return found
}

// withServedPath returns target with its path replaced by path, its query
// kept.
func withServedPath(target, path string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	u.Path, u.RawPath = path, ""
	return u.String()
}

// targetHasNoPath reports a URL whose path is empty or "/".
func targetHasNoPath(target string) bool {
	u, err := url.Parse(target)
	return err == nil && (u.Path == "" || u.Path == "/")
}
