package browser

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// hostile values: each would create an element or run script if the page
// put it into HTML unescaped. Each sets window.__xss and opens a dialog
// when it runs.
var hostile = []struct{ name, header, value string }{
	{"ScriptTag", "X-Hostile-Script", `<script>window.__xss="script";alert("script")</script>`},
	{"AttributeBreakout", "X-Hostile-Img", `"><img src=x onerror="window.__xss='img';alert('img')">`},
	{"SvgOnload", "X-Hostile-Svg", `'><svg onload="window.__xss='svg';alert('svg')"></svg>`},
}

// injectedJS counts the elements made from a hostile value: the page's
// own scripts and icons are allowed, but none may carry the marker
// __xss in its markup.
const injectedJS = `[...document.querySelectorAll('script, img, svg, iframe, [onerror], [onload]')].filter(e =>
	(e.outerHTML || '').includes('__xss')).length`

func TestHostileHeadersRenderAsText(t *testing.T) {
	k := startSink(t)
	s := startServe(t, stripeSpec(t, k.URL))
	b := newBrowser(t, 1280, 800)
	b.openLive(t, s)
	before := b.requestCount(t)

	h := http.Header{}
	for _, v := range hostile {
		h.Set(v.header, v.value)
	}
	body := `{"id":"evt_hostile","object":"event","type":"checkout.session.completed","data":{"object":{"customer":"<img src=x onerror=\"window.__xss='body';alert('body')\">"}}}`
	signedReq{body: body, secret: stripeSecret, header: h}.send(t, http.DefaultClient, s.Base)
	b.waitCount(t, 15*time.Second, before+1)
	check := func(t *testing.T, page string) {
		t.Helper()
		if n := eval[int](t, b, "injected elements", injectedJS); n != 0 {
			t.Errorf("%s: %d elements made from hostile values", page, n)
		}
		if got := eval[string](t, b, "window.__xss", `String(window.__xss)`); got != "undefined" {
			t.Errorf("%s: a hostile value ran script (window.__xss = %q)", page, got)
		}
		if n := b.dialogs.Load(); n != 0 {
			t.Errorf("%s: %d JavaScript dialogs opened", page, n)
		}
	}
	check(t, "live requests page")
	r := eval[*row](t, b, "newest row", firstRowJS)
	if r == nil || r.Link == "" {
		t.Fatal("no link to the hostile request's detail")
	}

	// The detail page shows every header: each hostile value as its text.
	b.open(t, r.Link)
	b.waitJS(t, 10*time.Second, "detail headers", `document.querySelector('[data-testid="detail-headers"]') !== null`, `document.body.innerText.slice(0, 300)`)
	headers := b.text(t, "", sel("detail-headers"))
	for _, v := range hostile {
		t.Run(v.name, func(t *testing.T) {
			if !strings.Contains(headers, v.value) {
				t.Errorf("detail-headers does not show %s as text %q; shows %q", v.header, v.value, headers)
			}
		})
	}
	if got := b.text(t, "", sel("detail-body")); !strings.Contains(got, `<img src=x onerror=`) {
		t.Errorf("detail-body does not show the hostile body field as text; shows %q", got)
	}
	check(t, "detail page")
	b.screenshot(t, "request-detail-hostile")
}
