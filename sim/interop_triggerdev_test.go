package sim_test

// The triggerdev-v2 differential test: interop/triggerdev-ingress.mjs
// (Trigger.dev v2's published SDK and core 2.3.19, with the platform's
// request flow and dispatcher matching rebuilt from its source) and the Go
// reference with Profile TriggerDevV2, both behind the control protocol,
// get the same requests: every request of every conformance case, through
// a forking proxy, and a seeded series of random ones. Their answers
// (status, body, Content-Type, Location) and their deliveries must be
// identical. Only what must differ is normalised: each side's host:port
// (in URLs, the host header and bodies), and each delivery's id and
// timestamps.
//
// The test skips when node or interop/node_modules is missing (install with
// npm ci --prefix interop), and fails instead when CI is set.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// tdRandomRequests is how many random requests the differential sends.
const tdRandomRequests = 600

// tdChunked is a header of the random series that asks sendOne to send the
// body chunked; it is not sent.
const tdChunked = "X-Td-Send-Chunked"

// tdHost is a header of the random series that sendOne sends as the Host
// header instead of the side's host:port; it is not sent.
const tdHost = "X-Td-Host"

func TestTriggerDevV2MatchesTheRealPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node and runs the conformance suite through both implementations; not in -short")
	}
	f := newTDFork(t, sim.Config{Profile: sim.TriggerDevV2})
	seed := uint64(20261205)
	if s := os.Getenv("HOOKLAB_TD_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("HOOKLAB_TD_SEED=%q: %v", s, err)
		}
	}
	t.Logf("random requests: seed %d (HOOKLAB_TD_SEED=<n> picks another)", seed)
	st := f.run(t, "", seed, tdRandomRequests)
	t.Logf("conformance: %d cases, %d skipped (%s)", st.cases, len(st.skipped), strings.Join(st.skipped, ", "))
	t.Logf("differential: %d conformance cases, %d case requests, %d random requests, %d deliveries each side, %d differences",
		st.cases, st.caseRequests, st.randomRequests, st.deliveries, len(f.diffs))
	for i, d := range f.diffs {
		if i == 30 {
			t.Errorf("… and %d more differences", len(f.diffs)-30)
			break
		}
		t.Error(d)
	}
	if st.randomRequests < 500 {
		t.Errorf("random requests sent = %d, want at least 500", st.randomRequests)
	}
}

// TestTriggerDevV2FaultsAreCaught builds the Go side with each fault of the
// profile in turn: the differential must find at least one difference.
func TestTriggerDevV2FaultsAreCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node once per fault; not in -short")
	}
	fs := fault.Of(sim.TriggerDevV2)
	if len(fs) < 5 {
		t.Errorf("faults of %s = %d, want at least 5", sim.TriggerDevV2, len(fs))
	}
	for _, flt := range fs {
		t.Run(flt.Name, func(t *testing.T) {
			cfg, err := fault.With(sim.Config{Profile: sim.TriggerDevV2}, flt)
			if err != nil {
				t.Fatalf("fault.With(%s) = %v", flt.Name, err)
			}
			f := newTDFork(t, cfg)
			// The random series catches all but body-limit, which needs
			// the Robustness cases' bodies over maxBody.
			st := f.run(t, "^Robustness/", 20261205, 300)
			if len(f.diffs) == 0 {
				t.Errorf("differential with fault %s (%s) = 0 differences over %d requests, want at least 1",
					flt.Name, flt.Doc, st.caseRequests+st.randomRequests)
				return
			}
			t.Logf("%d differences; the first: %s", len(f.diffs), f.diffs[0])
		})
	}
}

// tdStats counts what one differential run sent.
type tdStats struct {
	cases, caseRequests, randomRequests, deliveries int
	skipped                                         []string
}

// run sends the requests of the conformance cases that cases selects
// ("" for all) and n random ones (from seed) to both sides, then compares
// the deliveries.
func (f *tdFork) run(t *testing.T, cases string, seed uint64, n int) tdStats {
	var st tdStats
	opts := []conformance.Option{conformance.DeliveryWait(20 * time.Millisecond), conformance.Settle(0)}
	if cases != "" {
		opts = append(opts, conformance.Select(cases))
	}
	rep, _ := conformance.Check(t.Context(), f.target(), opts...)
	st.cases = len(rep.Cases)
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusSkip {
			st.skipped = append(st.skipped, c.Case.ID())
		}
	}
	st.caseRequests = f.requests()
	f.random(t, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), n)
	st.randomRequests = f.requests() - st.caseRequests
	st.deliveries = f.compareDeliveries(t)
	return st
}

