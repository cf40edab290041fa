package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// servebgWait bounds how long servebg waits for hooklab serve to print
// its first line, and then to exit after a signal.
const servebgWait = 10 * time.Second

// servebgProcs holds the hooklab serve process each script started.
var servebgProcs sync.Map // *testscript.TestScript -> *servebgProc

type servebgProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

var listeningLine = regexp.MustCompile(`^hooklab serve: listening on (http://[^;\s]+);`)

// servebg runs the real "hooklab serve" in the background, as a
// subprocess, for the rest of the script; unlike "exec hooklab serve &",
// its output can be read while it runs, so that the script learns its
// port. Its stdout and stderr go to serve.stdout and serve.stderr in the
// script's directory.
//
// "servebg start FLAGS..." starts "hooklab serve FLAGS..." and waits for
// its first line, "hooklab serve: listening on URL; …", then puts URL in
// $SERVEURL, its host:port in $SERVEADDR and its port in $SERVEPORT
// (for a server on 0.0.0.0, reached at 127.0.0.1:$SERVEPORT). "servebg stop [INT|TERM]" sends the signal (default INT)
// and waits for the process; it fails unless the process exits 0. A
// process still running at the end of the script is interrupted.
//
//	servebg start --control --addr 127.0.0.1:0
//	exec hooklab conformance --target $SERVEURL
//	servebg stop TERM
func servebg(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: servebg start [hooklab serve flags] | servebg stop [INT|TERM]"
	if neg || len(args) == 0 {
		ts.Fatalf("%s", usage)
	}
	switch args[0] {
	case "start":
		servebgStart(ts, args[1:])
	case "stop":
		sig := os.Interrupt
		switch {
		case len(args) == 1 || (len(args) == 2 && args[1] == "INT"):
		case len(args) == 2 && args[1] == "TERM":
			sig = syscall.SIGTERM
		default:
			ts.Fatalf("%s", usage)
		}
		v, ok := servebgProcs.Load(ts)
		if !ok {
			ts.Fatalf("servebg stop: no server started")
		}
		p := v.(*servebgProc)
		ts.Check(p.stop(sig))
		servebgProcs.Delete(ts)
	default:
		ts.Fatalf("%s", usage)
	}
}

func servebgStart(ts *testscript.TestScript, args []string) {
	if _, ok := servebgProcs.Load(ts); ok {
		ts.Fatalf("servebg start: a server is already running")
	}
	bin, err := exec.LookPath("hooklab")
	ts.Check(err)
	dir := ts.MkAbs(".")
	stdout, err := os.Create(filepath.Join(dir, "serve.stdout"))
	ts.Check(err)
	stderr, err := os.Create(filepath.Join(dir, "serve.stderr"))
	ts.Check(err)
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stdout, stderr
	// The script's environment, for the variables serve reads.
	cmd.Env = append(os.Environ(), controlTokenEnv+"="+ts.Getenv(controlTokenEnv))
	err = cmd.Start()
	stdout.Close()
	stderr.Close()
	ts.Check(err)
	p := &servebgProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	servebgProcs.Store(ts, p)
	ts.Defer(func() {
		if _, ok := servebgProcs.LoadAndDelete(ts); ok {
			p.stop(os.Interrupt)
		}
	})

	deadline := time.After(servebgWait)
	for {
		out := ts.ReadFile("serve.stdout")
		if line, _, ok := strings.Cut(out, "\n"); ok {
			m := listeningLine.FindStringSubmatch(line)
			if m == nil {
				ts.Fatalf("servebg: first line of hooklab serve = %q, want \"hooklab serve: listening on URL; …\"", line)
			}
			ts.Setenv("SERVEURL", m[1])
			ts.Setenv("SERVEADDR", strings.TrimPrefix(m[1], "http://"))
			ts.Setenv("SERVEPORT", m[1][strings.LastIndexByte(m[1], ':')+1:])
			return
		}
		select {
		case <-p.done:
			ts.Fatalf("servebg: hooklab serve exited (%v) before listening; stderr:\n%s", p.err, ts.ReadFile("serve.stderr"))
		case <-deadline:
			ts.Fatalf("servebg: hooklab serve printed no line in %s", servebgWait)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop signals the process and waits for it; it is an error unless the
// process exits 0 within servebgWait (it is then killed).
func (p *servebgProc) stop(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		if p.err != nil {
			return errors.New("servebg: hooklab serve after " + sig.String() + ": " + p.err.Error() + ", want exit 0")
		}
		return nil
	case <-time.After(servebgWait):
		p.cmd.Process.Kill()
		<-p.done
		return errors.New("servebg: hooklab serve did not stop within " + servebgWait.String() + " of " + sig.String())
	}
}

// TestResolveServeAddr checks --addr: HOST:PORT with an IP or a name that
// resolves, whether it is loopback, and clear errors otherwise.
func TestResolveServeAddr(t *testing.T) {
	for _, tc := range []struct {
		addr         string
		wantListen   string
		wantLoopback bool
		wantErr      string
	}{
		{addr: "127.0.0.1:0", wantListen: "127.0.0.1:0", wantLoopback: true},
		{addr: "127.1.2.3:8080", wantListen: "127.1.2.3:8080", wantLoopback: true},
		{addr: "[::1]:8080", wantListen: "[::1]:8080", wantLoopback: true},
		{addr: "localhost:8080", wantListen: "127.0.0.1:8080", wantLoopback: true},
		{addr: "0.0.0.0:8080", wantListen: "0.0.0.0:8080"},
		{addr: "[::]:8080", wantListen: "[::]:8080"},
		{addr: ":8080", wantListen: ":8080"},
		{addr: "192.0.2.1:80", wantListen: "192.0.2.1:80"},
		{addr: "127.0.0.1", wantErr: `"127.0.0.1" is not HOST:PORT: missing port in address`},
		{addr: "", wantErr: `"" is not HOST:PORT: missing port in address`},
		{addr: "127.0.0.1:99999", wantErr: `"127.0.0.1:99999": port "99999" is not a number from 0 to 65535`},
		{addr: "127.0.0.1:http", wantErr: `"127.0.0.1:http": port "http" is not a number from 0 to 65535`},
		{addr: "127.0.0.1:", wantErr: `"127.0.0.1:": port "" is not a number from 0 to 65535`},
		{addr: "127.0.0.1:-1", wantErr: `"127.0.0.1:-1": port "-1" is not a number from 0 to 65535`},
		{addr: "no-such-host.invalid:80", wantErr: `"no-such-host.invalid:80": host "no-such-host.invalid" does not resolve; give an IP address such as 127.0.0.1`},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			listen, loopback, err := resolveServeAddr(tc.addr)
			if tc.wantErr != "" {
				require.Error(t, err, "resolveServeAddr(%q)", tc.addr)
				assert.Equal(t, tc.wantErr, err.Error(), "resolveServeAddr(%q) error", tc.addr)
				return
			}
			require.NoError(t, err, "resolveServeAddr(%q)", tc.addr)
			assert.Equal(t, tc.wantListen, listen, "resolveServeAddr(%q) listen", tc.addr)
			assert.Equal(t, tc.wantLoopback, loopback, "resolveServeAddr(%q) loopback", tc.addr)
		})
	}
}

