package browser

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tabTo presses Tab until the focused element matches css, at most max
// times, and fails the test when it never does.
func (b *browser) tabTo(t *testing.T, css string, max int) {
	t.Helper()
	is := `(document.activeElement && document.activeElement.matches(` + jsString(css) + `))`
	for i := 0; i < max; i++ {
		if eval[bool](t, b, "focus", is) {
			return
		}
		b.do(t, 5*time.Second, "press Tab", chromedp.KeyEvent("\t"))
	}
	t.Fatalf("%d Tab presses never focus %s (focused: %s)", max, css,
		eval[string](t, b, "focused", `document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : "none"`))
}

func TestKeyboardReachesAndActivatesButtons(t *testing.T) {
	k := startSink(t)
	s := startServe(t, stripeSpec(t, k.URL))
	card := sel("endpoint-card", "data-endpoint", "stripe")
	for _, tc := range []struct {
		name, button, result, want string
	}{
		{"SecretReveal", card + " " + sel("secret-reveal"), card + " " + sel("secret"), stripeSecret},
		{"ExampleSend", sel("example-send", "data-example", "checkout-cus-123"), sel("example-outcome", "data-example", "checkout-cus-123"), "checkout-completed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, 1280, 800)
			b.open(t, s.UI)
			b.tabTo(t, tc.button, 100)
			b.do(t, 5*time.Second, "press Enter", chromedp.KeyEvent("\r"))
			b.waitJS(t, 15*time.Second, "Enter on "+tc.button+" shows "+tc.want,
				`(document.querySelector(`+jsString(tc.result)+`)||{}).textContent?.includes(`+jsString(tc.want)+`)`,
				`String((document.querySelector(`+jsString(tc.result)+`)||{}).textContent)`)
		})
	}
}

// windowSizes are the sizes every page must be readable at.
var windowSizes = []struct {
	name string
	w, h int
}{
	{"1280x800", 1280, 800},
	{"390x844", 390, 844},
}

func TestPagesFitTheWindowAtEachSize(t *testing.T) {
	k := startSink(t)
	s := startServe(t, stripeSpec(t, k.URL))
	hs := startServe(t, "../../examples/specs/handshakes.yaml")
	signedReq{body: stripeEvent("checkout.session.completed"), secret: stripeSecret}.send(t, http.DefaultClient, s.Base)
	signedReq{body: stripeEvent("invoice.paid"), secret: "whsec_wrong"}.send(t, http.DefaultClient, s.Base)
	for _, size := range windowSizes {
		t.Run(size.name, func(t *testing.T) {
			b := newBrowser(t, size.w, size.h)
			b.openLive(t, s)
			b.waitJS(t, 10*time.Second, "rows", `document.querySelectorAll('[data-testid="request-row"]').length >= 2`, `document.body.innerText.slice(0, 300)`)
			detail := eval[*row](t, b, "newest row", firstRowJS)
			pages := []struct{ name, url, ready string }{
				{"endpoints-handshakes", hs.UI, sel("endpoint-card")},
				{"endpoints-stripe", s.UI, sel("endpoint-card")},
				{"requests", s.UI + "requests", sel("request-row")},
			}
			if detail != nil && detail.Link != "" {
				pages = append(pages, struct{ name, url, ready string }{"detail", detail.Link, sel("detail-headers")})
			} else {
				t.Error("no link to a request's detail")
			}
			for _, p := range pages {
				t.Run(p.name, func(t *testing.T) {
					b.open(t, p.url)
					b.waitJS(t, 10*time.Second, p.name, `document.querySelector(`+jsString(p.ready)+`) !== null`, `document.body.innerText.slice(0, 300)`)
					b.screenshot(t, p.name+"-"+size.name)
					// Readable: nothing wider than the window (no sideways
					// scrolling of the page), and text not smaller than 12px.
					overflow := eval[int](t, b, "overflow", `document.documentElement.scrollWidth - window.innerWidth`)
					if overflow > 0 {
						wide := eval[string](t, b, "widest", `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
							.slice(0, 3).map(e => e.tagName + (e.dataset.testid ? '[' + e.dataset.testid + ']' : '') + ' ' + Math.round(e.getBoundingClientRect().right) + 'px').join(', ')`)
						t.Errorf("page is %dpx wider than the %dpx window: %s", overflow, size.w, wide)
					}
					small := eval[string](t, b, "small text", `[...document.querySelectorAll('body *')].filter(e => e.childNodes.length && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
						&& parseFloat(getComputedStyle(e).fontSize) < 12 && e.getClientRects().length).slice(0, 3).map(e => e.tagName + ' ' + getComputedStyle(e).fontSize).join(', ')`)
					if small != "" {
						t.Errorf("text smaller than 12px: %s", small)
					}
					// Nothing clipped away: every trigger line of a request
					// lies inside its row (four triggers, at any width).
					clipped := eval[string](t, b, "clipped triggers", `[...document.querySelectorAll('[data-testid="trigger-row"]')].filter(e => {
							const row = e.closest('[data-testid="request-row"]'); if (!row) return false;
							const r = e.getBoundingClientRect(), o = row.getBoundingClientRect();
							return r.bottom > o.bottom + 1 || r.top < o.top - 1;
						}).slice(0, 3).map(e => e.dataset.trigger).join(', ')`)
					if clipped != "" {
						t.Errorf("trigger lines outside their request's row (clipped): %s", clipped)
					}
				})
			}
		})
	}
}

