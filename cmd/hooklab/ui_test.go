package main

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// httpget GETs URL (with "Name: value" headers after it), writes the
// status to FILE.status and the body (at most 4 MiB) to FILE; it fails
// on a transport error only.
//
//	httpget out.html $SERVEURL/_hooklab/requests 'Authorization: Bearer T'
func httpget(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: httpget FILE URL [HEADER]...")
	}
	req, err := http.NewRequest(http.MethodGet, args[1], nil)
	ts.Check(err)
	for _, h := range args[2:] {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			ts.Fatalf("httpget: header %q is not Name: value", h)
		}
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), body, 0o644))
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+".status"), []byte(strconv.Itoa(resp.StatusCode)+"\n"), 0o644))
}
