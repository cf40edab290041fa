package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// hooklabBin is the hooklab binary built once by TestMain, or "" when the
// build failed (buildErr says why).
var (
	hooklabBin string
	buildErr   error
)

func TestMain(m *testing.M) {
	// HOOKLAB_BIN runs the tests against a hooklab binary built elsewhere.
	if bin := os.Getenv("HOOKLAB_BIN"); bin != "" {
		hooklabBin = bin
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "hooklab-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser tests:", err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "hooklab")
	// Built in hooklab's own module (its go.mod and go.sum), not this one.
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/hooklab")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build ./cmd/hooklab (in ../..): %v\n%s", err, out)
	} else {
		hooklabBin = bin
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// chromiumPath finds Chromium: $HOOKLAB_CHROMIUM, /usr/bin/chromium, or a
// known name on PATH.
func chromiumPath() string {
	if p := os.Getenv("HOOKLAB_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// requireChromium returns Chromium's path, or skips the test (fails it
// under CI=true, where .ci/run has installed Chromium).
func requireChromium(t *testing.T) string {
	t.Helper()
	p := chromiumPath()
	if p != "" {
		return p
	}
	msg := "Chromium not found (set HOOKLAB_CHROMIUM, or apt-get install -y chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true: .ci/run installs it, so its absence is a failure")
	}
	t.Skip(msg)
	return ""
}

// server is one running 'hooklab serve --ui' subprocess.
type server struct {
	// Base is where serve listens ("http://127.0.0.1:PORT").
	Base string
	// UI is the inspector's URL ("http://127.0.0.1:PORT/_hooklab/").
	UI string

	mu     sync.Mutex
	stderr strings.Builder
}

// Stderr returns what serve has printed on stderr so far.
func (s *server) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

var (
	listeningRE = regexp.MustCompile(`listening on (http://[^;\s]+)`)
	inspectorRE = regexp.MustCompile(`inspector: (http://\S+/_hooklab/)`)
)

// startServe starts 'hooklab serve --spec spec --ui --addr 127.0.0.1:0'
// plus extra flags, waits for its listening and inspector lines, and stops
// it when the test ends.
func startServe(t *testing.T, spec string, extra ...string) *server {
	t.Helper()
	if hooklabBin == "" {
		t.Fatal(buildErr)
	}
	args := append([]string{"serve", "--spec", spec, "--ui", "--addr", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(hooklabBin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hooklab %s: %v", strings.Join(args, " "), err)
	}
	s := &server{}
	baseC := make(chan string, 1)
	uiC := make(chan string, 1)
	var wg sync.WaitGroup
	scan := func(r io.Reader, re *regexp.Regexp, found chan<- string, keep bool) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if keep {
				s.mu.Lock()
				if s.stderr.Len() < 1<<20 {
					s.stderr.WriteString(line + "\n")
				}
				s.mu.Unlock()
			}
			if m := re.FindStringSubmatch(line); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}
	wg.Add(2)
	go scan(stdout, listeningRE, baseC, false)
	go scan(stderr, inspectorRE, uiC, true)
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		wg.Wait()
	})
	deadline := time.After(30 * time.Second)
	for s.Base == "" || s.UI == "" {
		select {
		case b, ok := <-baseC:
			if !ok {
				t.Fatalf("hooklab %s printed no 'listening on' line on stdout; stderr:\n%s", strings.Join(args, " "), s.Stderr())
			}
			s.Base, baseC = b, nil
		case u, ok := <-uiC:
			if !ok {
				t.Fatalf("hooklab %s printed no 'inspector: URL' line on stderr; stderr:\n%s", strings.Join(args, " "), s.Stderr())
			}
			s.UI, uiC = u, nil
		case <-deadline:
			t.Fatalf("hooklab %s: no listening/inspector line within 30s; stderr:\n%s", strings.Join(args, " "), s.Stderr())
		}
	}
	return s
}

// sink is a local HTTP server the specs' triggers deliver to; it counts
// what it received.
type sink struct {
	URL string
	n   atomic.Int64
}

func startSink(t *testing.T) *sink {
	t.Helper()
	k := &sink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		k.n.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	k.URL = srv.URL + "/"
	return k
}

// stripeSpec writes a copy of examples/specs/stripe.json whose triggers
// deliver to deliver, and returns its path.
func stripeSpec(t *testing.T, deliver string) string {
	t.Helper()
	raw, err := os.ReadFile("../../examples/specs/stripe.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("examples/specs/stripe.json: %v", err)
	}
	triggers, _ := spec["triggers"].([]any)
	if len(triggers) == 0 {
		t.Fatal("examples/specs/stripe.json: no triggers")
	}
	for _, tr := range triggers {
		tr.(map[string]any)["deliver"] = deliver
	}
	out, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "stripe.json")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// browser is one headless Chromium tab and what it saw.
type browser struct {
	ctx context.Context
	// dialogs counts JavaScript dialogs (alert, confirm, prompt) opened.
	dialogs atomic.Int64
}

