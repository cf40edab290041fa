package browser

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// row is what the live requests page shows of one request.
type row struct {
	ID           string             `json:"id"`
	Method       string             `json:"method"`
	Path         string             `json:"path"`
	Status       string             `json:"status"`
	Verified     string             `json:"verified"` // data-verified: yes, no or none
	VerifiedText string             `json:"verifiedText"`
	Triggers     map[string]trigger `json:"triggers"`
	Link         string             `json:"link"`
}

// trigger is one trigger row of a request.
type trigger struct {
	Fired   string `json:"fired"`
	Explain string `json:"explain"`
}

// firstRowJS reads the first (newest) request row, or null.
const firstRowJS = `(() => {
	const r = document.querySelector('[data-testid="request-row"]');
	if (!r) return null;
	const t = (sel) => { const e = r.querySelector(sel); return e ? e.textContent.trim() : ""; };
	const v = r.querySelector('[data-testid="request-verified"]');
	const triggers = {};
	for (const tr of r.querySelectorAll('[data-testid="trigger-row"]')) {
		const f = tr.querySelector('[data-testid="trigger-fired"]'), x = tr.querySelector('[data-testid="trigger-explain"]');
		triggers[tr.dataset.trigger] = {fired: f ? f.textContent.trim() : "", explain: x ? x.textContent.trim() : ""};
	}
	const a = r.querySelector('a[data-testid="request-link"]') || (r.matches('a[data-testid="request-link"]') ? r : null);
	return {id: r.dataset.request || "", method: t('[data-testid="request-method"]'), path: t('[data-testid="request-path"]'),
		status: t('[data-testid="request-status"]'), verified: v ? (v.dataset.verified || "") : "", verifiedText: v ? v.textContent.trim() : "",
		triggers, link: a ? a.href : ""};
})()`

// waitCount waits until the page's request count is n.
func (b *browser) waitCount(t *testing.T, d time.Duration, n int) {
	t.Helper()
	b.waitJS(t, d, "request-count reaches "+strconv.Itoa(n), requestCountJS+` === `+strconv.Itoa(n),
		`String(document.querySelector('[data-testid="request-count"]')?.textContent)`)
}