// tdSide is one implementation: its control base URL and its sink.
type tdSide struct {
	name string
	base string // http://127.0.0.1:port
	sink *sim.Sink
}

// tdFork sends each request to both sides.
type tdFork struct {
	node, ref tdSide
	proxy     *sim.Server
	client    *http.Client

	mu     sync.Mutex
	diffs  []string
	nsent  int
	labels map[string]string // request id → what it was, for reports
}

// newTDFork starts the adapter and a Go reference built from cfg (the
// triggerdev-v2 profile, perhaps with faults) and a proxy in front of both.
func newTDFork(t *testing.T, cfg sim.Config) *tdFork {
	dir := tdInteropDir(t)
	f := &tdFork{client: &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, labels: map[string]string{}}

	// The adapter.
	base := startTDAdapter(t, dir)
	f.node = tdSide{name: "node", base: base, sink: tdNewSink(t)}

	// The Go reference.
	in, err := sim.NewIngress(cfg)
	if err != nil {
		t.Fatalf("sim.NewIngress(triggerdev-v2) = %v", err)
	}
	srv, err := sim.NewServer("", sim.ControlHandler(in, ""))
	if err != nil {
		t.Fatalf("sim.NewServer = %v", err)
	}
	t.Cleanup(func() { srv.Close(); in.Close() })
	f.ref = tdSide{name: "go", base: srv.URL, sink: tdNewSink(t)}

	f.proxy, err = sim.NewServer("", http.HandlerFunc(f.serveProxy))
	if err != nil {
		t.Fatalf("sim.NewServer(proxy) = %v", err)
	}
	t.Cleanup(func() { f.proxy.Close() })
	return f
}

