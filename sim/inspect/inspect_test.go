package inspect_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/inspect"
	"github.com/hooklab/hooklab/sim/listen"
)

const secret = "whsec-inspect-test-SECRET"

// setup serves an ingress observed by a Store, and the inspector.
func setup(t *testing.T, token string) (*sim.Ingress, *inspect.Store, http.Handler) {
	t.Helper()
	store := inspect.NewStore(0, 0)
	in, err := sim.NewIngress(sim.Config{Observer: store}, sim.EndpointSpec{
		ID: "gh", Title: "GitHub <b>PRs</b>", Icon: "github",
		Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
		Triggers: []sim.TriggerSpec{
			{ID: "opened", Filter: json.RawMessage(`{"body":{"action":["opened"]}}`)},
			{ID: "closed", Filter: json.RawMessage(`{"body":{"action":["closed"]}}`)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in, store, inspect.Handler(inspect.Config{Store: store, Specs: in.Specs, Target: "http://127.0.0.1:1", Token: token})
}

func get(h http.Handler, target string, mod func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr, r.Host = "127.0.0.1:5000", "127.0.0.1:8080"
	if mod != nil {
		mod(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func signed(t *testing.T, body string, hdr http.Header) *http.Request {
	t.Helper()
	p, err := signer.Sign(signer.GitHub(), signer.Keys(secret), signer.Payload{URL: "http://127.0.0.1/hooks/gh", Body: []byte(body), Header: hdr})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/hooks/gh", strings.NewReader(body))
	for k, v := range p.Header {
		r.Header[k] = v
	}
	return r
}

func TestStoreKeepsTheLastN(t *testing.T) {
	s := inspect.NewStore(3, 4)
	for i := 0; i < 5; i++ {
		s.Request(&sim.Trace{Method: "POST", Path: "/hooks/x", Body: []byte("0123456789")})
	}
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	rec := s.Recent(0)
	if rec[0].ID != 5 || rec[2].ID != 3 {
		t.Errorf("Recent ids = %d..%d, want 5..3", rec[0].ID, rec[2].ID)
	}
	if _, ok := s.Get(2); ok {
		t.Error("Get(2) found a request dropped for newer ones")
	}
	e, ok := s.Get(4)
	if !ok || string(e.Trace.Body) != "0123" || !e.Truncated || e.BodyBytes != 10 {
		t.Errorf("Get(4) = %q truncated=%v bytes=%d, want the first 4 of 10 bytes, truncated", e.Trace.Body, e.Truncated, e.BodyBytes)
	}
}

func TestSlowSubscriberIsDroppedNotWaitedFor(t *testing.T) {
	s := inspect.NewStore(10, 0)
	slow, cancelSlow := s.Subscribe()
	defer cancelSlow()
	fast, cancelFast := s.Subscribe()
	defer cancelFast()
	got := 0
	for i := 0; i < 3000; i++ {
		s.Request(&sim.Trace{Method: "POST", Path: "/p"})
		for len(fast) > 0 {
			msg := <-fast
			if want := fmt.Sprintf("id: %d\nevent: request\ndata: {", got+1); !strings.HasPrefix(string(msg), want) {
				t.Fatalf("event = %q", msg)
			}
			got++
		}
	}
	if got != 3000 {
		t.Errorf("the fast subscriber got %d events, want 3000", got)
	}
	n := 0
	for range slow { // closed once dropped
		n++
	}
	if n != 1024 || s.Dropped() != 1 {
		t.Errorf("slow subscriber got %d events, Dropped = %d; want it dropped after its buffer", n, s.Dropped())
	}
}

func TestHostileRequestIsEscaped(t *testing.T) {
	in, _, h := setup(t, "")
	hostile := `"><img src=x onerror=alert(1)><script>alert(1)</script>` + "\x01\x1b[31m"
	r := signed(t, `{"action":"`+strings.ReplaceAll(hostile, `"`, `\"`)+`"}`, http.Header{"X-Evil": {`<script>alert(1)</script>`}})
	r.Header.Set("X-Evil2", `"><img onerror=alert(1)>`)
	in.ServeHTTP(httptest.NewRecorder(), r)
	for _, page := range []string{"/_hooklab/requests", "/_hooklab/requests/1", "/_hooklab/"} {
		w := get(h, page, nil)
		body := w.Body.String()
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", page, w.Code, body)
		}
		for _, bad := range []string{"<script>alert", "<img", "<b>PRs", "\x01", "\x1b"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s holds %q unescaped", page, bad)
			}
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: CSP %q, nosniff %q", page, csp, w.Header().Get("X-Content-Type-Options"))
		}
	}
	if body := get(h, "/_hooklab/requests/1", nil).Body.String(); !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the detail page does not show the hostile header as text")
	}
}

// TestPrettyBodyShowsTheTextSent: a JSON body is shown as sent, escaped
// once for HTML, not with JSON's \u003c escapes of "<" and ">".
func TestPrettyBodyShowsTheTextSent(t *testing.T) {
	in, _, h := setup(t, "")
	in.ServeHTTP(httptest.NewRecorder(), signed(t, `{"action":"\"><img src=x onerror=alert(1)> & co"}`, http.Header{}))
	detail := get(h, "/_hooklab/requests/1", nil).Body.String()
	want := `&#34;action&#34;: &#34;\&#34;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; co&#34;`
	if !strings.Contains(detail, want) {
		t.Errorf("the detail page does not hold %s", want)
	}
	if strings.Contains(detail, `\u003c`) || strings.Contains(detail, "<img") {
		t.Error("the detail page shows JSON's escapes of the body, or the body unescaped")
	}
}

func TestSecretOnlyOnReveal(t *testing.T) {
	in, _, h := setup(t, "")
	in.ServeHTTP(httptest.NewRecorder(), signed(t, `{"action":"opened"}`, nil))
	for _, page := range []string{"/_hooklab/", "/_hooklab/requests", "/_hooklab/requests/1"} {
		if strings.Contains(get(h, page, nil).Body.String(), secret) {
			t.Errorf("%s shows the secret", page)
		}
	}
	reveal := func(hdr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/_hooklab/api/secret?endpoint=gh", nil)
		r.RemoteAddr, r.Host = "127.0.0.1:5000", "127.0.0.1:8080"
		if hdr != "" {
			r.Header.Set("X-Hooklab", hdr)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := reveal(""); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), secret) {
		t.Errorf("reveal without X-Hooklab: %d %q, want 403 without the secret", w.Code, w.Body)
	}
	if w := reveal("1"); w.Code != 200 || !strings.Contains(w.Body.String(), secret) {
		t.Errorf("reveal: %d %q, want the secret", w.Code, w.Body)
	}
}

func TestAccessRule(t *testing.T) {
	_, _, open := setup(t, "")
	_, _, locked := setup(t, "tok-123")
	for _, c := range []struct {
		name string
		h    http.Handler
		mod  func(*http.Request)
		want int
	}{
		{"loopback without token", open, nil, 200},
		{"remote client without token", open, func(r *http.Request) { r.RemoteAddr = "203.0.113.9:4000" }, 403},
		{"rebinding host name without token", open, func(r *http.Request) { r.Host = "evil.example:8080" }, 403},
		{"token missing", locked, nil, 401},
		{"token wrong", locked, func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, 401},
		{"bearer token", locked, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer tok-123")
			r.RemoteAddr = "203.0.113.9:4000"
		}, 200},
		{"cookie", locked, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "hooklab_ui", Value: "tok-123"}) }, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			if w := get(c.h, "/_hooklab/requests", c.mod); w.Code != c.want {
				t.Errorf("status %d, want %d", w.Code, c.want)
			}
		})
	}
	w := get(locked, "/_hooklab/requests?token=tok-123", nil)
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Set-Cookie"), "hooklab_ui=tok-123") || strings.Contains(w.Header().Get("Location"), "tok-123") {
		t.Errorf("?token=: %d, Set-Cookie %q, Location %q; want a cookie and a redirect without the token", w.Code, w.Header().Get("Set-Cookie"), w.Header().Get("Location"))
	}
}