func TestFirstRowStaysInPlaceWhileRequestsStreamIn(t *testing.T) {
	k := startSink(t)
	s := startServe(t, stripeSpec(t, k.URL))
	b := newBrowser(t, 1280, 800)
	b.openLive(t, s)
	c := &http.Client{Timeout: 10 * time.Second}
	before := b.requestCount(t)
	signedReq{body: stripeEvent("checkout.session.completed"), secret: stripeSecret}.send(t, c, s.Base)
	b.waitCount(t, 15*time.Second, before+1)
	const topJS = `(() => { const r = document.querySelector('[data-testid="request-row"]'); return r ? r.getBoundingClientRect().top : -1; })()`
	const countTopJS = `(() => { const r = document.querySelector('[data-testid="request-count"]'); return r ? r.getBoundingClientRect().top : -1; })()`
	top0 := eval[float64](t, b, "first row top", topJS)
	count0 := eval[float64](t, b, "count top", countTopJS)
	// Record every position the first row takes while 50 requests stream in.
	eval[bool](t, b, "observe", `(() => { window.__tops = []; new MutationObserver(() => {
		const r = document.querySelector('[data-testid="request-row"]'); if (r) window.__tops.push(r.getBoundingClientRect().top);
	}).observe(document.body, {childList: true, subtree: true, characterData: true}); return true; })()`)
	for i := 0; i < 50; i++ {
		body := stripeEvent([]string{"invoice.paid", "checkout.session.completed", "charge.refunded"}[i%3])
		secret := stripeSecret
		if i%7 == 0 {
			secret = "whsec_wrong" // a failed verification, with its longer reason
		}
		signedReq{body: body, secret: secret}.send(t, c, s.Base)
	}
	b.waitCount(t, 15*time.Second, before+51)
	top1 := eval[float64](t, b, "first row top", topJS)
	count1 := eval[float64](t, b, "count top", countTopJS)
	tops := eval[[]float64](t, b, "tops", `window.__tops`)
	t.Logf("first row top %.1f → %.1f px; request-count top %.1f → %.1f px; %d positions seen while streaming", top0, top1, count0, count1, len(tops))
	if math.Abs(top1-top0) > 0.5 {
		t.Errorf("first row's top moved from %.1f to %.1f px while requests streamed in", top0, top1)
	}
	if math.Abs(count1-count0) > 0.5 {
		t.Errorf("request-count moved from %.1f to %.1f px while requests streamed in", count0, count1)
	}
	var moved []string
	for _, y := range tops {
		if math.Abs(y-top0) > 0.5 {
			moved = append(moved, fmt.Sprintf("%.1f", y))
		}
	}
	if len(moved) > 0 {
		t.Errorf("the first row's top left %.1f px during streaming: %s", top0, strings.Join(moved[:min(len(moved), 10)], ", "))
	}
}