func tdNewSink(t *testing.T) *sim.Sink {
	s, err := sim.NewSink("")
	if err != nil {
		t.Fatalf("sim.NewSink = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (f *tdFork) diff(format string, args ...any) {
	f.mu.Lock()
	f.diffs = append(f.diffs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *tdFork) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nsent
}

// provision creates spec on both sides, each delivering to its own sink;
// errNotApplicable when the adapter declines it (501).
func (f *tdFork) provision(ctx context.Context, spec sim.EndpointSpec) (func() error, error) {
	var status [2]int
	var bodies [2]string
	for i, s := range []tdSide{f.node, f.ref} {
		sp := spec
		sp.Triggers = append([]sim.TriggerSpec(nil), spec.Triggers...)
		for j := range sp.Triggers {
			sp.Triggers[j].Deliver = s.sink.URL + "/" + s.name
		}
		b, err := json.Marshal(sp)
		if err != nil {
			return nil, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+sim.ControlPath, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := f.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: POST /endpoints: %w", s.name, err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status[i], bodies[i] = resp.StatusCode, string(rb)
	}
	del := func() error {
		var errs []error
		for _, s := range []tdSide{f.node, f.ref} {
			req, _ := http.NewRequest(http.MethodDelete, s.base+sim.ControlPath+"/"+spec.ID, nil)
			resp, err := f.client.Do(req)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			resp.Body.Close()
		}
		return errors.Join(errs...)
	}
	switch {
	case status[0] == http.StatusNotImplemented:
		if status[1] == http.StatusCreated {
			del()
		}
		return nil, &conformance.NotApplicableError{Reason: "the adapter declines: " + bodies[0]}
	case status[0] != status[1]:
		f.diff("POST /endpoints %s: node %d %s, go %d %s", spec.ID, status[0], bodies[0], status[1], bodies[1])
		del()
		return nil, fmt.Errorf("the sides disagree on the spec: node %d, go %d", status[0], status[1])
	case status[0] != http.StatusCreated:
		return nil, fmt.Errorf("POST /endpoints = %d %s", status[0], bodies[0])
	}
	return del, nil
}

// target is a conformance.Target whose endpoints are the proxy's.
func (f *tdFork) target() conformance.Target {
	return conformance.TargetFunc(func(ctx context.Context, spec sim.EndpointSpec) (conformance.Endpoint, error) {
		del, err := f.provision(ctx, spec)
		if err != nil {
			return conformance.Endpoint{}, err
		}
		return conformance.Endpoint{URL: f.proxy.URL + sim.PathPrefix + spec.ID, Close: del}, nil
	})
}

// serveProxy forwards a conformance request to both sides and answers with
// the adapter's answer.
func (f *tdFork) serveProxy(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	label := r.Method + " " + r.RequestURI + " (conformance " + r.Header.Get(sim.RequestIDHeader) + ")"
	a := f.send(label, r.Method, r.RequestURI, r.Header, body)
	if a == nil {
		http.Error(w, "the adapter did not answer", http.StatusBadGateway)
		return
	}
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// tdAnswer is one side's answer, normalised.
type tdAnswer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (a *tdAnswer) String() string {
	if a.err != nil {
		return "error " + a.err.Error()
	}
	return fmt.Sprintf("%d content-type=%q location=%q body=%q", a.status, a.header.Get("Content-Type"), a.header.Get("Location"), a.body)
}

// send sends one request (target is the path and query) to both sides,
// records any difference in the answers, and returns the adapter's.
func (f *tdFork) send(label, method, target string, header http.Header, body []byte) *tdAnswer {
	f.mu.Lock()
	f.nsent++
	f.labels[header.Get(sim.RequestIDHeader)] = label
	f.mu.Unlock()
	var ans [2]*tdAnswer
	var wg sync.WaitGroup
	for i, s := range []tdSide{f.node, f.ref} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ans[i] = f.sendOne(s, method, target, header, body)
		}()
	}
	wg.Wait()
	n, g := ans[0], ans[1]
	if n.err != nil || g.err != nil || n.status != g.status || !bytes.Equal(n.body, g.body) ||
		n.header.Get("Content-Type") != g.header.Get("Content-Type") || n.header.Get("Location") != g.header.Get("Location") {
		f.diff("%s: answer: node %v, go %v", label, n, g)
	}
	return n
}

func (f *tdFork) sendOne(s tdSide, method, target string, header http.Header, body []byte) *tdAnswer {
	var rb io.Reader
	if len(body) > 0 {
		rb = bytes.NewReader(body)
	}
	chunked := header.Get(tdChunked) != ""
	if chunked && rb != nil {
		rb = io.MultiReader(rb) // no length: Transfer-Encoding: chunked
	}
	req, err := http.NewRequest(method, s.base+target, rb)
	if err != nil {
		return &tdAnswer{err: err}
	}
	for k, vs := range header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Del("Content-Length")
	req.Header.Del(tdChunked)
	if host := header.Get(tdHost); host != "" {
		req.Host = host
		req.Header.Del(tdHost)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return &tdAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return &tdAnswer{err: err}
	}
	host := strings.TrimPrefix(s.base, "http://")
	a := &tdAnswer{status: resp.StatusCode, header: resp.Header, body: bytes.ReplaceAll(b, []byte(host), []byte("HOST"))}
	return a
}

// compareDeliveries waits until both sinks are quiet, then compares the
// deliveries of each request; it returns how many each side made.
func (f *tdFork) compareDeliveries(t *testing.T) int {
	// Quiet means no new delivery for 5 polls when both sides have as many,
	// for 30 polls (3 s) when they differ, in case one side lags.
	quiet := 0
	last := [2]int{-1, -1}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		cur := [2]int{f.node.sink.Len(), f.ref.sink.Len()}
		if cur == last {
			quiet++
		} else {
			quiet = 0
		}
		last = cur
		if quiet >= 5 && cur[0] == cur[1] || quiet >= 30 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	group := func(s tdSide) map[string][]string {
		host := strings.TrimPrefix(s.base, "http://")
		m := map[string][]string{}
		for _, d := range s.sink.Deliveries() {
			m[d.RequestID()] = append(m[d.RequestID()], tdNormal(d, host))
		}
		for _, ds := range m {
			sort.Strings(ds)
		}
		return m
	}
	n, g := group(f.node), group(f.ref)
	ids := map[string]bool{}
	for id := range n {
		ids[id] = true
	}
	for id := range g {
		ids[id] = true
	}
	for id := range ids {
		if !reflect.DeepEqual(n[id], g[id]) {
			f.diff("%s: deliveries:\n\tnode %s\n\tgo   %s", f.labels[id], strings.Join(n[id], "\n\t     "), strings.Join(g[id], "\n\t     "))
		}
	}
	return last[0]
}

// tdNormal is a delivery as compared: without its id and timestamps, and
// with the side's host:port replaced by HOST.
func tdNormal(d sim.Delivery, host string) string {
	d.ReceivedAt, d.DeliveredAt, d.RecordedAt = time.Time{}, time.Time{}, time.Time{}
	d.Request.URL = strings.Replace(d.Request.URL, host, "HOST", 1)
	hs := map[string][]string{}
	for k, vs := range d.Request.Header {
		var out []string
		for _, v := range vs {
			out = append(out, strings.ReplaceAll(v, host, "HOST"))
		}
		hs[k] = out
	}
	d.Request.Header = hs
	b, _ := json.Marshal(struct {
		Endpoint, Trigger string
		Request           sim.DeliveredRequest
		Verification      sim.Verification
	}{d.Endpoint, d.Trigger, d.Request, d.Verification})
	return string(b)
}

// tdInteropDir returns the interop/ directory next to sim/, skipping the
// test (or failing it when CI is set) if Node or its packages are missing.
func tdInteropDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "interop"))
	if err != nil {
		t.Fatalf("filepath.Abs(../interop): %v", err)
	}
	unavailable := func(why string) {
		t.Helper()
		msg := why + "; install the Node packages with `npm ci --prefix interop` from the repository root (Node 20+)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so a missing interop environment is a failure)")
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@trigger.dev", "sdk")); err != nil {
		unavailable(filepath.Join(dir, "node_modules", "@trigger.dev", "sdk") + " is missing")
	}
	return dir
}

