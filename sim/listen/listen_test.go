package listen_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/listen"
	"github.com/hooklab/hooklab/sim/record"
)

// entries collects a Receiver's entries.
type entries struct {
	mu sync.Mutex
	es []listen.Entry
}

func (c *entries) add(e listen.Entry) {
	c.mu.Lock()
	c.es = append(c.es, e)
	c.mu.Unlock()
}

func (c *entries) all() []listen.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]listen.Entry(nil), c.es...)
}

// start serves a Receiver built with opts and returns its URL and entries.
func start(t *testing.T, opts ...listen.Option) (string, *entries) {
	t.Helper()
	got := &entries{}
	rcv, err := listen.New(append(opts, listen.OnEntry(got.add))...)
	require.NoError(t, err, "New")
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	return srv.URL, got
}

// post sends a payload's exact bytes to base plus the payload's path.
func post(t *testing.T, base string, p signer.Payload) (*http.Response, []byte) {
	t.Helper()
	target := base
	if i := strings.Index(p.URL, "://"); i >= 0 {
		rest := p.URL[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			target += rest[j:]
		}
	}
	method := p.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(p.Body))
	require.NoError(t, err)
	req.Header = p.Header.Clone()
	resp, err := plainClient.Do(req)
	require.NoError(t, err, "%s %s", method, target)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// plainClient adds no Accept-Encoding, so that what a test sends is all
// that arrives.
var plainClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func boolPtr(b bool) *bool { return &b }

// TestVerifyReportsVerifiedOrWhyNot: a Receiver given a preset and secret
// says whether each request verified, on its own clock, and why not.
func TestVerifyReportsVerifiedOrWhyNot(t *testing.T) {
	p, keys := signed(t, "stripe/invoice.paid")
	tests := []struct {
		name       string
		keys       signer.KeySet
		now        time.Time
		edit       func(p *signer.Payload)
		wantOK     bool
		wantReason string
	}{
		{"Valid", keys, fixedNow, nil, true, ""},
		{"StaleAfterTenMinutes", keys, fixedNow.Add(10 * time.Minute), nil, false, "stripe: Stripe-Signature: timestamp too old"},
		{"WrongSecret", signer.Keys("whsec_other"), fixedNow, nil, false, "stripe: Stripe-Signature: no matching signature"},
		{"BodyChanged", keys, fixedNow, func(p *signer.Payload) { p.Body = append(bytes.Clone(p.Body), ' ') }, false, "no matching signature"},
		{"NoSignature", keys, fixedNow, func(p *signer.Payload) { p.Header = p.Header.Clone(); p.Header.Del("Stripe-Signature") }, false, "stripe: Stripe-Signature: missing header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			url, got := start(t, listen.Verify(signer.Stripe(), tt.keys), listen.Now(func() time.Time { return now }))
			q := p
			if tt.edit != nil {
				tt.edit(&q)
			}
			resp, _ := post(t, url, q)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "status")
			es := got.all()
			require.Len(t, es, 1)
			e := es[0]
			assert.Equal(t, boolPtr(tt.wantOK), e.Verified, "Verified")
			assert.Contains(t, e.Reason, tt.wantReason, "Reason")
			assert.Equal(t, "stripe", e.Preset)
			assert.Equal(t, "invoice.paid", e.Event)
			assert.Equal(t, "/webhooks/stripe", e.Target)
			assert.NotContains(t, e.Reason, "whsec_", "a reason quotes a secret")
		})
	}
}

// TestWithoutSecretNothingIsVerified: without keys, Verified stays nil
// and the provider is guessed.
func TestWithoutSecretNothingIsVerified(t *testing.T) {
	p, _ := signed(t, "github/push")
	url, got := start(t)
	post(t, url, p)
	e := got.all()[0]
	assert.Nil(t, e.Verified)
	assert.Equal(t, "github", e.Guess.Provider)
	assert.Equal(t, "push", e.Event)
}

