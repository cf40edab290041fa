package browser

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.yaml.in/yaml/v3"
)

// specEndpoint is what the endpoints page must show of one endpoint.
type specEndpoint struct {
	ID     string `json:"id" yaml:"id"`
	Verify struct {
		Secret  string   `json:"secret" yaml:"secret"`
		Secrets []string `json:"secrets" yaml:"secrets"`
	} `json:"verify" yaml:"verify"`
	Triggers []struct {
		ID string `json:"id" yaml:"id"`
	} `json:"triggers" yaml:"triggers"`
	Examples []struct {
		ID string `json:"id" yaml:"id"`
	} `json:"examples" yaml:"examples"`
}

// readSpec reads the endpoints of a spec file (one endpoint or a list).
func readSpec(t *testing.T, path string) []specEndpoint {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var list []specEndpoint
	if strings.HasSuffix(path, ".json") {
		var one specEndpoint
		if err := json.Unmarshal(raw, &one); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return []specEndpoint{one}
	}
	if err := yaml.Unmarshal(raw, &list); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return list
}

// secrets lists an endpoint's secrets.
func (e specEndpoint) secrets() []string {
	s := append([]string(nil), e.Verify.Secrets...)
	if e.Verify.Secret != "" {
		s = append(s, e.Verify.Secret)
	}
	return s
}

func TestEndpointsPageShowsEveryEndpointOfTheSpec(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
	}{
		{"handshakes-yaml", "../../examples/specs/handshakes.yaml"},
		{"stripe-json", "../../examples/specs/stripe.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := readSpec(t, tc.spec)
			s := startServe(t, tc.spec)
			b := newBrowser(t, 1280, 800)
			b.open(t, s.UI)
			b.waitJS(t, 10*time.Second, "endpoint cards rendered",
				`document.querySelectorAll('[data-testid="endpoint-card"]').length > 0`, `document.body.innerText.slice(0, 300)`)
			if got := b.count(t, sel("endpoint-card")); got != len(want) {
				t.Errorf("endpoint cards: %d, want %d (one per endpoint of %s)", got, len(want), tc.spec)
			}
			html := eval[string](t, b, "page source", `document.documentElement.outerHTML`)
			for _, ep := range want {
				card := sel("endpoint-card", "data-endpoint", ep.ID)
				if b.count(t, card) != 1 {
					t.Errorf("endpoint %s: no card %s", ep.ID, card)
					continue
				}
				if title := b.text(t, card, sel("endpoint-title")); title == "" {
					t.Errorf("endpoint %s: empty title", ep.ID)
				}
				if n := b.count(t, card+" "+sel("endpoint-icon")); n != 1 {
					t.Errorf("endpoint %s: %d icons, want 1", ep.ID, n)
				}
				if url, wantURL := b.text(t, card, sel("endpoint-url")), s.Base+"/hooks/"+ep.ID; url != wantURL {
					t.Errorf("endpoint %s: URL %q, want %q", ep.ID, url, wantURL)
				}
				if n := b.count(t, card+" "+sel("copy-url")); n != 1 {
					t.Errorf("endpoint %s: %d copy-url buttons, want 1", ep.ID, n)
				}
				if got := b.text(t, card, sel("secret")); !strings.Contains(got, "••••••") {
					t.Errorf("endpoint %s: secret shows %q, want it masked (••••••)", ep.ID, got)
				}
				for _, sec := range ep.secrets() {
					if strings.Contains(html, sec) {
						t.Errorf("endpoint %s: a secret is in the page's HTML before reveal", ep.ID)
					}
				}
				if got := b.count(t, card+" "+sel("trigger")); got != len(ep.Triggers) {
					t.Errorf("endpoint %s: %d triggers shown, want %d", ep.ID, got, len(ep.Triggers))
				}
				for _, ex := range ep.Examples {
					if n := b.count(t, card+" "+sel("example-send", "data-example", ex.ID)); n != 1 {
						t.Errorf("endpoint %s: %d Send buttons for example %s, want 1", ep.ID, n, ex.ID)
					}
				}
			}
			b.screenshot(t, "endpoints-"+tc.name)
		})
	}
}

