package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
)

// update rewrites the expected output of failing cmp commands in the
// scripts: go test ./cmd/hooklab -run TestScripts -update
var update = flag.Bool("update", false, "rewrite the scripts' expected output (cmp) from the actual output")

// TestMain registers the hooklab command, so that scripts run it as a
// subprocess of the test binary with the real exit codes and streams.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hooklab": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar; each script is named after the
// subcommand it exercises.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		// $EXAMPLES is the repository's examples directory, for scripts
		// that check that its specs work as their comments say.
		Setup: func(env *testscript.Env) error {
			abs, err := filepath.Abs(filepath.Join("..", "..", "examples"))
			env.Setenv("EXAMPLES", abs)
			return err
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"tolf":       tolf,
			"validjson":  validJSON,
			"addnl":      addnl,
			"hookserver": hookserver,
			"servebg":    servebg,
			"jsonget":    jsonget,
			"jsonlines":  jsonlines,
			"freeaddr":   freeaddr,
			"envsubst":   envsubst,
			"sleep":      sleep,
			"waitlines":  waitlines,
			"hangserver": hangserver,
			"proc":       procCmd,
			"stallctl":   stallctl,
			"validxml":   validxml,
			"junitcheck": junitcheck,
			"unixtime":   unixtime,
			"httpget":    httpget,
			"rfc3339":    rfc3339,
			"slowserver": slowserver,
		},
	})
}

// tolf copies a file (or stdout, stderr) to another with CRLF line ends
// turned into LF and a final newline added when missing, so that a raw
// HTTP request can be compared with a golden file in a txtar archive,
// whose files hold no reliable carriage returns and always end with a
// newline. Content-Length in the golden still pins the body's exact size.
//
//	tolf stdout got.http
func tolf(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: tolf src dst")
	}
	in := ts.ReadFile(args[0])
	if !strings.Contains(in, "\r\n") {
		ts.Fatalf("tolf: %s has no CRLF line ends", args[0])
	}
	out := strings.ReplaceAll(in, "\r\n", "\n")
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o666))
}

// addnl copies a file (or stdout) to another with a final newline added
// when missing, so that output that does not end with one (a fixture's
// body) can be compared with a golden file in a txtar archive.
//
//	addnl stdout got.json
func addnl(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: addnl src dst")
	}
	out := ts.ReadFile(args[0])
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o666))
}

// hookserver starts a webhook receiver in the background for the rest of
// the script and puts its URL (http://127.0.0.1:PORT, no path) in
// $HOOKURL, and its host:port in $HOOKURL_HOST. It verifies each request with PRESET and SECRET and answers
// 200 "ok", or 401 with the reason; -status N answers N instead, after
// verifying. Each request is logged to hookserver.log as a line
// "METHOD REQUEST-URI STATUS ok|reason" followed by its Host and its
// headers, sorted, each indented two spaces. -closed puts in $HOOKURL the URL of a port
// that nothing listens on; -env NAME uses another variable.
//
//	hookserver github s3cret
//	hookserver -status 500 github s3cret
//	hookserver -closed
func hookserver(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("hookserver", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	status := fs.Int("status", 0, "answer this status after verifying")
	closed := fs.Bool("closed", false, "a closed port")
	env := fs.String("env", "HOOKURL", "the variable to set")
	usage := "usage: hookserver [-status N] [-env NAME] PRESET SECRET | hookserver -closed [-env NAME]"
	if neg || fs.Parse(args) != nil {
		ts.Fatalf("%s", usage)
	}
	if *closed {
		if fs.NArg() != 0 {
			ts.Fatalf("%s", usage)
		}
		addr, release, err := closedPort()
		ts.Check(err)
		ts.Defer(release)
		ts.Setenv(*env, "http://"+addr)
		return
	}
	if fs.NArg() != 2 {
		ts.Fatalf("%s", usage)
	}
	scheme, err := signer.Preset(fs.Arg(0))
	ts.Check(err)
	keys := signer.Keys(fs.Arg(1))
	logPath := ts.MkAbs("hookserver.log")
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, reply, result := http.StatusOK, "ok\n", "ok"
		if err := signer.VerifyRequest(r, scheme, keys); err != nil {
			code, reply, result = http.StatusUnauthorized, err.Error()+"\n", err.Error()
		}
		if *status != 0 {
			code, reply = *status, http.StatusText(*status)+"\n"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %d %s\n", r.Method, r.RequestURI, code, result)
		fmt.Fprintf(&b, "  Host: %s\n", r.Host)
		for _, name := range sortedHeaderNames(r.Header) {
			for _, v := range r.Header[name] {
				fmt.Fprintf(&b, "  %s: %s\n", name, v)
			}
		}
		mu.Lock()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o666)
		if err == nil {
			_, err = f.WriteString(b.String())
			err = errors.Join(err, f.Close())
		}
		mu.Unlock()
		if err != nil {
			code, reply = http.StatusInternalServerError, "hookserver: "+err.Error()+"\n"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(reply)))
		w.WriteHeader(code)
		io.WriteString(w, reply)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(*env, srv.URL)
	ts.Setenv(*env+"_HOST", strings.TrimPrefix(srv.URL, "http://"))
}

// validJSON checks that a file (or stdout) holds one valid JSON value.
//
//	validjson stdout
func validJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: validjson file")
	}
	if ok := json.Valid([]byte(ts.ReadFile(args[0]))); ok == neg {
		ts.Fatalf("validjson %s: valid is %v", args[0], ok)
	}
}

// TestFormatBinaryBody checks the two outputs that cannot be golden text:
// a body that is not valid UTF-8 goes to curl through a POSIX printf that
// reproduces it byte for byte, and to JSON as body_base64 with no body.
func TestFormatBinaryBody(t *testing.T) {
	body := make([]byte, 0, 256+4)
	for i := range 256 {
		body = append(body, byte(i))
	}
	body = append(body, `'%\`...)
	p := signer.Payload{Method: "POST", URL: "http://127.0.0.1:8080/webhook", Header: http.Header{"X-Sig": {"v"}}, Body: body}

	var got jsonRequest
	out, err := formatJSON(p)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(out, &got))
	assert.Nil(t, got.Body)
	assert.Equal(t, base64.StdEncoding.EncodeToString(body), got.BodyBase64)

	cmd := string(formatCurl(p))
	printf, rest, ok := strings.Cut(cmd, " |\n  curl ")
	require.True(t, ok, "want a printf piped into curl, got:\n%s", cmd)
	assert.True(t, strings.HasSuffix(rest, "--data-binary @-\n"), "curl does not read stdin:\n%s", cmd)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the printf")
	}
	printed, err := exec.Command(sh, "-c", printf).Output()
	require.NoError(t, err)
	assert.Equal(t, body, printed)
}

// TestOneLine checks how hooklab send shows a response body: on one line,
// escaped, and cut at a rune boundary with "…" when truncated.
func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		body      string
		truncated bool
		want      string
	}{
		{"ok\n", false, "ok"},
		{"ok\r\n", false, "ok"},
		{"a\nb\tc\x00\x7f", false, `a\nb\tc\x00\x7f`},
		{"bad \xff byte", false, `bad \xff byte`},
		{"c1 \u0085", false, `c1 \u0085`},
		{"ok\n", true, `ok\n…`},
		{"cut é"[:len("cut é")-1], true, "cut …"},
		{"日本"[:5], true, "日…"},
	} {
		assert.Equal(t, tc.want, oneLine([]byte(tc.body), tc.truncated), "%q", tc.body)
	}
}
