package sim_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim"
)

// controlToken is the control API token of these tests; no answer or log
// line may contain it.
const controlToken = "ctl-TOKEN-do-not-print-9f8e7d"

// startServer serves h on a free loopback port until the test ends.
func startServer(t *testing.T, h http.Handler) *sim.Server {
	t.Helper()
	srv, err := sim.NewServer("", h)
	require.NoError(t, err, "NewServer")
	t.Cleanup(func() { srv.Close() })
	return srv
}

// newTestIngress is an Ingress with no endpoints, closed when the test
// ends.
func newTestIngress(t *testing.T, cfg sim.Config) *sim.Ingress {
	t.Helper()
	in, err := sim.NewIngress(cfg)
	require.NoError(t, err, "NewIngress")
	t.Cleanup(func() { in.Close() })
	return in
}

// do sends method url with body and the given headers ("Name: value"),
// and returns the response with its body read.
func do(t *testing.T, method, url, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		r.Header.Set(name, strings.TrimSpace(value))
	}
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err, "%s %s", method, url)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// TestControlHandlerRequiresToken checks that with a token every control
// request without "Authorization: Bearer <token>" is answered 401 with
// WWW-Authenticate and changes nothing, that the right token is let
// through, that webhooks need no token, and that no answer echoes it.
func TestControlHandlerRequiresToken(t *testing.T) {
	in := newTestIngress(t, sim.Config{})
	srv := startServer(t, sim.ControlHandler(in, controlToken))
	spec := `{"id": "orders", "triggers": [{"id": "all"}]}`

	for _, tc := range []struct {
		name, method, path, auth string
		wantChallenge            string
	}{
		{"PostWithoutAuthorization", "POST", "/endpoints", "", `Bearer realm="hooklab control API"`},
		{"PostWithWrongToken", "POST", "/endpoints", "Bearer wrong", `Bearer realm="hooklab control API", error="invalid_token"`},
		{"PostWithTokenPrefix", "POST", "/endpoints", "Bearer " + controlToken[:10], `Bearer realm="hooklab control API", error="invalid_token"`},
		{"PostWithTokenAndMore", "POST", "/endpoints", "Bearer " + controlToken + "x", `Bearer realm="hooklab control API", error="invalid_token"`},
		{"PostWithBasicAuth", "POST", "/endpoints", "Basic " + controlToken, `Bearer realm="hooklab control API"`},
		{"PostWithBareToken", "POST", "/endpoints", controlToken, `Bearer realm="hooklab control API"`},
		{"ListWithoutAuthorization", "GET", "/endpoints", "", `Bearer realm="hooklab control API"`},
		{"DeleteWithoutAuthorization", "DELETE", "/endpoints/orders", "", `Bearer realm="hooklab control API"`},
		{"UnknownMethodWithoutAuthorization", "PUT", "/endpoints", "", `Bearer realm="hooklab control API"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.auth != "" {
				headers = append(headers, "Authorization: "+tc.auth)
			}
			resp, body := do(t, tc.method, srv.URL+tc.path, spec, headers...)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s (Authorization %q): status; body %s", tc.method, tc.path, tc.auth, body)
			assert.Equal(t, tc.wantChallenge, resp.Header.Get("WWW-Authenticate"), "%s %s: WWW-Authenticate", tc.method, tc.path)
			assert.NotContains(t, body, controlToken[:10], "%s %s: the answer echoes the token", tc.method, tc.path)
			assert.Empty(t, in.Endpoints(), "%s %s without the token created an endpoint", tc.method, tc.path)
		})
	}

	auth := "Authorization: Bearer " + controlToken
	resp, body := do(t, "POST", srv.URL+"/endpoints", spec, auth)
	assert.Equal(t, http.StatusCreated, resp.StatusCode, "POST /endpoints with the token: %s", body)
	assert.Equal(t, []string{"orders"}, in.Endpoints())

	resp, body = do(t, "GET", srv.URL+"/endpoints", "", "Authorization: bearer "+controlToken)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "GET /endpoints with a lower-case scheme: %s", body)

	resp, body = do(t, "DELETE", srv.URL+"/endpoints/orders", "", "Authorization: Bearer wrong")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "DELETE with a wrong token: %s", body)
	assert.Equal(t, []string{"orders"}, in.Endpoints(), "DELETE with a wrong token removed the endpoint")

	resp, body = do(t, "POST", srv.URL+"/hooks/orders", `{}`)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "POST /hooks/orders needs no control token: %s", body)

	resp, body = do(t, "GET", srv.URL+"/elsewhere", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "GET /elsewhere: %s", body)

	resp, _ = do(t, "DELETE", srv.URL+"/endpoints/orders", "", auth)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "DELETE with the token")
}

// TestControlHandlerWithoutTokenIsOpen checks that an empty token serves
// the control API without authentication (for loopback listeners).
func TestControlHandlerWithoutTokenIsOpen(t *testing.T) {
	in := newTestIngress(t, sim.Config{})
	srv := startServer(t, sim.ControlHandler(in, ""))
	resp, body := do(t, "POST", srv.URL+"/endpoints", `{"id": "orders"}`)
	assert.Equal(t, http.StatusCreated, resp.StatusCode, "POST /endpoints: %s", body)
}

// TestControlHandlerURLFromListener checks that the url of a created
// endpoint names the listener's address, whatever Host the client sends.
func TestControlHandlerURLFromListener(t *testing.T) {
	in := newTestIngress(t, sim.Config{})
	srv := startServer(t, sim.ControlHandler(in, ""))
	for i, host := range []string{"", "evil.example", "169.254.169.254:80", "[::1]:1"} {
		id := "ep" + string(rune('a'+i))
		r, err := http.NewRequest("POST", srv.URL+"/endpoints", strings.NewReader(`{"id": "`+id+`"}`))
		require.NoError(t, err)
		if host != "" {
			r.Host = host
		}
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		var got struct{ ID, URL string }
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		require.NoError(t, err, "decoding the answer")
		assert.Equal(t, http.StatusCreated, resp.StatusCode)
		assert.Equal(t, srv.URL+"/hooks/"+id, got.URL, "POST /endpoints with Host %q: url", host)
	}

	// Served other than by net/http's server, the url is the path alone.
	w := &recorder{header: http.Header{}}
	r, err := http.NewRequest("POST", "http://evil.example/endpoints", strings.NewReader(`{"id": "inproc"}`))
	require.NoError(t, err)
	sim.ControlHandler(in, "").ServeHTTP(w, r)
	assert.Equal(t, http.StatusCreated, w.status)
	assert.JSONEq(t, `{"id": "inproc", "url": "/hooks/inproc"}`, w.body.String())
}

// recorder is a minimal http.ResponseWriter without a listener address.
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
func (w *recorder) WriteHeader(code int) { w.status = code }

// lockedBuffer is a strings.Builder safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHandlerLogsHostilePathsEscaped checks, over a real server, that a
// request path with %0a or %1b[31m is logged as one escaped field of one
// line, both by the Ingress (paths under /hooks/) and by the handler
// (the control API and unknown paths), and that no line holds the token.
func TestHandlerLogsHostilePathsEscaped(t *testing.T) {
	var log lockedBuffer
	in := newTestIngress(t, sim.Config{Log: slog.New(sim.NewLogHandler(&log))})
	srv := startServer(t, sim.ControlHandler(in, controlToken))

	paths := []struct{ sent, want string }{
		{"/nowhere%0a12:00:00.000%20POST%20/hooks/admin%20status=200", `"GET /nowhere\n12:00:00.000 POST /hooks/admin status=200" status=404 took=`},
		{"/hooks/x%0d%0a12:00:00.000%20forged", `"GET /hooks/x\r\n12:00:00.000 forged" status=404 note=`},
		{"/hooks/%1b%5b31mred%1b%5b0m", `"GET /hooks/\x1b[31mred\x1b[0m" status=404 note=`},
		{"/endpoints/%1b%5d0;t%07", `"GET /endpoints/\x1b]0;t\a" status=401 took=`},
		{"/%e2%80%aegpj.exe", `"GET /\u202egpj.exe" status=404 took=`},
	}
	for _, p := range paths {
		do(t, "GET", srv.URL+p.sent, "", "Authorization: Bearer "+controlToken+"x")
	}
	do(t, "GET", srv.URL+"/endpoints", "", "Authorization: Bearer "+controlToken)

	out := log.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(paths)+1, "log lines for %d requests:\n%s", len(paths)+1, out)
	for i, p := range paths {
		_, rest, _ := strings.Cut(lines[i], " ") // after the time
		assert.True(t, strings.HasPrefix(rest, p.want), "log line of GET %s = %q, want it to start %q", p.sent, rest, p.want)
	}
	assert.Contains(t, lines[len(paths)], " GET /endpoints status=200 took=")
	for _, l := range lines {
		assertOneSafeLine(t, l+"\n")
	}
	assert.NotContains(t, out, controlToken[:10], "the log holds the control token")
}
