package browser

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTenThousandRequestsStreamIntoTheList sends 10,000 signed requests as
// fast as 8 clients can, and checks that the live list counts every one
// and that the page still answers. It logs the time from the first send
// to the count reaching 10,000 (no assertion on it: the figure goes in
// the notes). With -short it sends 1,000.
func TestTenThousandRequestsStreamIntoTheList(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	k := startSink(t)
	s := startServe(t, stripeSpec(t, k.URL), "--ui-keep", strconv.Itoa(n))
	b := newBrowser(t, 1280, 800)
	b.openLive(t, s)
	before := b.requestCount(t)
	if before < 0 {
		t.Fatal("no number in [data-testid=request-count]")
	}
	// Sign every request before the clock starts.
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = signedReq{body: stripeEvent("checkout.session.completed"), secret: stripeSecret}.build(t, s.Base)
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				resp, err := c.Do(reqs[i])
				if err != nil || resp.StatusCode/100 != 2 {
					failed.Add(1)
				}
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	if f := failed.Load(); f != 0 {
		t.Fatalf("%d of %d requests got no 2xx", f, n)
	}
	t.Logf("%d requests sent in %s (%.0f/s)", n, sent.Round(time.Millisecond), float64(n)/sent.Seconds())
	want := min(before+n, n) // --ui-keep n bounds what is kept
	b.waitCountProgress(t, want, 30*time.Second)
	shown := time.Since(start)
	// Responsive: an evaluation returns, and the newest row is there.
	evalStart := time.Now()
	rows := eval[int](t, b, "rows", `document.querySelectorAll('[data-testid="request-row"]').length`)
	evalTook := time.Since(evalStart)
	if rows == 0 {
		t.Error("no request rows after streaming")
	}
	r := eval[*row](t, b, "newest row", firstRowJS)
	if r == nil || r.Verified != "yes" {
		t.Errorf("newest row after streaming: %+v, want a verified request", r)
	}
	b.viewportScreenshot(t, "requests-after-"+strconv.Itoa(n))
	t.Logf("%d requests: sent in %s (%.0f/s); the count showed %d after %s (%.0f/s), %.2f× the sending time; %d rows in the DOM; an evaluate afterwards took %s",
		n, sent.Round(time.Millisecond), float64(n)/sent.Seconds(), want, shown.Round(time.Millisecond), float64(n)/shown.Seconds(),
		shown.Seconds()/sent.Seconds(), rows, evalTook.Round(time.Millisecond))
}

// waitCountProgress waits until the page's request count is want, and
// fails the test when the count stops moving for stall (the live stream
// stalled or was dropped) instead of waiting out a fixed deadline. It
// returns how long it waited.
func (b *browser) waitCountProgress(t *testing.T, want int, stall time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	last, lastChange := -2, time.Now()
	for {
		n := eval[int](t, b, "request count", requestCountJS)
		if n == want {
			return time.Since(start)
		}
		if n != last {
			last, lastChange = n, time.Now()
		}
		if time.Since(lastChange) > stall {
			live := eval[string](t, b, "live", `String(document.body.dataset.live)`)
			t.Fatalf("request-count stalled at %d of %d for %s (body.dataset.live = %q) after %s", n, want, stall, live, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
