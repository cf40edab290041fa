package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/hooklab/hooklab/sim/record"
)

// Reading a raw HTTP/1.1 request from a file or stdin, for verify
// --request and match --request; a recording of hooklab listen --record
// (NNNNNN.http with its sidecar, or the NNNNNN.json sidecar) reads as the
// request it holds.

func requestName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// readRequest reads one raw HTTP/1.1 request, body included, from path or
// stdin, for command cmd (named in warnings). It parses with package
// sim/record, so the head and body are bounded as a recording's; errors
// name where and what, without quoting the request (which may carry a
// token).
func readRequest(std *stdio, cmd, path string) (*http.Request, error) {
	name := requestName(path)
	rec, ok, err := readRecording(path)
	switch {
	case err != nil:
		return nil, usageErrorf("-request: %v", pathError(err))
	case !ok && path == "-":
		rec, err = record.Parse(std.stdin, name)
	case !ok:
		f, oerr := os.Open(path)
		if oerr != nil {
			return nil, usageErrorf("-request: %v", pathError(oerr))
		}
		defer f.Close()
		rec, err = record.Parse(f, name)
	}
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if rec.Extra > 0 {
		fmt.Fprintf(std.stderr, "hooklab %s: warning: %s: %d bytes after the body were ignored (is Content-Length right?)\n", cmd, name, rec.Extra)
	}
	// The recording's bytes parse again as the server-side request that
	// verify and match expect (path-only URL, Host, RequestURI).
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(rec.MarshalHTTP())))
	if err != nil {
		return nil, usageErrorf("%s: %v", name, err)
	}
	r.Body = io.NopCloser(bytes.NewReader(rec.Body))
	return r, nil
}

// readRecording reads a recording of hooklab listen --record (package
// sim/record) when path names one: its .json sidecar, or an .http file
// with a sidecar beside it, whose body digest is then checked. ok is false
// for any other path, which is read as a plain raw request.
func readRecording(path string) (rec *record.Recording, ok bool, err error) {
	switch filepath.Ext(path) {
	case ".json":
	case ".http":
		if _, err := os.Stat(strings.TrimSuffix(path, ".http") + ".json"); err != nil {
			return nil, false, nil
		}
	default:
		return nil, false, nil
	}
	rec, err = record.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	return rec, true, nil
}
