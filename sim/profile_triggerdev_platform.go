package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/internal/whatwg"
	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// This file holds what the triggerdev-v2 profile computes, as plain
// functions over a request: the request as Trigger.dev's platform sees it
// (Node's http server, express, Remix), the SDK's rebuilt requests, the
// respondWith handler's response, the event, the dispatchers' matching
// and each run's verification. profile_triggerdev.go composes them into
// stages. Each function names the source it reproduces; the reference is
// shared/reference/triggerdev-v2.md §3–§5 and the adapter
// interop/triggerdev-ingress.mjs, which runs the published packages.

// tdMaxBody is the profile's safety cap on a request body. The platform
// has no limit; past this the profile answers 413 with an empty body.
const tdMaxBody = 1 << 30

// tdMaxEventIDs bounds the event ids an endpoint remembers for
// de-duplication; the oldest is forgotten first.
const tdMaxEventIDs = 100000

// tdGetHeadBody is the Fetch Request constructor's message for a GET or
// HEAD request with a body: the reason a GET or HEAD run fails.
const tdGetHeadBody = "Request with GET/HEAD method cannot have body."

// tdSTS is the Strict-Transport-Security value the platform's express
// middleware sets on every response.
const tdSTS = "max-age=3153600000"

// tdMethods are the methods the platform's Remix route serves: GET and
// HEAD (loader), POST, PUT, PATCH and DELETE (action). Others get 405.
var tdMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// nodeSingleHeaders are the headers whose repeats Node's IncomingMessage
// discards, keeping the first (lib/_http_incoming.js matchKnownFields).
var nodeSingleHeaders = map[string]bool{
	"age": true, "authorization": true, "content-length": true, "content-type": true, "etag": true,
	"expires": true, "from": true, "host": true, "if-modified-since": true, "if-unmodified-since": true,
	"last-modified": true, "location": true, "max-forwards": true, "proxy-authorization": true,
	"referer": true, "retry-after": true, "server": true, "user-agent": true,
}

// tdHeaders returns the request's headers as the platform holds them:
// Object.fromEntries(new Headers(req.headers)) over Node's req.headers.
// Names are lower-case; a repeated header is joined with ", " (cookie
// with "; "), except that set-cookie keeps its last value and the headers
// of nodeSingleHeaders their first. Values are Node's latin1 reading of
// the bytes, with HTTP whitespace trimmed. Host and Transfer-Encoding,
// which Go keeps outside r.Header, are put back.
func tdHeaders(r *http.Request) map[string]string {
	h := make(map[string]string, len(r.Header)+2)
	for name, vs := range r.Header {
		if len(vs) == 0 {
			continue
		}
		k := strings.ToLower(name)
		var v string
		switch {
		case nodeSingleHeaders[k]:
			v = vs[0]
		case k == "set-cookie":
			v = vs[len(vs)-1]
		case k == "cookie":
			v = strings.Join(vs, "; ")
		default:
			v = strings.Join(vs, ", ")
		}
		if old, ok := h[k]; ok && !nodeSingleHeaders[k] { // names Go did not canonicalise alike
			v = old + ", " + v
		}
		h[k] = latin1(strings.Trim(v, " \t\r\n"))
	}
	if r.Host != "" {
		h["host"] = latin1(r.Host)
	}
	if len(r.TransferEncoding) > 0 {
		h["transfer-encoding"] = strings.Join(r.TransferEncoding, ", ")
	}
	return h
}

// latin1 reads each byte of s as the code point of the same value, as
// Node reads header bytes, and returns the result as UTF-8.
func latin1(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// tdURL is new URL("http://" + host + target).href, for the request
// targets an HTTP/1.1 server receives: the host lower-cased and its
// default port dropped; in the path "\" becomes "/", dot segments
// ("." "..", "%2e" in any case) are resolved and the path percent-encode
// set is escaped; in the query the special-query percent-encode set is.
func tdURL(scheme, host, target string) string {
	host = strings.ToLower(host)
	if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	} else {
		host = strings.TrimSuffix(host, ":443")
	}
	target = strings.Trim(target, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	target = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(target)
	path, query, hasQuery := strings.Cut(target, "?")
	var fragment string
	hasFragment := false
	if hasQuery {
		query, fragment, hasFragment = strings.Cut(query, "#")
	} else {
		path, fragment, hasFragment = strings.Cut(path, "#")
	}
	var b strings.Builder
	b.WriteString(scheme + "://" + host)
	b.WriteString(tdPath(path))
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(percentEncode(query, "\"#<>' "))
	}
	if hasFragment {
		b.WriteByte('#')
		b.WriteString(percentEncode(fragment, "\"<>` "))
	}
	return b.String()
}

