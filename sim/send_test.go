package sim_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim"
)

func TestSendCapturesResponseAndTimings(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Got", string(b))
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	req, err := http.NewRequest("POST", srv.URL+"/hook", strings.NewReader("ping"))
	require.NoError(t, err)
	res, err := sim.Send(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, res.Status)
	assert.True(t, res.OK())
	assert.Equal(t, "ping", res.Header.Get("X-Got"))
	assert.Equal(t, `{"ok":true}`, string(res.Body))
	assert.Equal(t, int64(4), res.BytesOut)
	assert.Equal(t, int64(11), res.BytesIn)
	assert.Positive(t, res.Timings.Connect, "a new connection was made")
	assert.Positive(t, res.Timings.FirstByte)
	assert.GreaterOrEqual(t, res.Timings.Total, res.Timings.FirstByte)
	assert.Zero(t, res.Timings.TLS, "plain http has no handshake")
}

func TestSendTLSTiming(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL, nil)
	res, err := sim.Send(context.Background(), req, sim.Client(srv.Client()))
	require.NoError(t, err)
	assert.Positive(t, res.Timings.TLS)
}

func TestSendTruncatesLargeBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 1000))
	}))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL, nil)
	res, err := sim.Send(context.Background(), req, sim.MaxResponseBody(10))
	require.NoError(t, err)
	assert.Len(t, res.Body, 10)
	assert.True(t, res.Truncated)
	assert.Equal(t, int64(1000), res.BytesIn)
}

func TestSendErrorsDoNotQuoteTheURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	req, _ := http.NewRequest("POST", "http://"+addr+"/hook?token=SECRET-TOKEN", nil)
	res, err := sim.Send(context.Background(), req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "%v", err)
	assert.NotContains(t, err.Error(), "SECRET-TOKEN")
	assert.Zero(t, res.Status)
}

func TestSendHonoursTheContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequest("POST", srv.URL, nil)
	_, err := sim.Send(ctx, req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