func TestEndpointsPagePrettyPrintsTriggerFilters(t *testing.T) {
	s := startServe(t, "../../examples/specs/stripe.json")
	b := newBrowser(t, 1280, 800)
	b.open(t, s.UI)
	card := sel("endpoint-card", "data-endpoint", "stripe")
	b.waitJS(t, 10*time.Second, "stripe card", `document.querySelector(`+jsString(card)+`) !== null`, `document.body.innerText.slice(0, 300)`)
	// Every trigger with a filter shows it, naming the key it filters on.
	for _, tc := range []struct{ trigger, want string }{
		{"checkout-completed", "checkout.session.completed"},
		{"invoices", "$startsWith"},
		{"live-payments", "livemode"},
	} {
		js := `(() => { for (const tr of document.querySelectorAll(` + jsString(card+" "+sel("trigger")) + `)) {
			if (tr.textContent.includes(` + jsString(tc.trigger) + `)) { const f = tr.querySelector('[data-testid="trigger-filter"]'); return f ? f.textContent : ""; } }
			return null; })()`
		got := eval[*string](t, b, "filter of "+tc.trigger, js)
		if got == nil {
			t.Errorf("trigger %s: not shown on the stripe card", tc.trigger)
			continue
		}
		if !strings.Contains(*got, tc.want) {
			t.Errorf("trigger %s: filter shows %q, want it to contain %q", tc.trigger, *got, tc.want)
		}
	}
}

func TestSecretIsMaskedUntilRevealIsClicked(t *testing.T) {
	s := startServe(t, "../../examples/specs/stripe.json")
	b := newBrowser(t, 1280, 800)
	b.open(t, s.UI)
	card := sel("endpoint-card", "data-endpoint", "stripe")
	secret := card + " " + sel("secret")
	b.waitJS(t, 10*time.Second, "secret shown masked", `(document.querySelector(`+jsString(secret)+`)||{}).textContent?.includes("••••••")`,
		`String((document.querySelector(`+jsString(secret)+`)||{}).textContent)`)
	if strings.Contains(eval[string](t, b, "page source", `document.documentElement.outerHTML`), stripeSecret) {
		t.Fatal("the secret is in the page's HTML before reveal")
	}
	b.do(t, 10*time.Second, "click reveal", chromedp.Click(chromedp.CSS(card+" "+sel("secret-reveal"))))
	b.waitJS(t, 10*time.Second, "secret shown after reveal", `(document.querySelector(`+jsString(secret)+`)||{}).textContent?.includes(`+jsString(stripeSecret)+`)`,
		`String((document.querySelector(`+jsString(secret)+`)||{}).textContent)`)
}

func TestExampleSendShowsItsOutcome(t *testing.T) {
	k := startSink(t)
	s := startServe(t, stripeSpec(t, k.URL))
	b := newBrowser(t, 1280, 800)
	b.open(t, s.UI)
	for _, tc := range []struct {
		example string
		want    []string // in the outcome text
	}{
		{"checkout-cus-123", []string{"200", "checkout-completed", "all"}},
		{"live-payment", []string{"200", "live-payments", "all"}},
	} {
		t.Run(tc.example, func(t *testing.T) {
			button := sel("example-send", "data-example", tc.example)
			outcome := sel("example-outcome", "data-example", tc.example)
			b.do(t, 10*time.Second, "click Send", chromedp.Click(chromedp.CSS(button)))
			cond := `(() => { const e = document.querySelector(` + jsString(outcome) + `); if (!e) return false; const s = e.textContent;
				return ` + strings.Join(jsIncludes("s", tc.want), " && ") + `; })()`
			b.waitJS(t, 15*time.Second, "outcome of example "+tc.example, cond,
				`String((document.querySelector(`+jsString(outcome)+`)||{}).textContent)`)
			if got := b.text(t, "", outcome); strings.Contains(got, "not fired") {
				t.Errorf("outcome %q", got)
			}
		})
	}
	b.screenshot(t, "endpoints-after-send")
	// The examples sent from the page show on the live requests page,
	// verified, with the triggers they woke.
	b.openLive(t, s)
	b.waitJS(t, 10*time.Second, "the example checkout-cus-123 in the request list, verified, waking checkout-completed",
		`[...document.querySelectorAll('[data-testid="request-row"]')].some(r =>
			r.querySelector('[data-testid="request-verified"]')?.dataset.verified === "yes" &&
			r.querySelector('[data-testid="trigger-row"][data-trigger="checkout-completed"] [data-testid="trigger-fired"]')?.textContent.trim() === "fired")`,
		`document.body.innerText.slice(0, 400)`)
}

// jsIncludes returns one JavaScript condition per want: v.includes(want).
func jsIncludes(v string, want []string) []string {
	var c []string
	for _, w := range want {
		c = append(c, v+".includes("+jsString(w)+")")
	}
	return c
}