// TestRespondFailsOnPurposeDeterministically: faults answer with their
// probability, the same sequence for the same seed, and a failed request
// is not forwarded.
func TestRespondFailsOnPurposeDeterministically(t *testing.T) {
	forwarded := 0
	var mu sync.Mutex
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		forwarded++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer app.Close()
	run := func(seed int64) []int {
		url, _ := start(t, listen.Respond(listen.Fault{Status: 503, Probability: 0.3}, listen.Fault{Status: 429, Probability: 0.2}),
			listen.Seed(seed), listen.Forward(app.URL))
		var statuses []int
		for range 40 {
			resp, _ := post(t, url, signer.Payload{URL: "http://x/hook", Body: []byte("{}")})
			statuses = append(statuses, resp.StatusCode)
		}
		return statuses
	}
	a, b, c := run(7), run(7), run(8)
	assert.Equal(t, a, b, "the same seed gives the same answers")
	assert.NotEqual(t, a, c, "another seed gives other answers")
	count := map[int]int{}
	for _, s := range a {
		count[s]++
	}
	assert.Equal(t, 40, count[503]+count[429]+count[202], "answers %v", count)
	assert.Positive(t, count[503], "503s")
	assert.Positive(t, count[429], "429s")
	assert.Positive(t, count[202], "forwarded")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 3*40-(count[503]+count[429])-(countNot202(b))-(countNot202(c)), forwarded, "requests forwarded: only those not failed on purpose")
}

func countNot202(s []int) int {
	n := 0
	for _, x := range s {
		if x != http.StatusAccepted {
			n++
		}
	}
	return n
}

func TestRespondWithProbabilityOneAlwaysFails(t *testing.T) {
	url, got := start(t, listen.Respond(listen.Fault{Status: 500, Probability: 1}))
	for range 5 {
		resp, body := post(t, url, signer.Payload{URL: "http://x/", Body: []byte("x")})
		assert.Equal(t, 500, resp.StatusCode)
		assert.Contains(t, string(body), "failure on purpose")
	}
	for _, e := range got.all() {
		assert.True(t, e.Injected, "entry %d Injected", e.Seq)
	}
}

// TestForwardSendsTheExactBytes: the app gets the body and the signature
// headers unchanged, and the path; hop-by-hop headers are dropped; the
// sender gets the app's answer.
func TestForwardSendsTheExactBytes(t *testing.T) {
	p, keys := signed(t, "stripe/checkout.session.completed")
	p.Header.Set("Connection", "X-Hop")
	p.Header.Set("X-Hop", "drop me")
	p.Header.Set("Keep-Alive", "timeout=5")
	type seen struct {
		target string
		header http.Header
		body   []byte
	}
	got := make(chan seen, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.RequestURI, r.Header.Clone(), b}
		// The app verifies, as a real receiver would.
		if err := signer.Verify(signer.Stripe(), keys, signer.Payload{Header: r.Header, Body: b}, signer.At(fixedNow)); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-App", "yes")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"received":true}`)
	}))
	defer app.Close()
	url, entries := start(t, listen.Forward(app.URL))
	resp, body := post(t, url, p)

	s := <-got
	assert.Equal(t, p.Body, s.body, "body bytes forwarded")
	assert.Equal(t, p.Header.Get("Stripe-Signature"), s.header.Get("Stripe-Signature"), "signature header forwarded")
	assert.Equal(t, p.Header.Get("Content-Type"), s.header.Get("Content-Type"))
	assert.Equal(t, "/webhooks/stripe", s.target, "path kept")
	assert.Empty(t, s.header.Get("X-Hop"), "a header Connection names is dropped")
	assert.Empty(t, s.header.Get("Keep-Alive"), "Keep-Alive is dropped")
	assert.Empty(t, s.header.Get("Accept-Encoding"), "nothing added")

	assert.Equal(t, http.StatusCreated, resp.StatusCode, "the app's status")
	assert.Equal(t, `{"received":true}`, string(body), "the app's body")
	assert.Equal(t, "yes", resp.Header.Get("X-App"), "the app's headers")
	e := entries.all()[0]
	require.NotNil(t, e.Forward)
	assert.Equal(t, 201, e.Forward.Status)
	assert.Equal(t, app.URL+"/webhooks/stripe", e.Forward.URL)
	assert.Empty(t, e.Forward.Error)
}

// TestForwardToAPathReplacesTheRequestPath, and adds no User-Agent when
// the sender sent none.
func TestForwardToAPathReplacesTheRequestPath(t *testing.T) {
	got := make(chan *http.Request, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r }))
	defer app.Close()
	url, _ := start(t, listen.Forward(app.URL+"/api/hook"))
	post(t, url, signer.Payload{URL: "http://x/anything?a=1", Header: http.Header{"User-Agent": {""}}, Body: []byte("{}")})
	r := <-got
	assert.Equal(t, "/api/hook?a=1", r.RequestURI)
	assert.NotContains(t, r.Header, "User-Agent", "a User-Agent was added")
}

