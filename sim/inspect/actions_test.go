package inspect_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/inspect"
)

// live serves an observed ingress and the inspector on one real listener.
func live(t *testing.T, spec sim.EndpointSpec) (*sim.Ingress, *inspect.Store, *httptest.Server) {
	t.Helper()
	store := inspect.NewStore(0, 0)
	in, err := sim.NewIngress(sim.Config{Observer: store}, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	var ui http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, inspect.Prefix) {
			ui.ServeHTTP(w, r)
			return
		}
		in.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ui = inspect.Handler(inspect.Config{Store: store, Specs: in.Specs, Target: srv.URL,
		Example: func(ctx context.Context, s sim.EndpointSpec, id, target string) (*http.Request, error) {
			e, _ := s.Example(id)
			p, err := signer.Sign(signer.GitHub(), s.Verify.Secrets[:1], signer.Payload{URL: target, Body: e.BodyBytes(), Header: http.Header{}})
			if err != nil {
				return nil, err
			}
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(string(p.Body)))
			r.Header = p.Header
			return r, nil
		}})
	return in, store, srv
}

func action(t *testing.T, url string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	req.Header.Set("X-Hooklab", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %d %q", url, resp.StatusCode, b)
	}
	return out
}

func ghSpec(deliver string) sim.EndpointSpec {
	return sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
		Triggers: []sim.TriggerSpec{
			{ID: "opened", Filter: json.RawMessage(`{"body":{"action":["opened"]}}`), Deliver: deliver},
			{ID: "all", Deliver: deliver},
		},
		Examples: []sim.ExampleSpec{{ID: "pr-opened", Body: json.RawMessage(`{"action":"opened","number":7}`)}}}
}

func TestSendExampleShowsTheTriggersWoken(t *testing.T) {
	_, store, srv := live(t, ghSpec(""))
	out := action(t, srv.URL+"/_hooklab/api/send?endpoint=gh&example=pr-opened")
	if out["text"] != "200 · woke opened, all" {
		t.Errorf("outcome %v, want 200 · woke opened, all", out)
	}
	if e, ok := store.Get(1); !ok || !e.Trace.Verification.Verified {
		t.Errorf("the example's request is not kept verified: %+v", e)
	}
}

func TestReplayResignsToTheEndpoint(t *testing.T) {
	_, store, srv := live(t, ghSpec(""))
	p, _ := signer.Sign(signer.GitHub(), signer.Keys(secret), signer.Payload{URL: srv.URL + "/hooks/gh", Body: []byte(`{"action":"opened"}`)})
	// A tampered signature: the replay signs anew and is verified.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/hooks/gh", strings.NewReader(`{"action":"opened"}`))
	req.Header = p.Header
	req.Header.Set("X-Hub-Signature-256", "sha256=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := action(t, srv.URL+"/_hooklab/api/replay?id=1")
	if out["text"] != "200 · woke opened, all" {
		t.Errorf("replay outcome %v", out)
	}
	if e, ok := store.Get(2); !ok || !e.Trace.Verification.Verified || e.Trace.Path != "/hooks/gh" {
		t.Errorf("the replay is not kept as verified request 2: %+v", e.Trace)
	}
}

func TestDeliveryOutcomeUpdatesTheRequest(t *testing.T) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer sink.Close()
	in, store, srv := live(t, ghSpec(sink.URL))
	events, cancel := store.Subscribe()
	defer cancel()
	out := action(t, srv.URL+"/_hooklab/api/send?endpoint=gh&example=pr-opened")
	if out["status"] != float64(200) {
		t.Fatalf("send: %v", out)
	}
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := in.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	e, _ := store.Get(1)
	if len(e.Outcomes) != 2 {
		t.Fatalf("outcomes %+v, want one per trigger", e.Outcomes)
	}
	for id, o := range e.Outcomes {
		if !o.Delivered || o.Attempts != 1 || o.ID != id {
			t.Errorf("outcome %+v", o)
		}
	}
	// The request's event comes first; an outcome known by then is in it,
	// a later one comes as an update of the request.
	msg := <-events
	if !strings.Contains(string(msg), "event: request\n") {
		t.Fatalf("first event %q, want the request", msg)
	}
	delivered := strings.Count(string(msg), `"status":"delivered"`)
	for delivered < 2 {
		msg := <-events
		if !strings.Contains(string(msg), "event: update\n") {
			t.Fatalf("event %q, want an update", msg)
		}
		delivered = strings.Count(string(msg), `"status":"delivered"`)
	}
	w := get(inspect.Handler(inspect.Config{Store: store}), "/_hooklab/requests", nil)
	if n := strings.Count(w.Body.String(), `<span class="deliv">delivered ×1`); n != 2 {
		t.Errorf("the list shows %d delivered deliveries, want 2", n)
	}
}

func TestDetailHighlightsMatchedPathsAndDumpsBinary(t *testing.T) {
	in, _, h := setup(t, "")
	in.ServeHTTP(httptest.NewRecorder(), signed(t, `{"action":"opened","other":1}`, nil))
	in.ServeHTTP(httptest.NewRecorder(), signed(t, "\x00\x01binary\xff", nil))
	body := get(h, "/_hooklab/requests/1", nil).Body.String()
	if !strings.Contains(body, `<span class="ln hit">  &#34;action&#34;: &#34;opened&#34;,</span>`) || !strings.Contains(body, `<span class="ln">  &#34;other&#34;: 1</span>`) {
		t.Errorf("detail body does not highlight body.action alone:\n%s", body)
	}
	if body := get(h, "/_hooklab/requests/2", nil).Body.String(); !strings.Contains(body, `<pre class="hex">00000000  00 01 62 69 6e 61 72 79  ff`) {
		t.Errorf("binary body not shown as hex")
	}
}

func TestStaleStripeReasonInTheList(t *testing.T) {
	s := inspect.NewStore(0, 0)
	s.Request(&sim.Trace{Endpoint: "st", Method: "POST", Path: "/hooks/st", Status: 401, Verification: sim.VerifyTrace{Checked: true,
		Header: "Stripe-Signature", Reason: "timestamp too old", Detail: "older than 5m0s", Timestamp: time.Unix(1, 0), Skew: 312 * time.Second}})
	w := get(inspect.Handler(inspect.Config{Store: s}), "/_hooklab/requests", nil)
	if !strings.Contains(w.Body.String(), `data-verified="no" data-f="verifiedText">Stripe-Signature: timestamp too old by 5m12s: older than 5m0s<`) {
		t.Errorf("the list does not say the signature is 312 s too old:\n%s", w.Body)
	}
	detail := get(inspect.Handler(inspect.Config{Store: s}), "/_hooklab/requests/1", nil).Body.String()
	if !strings.Contains(detail, "skew 5m12s (received minus signed)") {
		t.Errorf("the detail page does not give the skew:\n%s", detail)
	}
}
