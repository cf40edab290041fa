package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// FuzzParseSpecs feeds spec files, JSON or YAML, to ParseSpecs. It is
// seeded from every spec file under testdata and examples/specs and from
// every invalid file of testdata/spec-errors.txtar.
//
// ParseSpecs must never panic, and must return (within parseDeadline,
// far more than any input takes). Its only errors are *SpecError values
// naming the file and wrapping ErrInvalidSpec, with no specs returned.
// What it accepts must be valid, with unique ids, and must survive the
// JSON wire format: marshalled and parsed again, it marshals to the same
// bytes.
func FuzzParseSpecs(f *testing.F) {
	for _, pattern := range []string{"testdata/specs/*", examplesDir + "/*"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(isYAMLName(file), data)
		}
	}
	ar, err := txtar.ParseFile(filepath.Join("testdata", "spec-errors.txtar"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range ar.Files {
		f.Add(isYAMLName(file.Name), file.Data)
	}
	// YAML anchors and aliases, which the YAML to JSON conversion expands
	// within a budget; a self-referential one; duplicate keys in JSON and
	// YAML; nesting near the depth bound.
	f.Add(true, []byte("id: gh\ntriggers:\n  - id: a\n    filter: &f {headers: {x-github-event: [issues]}}\n  - id: b\n    filter: *f\n"))
	f.Add(true, []byte("id: gh\nsource: &s \""+strings.Repeat("x", 4000)+"\"\ntriggers:\n  - {id: a, deliver: *s}\n  - {id: b, deliver: *s}\n"))
	f.Add(true, []byte("id: gh\ntriggers: &t [{id: a, filter: {body: {x: *t}}}]\n"))
	f.Add(false, []byte(`{"id":"sw","verify":{"preset":"standard-webhooks","secret":"whsec_c2VjcmV0"},"dedup":{"by":"body:event-data.id","window":"90m","max":5}}`))
	f.Add(true, []byte("id: gh\nverify: {preset: github, secret: s}\ndedup: {by: event-id}\n"))
	f.Add(false, []byte(`{"id":"gh","triggers":[{"id":"a","filter":{"body":{"a":[1],"a":[2]}}}]}`))
	f.Add(true, []byte("id: gh\nid: other\n"))
	f.Add(false, []byte(`{"id":"gh","triggers":[{"id":"a","filter":{"body":{"a":`+strings.Repeat("[", 60)+strings.Repeat("]", 60)+`}}}]}`))

	f.Fuzz(func(t *testing.T, yamlName bool, data []byte) {
		name := "fuzz.json"
		if yamlName {
			name = "fuzz.yaml"
		}
		specs, err := parseWithDeadline(t, name, data)
		if err != nil {
			var se *sim.SpecError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSpecs(%q) error %T %q, want a *sim.SpecError", data, err, err)
			}
			if !errors.Is(err, sim.ErrInvalidSpec) {
				t.Fatalf("ParseSpecs(%q) = %q, does not wrap ErrInvalidSpec", data, err)
			}
			if se.File != name || !strings.HasPrefix(err.Error(), name+":") {
				t.Fatalf("ParseSpecs(%q) = %q, does not start with the file name %q", data, err, name)
			}
			if specs != nil {
				t.Fatalf("ParseSpecs(%q) returned %d specs with its error", data, len(specs))
			}
			return
		}
		seen := map[string]bool{}
		for i, s := range specs {
			if err := s.Validate(); err != nil {
				t.Fatalf("ParseSpecs(%q): spec %d does not validate: %v", data, i, err)
			}
			if seen[s.ID] {
				t.Fatalf("ParseSpecs(%q): id %q twice", data, s.ID)
			}
			seen[s.ID] = true
		}
		wire, err := json.Marshal(specs)
		if err != nil {
			t.Fatalf("ParseSpecs(%q): json.Marshal: %v", data, err)
		}
		again, err := sim.ParseSpecs("wire.json", wire)
		if err != nil {
			t.Fatalf("ParseSpecs(%q): its JSON does not parse:\n\t%s\n\t%v", data, wire, err)
		}
		wire2, err := json.Marshal(again)
		if err != nil {
			t.Fatalf("json.Marshal(again): %v", err)
		}
		if !bytes.Equal(wire, wire2) {
			t.Fatalf("ParseSpecs(%q): JSON round trip differs:\n\t%s\n\t%s", data, wire, wire2)
		}
	})
}

// parseDeadline bounds one ParseSpecs call in FuzzParseSpecs: past it
// the input is reported as a hang.
const parseDeadline = 10 * time.Second