func TestLiveRequestsShowVerificationAndTriggers(t *testing.T) {
	k := startSink(t)
	spec := stripeSpec(t, k.URL)
	s := startServe(t, spec)
	b := newBrowser(t, 1280, 800)
	b.openLive(t, s)
	c := &http.Client{Timeout: 10 * time.Second}
	fired := trigger{Fired: "fired"}
	for _, tc := range []struct {
		name string
		send func(t *testing.T)
		// wantStatus is the status text's first digit.
		wantStatus   string
		wantVerified string
		// verifiedText must contain each of these (case-insensitive).
		verifiedText []string
		// triggers: fired, or not fired with an explanation containing explain.
		triggers map[string]trigger
	}{
		{
			name: "ExampleSentByHooklabSend",
			send: func(t *testing.T) {
				hooklabSend(t, []int{0}, "--spec", spec, "--example", "checkout-cus-123", "--to", s.Base)
			},
			wantStatus: "2", wantVerified: "yes", verifiedText: []string{"verified"},
			triggers: map[string]trigger{"checkout-completed": fired, "all": fired,
				"invoices": {Fired: "not fired", Explain: `body.type: {"$startsWith":"invoice."} does not match "checkout.session.completed"`}},
		},
		{
			name: "WrongSecretIsRefusedWithTheReason",
			send: func(t *testing.T) {
				signedReq{body: stripeEvent("invoice.paid"), secret: "whsec_not_the_endpoint_secret"}.send(t, c, s.Base)
			},
			wantStatus: "4", wantVerified: "no", verifiedText: []string{"Stripe-Signature", "no matching signature"},
		},
		{
			name: "StaleTimestampIsRefusedWithTheReason",
			send: func(t *testing.T) {
				signedReq{body: stripeEvent("invoice.paid"), secret: stripeSecret, age: time.Hour}.send(t, c, s.Base)
			},
			wantStatus: "4", wantVerified: "no", verifiedText: []string{"Stripe-Signature", "timestamp too old"},
		},
		{
			name: "MissingSignatureIsRefusedWithTheReason",
			send: func(t *testing.T) {
				signedReq{body: stripeEvent("invoice.paid")}.send(t, c, s.Base)
			},
			wantStatus: "4", wantVerified: "no", verifiedText: []string{"Stripe-Signature", "missing header"},
		},
		{
			name: "FilterMismatchIsExplained",
			send: func(t *testing.T) {
				signedReq{body: stripeEvent("invoice.paid"), secret: stripeSecret}.send(t, c, s.Base)
			},
			wantStatus: "2", wantVerified: "yes", verifiedText: []string{"verified"},
			triggers: map[string]trigger{"invoices": fired, "all": fired,
				"checkout-completed": {Fired: "not fired", Explain: `body.type: ["checkout.session.completed"] does not contain "invoice.paid"`},
				// The first mismatch in Explain's order (keys sorted): livemode before type.
				"live-payments": {Fired: "not fired", Explain: `body.livemode: [true] does not contain false`}},
		},
		{
			name: "FanOutToEveryMatchingTrigger",
			send: func(t *testing.T) {
				signedReq{body: stripeEvent("checkout.session.completed"), secret: stripeSecret}.send(t, c, s.Base)
			},
			wantStatus: "2", wantVerified: "yes", verifiedText: []string{"verified"},
			triggers: map[string]trigger{"checkout-completed": fired, "all": fired,
				"invoices":      {Fired: "not fired", Explain: `does not match "checkout.session.completed"`},
				"live-payments": {Fired: "not fired", Explain: `body.livemode: [true] does not contain false`}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.requestCount(t)
			if before < 0 {
				t.Fatalf("no number in [data-testid=request-count]")
			}
			tc.send(t)
			// Live: no reload between sending and reading.
			b.waitCount(t, 15*time.Second, before+1)
			r := eval[*row](t, b, "newest row", firstRowJS)
			if r == nil {
				t.Fatal("no request row")
			}
			if r.Method != "POST" || !strings.HasSuffix(r.Path, "/hooks/stripe") {
				t.Errorf("row shows %q %q, want POST /hooks/stripe", r.Method, r.Path)
			}
			if !strings.HasPrefix(r.Status, tc.wantStatus) {
				t.Errorf("status %q, want %sxx", r.Status, tc.wantStatus)
			}
			if r.Verified != tc.wantVerified {
				t.Errorf("data-verified=%q, want %q (text %q)", r.Verified, tc.wantVerified, r.VerifiedText)
			}
			for _, w := range tc.verifiedText {
				if !strings.Contains(strings.ToLower(r.VerifiedText), strings.ToLower(w)) {
					t.Errorf("verified shows %q, want it to contain %q", r.VerifiedText, w)
				}
			}
			for id, want := range tc.triggers {
				got, ok := r.Triggers[id]
				if !ok {
					t.Errorf("trigger %s: no trigger-row (rows: %v)", id, r.Triggers)
					continue
				}
				if got.Fired != want.Fired {
					t.Errorf("trigger %s: %q, want %q", id, got.Fired, want.Fired)
				}
				if want.Fired == "fired" && got.Explain != "" {
					t.Errorf("trigger %s fired but explains %q", id, got.Explain)
				}
				if !strings.Contains(got.Explain, want.Explain) {
					t.Errorf("trigger %s: explanation %q, want it to contain %q", id, got.Explain, want.Explain)
				}
			}
			if tc.wantVerified == "no" {
				for id, got := range r.Triggers {
					if got.Fired == "fired" {
						t.Errorf("trigger %s fired for a request that failed verification", id)
					}
				}
			}
			if r.Link == "" {
				t.Errorf("row has no a[data-testid=request-link]")
			}
		})
	}
	b.screenshot(t, "requests-live")

	// The detail of the fan-out (the newest request).
	r := eval[*row](t, b, "newest row", firstRowJS)
	if r == nil || r.Link == "" {
		t.Fatal("no link to the newest request's detail")
	}
	b.do(t, 15*time.Second, "open the detail", chromedp.Click(chromedp.CSS(`[data-testid="request-row"] a[data-testid="request-link"]`)),
		chromedp.WaitReady(chromedp.CSS(`[data-testid="detail-headers"]`)))
	for _, tc := range []struct{ sel, want, notWant string }{
		{sel("detail-headers"), "Stripe-Signature", stripeSecret},
		{sel("detail-body"), "checkout.session.completed", ""},
		{sel("detail-signature"), "Stripe-Signature", stripeSecret},
		{sel("detail-trigger", "data-trigger", "invoices"), `does not match "checkout.session.completed"`, ""},
		{sel("detail-trigger", "data-trigger", "live-payments"), `does not contain "checkout.session.completed"`, ""},
		{sel("detail-trigger", "data-trigger", "checkout-completed"), "", "does not"},
		{sel("detail-trigger", "data-trigger", "all"), "", "does not"},
		{sel("detail-deliveries"), "checkout-completed", ""},
	} {
		got := b.text(t, "", tc.sel)
		if !strings.Contains(strings.ToLower(got), strings.ToLower(tc.want)) {
			t.Errorf("%s shows %q, want it to contain %q", tc.sel, got, tc.want)
		}
		if tc.notWant != "" && strings.Contains(got, tc.notWant) {
			t.Errorf("%s shows %q, want no %q in it", tc.sel, got, tc.notWant)
		}
	}
	html := eval[string](t, b, "page source", `document.documentElement.outerHTML`)
	if strings.Contains(html, stripeSecret) {
		t.Error("the endpoint's secret is in the detail page's HTML")
	}
	for _, a := range []string{"action-curl", "action-raw", "action-replay"} {
		if b.count(t, sel(a)) != 1 {
			t.Errorf("detail page: no [data-testid=%s]", a)
		}
	}
	b.screenshot(t, "request-detail")
}

func TestReplayFromDetailAppearsInTheList(t *testing.T) {
	k := startSink(t)
	s := startServe(t, stripeSpec(t, k.URL))
	b := newBrowser(t, 1280, 800)
	b.openLive(t, s)
	before := b.requestCount(t)
	signedReq{body: stripeEvent("checkout.session.completed"), secret: stripeSecret}.send(t, http.DefaultClient, s.Base)
	b.waitCount(t, 15*time.Second, before+1)
	r := eval[*row](t, b, "newest row", firstRowJS)
	if r == nil || r.Link == "" {
		t.Fatal("no link to the request's detail")
	}
	b.open(t, r.Link)
	b.do(t, 15*time.Second, "click replay", chromedp.Click(chromedp.CSS(sel("action-replay"))))
	b.openLive(t, s)
	b.waitCount(t, 15*time.Second, before+2)
	if r2 := eval[*row](t, b, "newest row", firstRowJS); r2 == nil || r2.Verified != "yes" || r2.ID == r.ID {
		t.Errorf("after replay the newest row is %+v, want a new verified request (the replay is re-signed)", r2)
	}
}
