package conformance_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/sim"
)

// silentURL returns the base URL of a listener that accepts connections,
// reads them and never writes a byte.
func silentURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(io.Discard, c)
				<-done
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		l.Close()
	})
	return "http://" + l.Addr().String()
}

// TestProbeControl checks that ProbeControl tells a control API from
// anything else at the URL, and says which way it is not one.
func TestProbeControl(t *testing.T) {
	const token = "tok-SECRET-0123456789"
	in, err := sim.NewIngress(sim.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { in.Close() })
	serve := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	answer := func(status int, contentType, body string) string {
		return serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
	}
	control := serve(sim.ControlHandler(in, ""))
	withToken := serve(sim.ControlHandler(in, token))

	for _, tc := range []struct {
		name string
		url  string
		opts []conformance.HTTPOption
		// is is the error wanted (nil: the probe passes); contains,
		// what its message must hold.
		is       error
		contains string
	}{
		{name: "Reference", url: control},
		{name: "ReferenceTrailingSlash", url: control + "/"},
		{name: "ReferenceWithToken", url: withToken, opts: []conformance.HTTPOption{conformance.ControlToken(token)}},
		{name: "TokenMissing", url: withToken, is: conformance.ErrControlUnauthorized, contains: "/endpoints = 401 Unauthorized: it wants a bearer token"},
		{name: "TokenWrong", url: withToken, opts: []conformance.HTTPOption{conformance.ControlToken("tok-SECRET-wrong")},
			is: conformance.ErrControlUnauthorized, contains: "the bearer token sent is not its"},
		{name: "IngressWithoutControl", url: serve(sim.Handler(in)), is: conformance.ErrNotControlAPI,
			contains: `/endpoints = 404 Not Found, want 200 with {"endpoints": [...]}, got "{\"error\":\"unknown endpoint\"`},
		{name: "PathBelowTheBase", url: control + "/hooks", is: conformance.ErrNotControlAPI, contains: "/hooks/endpoints = 404 Not Found"},
		{name: "HTMLPage", url: answer(200, "text/html", "<!doctype html><title>welcome</title>"), is: conformance.ErrNotControlAPI,
			contains: `= 200 OK, want 200 with {"endpoints": [...]}, got "<!doctype html>`},
		{name: "JSONWithoutEndpoints", url: answer(200, "application/json", `{"items":[]}`), is: conformance.ErrNotControlAPI},
		{name: "EndpointsNotAList", url: answer(200, "application/json", `{"endpoints":null}`), is: conformance.ErrNotControlAPI},
		{name: "EmptyBody", url: answer(200, "application/json", ""), is: conformance.ErrNotControlAPI, contains: "and an empty body"},
		{name: "RedirectNotFollowed", url: serve(http.RedirectHandler("http://127.0.0.1:9/endpoints", http.StatusFound)),
			is: conformance.ErrNotControlAPI, contains: "= 302 Found"},
		{name: "Silent", url: silentURL(t), is: context.DeadlineExceeded, contains: "/endpoints: no answer within "},
		{name: "HeadersThenSilence", url: serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"endpoints":[`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})), is: context.DeadlineExceeded, contains: "the answer did not end within "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A short deadline stands for the probe's own, so that the
			// silent servers take no 5s; nothing asserts the time taken.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err := conformance.ProbeControl(ctx, tc.url, tc.opts...)
			if tc.is == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.contains)
			assert.NotContains(t, err.Error(), "tok-SECRET")
		})
	}

	t.Run("NothingListens", func(t *testing.T) {
		err := conformance.ProbeControl(context.Background(), closedURL(t))
		var op *net.OpError
		require.True(t, errors.As(err, &op) && op.Op == "dial", "ProbeControl error %v does not wrap the *net.OpError of the dial", err)
		assert.NotErrorIs(t, err, conformance.ErrNotControlAPI)
	})
}