// tdNodeEnv is the environment for Node: a fixed locale for localeCompare
// and no warnings on stderr.
func tdNodeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANGUAGE=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=en_US.UTF-8", "NODE_NO_WARNINGS=1")
}

// ---------------------------------------------------------------- random

// tdScheme is a verify preset the adapter supports: its header, encoding
// and the prefix its provider writes.
type tdScheme struct {
	preset, header, prefix string
	encoding               signer.Encoding
}

var tdSchemes = []tdScheme{
	{"github", "X-Hub-Signature-256", "sha256=", signer.Hex},
	{"shopify", "X-Shopify-Hmac-Sha256", "", signer.Base64},
	{"caldotcom", "X-Cal-Signature-256", "", signer.Hex},
	{"typeform", "Typeform-Signature", "sha256=", signer.Base64},
}

// tdEndpoint is a random endpoint of the random series.
type tdEndpoint struct {
	id      string
	scheme  *tdScheme
	secrets []string
}

var tdTriggerFilters = []string{
	``, `{}`, `{"method":["POST"]}`, `{"method":["GET","PUT"]}`, `{"method":[]}`,
	`{"body":{"action":["opened"]}}`, `{"body":{"action":[{"$startsWith":"op"}],"n":[{"$gt":1}]}}`,
	`{"headers":{"x-event":["push"]}}`, `{"headers":{"content-type":[{"$endsWith":""}]}}`,
	`{"headers":{"content-type":["application/json"]}}`, `{"query":{"a":["1"]}}`, `{"query":{}}`,
	`{"body":{"list":[{"$includes":2}]}}`, `{"body":{"obj":{"k":["v"]}}}`, `{"body":{"missing":[{"$exists":false}]}}`,
	`{"headers":{"x-event":[{"$ignoreCaseEquals":"PUSH"}]},"body":{}}`,
}

var tdRespondFilters = []string{
	`{"headers":{"x-event":["ping"]}}`, `{"method":["GET"]}`, `{"query":{"hub.mode":["subscribe"]}}`,
	`{"body":{"type":["url_verification"]}}`, `{}`, `{"method":["HEAD","DELETE"]}`,
}

