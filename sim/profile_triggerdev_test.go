package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// The expected values below were produced by Node 20 (new URL, Headers,
// Request, Response) and the published @trigger.dev packages; the
// differential test (interop_triggerdev_test.go) checks the same rules end
// to end.

func TestTDURLIsTheWHATWGSerialisation(t *testing.T) {
	tests := []struct {
		host, target, want string
	}{
		{"127.0.0.1:8080", "/hooks/x", "http://127.0.0.1:8080/hooks/x"},
		{"H:80", "/./a/../b/%2e/%2E%2e/c?q", "http://h/c?q"},
		{"h", `/a\b`, "http://h/a/b"},
		{"h", "/a^b|c`d{e}f\"g<h>i[j]k?x='\"<>`{}^|[]\\", "http://h/a^b|c%60d%7Be%7Df%22g%3Ch%3Ei[j]k?x=%27%22%3C%3E`{}^|[]\\"},
		{"h", "/hooks/x?", "http://h/hooks/x?"},
		{"h", "/hooks/x?a#b", "http://h/hooks/x?a#b"},
		{"h", "//hooks//x", "http://h//hooks//x"},
		{"h", "/hooks/x?%zz%41", "http://h/hooks/x?%zz%41"},
		{"h", "/\x7f", "http://h/%7F"},
		{"h", "/x/..", "http://h/"},
		{"h", "/x/.", "http://h/x/"},
	}
	for _, tt := range tests {
		if got := tdURL("http", tt.host, tt.target); got != tt.want {
			t.Errorf("tdURL(http, %q, %q) = %q, want %q", tt.host, tt.target, got, tt.want)
		}
	}
}

func TestTDHeadersJoinAsNodeDoes(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPost, "http://a/x", nil)
	r.Host = "a"
	r.Header = http.Header{
		"Content-Type": {"a", "b"},
		"X-A":          {"1", "2"},
		"Cookie":       {"a=1", "b=2"},
		"Set-Cookie":   {"s=1", "s=2"},
		"User-Agent":   {"u1", "u2"},
		"X-L":          {"caf\xe9"},
		"X-Space":      {" v "},
	}
	r.TransferEncoding = []string{"chunked"}
	want := map[string]string{
		"host": "a", "content-type": "a", "x-a": "1, 2", "cookie": "a=1; b=2", "set-cookie": "s=2",
		"user-agent": "u1", "x-l": "café", "x-space": "v", "transfer-encoding": "chunked",
	}
	if got := tdHeaders(r); !reflect.DeepEqual(got, want) {
		t.Errorf("tdHeaders = %v, want %v", got, want)
	}
}

func TestTDSDKVerifierIsVerifyRequestSignature(t *testing.T) {
	const hexSig = "57ba523f22353bec99883cfefc3d825284fa2b250415486b6fe4bb317c29792e"
	body := []byte(`{"foo":"bar"}`)
	tests := []struct {
		name     string
		encoding signer.Encoding
		values   []string
		want     Verification
	}{
		{"hex", signer.Hex, []string{hexSig}, Verification{Verified: true}},
		{"sha256= prefix", signer.Hex, []string{"sha256=" + hexSig}, Verification{Verified: true}},
		{"hmac-sha256= prefix", signer.Hex, []string{"hmac-sha256=" + hexSig}, Verification{Verified: true}},
		{"prefix anywhere is removed", signer.Hex, []string{hexSig[:10] + "sha256=" + hexSig[10:]}, Verification{Verified: true}},
		{"xsha256= keeps its x", signer.Hex, []string{"xsha256=" + hexSig}, Verification{Reason: "Failed sha256 verification"}},
		{"upper-case prefix", signer.Hex, []string{"SHA256=" + hexSig}, Verification{Reason: "Failed sha256 verification"}},
		{"upper-case hex", signer.Hex, []string{strings.ToUpper(hexSig)}, Verification{Reason: "Failed sha256 verification"}},
		{"missing", signer.Hex, nil, Verification{Reason: "Missing header"}},
		{"empty", signer.Hex, []string{""}, Verification{Reason: "Missing header"}},
		{"repeated header joined", signer.Hex, []string{"sha256=" + hexSig, "sha256=" + hexSig}, Verification{Reason: "Failed sha256 verification"}},
		{"base64", signer.Base64, []string{"V7pSPyI1O+yZiDz+/D2CUoT6KyUEFUhrb+S7MXwpeS4="}, Verification{Verified: true}},
		{"base64url", signer.Base64URL, []string{"V7pSPyI1O-yZiDz-_D2CUoT6KyUEFUhrb-S7MXwpeS4"}, Verification{Verified: true}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			scheme := signer.Scheme{Name: "x", Algorithm: signer.HMACSHA256, Header: "X-Sig", Encoding: tt.encoding}
			p := signer.Payload{Header: http.Header{}, Body: body}
			if tt.values != nil {
				p.Header["X-Sig"] = []string{strings.Join(tt.values, ", ")} // the run's request: one value
			}
			err := tdSDKVerify(scheme, signer.Keys("other", "whsec_test"), p)
			got := Verification{Verified: err == nil}
			if err != nil {
				got.Reason = err.Error()
			}
			if got != tt.want {
				t.Errorf("tdSDKVerify(%q) = %+v, want %+v", tt.values, got, tt.want)
			}
		})
	}
}

