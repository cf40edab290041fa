package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"strings"
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"tolf":      tolf,
			"validjson": validJSON,
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
