package browser

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// visibleRowsJS lists the rows a person sees (not display:none) as
// "status verified" pairs.
const visibleRowsJS = `[...document.querySelectorAll('[data-testid="request-row"]')].filter(r => r.getClientRects().length > 0).map(r =>
	(r.querySelector('[data-testid="request-status"]')?.textContent.trim() || '') + ' ' +
	(r.querySelector('[data-testid="request-verified"]')?.dataset.verified || ''))`

func TestFiltersNarrowTheLiveList(t *testing.T) {
	k := startSink(t)
	s := startServe(t, stripeSpec(t, k.URL))
	b := newBrowser(t, 1280, 800)
	b.openLive(t, s)
	before := b.requestCount(t)
	c := &http.Client{Timeout: 10 * time.Second}
	signedReq{body: stripeEvent("checkout.session.completed"), secret: stripeSecret}.send(t, c, s.Base)
	signedReq{body: stripeEvent("invoice.paid"), secret: stripeSecret}.send(t, c, s.Base)
	signedReq{body: stripeEvent("invoice.paid"), secret: "whsec_wrong"}.send(t, c, s.Base)
	b.waitCount(t, 15*time.Second, before+3)
	for _, tc := range []struct {
		name, filter, value string
		// keep says whether a row ("status verified") must be shown.
		keep func(status, verified string) bool
	}{
		{"VerifiedNo", "filter-verified", "no", func(_, v string) bool { return v == "no" }},
		{"VerifiedYes", "filter-verified", "yes", func(_, v string) bool { return v == "yes" }},
		{"Status4xx", "filter-status", "4xx", func(s, _ string) bool { return strings.HasPrefix(s, "4") }},
		{"Status2xx", "filter-status", "2xx", func(s, _ string) bool { return strings.HasPrefix(s, "2") }},
		{"EndpointStripe", "filter-endpoint", "stripe", func(string, string) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.openLive(t, s)
			b.waitCount(t, 10*time.Second, before+3)
			all := eval[[]string](t, b, "rows", visibleRowsJS)
			want := 0
			for _, r := range all {
				st, v, _ := strings.Cut(r, " ")
				if tc.keep(st, v) {
					want++
				}
			}
			css := `select[data-testid="` + tc.filter + `"]`
			ok := eval[bool](t, b, "choose "+tc.value, `(() => { const s = document.querySelector(`+jsString(css)+`); if (!s) return false;
				if (![...s.options].some(o => o.value === `+jsString(tc.value)+`)) return false;
				s.value = `+jsString(tc.value)+`; s.dispatchEvent(new Event('input', {bubbles: true})); s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`)
			if !ok {
				t.Fatalf("no %s with an option %q", css, tc.value)
			}
			b.waitJS(t, 10*time.Second, tc.filter+"="+tc.value+" shows "+itoa(want)+" rows",
				`(`+visibleRowsJS+`).length === `+itoa(want), `JSON.stringify(`+visibleRowsJS+`)`)
			for _, r := range eval[[]string](t, b, "rows", visibleRowsJS) {
				st, v, _ := strings.Cut(r, " ")
				if !tc.keep(st, v) {
					t.Errorf("%s=%s shows a row %q", tc.filter, tc.value, r)
				}
			}
			// The contract: request-count holds the number of requests shown.
			if got := b.requestCount(t); got != want {
				t.Errorf("%s=%s: request-count %d, want %d (the rows shown)", tc.filter, tc.value, got, want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