var tdTemplates = []string{
	`pong`, ``, `{{query "hub.challenge"}}`, `{{body "challenge"}}`, `{{json (body "challenge")}}`,
	`{"q":{{json (query "q")}},"raw":{{json rawBody}},"m":{{json method}}}`, `{{hmac "sha256" (body "token")}}`,
	`{{header "X-Event"}}|{{header "x-forwarded-proto"}}`, `{{body "obj"}} {{body "n"}} {{body "list.1"}}`, `{{rawBody}}`,
}

func (f *tdFork) random(t *testing.T, r *rand.Rand, n int) {
	var eps []tdEndpoint
	for i := range 14 {
		spec := sim.EndpointSpec{ID: fmt.Sprintf("random-%d", i), Source: "example.com"}
		ep := tdEndpoint{id: spec.ID}
		if r.IntN(4) != 0 {
			sc := tdSchemes[r.IntN(len(tdSchemes))]
			ep.scheme = &sc
			ep.secrets = []string{fmt.Sprintf("secret-%d-%x", i, r.Uint32())}
			if r.IntN(3) == 0 {
				ep.secrets = append(ep.secrets, fmt.Sprintf("old-%d-%x", i, r.Uint32()))
			}
			spec.Verify = &sim.VerifySpec{Preset: sc.preset, Secrets: signer.Keys(ep.secrets...)}
		}
		if r.IntN(2) == 0 {
			rw := &sim.RespondWithSpec{
				Filter:         json.RawMessage(tdRespondFilters[r.IntN(len(tdRespondFilters))]),
				SkipTriggering: r.IntN(2) == 0,
				Response:       sim.ResponseSpec{Status: []int{0, 200, 202, 204, 400, 101, 500, 302}[r.IntN(8)], Body: tdTemplates[r.IntN(len(tdTemplates))]},
			}
			if r.IntN(2) == 0 {
				rw.Response.Headers = map[string]string{"Content-Type": []string{"text/plain", "application/json", " x/y "}[r.IntN(3)]}
			}
			if r.IntN(3) == 0 {
				if rw.Response.Headers == nil {
					rw.Response.Headers = map[string]string{}
				}
				rw.Response.Headers["X-Echo"] = tdTemplates[r.IntN(len(tdTemplates))]
			}
			if r.IntN(5) == 0 {
				if rw.Response.Headers == nil {
					rw.Response.Headers = map[string]string{}
				}
				rw.Response.Headers[[]string{"content-type", "x-echo", "X Bad"}[r.IntN(3)]] = "second {{method}}"
			}
			spec.RespondWith = rw
		}
		for j := range 1 + r.IntN(4) {
			tr := sim.TriggerSpec{ID: fmt.Sprintf("t%d", j)}
			if fl := tdTriggerFilters[r.IntN(len(tdTriggerFilters))]; fl != "" {
				tr.Filter = json.RawMessage(fl)
			}
			spec.Triggers = append(spec.Triggers, tr)
		}
		del, err := f.provision(t.Context(), spec)
		if err != nil {
			t.Logf("random endpoint %s: %v", spec.ID, err)
			continue
		}
		t.Cleanup(func() { del() })
		eps = append(eps, ep)
	}
	if len(eps) == 0 {
		t.Fatal("no random endpoint could be provisioned")
	}
	for i := range n {
		ep := eps[r.IntN(len(eps))]
		method, target, header, body, label := tdRandomRequest(r, ep)
		header.Set(sim.RequestIDHeader, fmt.Sprintf("random-%d", i))
		f.send(fmt.Sprintf("random #%d %s %s (%s)", i, method, target, label), method, target, header, body)
	}
}

var tdBodies = []string{
	`{"action":"opened","n":2,"list":[1,2,3],"obj":{"k":"v"},"challenge":"c<h>&1","token":"tok","type":"url_verification"}`,
	`{"action":"closed","n":1.50,"list":[],"obj":{"k":"w","z":[1, {"a":null}]},"challenge":12,"type":"event"}`,
	`{"action":"opened","action":"reopened","n":1e400,"challenge":"dup"}`,
	`{"action":`, ``, `-1`, `null`, `"text"`, `[1,2]`, "\xef\xbb\xbf{\"action\":\"opened\"}",
	"{\"action\":\"op\xffen\",\"challenge\":\"\xc3\x28\"}", "\xff\xfe\x00a", `a=1&b=2`, `<xml/>`,
	"{\"challenge\":\"\\u00e9\\n\\u2028\",\"obj\":{ \"k\" : \"v\" },\"n\":-0}",
	`{"challenge":"\ud83d\ude00 \ud800x \udc00\ud800 \/","token":"a\"b"}`,
}

