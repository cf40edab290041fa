package h1

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawServer serves each connection with handle on a loopback listener
// and returns its address and a count of connections accepted.
func rawServer(t *testing.T, handle func(c net.Conn, br *bufio.Reader)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c, bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().String(), &accepted
}

// eachRequest reads the requests of a connection, their bodies to the
// end, and calls answer for each with its number on the connection (from
// 0) until the client goes or answer returns false.
func eachRequest(answer func(c net.Conn, n int) bool) func(c net.Conn, br *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for n := 0; ; n++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if !answer(c, n) {
				return
			}
		}
	}
}

// answerEach reads requests and writes answer to each until the client
// goes.
func answerEach(answer string) func(c net.Conn, br *bufio.Reader) {
	return eachRequest(func(c net.Conn, _ int) bool {
		_, err := io.WriteString(c, answer)
		return err == nil
	})
}

// okAnswer is an empty 200 answer.
const okAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

func post(t *testing.T, addr string) *Request {
	t.Helper()
	tg, err := ParseTarget("http://" + addr + "/hooks?x=1")
	require.NoError(t, err)
	return &Request{Method: "POST", Target: tg, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"a":1}`)}
}

func TestDoWritesTheRequestAsNetHTTPDoes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		header http.Header
		host   string
		body   string
	}{
		{"PostWithHeaders", "POST", http.Header{"Content-Type": {"application/json"}, "X-Hub-Signature-256": {"sha256=ab"}, "x-lower": {"kept as written"}, "B": {"1", "2"}}, "", `{"a":1}`},
		{"OwnUserAgent", "POST", http.Header{"User-Agent": {"hooklab-load"}}, "", "x"},
		{"EmptyUserAgentOmitted", "POST", http.Header{"User-Agent": {""}}, "", "x"},
		{"GetWithoutBodyHasNoContentLength", "GET", http.Header{"Accept": {"*/*"}}, "", ""},
		{"PostWithoutBodySaysZero", "POST", nil, "", ""},
		{"ValuesTrimmed", "PUT", http.Header{"X-Pad": {"  v\t"}}, "", "b"},
		{"HostOverride", "POST", nil, "example.test", "b"},
		{"ClientHeadersIgnored", "POST", http.Header{"Content-Length": {"999"}, "Transfer-Encoding": {"chunked"}, "Host": {"other"}}, "", "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan []byte, 1)
			addr, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				var seen bytes.Buffer
				req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(br, &seen)))
				if err != nil {
					got <- []byte(err.Error())
					return
				}
				io.Copy(io.Discard, req.Body)
				got <- seen.Bytes()
				io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
			})
			tg, err := ParseTarget("http://" + addr + "/p/a%20th?q=1&r=2")
			require.NoError(t, err)
			c := NewConn(Options{})
			defer c.Close()
			resp, err := c.Do(&Request{Method: tt.method, Target: tg, Host: tt.host, Header: tt.header, Body: []byte(tt.body)}, nil)
			require.NoError(t, err)
			assert.Equal(t, 204, resp.Status)
			assert.Equal(t, int64(len(tt.body)), resp.BytesOut, "BytesOut")

			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			want, err := http.NewRequest(tt.method, "http://"+addr+"/p/a%20th?q=1&r=2", body)
			require.NoError(t, err)
			want.Host = tt.host
			if tt.header != nil {
				want.Header = tt.header.Clone()
			}
			var wantBytes bytes.Buffer
			require.NoError(t, want.Write(&wantBytes))
			assert.Equal(t, wantBytes.String(), string(<-got))
		})
	}
}

func TestDoRejectsAnInvalidRequestBeforeSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		header http.Header
	}{
		{"NewlineInValue", "POST", http.Header{"X-A": {"a\r\nX-Injected: 1"}}},
		{"SpaceInName", "POST", http.Header{"X A": {"a"}}},
		{"EmptyName", "POST", http.Header{"": {"a"}}},
		{"BadMethod", "PO ST", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, _ := rawServer(t, answerEach(okAnswer))
			c := NewConn(Options{})
			defer c.Close()
			r := post(t, addr)
			r.Method, r.Header = tt.method, tt.header
			resp, err := c.Do(r, nil)
			require.ErrorIs(t, err, ErrInvalidRequest)
			assert.Zero(t, resp.BytesOut, "BytesOut")
			// The connection is still in step: a good request is answered.
			resp, err = c.Do(post(t, addr), nil)
			require.NoError(t, err)
			assert.Equal(t, 200, resp.Status)
		})
	}
}

func TestDoReadsAnswers(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("y", 40_000)
	tests := []struct {
		name     string
		method   string
		answer   string
		keep     int
		status   int
		bodyLen  int64
		kept     string
		closes   bool // the connection is closed after the answer
		wantErr  error
		wantKind func(error) bool
	}{
		{name: "ContentLength", answer: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", keep: 64, status: 200, bodyLen: 5, kept: "hello"},
		{name: "KeepsOnlyTheFirstBytes", answer: "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n" + big, keep: 10, status: 200, bodyLen: 40000, kept: big[:10]},
		{name: "Chunked", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", keep: 64, status: 200, bodyLen: 11, kept: "hello world"},
		{name: "ChunkedWinsOverLength", answer: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", keep: 64, status: 200, bodyLen: 2, kept: "ok"},
		{name: "ReadToClose", answer: "HTTP/1.1 500 Oops\r\n\r\nuntil the end", keep: 64, status: 500, bodyLen: 13, kept: "until the end", closes: true},
		{name: "ConnectionClose", answer: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", keep: 64, status: 200, bodyLen: 2, kept: "ok", closes: true},
		{name: "HTTP10ClosesByDefault", answer: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", keep: 64, status: 200, bodyLen: 2, kept: "ok", closes: true},
		{name: "HTTP10KeepAlive", answer: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", keep: 64, status: 200, bodyLen: 2, kept: "ok"},
		{name: "InterimAnswersSkipped", answer: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nk", keep: 64, status: 201, bodyLen: 1, kept: "k"},
		{name: "NoContentHasNoBody", answer: "HTTP/1.1 204 No Content\r\n\r\n", keep: 64, status: 204},
		{name: "HeadHasNoBody", method: "HEAD", answer: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", keep: 64, status: 200},
		{name: "StatusWithoutReason", answer: "HTTP/1.1 202\r\nContent-Length: 0\r\n\r\n", keep: 64, status: 202},
		{name: "BareLF", answer: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", keep: 64, status: 200, bodyLen: 2, kept: "ok"},

		{name: "InvalidStatusLine", answer: "HTTP/2 200 OK\r\n\r\n", closes: true, wantErr: ErrMalformed},
		{name: "NotHTTP", answer: "SSH-2.0-OpenSSH\r\n", closes: true, wantErr: ErrMalformed},
		{name: "MalformedHeader", answer: "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", status: 200, closes: true, wantErr: ErrMalformed},
		{name: "ConflictingLengths", answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", status: 200, closes: true, wantErr: ErrMalformed},
		{name: "NegativeLength", answer: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", status: 200, closes: true, wantErr: ErrMalformed},
		{name: "UnsupportedTransferEncoding", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", status: 200, closes: true, wantErr: ErrMalformed},
		{name: "BadChunkSize", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", keep: 64, status: 200, closes: true, wantErr: ErrMalformed},
		{name: "NoCRLFAfterChunk", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX\r\n0\r\n\r\n", keep: 64, status: 200, bodyLen: 2, kept: "ok", closes: true, wantErr: ErrMalformed},
		{name: "OversizedHead", answer: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", MaxHead) + "\r\n\r\n", status: 200, closes: true, wantErr: ErrHeadTooLarge},
		{name: "OversizedStatusLine", answer: "HTTP/1.1 200 " + strings.Repeat("r", MaxHead) + "\r\n\r\n", closes: true, wantErr: ErrHeadTooLarge},
		{name: "SwitchingProtocols", answer: "HTTP/1.1 101 Switching Protocols\r\n\r\n", status: 101, closes: true, wantErr: ErrMalformed},
		{name: "ClosedBeforeAnswering", answer: "", closes: true, wantErr: io.EOF},
		{name: "ClosedMidHead", answer: "HTTP/1.1 200 OK\r\nContent-Le", status: 200, closes: true, wantErr: io.ErrUnexpectedEOF},
		{name: "ClosedMidBody", answer: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", keep: 64, status: 200, bodyLen: 10, kept: "0123456789", closes: true, wantErr: io.ErrUnexpectedEOF},
		{name: "ClosedMidChunk", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n01234", keep: 64, status: 200, bodyLen: 5, kept: "01234", closes: true, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, accepted := rawServer(t, eachRequest(func(c net.Conn, _ int) bool {
				io.WriteString(c, tt.answer)
				return !tt.closes // so that a cut answer ends here
			}))
			c := NewConn(Options{})
			defer c.Close()
			r := post(t, addr)
			if tt.method != "" {
				r.Method, r.Body = tt.method, nil
			}
			keep := make([]byte, tt.keep)
			resp, err := c.Do(r, keep)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.status, resp.Status, "Status")
			assert.Equal(t, tt.bodyLen, resp.BodyLen, "BodyLen")
			assert.Equal(t, tt.kept, string(keep[:resp.Kept]), "kept bytes")
			assert.Equal(t, int64(len(r.Body)), resp.BytesOut, "BytesOut")
			if tt.wantErr != nil {
				return
			}
			// A second request: on the same connection unless the answer
			// closed it.
			_, err = c.Do(r, keep)
			require.NoError(t, err)
			want := int64(1)
			if tt.closes {
				want = 2
			}
			assert.Equal(t, want, accepted.Load(), "connections accepted for two requests")
		})
	}
}

func TestDoReusesOneConnection(t *testing.T) {
	t.Parallel()
	addr, accepted := rawServer(t, answerEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	c := NewConn(Options{})
	defer c.Close()
	for range 5 {
		resp, err := c.Do(post(t, addr), nil)
		require.NoError(t, err)
		require.Equal(t, 200, resp.Status)
		require.Equal(t, int64(2), resp.BodyLen)
	}
	assert.Equal(t, int64(1), accepted.Load())
}

func TestDoDialsAgainForAnotherTarget(t *testing.T) {
	t.Parallel()
	a, acceptedA := rawServer(t, answerEach(okAnswer))
	b, acceptedB := rawServer(t, answerEach("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"))
	c := NewConn(Options{})
	defer c.Close()
	for _, want := range []struct {
		addr   string
		status int
	}{{a, 200}, {b, 202}, {a, 200}} {
		resp, err := c.Do(post(t, want.addr), nil)
		require.NoError(t, err)
		assert.Equal(t, want.status, resp.Status)
	}
	assert.Equal(t, int64(2), acceptedA.Load())
	assert.Equal(t, int64(1), acceptedB.Load())
}

func TestDoNeverSendsAgainARequestTheServerMayHaveReceived(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	addr, accepted := rawServer(t, eachRequest(func(c net.Conn, n int) bool {
		requests.Add(1)
		if n == 1 {
			return false // the second request on a connection: read, never answered
		}
		io.WriteString(c, okAnswer)
		return true
	}))
	c := NewConn(Options{})
	defer c.Close()
	_, err := c.Do(post(t, addr), nil)
	require.NoError(t, err)
	resp, err := c.Do(post(t, addr), nil)
	require.ErrorIs(t, err, io.EOF)
	assert.Equal(t, int64(len(`{"a":1}`)), resp.BytesOut, "BytesOut: the request was written")
	assert.Equal(t, int64(2), requests.Load(), "requests the server read")
	assert.Equal(t, int64(1), accepted.Load(), "connections")
}

func TestDoDialsAgainWhenTheServerClosedAnIdleConnection(t *testing.T) {
	t.Parallel()
	addr, accepted := rawServer(t, eachRequest(func(c net.Conn, _ int) bool {
		io.WriteString(c, okAnswer)
		return false // then it closes the idle connection without saying so
	}))
	c := NewConn(Options{})
	c.idleProbe = -1 // probe every reused connection
	defer c.Close()
	for range 3 {
		resp, err := c.Do(post(t, addr), nil)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.Status)
	}
	assert.Equal(t, int64(3), accepted.Load())
}

func TestDoErrors(t *testing.T) {
	t.Parallel()
	t.Run("RefusedWritesNothing", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		c := NewConn(Options{})
		resp, err := c.Do(post(t, addr), nil)
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Zero(t, resp.BytesOut)
		assert.Zero(t, resp.Status)
	})
	t.Run("SlowServerTimesOut", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		addr, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
			http.ReadRequest(br)
			<-release
		})
		defer close(release)
		c := NewConn(Options{Timeout: 50 * time.Millisecond})
		defer c.Close()
		_, err := c.Do(post(t, addr), nil)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout())
	})
	t.Run("UnsupportedScheme", func(t *testing.T) {
		t.Parallel()
		_, err := ParseTarget("ftp://example.test/x")
		require.ErrorIs(t, err, ErrInvalidRequest)
		_, err = ParseTarget("http:///nohost")
		require.ErrorIs(t, err, ErrInvalidRequest)
	})
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want Target
	}{
		{"http://example.test/hooks", Target{Addr: "example.test:80", ServerName: "example.test", Host: "example.test", URI: "/hooks"}},
		{"https://example.test", Target{TLS: true, Addr: "example.test:443", ServerName: "example.test", Host: "example.test", URI: "/"}},
		{"http://127.0.0.1:8080/a?b=c", Target{Addr: "127.0.0.1:8080", ServerName: "127.0.0.1", Host: "127.0.0.1:8080", URI: "/a?b=c"}},
		{"http://[::1]:9/x%2Fy", Target{Addr: "[::1]:9", ServerName: "::1", Host: "[::1]:9", URI: "/x%2Fy"}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseTarget(tt.url)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDoOverTLS(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	var bodies sync.Map // body length → bodies of that length received whole
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if n, _ := bodies.LoadOrStore(len(b), new(atomic.Int64)); bytes.Equal(b, bytes.Repeat([]byte("b"), len(b))) {
			n.(*atomic.Int64).Add(1)
		}
		io.WriteString(w, `{"triggered":["a"]}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	tg, err := ParseTarget(srv.URL + "/hooks")
	require.NoError(t, err)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c := NewConn(Options{TLSConfig: &tls.Config{RootCAs: roots}})
	defer c.Close()
	keep := make([]byte, 64)
	// A small body goes with the head in one write; one larger than
	// WriteBuffer (64 KiB) after it.
	sizes := []int{2, 100_000, 2}
	for _, size := range sizes {
		body := bytes.Repeat([]byte("b"), size)
		resp, err := c.Do(&Request{Method: "POST", Target: tg, Body: body}, keep)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.Status)
		assert.Equal(t, int64(size), resp.BytesOut, "BytesOut")
		assert.Equal(t, `{"triggered":["a"]}`, string(keep[:resp.Kept]))
	}
	assert.Equal(t, int64(1), conns.Load())
	for size, want := range map[int]int64{2: 2, 100_000: 1} {
		n, ok := bodies.Load(size)
		require.True(t, ok, "a body of %d bytes arrived", size)
		assert.Equal(t, want, n.(*atomic.Int64).Load(), "bodies of %d bytes received whole", size)
	}

	// Without the test CA the certificate is refused.
	bad := NewConn(Options{})
	_, err = bad.Do(&Request{Method: "POST", Target: tg}, nil)
	var unknown *tls.CertificateVerificationError
	assert.True(t, errors.As(err, &unknown), "error %v is a certificate error", err)
}