// TestHostFlags checks --allow-deliver-host: a host name or an IP address,
// never a URL or a host with a port.
func TestHostFlags(t *testing.T) {
	for _, tc := range []struct{ in, want, wantErr string }{
		{in: "receiver.internal", want: "receiver.internal"},
		{in: "10.0.0.7", want: "10.0.0.7"},
		{in: "fd00::1", want: "fd00::1"},
		{in: "[fd00::1]", want: "fd00::1"},
		{in: "", wantErr: "empty host"},
		{in: "http://receiver.internal", wantErr: "want a host, not a URL"},
		{in: "receiver.internal/hook", wantErr: "want a host name or an IP address"},
		{in: "user@receiver.internal", wantErr: "want a host name or an IP address"},
		{in: "a b", wantErr: "want a host name or an IP address"},
		{in: "receiver.internal:8080", wantErr: "want a host without a port"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var f hostFlags
			err := f.Set(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err, "Set(%q)", tc.in)
				assert.Equal(t, tc.wantErr, err.Error(), "Set(%q) error", tc.in)
				assert.Empty(t, f, "Set(%q) kept the host", tc.in)
				return
			}
			require.NoError(t, err, "Set(%q)", tc.in)
			assert.Equal(t, hostFlags{tc.want}, f, "Set(%q)", tc.in)
		})
	}
}

// TestCheckControlToken checks that a token must fit a bearer header and
// that the error never quotes it.
func TestCheckControlToken(t *testing.T) {
	for _, tok := range []string{"", "abc", "0123456789abcdef0123456789abcdef", "a-b_c.d~e+f/g="} {
		assert.NoError(t, checkControlToken(tok), "checkControlToken(%q)", tok)
	}
	for _, tok := range []string{"sec ret", "sec\nret", "sec\x00ret", "séc"} {
		err := checkControlToken(tok)
		if assert.Error(t, err, "checkControlToken(%q)", tok) {
			assert.NotContains(t, err.Error(), "sec", "checkControlToken(%q) error quotes the token", tok)
		}
	}
	var f tokenFlag
	require.NoError(t, f.Set("s3cret"))
	assert.Empty(t, f.String(), "tokenFlag.String() shows the token")
}

// TestServeServerClosesSlowAndIdleConnections checks, with short
// timeouts, that serve's server disconnects a client that sends its body
// slowly and one that keeps an idle keep-alive connection; and that the
// defaults set every timeout.
func TestServeServerClosesSlowAndIdleConnections(t *testing.T) {
	d := defaultServeTimeouts
	for name, v := range map[string]time.Duration{"readHeader": d.readHeader, "read": d.read, "write": d.write, "idle": d.idle} {
		assert.Positive(t, v, "defaultServeTimeouts.%s", name)
	}
	assert.Greater(t, d.write, d.read, "defaultServeTimeouts: write > read")

	const closedWithin = 20 * time.Second // generous: only a connection never closed fails
	short := serveTimeouts{readHeader: 200 * time.Millisecond, read: 300 * time.Millisecond, write: 2 * time.Second, idle: 300 * time.Millisecond}
	srv := newServeServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}), short)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	defer srv.Close()

	for _, tc := range []struct {
		name string
		talk func(t *testing.T, c net.Conn, br *bufio.Reader)
	}{
		{"SlowBody", func(t *testing.T, c net.Conn, br *bufio.Reader) {
			_, err := io.WriteString(c, "POST /hooks/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
			require.NoError(t, err)
		}},
		{"IdleKeepAlive", func(t *testing.T, c net.Conn, br *bufio.Reader) {
			_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err, "reading the first response")
			resp.Body.Close()
			require.False(t, resp.Close, "the server closes the connection after the first response; want keep-alive")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			defer c.Close()
			br := bufio.NewReader(c)
			tc.talk(t, c, br)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(closedWithin)))
			if _, err := io.Copy(io.Discard, br); errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection still open after %s; want it closed by the server's timeout", closedWithin)
			}
		})
	}
}