// tdPath resolves and escapes a URL path as the WHATWG URL parser does for
// a special scheme.
func tdPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	p = strings.TrimPrefix(p, "/")
	segs := strings.Split(p, "/")
	var out []string
	for i, s := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(s) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, percentEncode(s, "\"#<>?`{} "))
		}
	}
	return "/" + strings.Join(out, "/")
}

// percentEncode escapes C0 controls, bytes over 0x7E and the bytes of set
// as %XX (upper-case hex), leaving existing escapes as they are.
func percentEncode(s, set string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || strings.IndexByte(set, c) >= 0 {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// tdRequest is a request in one of the forms Trigger.dev v2 handles.
type tdRequest struct {
	Method  string
	URL     string
	Headers map[string]string // lower-case names, one value each
	Body    []byte            // nil: no body
}

// httpHeader returns the headers as an http.Header, one value each.
func (q tdRequest) httpHeader() http.Header {
	h := make(http.Header, len(q.Headers))
	for k, v := range q.Headers {
		h[http.CanonicalHeaderKey(k)] = []string{v}
	}
	return h
}

// matcherRequest is q as a RequestFilter reads it.
func (q tdRequest) matcherRequest() matcher.Request {
	return matcher.Request{Method: q.Method, URL: q.URL, Header: q.httpHeader(), Body: q.Body}
}

// tdFromMatcher is the inverse of matcherRequest: the headers of r (one
// value each) with lower-case names.
func tdFromMatcher(r matcher.Request) tdRequest {
	h := make(map[string]string, len(r.Header))
	for k, vs := range r.Header {
		if len(vs) > 0 {
			h[strings.ToLower(k)] = vs[0]
		}
	}
	return tdRequest{Method: r.Method, URL: r.URL, Headers: h, Body: r.Body}
}

// tdPlatformRequest is the request as the platform's service receives it
// from Remix: the URL from Host and the request target, Node's headers,
// and no body for GET and HEAD.
func tdPlatformRequest(r *http.Request, body []byte) tdRequest {
	q := tdRequest{Method: r.Method, Headers: tdHeaders(r)}
	host := r.Host
	if host == "" {
		host = "undefined" // Remix's origin `${req.protocol}://${req.get("host")}`
	}
	q.URL = tdURL("http", host, r.RequestURI)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		q.Body = body
		if q.Body == nil {
			q.Body = []byte{}
		}
	}
	return q
}

// eventURL is the platform's requestUrl(): the URL with its scheme made
// https when x-forwarded-proto is exactly "https".
func (q tdRequest) eventURL() string {
	if q.Headers["x-forwarded-proto"] == "https" {
		if rest, ok := strings.CutPrefix(q.URL, "http://"); ok {
			return "https://" + rest
		}
	}
	return q.URL
}

// errTDHandler is a throw on the immediate-response path, which the
// platform's route answers 500 with an empty body.
var errTDHandler = errors.New("triggerdev: respondWith handler threw")

// tdImmediate is the respondWith path (platform step 7 and the SDK's
// DELIVER_HTTP_ENDPOINT_REQUEST_FOR_RESPONSE): the handler, the spec's
// declared response, rendered against the SDK's rebuilt request and
// passed through new Response twice. An error means a throw (500).
func tdImmediate(render func(matcher.Request) (*stage.Response, error), p tdRequest) (*stage.Response, error) {
	if p.Method == http.MethodHead {
		// The SDK rebuilds HEAD with the platform's body stream.
		return nil, errTDHandler
	}
	sdk := tdRequest{Method: p.Method, URL: p.eventURL(), Headers: p.Headers}
	if p.Method != http.MethodGet {
		sdk.Body = p.Body
	}
	d, err := render(sdk.matcherRequest())
	if err != nil {
		return nil, errTDHandler
	}
	// new Response(text, {status, headers}) in the handler.
	if d.Status < 200 || d.Status > 599 || d.Status == 204 || d.Status == 205 || d.Status == 304 {
		return nil, errTDHandler
	}
	out := &stage.Response{Status: d.Status, Header: http.Header{}}
	names := make([]string, 0, len(d.Header))
	for name := range d.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !validToken(name) {
			return nil, errTDHandler
		}
		for _, v := range d.Header[name] {
			b, ok := fetchHeaderValue(v)
			if !ok {
				return nil, errTDHandler
			}
			if len(out.Header.Values(name)) > 0 {
				b = out.Header.Get(name) + ", " + b
			}
			out.Header.Set(name, b)
		}
	}
	if len(out.Header.Values("Content-Type")) == 0 {
		out.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	out.Body = whatwg.BodyText(d.Body)
	return out, nil
}

// fetchHeaderValue is a rendered header value as Headers takes it: read as
// UTF-8 (invalid bytes replaced), every code point at most U+00FF, HTTP
// whitespace trimmed, no NUL, CR or LF; it returns the latin1 bytes Node
// writes.
func fetchHeaderValue(v string) (string, bool) {
	s := string(whatwg.DecodeUTF8([]byte(v)))
	s = strings.Trim(s, " \t\r\n")
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff || r == 0 || r == '\r' || r == '\n' {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// tdEvent is the event the platform stores for a request (§4.1).
type tdEvent struct {
	URL     string
	Method  string
	Headers map[string]string
	RawBody string
	// ID is the idempotency-key or x-request-id header; HasID says one was
	// sent (an empty value counts).
	ID    string
	HasID bool
}

// tdNewEvent builds the event of a platform request.
func tdNewEvent(p tdRequest) tdEvent {
	ev := tdEvent{URL: p.eventURL(), Method: p.Method, Headers: p.Headers, RawBody: string(whatwg.BodyText(p.Body))}
	if v, ok := p.Headers["idempotency-key"]; ok {
		ev.ID, ev.HasID = v, true
	} else if v, ok := p.Headers["x-request-id"]; ok {
		ev.ID, ev.HasID = v, true
	}
	return ev
}

// tdEventIDs remembers an endpoint's event ids, at most tdMaxEventIDs;
// it is safe for concurrent use.
type tdEventIDs struct {
	mu    sync.Mutex
	seen  map[string]bool
	order []string
}

// first records id and reports whether it is new.
func (s *tdEventIDs) first(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if s.seen[id] {
		return false
	}
	s.seen[id] = true
	s.order = append(s.order, id)
	if len(s.order) > tdMaxEventIDs {
		delete(s.seen, s.order[0])
		s.order = s.order[1:]
	}
	return true
}

// tdDispatcher is one trigger's dispatcher: its filter as the platform
// stores it, an EventFilter (onRequest's filter ?? {}).
type tdDispatcher struct {
	filter *matcher.EventFilter
	empty  bool // the filter has no keys
}

// newTDDispatcher compiles a trigger filter as the dispatcher's
// EventFilter, with the schema's narrowing (matcher.Compat).
func newTDDispatcher(raw json.RawMessage) (tdDispatcher, error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		t = "{}"
	}
	f, err := matcher.ParseEventFilter([]byte(t), matcher.Compat())
	if err != nil {
		return tdDispatcher{}, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(t), &keys); err != nil {
		return tdDispatcher{}, err
	}
	return tdDispatcher{filter: f, empty: len(keys) == 0}, nil
}

// tdMatch is EventMatcher.matches over every dispatcher, in order: the
// indexes of those that match. A JSON content type whose body does not
// parse matches none (the delivery transaction throws).
func tdMatch(ds []tdDispatcher, ev tdEvent) []int {
	if len(ds) == 0 {
		return nil
	}
	var payload []byte
	if strings.Contains(ev.Headers["content-type"], "application/json") {
		if !json.Valid([]byte(ev.RawBody)) {
			return nil
		}
		payload = tdPayloadJSON(ev)
	}
	var out []int
	for i, d := range ds {
		ok := d.empty
		if payload != nil {
			m, err := d.filter.MatchJSON(payload)
			ok = err == nil && m
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}

// tdPayloadJSON is {url, method, headers, body} with the body's JSON text
// spliced in as it is, so that numbers and duplicate keys read as
// JSON.parse reads them.
func tdPayloadJSON(ev tdEvent) []byte {
	b := make([]byte, 0, len(ev.RawBody)+256)
	b = append(b, `{"url":`...)
	u, _ := json.Marshal(ev.URL)
	b = append(b, u...)
	b = append(b, `,"method":`...)
	m, _ := json.Marshal(ev.Method)
	b = append(b, m...)
	b = append(b, `,"headers":`...)
	h, _ := json.Marshal(ev.Headers)
	b = append(b, h...)
	b = append(b, `,"body":`...)
	b = append(b, ev.RawBody...)
	return append(b, '}')
}

// tdRun is the start of one run in the SDK: the request it rebuilds from
// the event (new Request(url, {method, headers, body: rawBody}); Fetch
// adds content-type text/plain;charset=UTF-8 to a string body that has
// none), or for GET and HEAD the constructor's throw, which fails the run
// before verification: then the request is the event's, with no body.
func tdRun(ev tdEvent) (req tdRequest, failed string) {
	h := make(map[string]string, len(ev.Headers)+1)
	for k, v := range ev.Headers {
		h[k] = v
	}
	req = tdRequest{Method: ev.Method, URL: ev.URL, Headers: h, Body: []byte{}}
	if ev.Method == http.MethodGet || ev.Method == http.MethodHead {
		return req, tdGetHeadBody
	}
	if _, ok := h["content-type"]; !ok {
		h["content-type"] = "text/plain;charset=UTF-8"
	}
	req.Body = []byte(ev.RawBody)
	return req, ""
}

// delivered is the run's request as its delivery carries it: lower-case
// names, one value each.
func (q tdRequest) delivered() matcher.Request {
	h := make(http.Header, len(q.Headers))
	for k, v := range q.Headers {
		h[k] = []string{v}
	}
	return matcher.Request{Method: q.Method, URL: q.URL, Header: h, Body: q.Body}
}

// sdkReason is a reason of verifyRequestSignature's VerifyResult, as an
// error: the SDK's text exactly, capital letter included.
type sdkReason string

func (r sdkReason) Error() string { return string(r) }

// The reasons verifyRequestSignature gives.
const (
	errTDMissingHeader sdkReason = "Missing header"
	errTDFailed        sdkReason = "Failed sha256 verification"
)

// tdSDKVerify is verifyRequestSignature (@trigger.dev/sdk 2.3.19) with each
// secret in turn, newest first: the header looked up by name (the run's
// request has one value per name), missing or empty → "Missing header";
// the HMAC-SHA256 of the body in the scheme's encoding, compared with
// plain string equality to the header value with its first "hmac-sha256="
// and then its first "sha256=" removed, wherever they are → "Failed
// sha256 verification".
func tdSDKVerify(s signer.Scheme, secrets signer.KeySet, p signer.Payload) error {
	v := p.Header.Get(s.Header)
	if v == "" {
		return errTDMissingHeader
	}
	sig := strings.Replace(strings.Replace(v, "hmac-sha256=", "", 1), "sha256=", "", 1)
	for _, k := range secrets {
		m := hmac.New(sha256.New, k.Bytes())
		m.Write(p.Body)
		var digest string
		switch s.Encoding {
		case signer.Base64:
			digest = base64.StdEncoding.EncodeToString(m.Sum(nil))
		case signer.Base64URL:
			digest = base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		default:
			digest = hex.EncodeToString(m.Sum(nil))
		}
		if sig == digest {
			return nil
		}
	}
	return errTDFailed
}

// sdkVerifiable reports whether verifyRequestSignature can check scheme:
// HMAC-SHA256 of the body alone, a raw key, one header holding the bare
// signature (no prefix, "sha256=" or "hmac-sha256="), hex, base64 or
// base64url, and no timestamp or message id.
func sdkVerifiable(s signer.Scheme) bool {
	return s.Algorithm == signer.HMACSHA256 && s.Key == signer.KeyRaw &&
		(s.Message == "" || s.Message == "{body}") && s.Header != "" && len(s.ExtraHeaders) == 0 &&
		s.Syntax.Kind == signer.Bare && (s.Syntax.Prefix == "" || s.Syntax.Prefix == "sha256=" || s.Syntax.Prefix == "hmac-sha256=") &&
		(s.Encoding == "" || s.Encoding == signer.Hex || s.Encoding == signer.Base64 || s.Encoding == signer.Base64URL) &&
		!s.HasTimestamp() && s.IDHeader == "" && s.BodyHashParam == "" && !s.MultipleSignatures
}