func TestDoEndsWhenTheContextIsDone(t *testing.T) {
	t.Parallel()
	received := make(chan struct{}, 1)
	release := make(chan struct{})
	addr, accepted := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		http.ReadRequest(br)
		received <- struct{}{}
		<-release // never answers until the test ends
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	c := NewConn(Options{Context: ctx}) // no timeout: only the context ends the request
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(post(t, addr), nil)
		done <- err
	}()
	<-received
	cancel()
	require.Error(t, <-done, "the request in flight ends with an error")

	// Later requests are not sent at all.
	_, err := c.Do(post(t, addr), nil)
	require.ErrorIs(t, err, ErrAborted)
	assert.Equal(t, int64(1), accepted.Load(), "connections accepted")
}

func TestDoOnADoneContextSendsNothing(t *testing.T) {
	t.Parallel()
	addr, accepted := rawServer(t, answerEach(okAnswer))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := NewConn(Options{Context: ctx})
	defer c.Close()
	resp, err := c.Do(post(t, addr), nil)
	require.ErrorIs(t, err, ErrAborted)
	assert.Zero(t, resp.BytesOut)
	assert.Zero(t, accepted.Load(), "connections accepted")
}

// TestDoReadsAnAnswerWhateverTheWayItArrives covers the wait for
// readability after a request is written (plain TCP): the answer comes
// in one piece, byte by byte, after a pause, or not at all before a
// close; every way is read as it was sent, and a second request on the
// connection is answered.
func TestDoReadsAnAnswerWhateverTheWayItArrives(t *testing.T) {
	t.Parallel()
	const answer = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"
	tests := []struct {
		name    string
		write   func(c net.Conn) error
		closes  bool
		wantErr error
	}{
		{name: "OnePiece", write: func(c net.Conn) error { _, err := io.WriteString(c, answer); return err }},
		{name: "ByteByByte", write: func(c net.Conn) error {
			for i := range len(answer) {
				if _, err := io.WriteString(c, answer[i:i+1]); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "HeadThenBody", write: func(c net.Conn) error {
			if _, err := io.WriteString(c, answer[:len(answer)-11]); err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond) // the client is waiting for the body
			_, err := io.WriteString(c, answer[len(answer)-11:])
			return err
		}},
		{name: "ClosedUnanswered", write: func(net.Conn) error { return io.EOF }, closes: true, wantErr: io.EOF},
		{name: "Reset", write: func(c net.Conn) error {
			c.(*net.TCPConn).SetLinger(0)
			return io.EOF
		}, closes: true, wantErr: syscall.ECONNRESET},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, accepted := rawServer(t, eachRequest(func(c net.Conn, _ int) bool {
				return tt.write(c) == nil
			}))
			c := NewConn(Options{Timeout: time.Minute})
			defer c.Close()
			keep := make([]byte, 64)
			resp, err := c.Do(post(t, addr), keep)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Zero(t, resp.Status)
			} else {
				require.NoError(t, err)
				assert.Equal(t, 200, resp.Status)
				assert.Equal(t, "hello world", string(keep[:resp.Kept]))
			}
			assert.Equal(t, int64(len(`{"a":1}`)), resp.BytesOut, "BytesOut")
			if tt.closes {
				return
			}
			resp, err = c.Do(post(t, addr), keep)
			require.NoError(t, err)
			assert.Equal(t, "hello world", string(keep[:resp.Kept]))
			assert.Equal(t, int64(1), accepted.Load(), "connections")
		})
	}
}

