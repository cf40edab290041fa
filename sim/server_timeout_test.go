package sim

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closedWithin is how long a test waits for the server to close a
// connection it should time out: far longer than the short timeouts the
// tests configure, so that only a server that never closes it fails.
const closedWithin = 20 * time.Second

// TestNewServerSetsEveryTimeout checks that NewServer's servers have a
// read-header, read, write and idle timeout, and that the write timeout
// leaves room for reading the whole request.
func TestNewServerSetsEveryTimeout(t *testing.T) {
	srv, err := NewServer("", http.NotFoundHandler())
	require.NoError(t, err)
	defer srv.Close()
	s := srv.srv
	assert.Positive(t, s.ReadHeaderTimeout, "ReadHeaderTimeout")
	assert.Positive(t, s.ReadTimeout, "ReadTimeout")
	assert.Positive(t, s.IdleTimeout, "IdleTimeout")
	assert.Greater(t, s.WriteTimeout, s.ReadTimeout, "WriteTimeout > ReadTimeout")
}

// TestServerClosesSlowAndIdleConnections checks, with short timeouts,
// that a client that sends its body slowly and one that keeps an idle
// keep-alive connection are both disconnected.
func TestServerClosesSlowAndIdleConnections(t *testing.T) {
	short := serverTimeouts{readHeader: 200 * time.Millisecond, read: 300 * time.Millisecond, write: 2 * time.Second, idle: 300 * time.Millisecond}
	srv, err := newServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}), short)
	require.NoError(t, err)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct {
		name string
		talk func(t *testing.T, c net.Conn, br *bufio.Reader)
	}{
		{"SlowBody", func(t *testing.T, c net.Conn, br *bufio.Reader) {
			// A body of 1,000 bytes of which one is sent.
			_, err := io.WriteString(c, "POST /hooks/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
			require.NoError(t, err)
		}},
		{"SlowHeader", func(t *testing.T, c net.Conn, br *bufio.Reader) {
			_, err := io.WriteString(c, "POST /hooks/x HTTP/1.1\r\nHost: x\r\n")
			require.NoError(t, err)
		}},
		{"IdleKeepAlive", func(t *testing.T, c net.Conn, br *bufio.Reader) {
			_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err, "reading the first response")
			resp.Body.Close()
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			require.False(t, resp.Close, "the server closes the connection after the first response; want keep-alive")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			br := bufio.NewReader(c)
			tc.talk(t, c, br)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(closedWithin)))
			_, err = io.Copy(io.Discard, br) // whatever the server answers, then EOF
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection still open after %s; want it closed by the server's timeout", closedWithin)
			}
		})
	}
}