// TestForwardToASlowAppTimesOut: the sender gets 504 and the entry says
// why, instead of the Receiver waiting for ever.
func TestForwardToASlowAppTimesOut(t *testing.T) {
	release := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer app.Close()
	defer close(release)
	url, got := start(t, listen.Forward(app.URL), listen.ForwardTimeout(50*time.Millisecond))
	resp, body := post(t, url, signer.Payload{URL: "http://x/", Body: []byte("{}")})
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode, "%s", body)
	e := got.all()[0]
	require.NotNil(t, e.Forward)
	assert.Contains(t, e.Forward.Error, "no answer within 50ms")
}

func TestForwardToNothingIs502(t *testing.T) {
	app := httptest.NewServer(http.NotFoundHandler())
	dead := app.URL
	app.Close()
	url, got := start(t, listen.Forward(dead))
	resp, _ := post(t, url, signer.Payload{URL: "http://x/", Body: []byte("{}")})
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Contains(t, got.all()[0].Forward.Error, "refused")
}

// TestRecordThenReadBack: what was sent is what record reads back, with
// the sidecar saying what the Receiver learnt.
func TestRecordThenReadBack(t *testing.T) {
	p, keys := signed(t, "stripe/invoice.paid")
	dir := t.TempDir()
	w, err := record.NewWriter(dir)
	require.NoError(t, err)
	url, got := start(t, listen.Record(w), listen.Verify(signer.Stripe(), keys), listen.Now(func() time.Time { return fixedNow }))
	post(t, url, p)
	recs, err := record.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, p.Body, r.Body, "body")
	assert.Equal(t, p.Header.Get("Stripe-Signature"), r.Header.Get("Stripe-Signature"), "signature")
	assert.Equal(t, "/webhooks/stripe", r.Meta.Target)
	assert.Equal(t, "stripe", r.Meta.Provider)
	assert.Equal(t, "invoice.paid", r.Meta.Event)
	assert.Equal(t, boolPtr(true), r.Meta.Verified)
	assert.Equal(t, 200, r.Meta.Status)
	assert.Equal(t, fixedNow, r.Meta.ReceivedAt.UTC())
	assert.Equal(t, r.Path, got.all()[0].Recorded)
	// And the recording still verifies: it is the request as sent.
	req, err := r.Request("http://127.0.0.1:1")
	require.NoError(t, err)
	assert.NoError(t, signer.VerifyRequest(req, signer.Stripe(), keys, signer.At(fixedNow)))
}

// TestHugeBodyIs413: a body over MaxBody is refused, by its
// Content-Length or as it streams, and nothing is recorded.
func TestHugeBodyIs413(t *testing.T) {
	dir := t.TempDir()
	w, _ := record.NewWriter(dir)
	url, got := start(t, listen.MaxBody(1024), listen.Record(w))
	resp, _ := post(t, url, signer.Payload{URL: "http://x/", Body: bytes.Repeat([]byte("a"), 4096)})
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	// Chunked: no Content-Length, the limit bites while reading.
	req, _ := http.NewRequest("POST", url, io.MultiReader(strings.NewReader(strings.Repeat("b", 2048))))
	req.ContentLength = -1
	resp2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp2.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp2.StatusCode)
	for _, e := range got.all() {
		assert.True(t, e.TooLarge)
		assert.Empty(t, e.Recorded)
	}
	_, err = record.ReadDir(dir)
	assert.ErrorIs(t, err, record.ErrEmpty)
}