// TestDoWritesALargeBodyASlowServerReads fills the socket's send buffer:
// what the first writev could not write goes the ordinary way, and the
// server reads the whole body once.
func TestDoWritesALargeBodyASlowServerReads(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	got := make(chan []byte, 2)
	addr, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			var b bytes.Buffer
			buf := make([]byte, 1024)
			for {
				n, err := req.Body.Read(buf) // small reads: the client's writev cannot finish at once
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			got <- b.Bytes()
			io.WriteString(c, okAnswer)
		}
	})
	c := NewConn(Options{Timeout: time.Minute})
	defer c.Close()
	for range 2 {
		r := post(t, addr)
		r.Body = body
		resp, err := c.Do(r, nil)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.Status)
		assert.Equal(t, int64(len(body)), resp.BytesOut, "BytesOut")
		assert.True(t, bytes.Equal(body, <-got), "the server read the body as sent")
	}
}

// TestDoEarlyAnswerNeverWaitsUnbounded: a server that answers before it
// has read the request, and then sends nothing more. The client either
// reads the early answer (its readiness came after the wait began) or
// waits until its deadline (it came before): never longer.
func TestDoEarlyAnswerNeverWaitsUnbounded(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	addr, _ := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		io.WriteString(c, okAnswer)
		http.ReadRequest(br)
		<-release
	})
	defer close(release)
	c := NewConn(Options{Timeout: 200 * time.Millisecond})
	defer c.Close()
	resp, err := c.Do(post(t, addr), nil)
	if err != nil {
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		return
	}
	assert.Equal(t, 200, resp.Status)
}

