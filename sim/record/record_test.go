package record_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/sim/record"
)

func TestRoundTripKeepsBytes(t *testing.T) {
	cases := []struct {
		name   string
		method string
		target string
		header map[string]string
		body   string
	}{
		{"json POST", "POST", "/hooks/stripe", map[string]string{"Stripe-Signature": "t=1,v1=ab", "Content-Type": "application/json"}, `{"id":"evt_1","n":1}` + "\n"},
		{"GET with query", "GET", "/hooks/meta?hub.mode=subscribe&hub.challenge=42", nil, ""},
		{"form body with CRLF", "POST", "/twilio?x=1", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "Body=hi%0D%0A&From=%2B1"},
		{"binary body", "PUT", "/b", nil, "\x00\xff\r\n\r\nPOST / HTTP/1.1\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "http://example.test"+c.target, strings.NewReader(c.body))
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			dir := t.TempDir()
			w, err := record.NewWriter(dir)
			if err != nil {
				t.Fatal(err)
			}
			path, err := w.Write(record.New(r, []byte(c.body), record.Meta{Provider: "stripe"}))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := filepath.Base(path), "000001.http"; got != want {
				t.Errorf("file %s, want %s", got, want)
			}
			got, err := record.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Body) != c.body {
				t.Errorf("body %q, want %q", got.Body, c.body)
			}
			if got.Meta.Method != c.method || got.Meta.Target != c.target || got.Meta.Host != "example.test" {
				t.Errorf("request line %s %s host %s, want %s %s example.test", got.Meta.Method, got.Meta.Target, got.Meta.Host, c.method, c.target)
			}
			for k, v := range c.header {
				if got.Header.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, got.Header.Get(k), v)
				}
			}
			if got.Meta.Provider != "stripe" || got.Meta.Seq != 1 {
				t.Errorf("sidecar provider %q seq %d, want stripe 1", got.Meta.Provider, got.Meta.Seq)
			}
			req, err := got.Request("http://127.0.0.1:9/")
			if err != nil {
				t.Fatal(err)
			}
			sent, _ := io.ReadAll(req.Body)
			if string(sent) != c.body || req.URL.RequestURI() != c.target || req.Method != c.method {
				t.Errorf("Request: %s %s body %q, want %s %s body %q", req.Method, req.URL.RequestURI(), sent, c.method, c.target, c.body)
			}
		})
	}
}

func TestParseDechunksABody(t *testing.T) {
	raw := "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
	rec, err := record.Parse(strings.NewReader(raw), "in")
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.Body) != "abcde" {
		t.Fatalf("body %q, want abcde", rec.Body)
	}
	out := string(rec.MarshalHTTP())
	if strings.Contains(out, "Transfer-Encoding") || !strings.Contains(out, "Content-Length: 5\r\n") {
		t.Errorf("MarshalHTTP kept chunking or lost the length:\n%s", out)
	}
}

func TestParseRejectsBadInputNamingTheFile(t *testing.T) {
	cases := []struct {
		name, raw, want string
	}{
		{"empty", "", "in: empty request"},
		{"no blank line", "POST / HTTP/1.1\r\nHost: h\r\n", "in: truncated request"},
		{"short body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc", "in: the body is shorter than its Content-Length"},
		{"huge length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n", "in: Content-Length 99999999999 is larger than"},
		{"bad header", "POST / HTTP/1.1\r\nsecret-token-no-colon\r\n\r\n", "in: malformed header line"},
		{"huge head", "POST / HTTP/1.1\r\nX: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", "in: the request line and headers are larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := record.Parse(strings.NewReader(c.raw), "in")
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %v, want prefix %q", err, c.want)
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error quotes the request: %v", err)
			}
		})
	}
}