// newBrowser starts headless Chromium with a window and viewport of w×h
// CSS pixels; it is closed when the test ends. Every JavaScript dialog is
// counted and dismissed.
func newBrowser(t *testing.T, w, h int) *browser {
	t.Helper()
	exe := requireChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.WindowSize(w, h),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{ctx: ctx}
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h))); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.dialogs.Add(1)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	if err != nil {
		t.Fatalf("listen to Chromium's events: %v", err)
	}
	return b
}

// do runs steps with a timeout of d, failing the test with what on error.
func (b *browser) do(t *testing.T, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in b's tab and returns its value.
func eval[T any](t *testing.T, b *browser, what, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: evaluate %s: %v", what, js, err)
	}
	return v
}

// waitJS polls a JavaScript expression until it is truthy, for up to d; on
// timeout it fails the test with what and the value of diag.
func (b *browser) waitJS(t *testing.T, d time.Duration, what, js, diag string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d)))
	if err != nil {
		got := ""
		if diag != "" {
			dctx, dcancel := context.WithTimeout(b.ctx, 5*time.Second)
			got, _ = chromedp.Run(dctx, chromedp.Evaluate[string](diag))
			dcancel()
		}
		t.Fatalf("%s: not true within %s: %s: %v; page: %q", what, d, js, err, got)
	}
}

// open navigates to url and waits for the body.
func (b *browser) open(t *testing.T, url string) {
	t.Helper()
	b.do(t, 30*time.Second, "open "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// openLive opens the live requests page and waits until its EventSource is
// open (document.body.dataset.live == "connected").
func (b *browser) openLive(t *testing.T, s *server) {
	t.Helper()
	b.open(t, s.UI+"requests")
	b.waitJS(t, 15*time.Second, "live requests page connects to /_hooklab/events",
		`document.body.dataset.live === "connected"`, `String(document.body.dataset.live)`)
}

// screenshot writes a full-page PNG named name under the screenshot
// directory ($HOOKLAB_SCREENSHOTS, a relative path taken from hooklab's
// root; else a temporary directory).
func (b *browser) screenshot(t *testing.T, name string) string {
	t.Helper()
	return b.shoot(t, name, chromedp.FullScreenshot(100))
}

// viewportScreenshot is screenshot of the window only, for a page too long
// for one image (Chromium refuses a full screenshot of 10,000 rows).
func (b *browser) viewportScreenshot(t *testing.T, name string) string {
	t.Helper()
	return b.shoot(t, name, chromedp.CaptureScreenshot())
}

func (b *browser) shoot(t *testing.T, name string, capture chromedp.Action[[]byte]) string {
	t.Helper()
	dir := os.Getenv("HOOKLAB_SCREENSHOTS")
	if dir == "" {
		dir = screenshotTemp(t)
	} else if !filepath.IsAbs(dir) {
		// Relative to hooklab's root, where the README's command runs:
		// HOOKLAB_SCREENSHOTS=docs/screenshots.
		dir = filepath.Join("..", "..", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
	return p
}

var (
	shotOnce sync.Once
	shotDir  string
)

// screenshotTemp is one temporary directory for every screenshot of the
// run (kept, so they can be looked at; its path is logged).
func screenshotTemp(t *testing.T) string {
	shotOnce.Do(func() {
		d, err := os.MkdirTemp("", "hooklab-screenshots-")
		if err == nil {
			shotDir = d
		}
	})
	if shotDir == "" {
		t.Fatal("no temporary directory for screenshots")
	}
	return shotDir
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// sel returns a CSS selector for data-testid=id plus extra attribute pairs.
func sel(id string, attrs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[data-testid=%q]`, id)
	for i := 0; i+1 < len(attrs); i += 2 {
		fmt.Fprintf(&b, `[%s=%q]`, attrs[i], attrs[i+1])
	}
	return b.String()
}

// count returns how many elements match a CSS selector.
func (b *browser) count(t *testing.T, css string) int {
	t.Helper()
	return eval[int](t, b, "count "+css, `document.querySelectorAll(`+jsString(css)+`).length`)
}

// text returns the trimmed textContent of the first element matching css
// within the first element matching scope ("" for the document), or
// fails the test when there is none.
func (b *browser) text(t *testing.T, scope, css string) string {
	t.Helper()
	js := fmt.Sprintf(`(() => { const root = %s ? document.querySelector(%s) : document;
		if (!root) return null; const e = root.querySelector(%s); return e ? e.textContent.trim() : null; })()`,
		jsString(scope), jsString(scope), jsString(css))
	got := eval[*string](t, b, "text of "+scope+" "+css, js)
	if got == nil {
		t.Fatalf("no element %s inside %q", css, scope)
	}
	return *got
}

// requestCount reads [data-testid=request-count] as a number (-1 when it
// is missing or not a number).
const requestCountJS = `(() => { const e = document.querySelector('[data-testid="request-count"]');
	if (!e) return -1; const n = parseInt(e.textContent.replace(/[^0-9]/g, ''), 10); return isNaN(n) ? -1 : n; })()`

func (b *browser) requestCount(t *testing.T) int {
	t.Helper()
	return eval[int](t, b, "request count", requestCountJS)
}