// TestDoSetsTheDeadlineOfEveryRequest: a connection that answered
// quickly once still bounds the next request by the timeout.
func TestDoSetsTheDeadlineOfEveryRequest(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	addr, accepted := rawServer(t, eachRequest(func(c net.Conn, n int) bool {
		if n == 1 {
			<-release // the second request is never answered
			return false
		}
		io.WriteString(c, okAnswer)
		return true
	}))
	defer close(release)
	c := NewConn(Options{Timeout: 100 * time.Millisecond})
	defer c.Close()
	_, err := c.Do(post(t, addr), nil)
	require.NoError(t, err)
	_, err = c.Do(post(t, addr), nil)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Equal(t, int64(1), accepted.Load(), "connections")
}

// TestDoSendsAgainOnAConnectionResetWhileIdle: the server resets a kept
// connection after answering; the next request's write fails with
// nothing written, and it is sent once more on a new connection.
func TestDoSendsAgainOnAConnectionResetWhileIdle(t *testing.T) {
	t.Parallel()
	closed := make(chan struct{}, 2)
	addr, accepted := rawServer(t, eachRequest(func(c net.Conn, _ int) bool {
		io.WriteString(c, okAnswer)
		c.(*net.TCPConn).SetLinger(0)
		c.Close() // a reset, on loopback delivered before Close returns
		closed <- struct{}{}
		return false
	}))
	c := NewConn(Options{Timeout: time.Minute})
	defer c.Close()
	_, err := c.Do(post(t, addr), nil)
	require.NoError(t, err)
	<-closed
	resp, err := c.Do(post(t, addr), nil)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	assert.Equal(t, int64(2), accepted.Load(), "connections")
}

// TestDoAtCountsTheTimeoutFromItsStart: a request whose start is
// already a Timeout ago times out without being sent, on a kept
// connection as on a new one.
func TestDoAtCountsTheTimeoutFromItsStart(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	addr, _ := rawServer(t, eachRequest(func(c net.Conn, _ int) bool {
		requests.Add(1)
		io.WriteString(c, okAnswer)
		return true
	}))
	c := NewConn(Options{Timeout: time.Second})
	defer c.Close()
	for i, start := range []time.Time{time.Now(), time.Now().Add(-time.Hour), time.Now()} {
		resp, err := c.DoAt(start, post(t, addr), nil)
		if i == 1 {
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout(), "timeout: %v", err)
			assert.Zero(t, resp.BytesOut, "BytesOut")
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, 200, resp.Status)
	}
	assert.Equal(t, int64(2), requests.Load(), "requests the server read")
}

// TestIsTokenIsRFC9110Tchar checks the table against the grammar:
// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
func TestIsTokenIsRFC9110Tchar(t *testing.T) {
	t.Parallel()
	const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for b := 0; b < 256; b++ {
		assert.Equal(t, strings.IndexByte(tchar, byte(b)) >= 0, isToken(byte(b)), "byte %#02x", b)
	}
}