// parseWithDeadline runs ParseSpecs, failing t if it does not return
// within parseDeadline (the call is then left running).
func parseWithDeadline(t *testing.T, name string, data []byte) ([]sim.EndpointSpec, error) {
	type result struct {
		specs []sim.EndpointSpec
		err   error
	}
	done := make(chan result, 1)
	go func() {
		specs, err := sim.ParseSpecs(name, data)
		done <- result{specs, err}
	}()
	select {
	case r := <-done:
		return r.specs, r.err
	case <-time.After(parseDeadline):
		t.Fatalf("ParseSpecs(%q) has not returned after %s", data, parseDeadline)
		return nil, nil
	}
}

func isYAMLName(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// fuzzIngressSpecs is what FuzzIngress serves: verified and unverified
// endpoints, handshakes with templates, filters on every part of a
// request, and a small body limit.
const fuzzIngressSpecs = `
- id: gh
  verify: {preset: github, secret: fuzz-gh-SECRET}
  maxBody: 512
  respondWith:
    filter: {headers: {x-github-event: [ping]}}
    skipTriggering: true
    response: {headers: {Content-Type: text/plain}, body: 'pong {{header "X-GitHub-Delivery"}}'}
  triggers:
    - {id: issues, filter: {headers: {x-github-event: [issues]}}}
    - {id: opened, filter: {method: [POST], body: {action: [opened], issue: {number: [{$gt: 0}]}}}}
    - {id: tenant, filter: {query: {tenant: [acme, beta]}}}
    - {id: tenant-a, filter: {query: {tenant: [{$startsWith: "a"}]}}}
    - {id: all}
- id: zoom
  verify: {preset: zoom, secrets: [fuzz-zoom-SECRET, fuzz-zoom-OLD]}
  respondWith:
    filter: {body: {event: [endpoint.url_validation]}}
    skipTriggering: true
    response:
      headers: {Content-Type: application/json, X-Token-Length: '{{len (body "payload.plainToken")}}'}
      body: '{"plainToken":{{json (body "payload.plainToken")}},"encryptedToken":{{json (hmac "sha256" (body "payload.plainToken"))}}}'
  triggers:
    - {id: meetings, filter: {body: {event: [{$startsWith: meeting.}]}}}
- id: meta
  verify: {preset: meta, secret: fuzz-meta-SECRET}
  respondWith:
    filter: {method: [GET], query: {hub.mode: [subscribe], hub.verify_token: [fuzz-token]}}
    skipTriggering: true
    response: {body: '{{query "hub.challenge"}} {{method}} {{json (query "x")}}'}
- id: open
  maxBody: 64
  respondWith:
    filter: {body: {status: [accepted]}}
    response: {status: 202, body: '{{rawBody}}'}
  triggers:
    - {id: all}
    - {id: put, filter: {method: [PUT]}}
`

var fuzzSecrets = []string{"fuzz-gh-SECRET", "fuzz-zoom-SECRET", "fuzz-zoom-OLD", "fuzz-meta-SECRET"}

// FuzzIngress sends fuzzed requests (method, request target, header
// lines, body, known or unknown length) through an Ingress serving
// fuzzIngressSpecs.
//
// The Ingress must never panic; it answers only with the statuses its
// documentation lists (200, 202 declared by a respondWith, 400 and 500 for
// a handshake it refuses to answer, 401, 404, 405, 413); never quotes a
// secret; answers errors in JSON and delivers
// nothing for them; and for an accepted request delivers to exactly the
// triggers its answer lists.
func FuzzIngress(f *testing.F) {
	sign := func(body string, s signer.Scheme, key string, header string) string {
		p, err := signer.Sign(s, signer.Keys(key), signer.Payload{Body: []byte(body), Header: http.Header{}}, signer.At(t0))
		if err != nil {
			f.Fatal(err)
		}
		var lines []string
		for k, vs := range p.Header {
			for _, v := range vs {
				lines = append(lines, k+": "+v)
			}
		}
		slices.Sort(lines)
		if header != "" {
			lines = append(lines, header)
		}
		return strings.Join(lines, "\n")
	}
	issue := `{"action":"opened","issue":{"number":3}}`
	zoom := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event":"endpoint.url_validation"}`
	f.Add("POST", "/hooks/gh?tenant=acme", sign(issue, signer.GitHub(), "fuzz-gh-SECRET", "X-GitHub-Event: issues"), []byte(issue), false)
	f.Add("POST", "/hooks/gh", sign(issue, signer.GitHub(), "wrong", "X-GitHub-Event: issues"), []byte(issue), true)
	f.Add("POST", "/hooks/gh", "X-GitHub-Event: ping\nX-GitHub-Delivery: d-1", []byte(`{"zen":"x"}`), false)
	f.Add("POST", "/hooks/zoom", sign(zoom, signer.Zoom(), "fuzz-zoom-OLD", ""), []byte(zoom), false)
	f.Add("POST", "/hooks/zoom", sign(`{"event":"meeting.started"}`, signer.Zoom(), "fuzz-zoom-SECRET", ""), []byte(`{"event":"meeting.started"}`), false)
	f.Add("GET", "/hooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=fuzz-token&x=%22", "", []byte(nil), false)
	f.Add("PUT", "/hooks/open", "Content-Type: text/plain", []byte("not json"), true)
	f.Add("POST", "/hooks/open", "", []byte(`{"status":"accepted"}`), false)
	f.Add("TRACE", "/hooks/gh", "", []byte(strings.Repeat("x", 600)), false)
	f.Add("POST", "/hooks/open", "", []byte(strings.Repeat("x", 65)), true)
	f.Add("POST", "/hooks/", "", []byte("{}"), false)
	f.Add("DELETE", "/hooks/nope/x?y", "Host: other", []byte("{}"), false)

	specs, err := sim.ParseSpecs("fuzz.yaml", []byte(fuzzIngressSpecs))
	if err != nil {
		f.Fatal(err)
	}
	triggersOf := map[string][]string{}
	for _, s := range specs {
		for _, tr := range s.Triggers {
			triggersOf[s.ID] = append(triggersOf[s.ID], tr.ID)
		}
	}
	// 400 and 500: a Zoom plainToken that is not an opaque token, which
	// hmac refuses (errRequestInput, 400 once the respond stage tells it
	// from other render errors, 500 before).
	allowed := map[int]bool{200: true, 202: true, 400: true, 401: true, 404: true, 405: true, 413: true, 500: true}

	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte, unknownLength bool) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return // no server would hand such a target to a handler
		}
		r := &http.Request{
			Method: method, URL: u, RequestURI: target, Host: "hooks.example.com",
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		if unknownLength {
			r.ContentLength = -1
		}
		for _, line := range strings.Split(headers, "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok {
				r.Header.Add(name, strings.TrimSpace(value))
			}
		}
		rec := &sim.Recorder{}
		in, err := sim.NewIngress(sim.Config{Now: fixedNow, Recorder: rec}, specs...)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		w := httptest.NewRecorder()
		in.ServeHTTP(w, r)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := in.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}

		out := w.Body.String()
		where := method + " " + target
		if (w.Code == 400 || w.Code == 500) && u.Path != sim.PathPrefix+"zoom" {
			t.Fatalf("%s: status %d (body %q), want 400 or 500 only for the zoom handshake", where, w.Code, out)
		}
		if !allowed[w.Code] {
			t.Fatalf("%s: status %d (body %q), want one of 200, 202, 400, 401, 404, 405, 413, 500", where, w.Code, out)
		}
		for _, s := range fuzzSecrets {
			if strings.Contains(out, s) {
				t.Fatalf("%s: the answer quotes a secret: %q", where, out)
			}
		}
		isJSON := w.Header().Get("Content-Type") == "application/json; charset=utf-8"
		if w.Code >= 400 {
			var e struct{ Error string }
			if !isJSON || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%s: %d with a body that is not a JSON error: %q", where, w.Code, out)
			}
			if n := rec.Len(); n != 0 {
				t.Fatalf("%s: %d and %d deliveries", where, w.Code, n)
			}
			return
		}
		if !isJSON {
			return // a declared respondWith answer
		}
		var ok struct {
			OK        bool     `json:"ok"`
			Endpoint  string   `json:"endpoint"`
			Triggered []string `json:"triggered"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ok); err != nil || !ok.OK || ok.Triggered == nil {
			t.Fatalf("%s: 200 with %q, want {\"ok\":true,…,\"triggered\":[…]}", where, out)
		}
		if got := strings.TrimPrefix(u.Path, sim.PathPrefix); ok.Endpoint != got {
			t.Fatalf("%s: answered for endpoint %q, want %q", where, ok.Endpoint, got)
		}
		var delivered []string
		for _, d := range rec.Deliveries() {
			delivered = append(delivered, d.Trigger)
			if d.Endpoint != ok.Endpoint || !bytes.Equal(d.Request.Body, body) {
				t.Fatalf("%s: delivery %s/%s does not carry the request's body", where, d.Endpoint, d.Trigger)
			}
		}
		for _, id := range ok.Triggered {
			if !slices.Contains(triggersOf[ok.Endpoint], id) {
				t.Fatalf("%s: triggered %q, not a trigger of %s", where, id, ok.Endpoint)
			}
		}
		slices.Sort(delivered)
		want := slices.Clone(ok.Triggered)
		slices.Sort(want)
		if !slices.Equal(delivered, want) {
			t.Fatalf("%s: delivered to %v, answered %v", where, delivered, ok.Triggered)
		}
	})
}