func TestParseCountsBytesAfterTheBody(t *testing.T) {
	cases := []struct {
		name, after string
		extra       int
	}{
		{"nothing", "", 0},
		{"a trailing newline", "\r\n", 0},
		{"a wrong Content-Length", "b}\n", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{a" + c.after
			rec, err := record.Parse(strings.NewReader(raw), "in")
			if err != nil {
				t.Fatal(err)
			}
			if rec.Extra != c.extra || string(rec.Body) != "{a" {
				t.Errorf("Extra %d body %q, want %d and {a", rec.Extra, rec.Body, c.extra)
			}
			// A recording file with them is refused.
			path := filepath.Join(t.TempDir(), "r.http")
			if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = record.ReadFile(path)
			if (err != nil) != (c.extra > 0) {
				t.Errorf("ReadFile: error %v, want one: %v", err, c.extra > 0)
			}
		})
	}
}

func TestWriterAppendsAfterExistingRecordings(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ { // two runs on one directory
		w, err := record.NewWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 2; j++ {
			r := httptest.NewRequest("POST", "/n", strings.NewReader("x"))
			if _, err := w.Write(record.New(r, []byte{byte('a' + 2*i + j)}, record.Meta{})); err != nil {
				t.Fatal(err)
			}
		}
	}
	recs, err := record.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var bodies string
	for i, r := range recs {
		if r.Meta.Seq != i+1 {
			t.Errorf("recording %d has seq %d", i, r.Meta.Seq)
		}
		bodies += string(r.Body)
	}
	if bodies != "abcd" {
		t.Errorf("bodies in order %q, want abcd", bodies)
	}
	fi, err := os.Stat(filepath.Join(dir, "000001.http"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestReadFileChecksTheSidecar(t *testing.T) {
	dir := t.TempDir()
	w, _ := record.NewWriter(dir)
	r := httptest.NewRequest("POST", "/n", nil)
	path, err := w.Write(record.New(r, []byte(`{"a":1}`), record.Meta{Event: "e"}))
	if err != nil {
		t.Fatal(err)
	}
	// Reading by the sidecar's name finds the request.
	rec, err := record.ReadFile(strings.TrimSuffix(path, ".http") + ".json")
	if err != nil || rec.Meta.Event != "e" {
		t.Fatalf("ReadFile(.json) = %+v, %v", rec, err)
	}
	// An edited body no longer matches the sidecar's digest.
	data, _ := os.ReadFile(path)
	data = bytes.Replace(data, []byte(`"a":1`), []byte(`"a":2`), 1)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := record.ReadFile(path); err == nil || !strings.Contains(err.Error(), "body_sha256 does not match") {
		t.Fatalf("edited body: error %v, want a digest mismatch", err)
	}
	// Without its sidecar an .http file still reads.
	os.Remove(strings.TrimSuffix(path, ".http") + ".json")
	if _, err := record.ReadFile(path); err != nil {
		t.Fatalf("without sidecar: %v", err)
	}
}

func TestReadDirOfNothingSaysSo(t *testing.T) {
	_, err := record.ReadDir(t.TempDir())
	if !errors.Is(err, record.ErrEmpty) {
		t.Fatalf("error %v, want ErrEmpty", err)
	}
}

func TestRequestRetargets(t *testing.T) {
	rec, err := record.Parse(strings.NewReader("POST /hooks/a?x=1 HTTP/1.1\r\nHost: orig:80\r\nContent-Length: 0\r\n\r\n"), "in")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ base, want string }{
		{"", "http://orig:80/hooks/a?x=1"},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000/hooks/a?x=1"},
		{"https://h/other", "https://h/other?x=1"},
		{"http://h/other?y=2", "http://h/other?y=2"},
	}
	for _, c := range cases {
		req, err := rec.Request(c.base)
		if err != nil {
			t.Fatal(err)
		}
		if req.URL.String() != c.want {
			t.Errorf("Request(%q) URL %s, want %s", c.base, req.URL, c.want)
		}
	}
	if _, err := rec.Request("not a url"); err == nil {
		t.Error("Request(\"not a url\") succeeded")
	}
}

func TestMarshalHTTPKeepsHeaderValuesOnTheirLine(t *testing.T) {
	rec := &record.Recording{Meta: record.Meta{Method: "POST", Target: "/"}, Header: http.Header{"X": {"a\r\nInjected: 1"}}}
	if strings.Contains(string(rec.MarshalHTTP()), "\r\nInjected") {
		t.Fatal("a header value broke its line")
	}
}