func TestEventStreamDeliversRequests(t *testing.T) {
	in, _, h := setup(t, "")
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/_hooklab/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	buf := make([]byte, 64)
	if _, err := io.ReadAtLeast(resp.Body, buf, len("retry: 500\n\n")); err != nil {
		t.Fatal(err)
	}
	in.ServeHTTP(httptest.NewRecorder(), signed(t, `{"action":"closed"}`, nil))
	var got strings.Builder
	b := make([]byte, 4096)
	for !strings.Contains(got.String(), "\n\n") || !strings.Contains(got.String(), "data:") {
		n, err := resp.Body.Read(b)
		got.Write(b[:n])
		if err != nil {
			t.Fatal(err)
		}
	}
	_, data, _ := strings.Cut(got.String(), "data: ")
	data, _, _ = strings.Cut(data, "\n")
	var row inspect.Row
	if err := json.Unmarshal([]byte(data), &row); err != nil {
		t.Fatalf("%v: %q", err, data)
	}
	if row.Verified != "yes" || len(row.Triggers) != 2 || row.Triggers[1].ID != "closed" || !row.Triggers[1].Fired ||
		row.Triggers[0].Explain != `body.action: ["opened"] does not contain "closed"` {
		t.Errorf("row = %+v", row)
	}
}

func FuzzPrettyJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":null}],"c":"x"}`, `[]`, `{}`, `"s"`, `{"a":`, `[[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, ok := inspect.PrettyJSON(body, map[string]bool{"a": true})
		if ok && !json.Valid(body) {
			t.Errorf("invalid JSON %q pretty-printed as %v", body, lines)
		}
		if ok {
			var b strings.Builder
			for _, l := range lines {
				b.WriteString(l.Text)
			}
			if !json.Valid([]byte(b.String())) {
				t.Errorf("pretty form of %q is not JSON: %q", body, b.String())
			}
		}
	})
}

func TestListenEntriesShowProviderVerdictAndEvent(t *testing.T) {
	s := inspect.NewStore(0, 0)
	no := false
	s.Listen(listen.Entry{Seq: 1, Method: "POST", Target: "/webhooks/github?x=1", Status: 200, Guess: listen.Guess{Provider: "github"},
		Event: "ping", Verified: &no, Reason: "github: X-Hub-Signature-256: no matching signature"})
	h := inspect.Handler(inspect.Config{Store: s})
	list := get(h, "/_hooklab/requests", nil).Body.String()
	for _, want := range []string{`data-testid="request-path" data-f="path">/webhooks/github?x=1<`,
		`data-verified="no" data-f="verifiedText">github: X-Hub-Signature-256: no matching signature<`, `>github · ping<`} {
		if !strings.Contains(list, want) {
			t.Errorf("the list lacks %s", want)
		}
	}
	if w := get(h, "/_hooklab/requests/1", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "no matching signature") {
		t.Errorf("detail of a listen entry: %d", w.Code)
	}
	if w := get(h, "/_hooklab/", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/_hooklab/requests" {
		t.Errorf("listen's root: %d %q, want a redirect to the requests", w.Code, w.Header().Get("Location"))
	}
}

func TestCloseEndsTheEventStreams(t *testing.T) {
	_, store, h := setup(t, "")
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/_hooklab/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	store.Close()
	b, err := io.ReadAll(resp.Body) // returns once the handler has ended the stream
	if err != nil || string(b) != "retry: 500\n\n" {
		t.Errorf("stream after Close: %q, %v", b, err)
	}
	ch, cancel := store.Subscribe()
	defer cancel()
	if _, ok := <-ch; ok {
		t.Error("a subscription after Close is open")
	}
}

func TestReconnectReplaysWhatWasMissed(t *testing.T) {
	in, _, h := setup(t, "")
	for _, action := range []string{"opened", "closed", "opened"} {
		in.ServeHTTP(httptest.NewRecorder(), signed(t, `{"action":"`+action+`"}`, nil))
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/_hooklab/events", nil)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got strings.Builder
	b := make([]byte, 4096)
	for strings.Count(got.String(), "event: request") < 2 {
		n, err := resp.Body.Read(b)
		got.Write(b[:n])
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := regexp.MustCompile(`(?m)^id: (\d+)$`).FindAllStringSubmatch(got.String(), -1)
	if len(ids) != 2 || ids[0][1] != "2" || ids[1][1] != "3" {
		t.Errorf("replayed ids %v, want 2 and 3:\n%s", ids, got.String())
	}
}

func TestOutcomeBeforeItsRequestIsKept(t *testing.T) {
	// A delivery can end before the ingress has answered its request.
	s := inspect.NewStore(0, 0)
	s.Delivery(sim.DeliveryOutcome{ID: "d1", Endpoint: "gh", Trigger: "all", Delivered: true, Attempts: 1})
	s.Request(&sim.Trace{Endpoint: "gh", Method: "POST", Path: "/hooks/gh", Status: 200,
		Triggers: []sim.TriggerTrace{{ID: "all", Fired: true, Evaluated: true, Posted: true, Deliveries: []string{"d1"}}}})
	e, _ := s.Get(1)
	if o, ok := e.Outcomes["d1"]; !ok || !o.Delivered {
		t.Errorf("outcomes %+v, want d1 delivered", e.Outcomes)
	}
}