var tdContentTypes = []string{
	"", "application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json",
	"text/plain", "application/x-www-form-urlencoded", "text/xml",
}

var tdQueries = []string{
	"", "?", "?a=1", "?a=1&a=2", "?hub.mode=subscribe&hub.challenge=xyz", "?q=%zz+x&q=%41%42", "?q=a;b&hub.challenge=c%20d",
	"?q='\"<>`{}^|", "?hub.mode=subscribe&q=caf%C3%A9", "?q=%ff%c3%28&hub.challenge=%F0%90%80",
}

func tdRandomRequest(r *rand.Rand, ep tdEndpoint) (method, target string, h http.Header, body []byte, label string) {
	method = []string{"POST", "POST", "POST", "PUT", "PATCH", "DELETE", "GET", "HEAD", "OPTIONS"}[r.IntN(9)]
	path := sim.PathPrefix + ep.id
	switch r.IntN(30) {
	case 0:
		path += "/"
	case 1:
		path += "-missing"
	case 2:
		path = "/hooks//" + ep.id + "//"
	case 3:
		path = sim.PathPrefix + strings.Replace(ep.id, "o", "%6F", 1)
	case 4:
		path = "/hooks"
	}
	target = path + tdQueries[r.IntN(len(tdQueries))]
	h = http.Header{}
	body = []byte(tdBodies[r.IntN(len(tdBodies))])
	if ct := tdContentTypes[r.IntN(len(tdContentTypes))]; ct != "" {
		h.Set("Content-Type", ct)
		if r.IntN(10) == 0 {
			h.Add("Content-Type", "text/plain")
		}
	}
	if r.IntN(3) == 0 {
		h.Set("X-Event", []string{"ping", "push", "PUSH"}[r.IntN(3)])
	}
	if r.IntN(8) == 0 {
		h.Set("Idempotency-Key", []string{"k1", "k2", ""}[r.IntN(3)])
	}
	if r.IntN(10) == 0 {
		h.Set("X-Request-Id", []string{"r1", "r2"}[r.IntN(2)])
	}
	if r.IntN(6) == 0 {
		h.Set("X-Forwarded-Proto", []string{"https", "HTTPS", "http", " https "}[r.IntN(4)])
		if r.IntN(4) == 0 {
			h.Add("X-Forwarded-Proto", "https")
		}
	}
	if r.IntN(20) == 0 {
		h.Set(tdHost, []string{"Example.COM:80", "example.com:8443", "EXAMPLE.com"}[r.IntN(3)])
	}
	if r.IntN(10) == 0 {
		h.Add("Cookie", "a=1")
		h.Add("Cookie", "b=2")
	}
	if r.IntN(10) == 0 {
		h.Add("X-Event", "caf\xe9")
		h.Add("User-Agent", "second-agent")
	}
	if r.IntN(10) == 0 {
		h.Set(tdChunked, "1") // sendOne sends the body chunked
	}
	label = fmt.Sprintf("body %q", body)
	if ep.scheme != nil {
		s := ep.scheme
		m := hmac.New(sha256.New, []byte(ep.secrets[len(ep.secrets)-1]))
		m.Write(body)
		sum := m.Sum(nil)
		sig := hex.EncodeToString(sum)
		if s.encoding == signer.Base64 {
			sig = base64.StdEncoding.EncodeToString(sum)
		}
		switch r.IntN(8) {
		case 0: // unsigned
			label += ", unsigned"
		case 1:
			h.Set(s.header, s.prefix+strings.ToUpper(sig))
			label += ", upper-case signature"
		case 2:
			h.Set(s.header, "sha256=0000"+sig[4:])
			label += ", bad signature"
		case 3:
			h.Add(s.header, s.prefix+sig)
			h.Add(s.header, s.prefix+sig)
			label += ", signature twice"
		case 4:
			h.Set(s.header, "hmac-sha256="+sig)
			label += ", hmac-sha256= prefix"
		default:
			h.Set(s.header, s.prefix+sig)
			label += ", signed"
		}
	}
	return method, target, h, body, label
}
