package conformance

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/hooklab/hooklab/signer"
)

func TestRouteStyleParsesOnlyRoutes(t *testing.T) {
	github, byType := routeStyleOf("github"), routeStyleOf("stripe")
	for _, c := range []struct {
		name   string
		style  routeStyle
		filter string
		want   *route // nil: not a route
	}{
		{"github event", github, `{"headers":{"x-github-event":["issues"]}}`, &route{types: []string{"issues"}}},
		{"github event and action", github, `{"headers":{"x-github-event":["issues","pull_request"]},"body":{"action":["opened"]}}`,
			&route{types: []string{"issues", "pull_request"}, subs: []string{"opened"}}},
		{"github event, header name capitalised", github, `{"headers":{"X-GitHub-Event":["push"]}}`, &route{types: []string{"push"}}},
		{"github another header too", github, `{"headers":{"x-github-event":["issues"],"x-github-hook-id":["1"]}}`, nil},
		{"github another body key", github, `{"headers":{"x-github-event":["issues"]},"body":{"number":[1]}}`, nil},
		{"github operator value", github, `{"headers":{"x-github-event":[{"$startsWith":"iss"}]}}`, nil},
		{"github method too", github, `{"method":["POST"],"headers":{"x-github-event":["issues"]}}`, nil},
		{"github body only", github, `{"body":{"action":["opened"]}}`, nil},
		{"github empty list", github, `{"headers":{"x-github-event":[]}}`, nil},
		{"type", byType, `{"body":{"type":["invoice.paid","charge.refunded"]}}`, &route{types: []string{"invoice.paid", "charge.refunded"}}},
		{"type capitalised", byType, `{"body":{"Type":["invoice.paid"]}}`, nil},
		{"type and another key", byType, `{"body":{"type":["invoice.paid"],"livemode":[true]}}`, nil},
		{"type and a header", byType, `{"headers":{"x-a":["1"]},"body":{"type":["invoice.paid"]}}`, nil},
		{"type by header style", github, `{"body":{"type":["invoice.paid"]}}`, nil},
		{"unfiltered", byType, ``, nil},
		{"not json", byType, `{"body":`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.style.parse(json.RawMessage(c.filter))
			switch {
			case c.want == nil && ok:
				t.Errorf("parse(%s) = %+v, true, want not a route", c.filter, got)
			case c.want != nil && !ok:
				t.Errorf("parse(%s) = false, want %+v", c.filter, *c.want)
			case c.want != nil && (!slices.Equal(got.types, c.want.types) || !slices.Equal(got.subs, c.want.subs)):
				t.Errorf("parse(%s) = %+v, want %+v", c.filter, got, *c.want)
			case c.want != nil:
				// filter writes the route parse read.
				f := c.style.filter(got)
				if again, ok := c.style.parse(json.RawMessage(f)); !ok || !slices.Equal(again.types, got.types) || !slices.Equal(again.subs, got.subs) {
					t.Errorf("parse(filter(%+v) = %s) = %+v, %t, want the same route", got, f, again, ok)
				}
			}
		})
	}
}

func TestProviderDefaultsKeepTheCasesHeaders(t *testing.T) {
	gh, err := signer.Preset("github")
	if err != nil {
		t.Fatal(err)
	}
	d := defaultsOf("github")
	if d == nil {
		t.Fatal(`defaultsOf("github") = nil, want the GitHub fixture's headers`)
	}
	// A case may set a header name exactly as it is to be sent.
	h := http.Header{"x-github-event": {"push"}, "X-Hub-Signature-256": {"sha256=case"}}
	if err := d.apply(h, gh); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1008 the non-canonical name is what the test is about
	if got := h["x-github-event"]; !slices.Equal(got, []string{"push"}) || h.Get("X-GitHub-Event") != "" {
		t.Errorf("after apply, x-github-event = %q and X-GitHub-Event = %q, want the case's push alone", got, h.Get("X-GitHub-Event"))
	}
	if got := h.Get("X-Hub-Signature-256"); got != "sha256=case" {
		t.Errorf("after apply, X-Hub-Signature-256 = %q, want the case's (signing headers are the signer's)", got)
	}
	for _, k := range []string{"X-GitHub-Delivery", "X-GitHub-Hook-ID", "User-Agent"} {
		if h.Get(k) == "" {
			t.Errorf("after apply, %s is missing, want GitHub's", k)
		}
	}
	for _, k := range notDefaulted {
		if h.Get(k) != "" {
			t.Errorf("after apply, %s = %q, want it left to Build and the transport", k, h.Get(k))
		}
	}
	if got := defaultsOf("stripe").contentType(); got != "application/json; charset=utf-8" {
		t.Errorf("stripe content type = %q, want application/json; charset=utf-8", got)
	}
	if got := defaultsOf("twilio").contentType(); got != "application/json" {
		t.Errorf("twilio content type = %q, want application/json (its form type is not the case's JSON body's)", got)
	}
	if got := (*providerDefaults)(nil).contentType(); got != "application/json" {
		t.Errorf("unknown preset's content type = %q, want application/json", got)
	}
}
