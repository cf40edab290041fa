package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
// stdin, for command cmd (named in warnings). Errors name where and what,
// without quoting the request (which may carry a token).
func readRequest(std *stdio, cmd, path string) (*http.Request, error) {
	name := requestName(path)
	var in io.Reader = std.stdin
	if rec, ok, err := readRecording(path); err != nil {
		return nil, usageErrorf("-request: %v", pathError(err))
	} else if ok {
		in = bytes.NewReader(rec.MarshalHTTP())
	} else if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, usageErrorf("-request: %v", pathError(err))
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReader(in)
	r, err := http.ReadRequest(br)
	if err != nil {
		return nil, usageErrorf("%s: %s", name, describeReadError(err))
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, usageErrorf("%s: the body is shorter than its Content-Length", name)
		}
		return nil, usageErrorf("%s: reading the body: %s", name, describeReadError(err))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if rest, _ := io.ReadAll(br); len(bytes.TrimSpace(rest)) > 0 {
		fmt.Fprintf(std.stderr, "hooklab %s: warning: %s: %d bytes after the body were ignored (is Content-Length right?)\n", cmd, name, len(rest))
	}
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

// describeReadError says what is wrong with a request without quoting it:
// the standard library's messages end with the offending text.
func describeReadError(err error) string {
	var ue *url.Error
	switch {
	case errors.Is(err, io.EOF):
		return "empty request"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated request: the header does not end with a blank line"
	case errors.As(err, &ue):
		return "malformed request target"
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "malformed HTTP request"):
		return "malformed HTTP request line"
	case strings.HasPrefix(msg, "malformed HTTP version"):
		return "malformed HTTP request line: bad HTTP version"
	case strings.HasPrefix(msg, "invalid method"):
		return "malformed HTTP request line: invalid method"
	case strings.HasPrefix(msg, "malformed MIME header"):
		if strings.Contains(msg, "missing colon") {
			return "malformed header line: missing colon"
		}
		return "malformed header line"
	}
	if i := strings.IndexAny(msg, ":\""); i > 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return msg
}