func TestTDMatchFollowsTheDispatcher(t *testing.T) {
	jsonEv := tdEvent{URL: "https://h/hooks/x?mode=sub", Method: "POST", RawBody: `{"action":"labeled"}`,
		Headers: map[string]string{"content-type": "application/json; charset=utf-8", "x-github-event": "issues"}}
	formEv := tdEvent{URL: "https://h/hooks/x", Method: "POST", RawBody: "a=1",
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}}
	badJSON := jsonEv
	badJSON.RawBody = `{"action":`
	upperJSON := jsonEv
	upperJSON.Headers = map[string]string{"content-type": "Application/JSON"}
	tests := []struct {
		name   string
		ev     tdEvent
		filter string
		want   bool
	}{
		{"json-empty", jsonEv, `{}`, true},
		{"json-absent", jsonEv, ``, true},
		{"json-method", jsonEv, `{"method":["POST"]}`, true},
		{"json-other-method", jsonEv, `{"method":["GET"]}`, false},
		{"json-body", jsonEv, `{"body":{"action":["labeled"]}}`, true},
		{"json-header", jsonEv, `{"headers":{"x-github-event":["issues"]}}`, true},
		{"json-query-key-never", jsonEv, `{"query":{"mode":["sub"]}}`, false},
		{"json-query-empty", jsonEv, `{"query":{}}`, true},
		{"json-url", jsonEv, `{"url":[{"$endsWith":"mode=sub"}]}`, true},
		{"json-empty-list-skipped", jsonEv, `{"method":[]}`, true},
		{"form-empty", formEv, `{}`, true},
		{"form-method", formEv, `{"method":["POST"]}`, false},
		{"form-rawBody", formEv, `{"rawBody":["a=1"]}`, false},
		{"form-empty-list-is-a-key", formEv, `{"method":[]}`, false},
		{"bad-json-empty-filter", badJSON, `{}`, false},
		{"upper-case-json-is-not-json", upperJSON, `{"method":["POST"]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := newTDDispatcher(json.RawMessage(tt.filter))
			if err != nil {
				t.Fatalf("newTDDispatcher(%s) = %v", tt.filter, err)
			}
			got := len(tdMatch([]tdDispatcher{d}, tt.ev)) == 1
			if got != tt.want {
				t.Errorf("tdMatch(%s, %s %q) = %v, want %v", tt.filter, tt.ev.Headers["content-type"], tt.ev.RawBody, got, tt.want)
			}
		})
	}
}

func TestTDRunRebuildsTheRequestAsTheSDKDoes(t *testing.T) {
	tests := []struct {
		name       string
		ev         tdEvent
		wantCT     []string
		wantFailed string
	}{
		{"no content-type gets text/plain", tdEvent{Method: "PUT", RawBody: "-1", Headers: map[string]string{}}, []string{"text/plain;charset=UTF-8"}, ""},
		{"content-type kept", tdEvent{Method: "POST", RawBody: "", Headers: map[string]string{"content-type": "x/y"}}, []string{"x/y"}, ""},
		{"GET throws", tdEvent{Method: "GET", Headers: map[string]string{}}, nil, tdGetHeadBody},
		{"HEAD throws", tdEvent{Method: "HEAD", Headers: map[string]string{}}, nil, tdGetHeadBody},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			req, failed := tdRun(tt.ev)
			if failed != tt.wantFailed {
				t.Errorf("tdRun failed = %q, want %q", failed, tt.wantFailed)
			}
			var got []string
			if v, ok := req.Headers["content-type"]; ok && failed == "" {
				got = []string{v}
			}
			if !reflect.DeepEqual(got, tt.wantCT) {
				t.Errorf("tdRun content-type = %q, want %q", got, tt.wantCT)
			}
		})
	}
}

func TestTDImmediateIsTheHandlerThroughFetch(t *testing.T) {
	p := tdRequest{Method: "POST", URL: "http://h/hooks/x?hub.challenge=c", Headers: map[string]string{"x-forwarded-proto": "https"}, Body: []byte("\xef\xbb\xbfhi\xff")}
	tests := []struct {
		name     string
		resp     ResponseSpec
		method   string
		wantErr  bool
		wantCT   string
		wantBody string
	}{
		{"default content-type", ResponseSpec{Body: "ok"}, "POST", false, "text/plain;charset=UTF-8", "ok"},
		{"declared content-type", ResponseSpec{Body: "{}", Headers: map[string]string{"Content-Type": " application/json "}}, "POST", false, "application/json", "{}"},
		{"body decoded, BOM stripped", ResponseSpec{Body: "{{rawBody}}"}, "POST", false, "text/plain;charset=UTF-8", "hi\ufffd"},
		{"204 throws", ResponseSpec{Status: 204}, "POST", true, "", ""},
		{"101 throws", ResponseSpec{Status: 101}, "POST", true, "", ""},
		{"HEAD throws", ResponseSpec{Body: "x"}, "HEAD", true, "", ""},
		{"header over latin1 throws", ResponseSpec{Headers: map[string]string{"X-A": "\u2028"}}, "POST", true, "", ""},
		{"hmac without a secret throws", ResponseSpec{Body: `{{hmac "sha256" "x"}}`}, "POST", true, "", ""},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			rs, err := newResponder(&RespondWithSpec{Filter: json.RawMessage(`{}`), Response: tt.resp}, nil)
			if err != nil {
				t.Fatalf("newResponder = %v", err)
			}
			q := p
			q.Method = tt.method
			render := func(r matcher.Request) (*stage.Response, error) {
				d, err := rs.render(r)
				if err != nil {
					return nil, err
				}
				return &stage.Response{Status: d.status, Header: d.header, Body: d.body}, nil
			}
			d, err := tdImmediate(render, q)
			if (err != nil) != tt.wantErr {
				t.Fatalf("tdImmediate error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := d.Header.Get("Content-Type"); got != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantCT)
			}
			if string(d.Body) != tt.wantBody {
				t.Errorf("body = %q, want %q", d.Body, tt.wantBody)
			}
		})
	}
}

func TestTDEventIDsForgetTheOldestPastTheBound(t *testing.T) {
	var ids tdEventIDs
	if !ids.first("a") || ids.first("a") {
		t.Fatalf("first(a) twice = new, new; want new, then seen")
	}
	for i := range tdMaxEventIDs {
		ids.first(string(rune(0x10000 + i)))
	}
	if len(ids.seen) != tdMaxEventIDs {
		t.Errorf("ids kept = %d, want %d", len(ids.seen), tdMaxEventIDs)
	}
	if !ids.first("a") {
		t.Errorf("first(a) after %d newer ids = seen, want new (forgotten)", tdMaxEventIDs)
	}
}

func FuzzTDURL(f *testing.F) {
	f.Add("127.0.0.1:8080", "/hooks/x?a=1")
	f.Add("h", "/./a/../%2e%2E/b\\c?q='\"#frag")
	f.Fuzz(func(t *testing.T, host, target string) {
		u := tdURL("http", host, target)
		if !strings.HasPrefix(u, "http://") {
			t.Fatalf("tdURL(%q, %q) = %q, want an http:// URL", host, target, u)
		}
		rest := u[len("http://"+strings.TrimSuffix(strings.ToLower(host), ":80")):]
		for i := 0; i < len(rest); i++ {
			if c := rest[i]; c <= ' ' || c > '~' {
				t.Fatalf("tdURL(%q, %q) = %q: byte %#x at %d is not escaped", host, target, u, c, i)
			}
		}
	})
}

// TestTriggerDevV2Ingress serves requests through the profile's stages and
// checks the answer and the deliveries of each quirk.
func TestTriggerDevV2Ingress(t *testing.T) {
	const secret = "whsec_test"
	spec := EndpointSpec{ID: "gh", Triggers: []TriggerSpec{{ID: "all"}, {ID: "opened", Filter: json.RawMessage(`{"body":{"action":["opened"]}}`)}}}
	signed := spec
	signed.ID = "signed"
	signed.Verify = &VerifySpec{Preset: "github", Secrets: signer.Keys(secret)}
	const goodSig = "sha256=57ba523f22353bec99883cfefc3d825284fa2b250415486b6fe4bb317c29792e" // of {"foo":"bar"}
	tests := []struct {
		name        string
		method, url string
		header      http.Header
		body        string
		status      int
		want        []Verification // one per delivery, in trigger order
		wantCT      string         // the delivered content-type
	}{
		{"bad signature is answered 200, its runs fail", "POST", "/hooks/signed", http.Header{"Content-Type": {"application/json"}, "X-Hub-Signature-256": {"sha256=00"}},
			`{"foo":"bar"}`, 200, []Verification{{Reason: "Failed sha256 verification"}}, "application/json"},
		{"good signature", "POST", "/hooks/signed", http.Header{"Content-Type": {"application/json"}, "X-Hub-Signature-256": {goodSig}},
			`{"foo":"bar"}`, 200, []Verification{{Verified: true}}, "application/json"},
		{"GET runs fail without verify too", "GET", "/hooks/gh", nil, "", 200, []Verification{{Reason: tdGetHeadBody}}, ""},
		{"no content-type gets Fetch's", "PUT", "/hooks/gh", nil, "-1", 200, []Verification{{}}, "text/plain;charset=UTF-8"},
		{"JSON that does not parse wakes nothing", "POST", "/hooks/gh", http.Header{"Content-Type": {"application/json"}}, `{"action":`, 200, nil, ""},
		{"a JSON body wakes its filter", "POST", "/hooks/gh", http.Header{"Content-Type": {"application/json"}}, `{"action":"opened"}`, 200, []Verification{{}, {}}, "application/json"},
		{"Application/JSON is not JSON", "POST", "/hooks/gh", http.Header{"Content-Type": {"Application/JSON"}}, `{"action":"opened"}`, 200, []Verification{{}}, "Application/JSON"},
		{"OPTIONS is 405", "OPTIONS", "/hooks/gh", nil, "", 405, nil, ""},
		{"unknown endpoint", "POST", "/hooks/nope", nil, "", 404, nil, ""},
		{"trailing slash redirects", "POST", "/hooks/gh/?a=1", nil, "", 301, nil, ""},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			var rec Recorder
			in, err := NewIngress(Config{Profile: TriggerDevV2, Recorder: &rec}, spec, signed)
			if err != nil {
				t.Fatalf("NewIngress = %v", err)
			}
			defer in.Close()
			req := httptest.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			w := httptest.NewRecorder()
			in.ServeHTTP(w, req)
			in.Flush(t.Context())
			if w.Code != tt.status {
				t.Errorf("%s %s status = %d, want %d", tt.method, tt.url, w.Code, tt.status)
			}
			if tt.status == 200 && w.Body.Len() != 0 {
				t.Errorf("%s %s body = %q, want empty", tt.method, tt.url, w.Body)
			}
			ds := rec.Deliveries()
			sort.Slice(ds, func(i, j int) bool { return ds[i].Trigger < ds[j].Trigger })
			var got []Verification
			for _, d := range ds {
				got = append(got, d.Verification)
				if ct := strings.Join(d.Request.Header["content-type"], ","); ct != tt.wantCT {
					t.Errorf("delivery to %s: content-type = %q, want %q", d.Trigger, ct, tt.wantCT)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("deliveries' verifications = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestTriggerDevV2RepeatedIdempotencyKeyStartsNoRuns sends one key twice
// and another once.
func TestTriggerDevV2RepeatedIdempotencyKeyStartsNoRuns(t *testing.T) {
	var rec Recorder
	in, err := NewIngress(Config{Profile: TriggerDevV2, Recorder: &rec}, EndpointSpec{ID: "x", Triggers: []TriggerSpec{{ID: "all"}}})
	if err != nil {
		t.Fatalf("NewIngress = %v", err)
	}
	defer in.Close()
	for _, key := range []string{"k1", "k1", "k2", ""} {
		req := httptest.NewRequest("POST", "/hooks/x", strings.NewReader("{}"))
		req.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		in.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Errorf("POST with idempotency-key %q = %d, want 200", key, w.Code)
		}
	}
	in.Flush(t.Context())
	if n := rec.Len(); n != 3 {
		t.Errorf("deliveries for keys k1, k1, k2, \"\" = %d, want 3", n)
	}
}

func TestTDPlatformRequestWithoutHostIsUndefined(t *testing.T) {
	r := httptest.NewRequest("POST", "/hooks/x?a=1", nil)
	r.Host = "" // HTTP/1.0 without Host
	if got, want := tdPlatformRequest(r, nil).URL, "http://undefined/hooks/x?a=1"; got != want {
		t.Errorf("tdPlatformRequest(no Host).URL = %q, want %q", got, want)
	}
}

// BenchmarkTriggerDevV2 measures the triggerdev-v2 profile on one signed
// 1 KiB JSON request with two filtered triggers (one matches; its delivery
// goes to a Recorder), against the strict profile on the same request in
// the same run: compare the two with benchstat.
func BenchmarkTriggerDevV2(b *testing.B) {
	const secret = "bench-secret"
	body := []byte(`{"action":"opened","number":42,"pull_request":{"draft":false,"title":"` + strings.Repeat("x", 900) + `"}}`)
	spec := EndpointSpec{
		ID:     "gh",
		Verify: &VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
		Triggers: []TriggerSpec{
			{ID: "opened", Filter: json.RawMessage(`{"headers":{"x-github-event":["pull_request"]},"body":{"action":["opened"]}}`)},
			{ID: "closed", Filter: json.RawMessage(`{"body":{"action":["closed"]}}`)},
		},
	}
	p, err := signer.Sign(signer.GitHub(), signer.Keys(secret), signer.Payload{
		URL: "http://example.com/hooks/gh", Body: body,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"pull_request"}}})
	if err != nil {
		b.Fatal(err)
	}
	for _, profile := range []Profile{Strict, TriggerDevV2} {
		b.Run(string(profile), func(b *testing.B) {
			var rec Recorder
			in, err := NewIngress(Config{Profile: profile, Recorder: &rec}, spec)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "http://example.com/hooks/gh", strings.NewReader(string(body)))
				r.Header = p.Header.Clone()
				w := httptest.NewRecorder()
				in.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			in.Flush(b.Context())
			if rec.Len() == 0 {
				b.Fatal("no delivery recorded")
			}
		})
	}
}