// TestTextLineEscapesHostileInput: control characters in the path and
// headers never reach the output raw, and each request is one line.
func TestTextLineEscapesHostileInput(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	url, _ := start(t, listen.Output(lockedWriter{&mu, &out}, listen.Text))
	// net/http refuses to send a control character in a header, and its
	// server refuses to receive one; a C1 control and a byte that is not
	// UTF-8 get through. Written by hand.
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	body := `{"type":"x\u001b[2J\n"}`
	fmt.Fprintf(conn, "POST /a%%0d%%0a12:00:00.000%%20POST%%20/forged%%1b[31m HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\xc2\x85\xff\r\n"+
		"X-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	// An event type from the body, with an escape sequence and a newline.
	post(t, url, signer.Payload{URL: "http://x/p", Body: []byte(`{"type":"evil\u001b[2J\r\n"}`)})
	mu.Lock()
	s := out.String()
	mu.Unlock()
	assert.Equal(t, 2, strings.Count(s, "\n"), "one line each:\n%s", s)
	assert.Contains(t, s, `event="evil\x1b[2J\r\n"`)
	assert.NotContains(t, s, "\x1b", "an escape character reached the output")
	assert.NotContains(t, s, "\r")
	assert.NotContains(t, s, "\u0085", "a C1 control reached the output")
	assert.Contains(t, s, `provider=github event="push\u0085\xff"`, "escaped, not dropped")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestJSONLinesAreEntries: --json writes one Entry per line, without
// headers (which may carry a token).
func TestJSONLinesAreEntries(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	p, _ := signed(t, "gitlab/push")
	url, _ := start(t, listen.Output(lockedWriter{&mu, &out}, listen.JSONLines))
	post(t, url, p)
	post(t, url, p)
	mu.Lock()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	mu.Unlock()
	require.Len(t, lines, 2)
	for i, l := range lines {
		var e listen.Entry
		require.NoError(t, json.Unmarshal([]byte(l), &e), "line %d", i)
		assert.Equal(t, "gitlab", e.Guess.Provider)
		assert.Equal(t, "push", e.Event)
		assert.Equal(t, 200, e.Status)
		assert.NotContains(t, l, "test_secret", "the GitLab token (the secret itself) is printed")
	}
}

// TestReceiverIsASinkForServe: a trigger of the reference ingress that
// delivers to a Receiver shows up as a delivery of the original event.
func TestReceiverIsASinkForServe(t *testing.T) {
	url, got := start(t)
	spec := sim.EndpointSpec{
		ID:       "gh",
		Verify:   &sim.VerifySpec{Preset: "github", Secrets: []signer.Secret{signer.NewSecret("test_secret")}},
		Triggers: []sim.TriggerSpec{{ID: "all", Deliver: url + "/deliveries"}},
	}
	in, err := sim.NewIngress(sim.Config{Now: func() time.Time { return fixedNow }}, spec)
	require.NoError(t, err)
	defer in.Close()
	srv := httptest.NewServer(sim.Handler(in))
	defer srv.Close()
	p, _ := signed(t, "github/issues")
	resp, body := post(t, srv.URL+"/hooks/gh", signer.Payload{Method: "POST", URL: "http://x", Header: p.Header, Body: p.Body})
	require.Equal(t, 200, resp.StatusCode, "%s", body)
	require.NoError(t, in.Flush(t.Context()))
	es := got.all()
	require.Len(t, es, 1)
	e := es[0]
	require.NotNil(t, e.Delivery, "entry %+v", e)
	assert.Equal(t, "gh", e.Delivery.Endpoint)
	assert.Equal(t, "all", e.Delivery.Trigger)
	assert.NotEmpty(t, e.Delivery.ID)
	assert.Equal(t, "github", e.Guess.Provider)
	assert.Equal(t, "issues", e.Event)
	assert.Equal(t, boolPtr(true), e.Verified)
	var line bytes.Buffer
	require.NoError(t, e.WriteText(&line))
	assert.Contains(t, line.String(), "POST /deliveries delivery=gh/all provider=github event=issues verified=yes id=")
}

func TestStatsSummary(t *testing.T) {
	tests := []struct {
		s    listen.Stats
		want string
	}{
		{listen.Stats{}, "0 requests"},
		{listen.Stats{Requests: 1}, "1 request"},
		{listen.Stats{Requests: 3, Verified: 2, NotVerified: 1, Injected: 1, Recorded: 3}, "3 requests: 2 verified, 1 not verified; 1 failed on purpose; 3 recorded"},
		{listen.Stats{Requests: 2, Deliveries: 2, Forwarded: 1, ForwardErrors: 1}, "2 requests: 2 deliveries; 1 forwarded, 1 forward errors"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.s.Summary(), "%+v", tt.s)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  listen.Option
		want string
	}{
		{"ForwardNotHTTP", listen.Forward("ftp://x"), "forward URL"},
		{"ForwardNoHost", listen.Forward("http://"), "forward URL"},
		{"MaxBodyZero", listen.MaxBody(0), "MaxBody"},
		{"BadKey", listen.Verify(signer.Discord(), signer.Keys("not-hex")), "invalid key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := listen.New(tt.opt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestRecordDoesNotNameThePresetForAnotherProvider: a Clerk request
// received by a Receiver verifying GitHub is not recorded as GitHub's.
func TestRecordDoesNotNameThePresetForAnotherProvider(t *testing.T) {
	p, _ := signed(t, "clerk/user.created")
	dir := t.TempDir()
	w, err := record.NewWriter(dir)
	require.NoError(t, err)
	url, got := start(t, listen.Record(w), listen.Verify(signer.GitHub(), signer.Keys("s")))
	post(t, url, p)
	recs, err := record.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, recs[0].Meta.Provider, "Meta.Provider")
	assert.Contains(t, recs[0].Meta.Note, "provider guessed: svix family")
	assert.Equal(t, "user.created", recs[0].Meta.Event)
	assert.Equal(t, "user.created", got.all()[0].Event, "the event by the guess when the preset finds none")
}
