package matcher

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/internal/whatwg"
)

// DefaultMaxBody is the largest body MatchRequest reads, in bytes.
const DefaultMaxBody = 10 << 20

// A Request is a captured HTTP request, as a RequestFilter sees it.
type Request struct {
	Method string
	// URL is the full URL, query included ("https://example.com/hook?a=1");
	// only its query is read.
	URL    string
	Header http.Header
	Body   []byte
}

// A RequestFilter is a compiled Trigger.dev v2 RequestFilter: method,
// headers, query and body, all of which must match (requestFilterMatches).
// It is immutable and safe for concurrent use.
type RequestFilter struct {
	methods []string // nil: any method
	hasMeth bool
	headers *node
	query   *node
	body    *node
	src     string
}

var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// ParseRequestFilter parses and validates a RequestFilter written as JSON,
// like the reference's RequestFilterSchema: "method" is a list of GET,
// POST, PUT, PATCH, DELETE, HEAD or OPTIONS; "headers" and "query" map
// names to a list of strings or of $endsWith, $startsWith and
// $ignoreCaseEquals objects; "body" is an EventFilter. Without Compat an
// unknown key and a header name that is not lower-case are errors (the
// reference drops the one and never matches the other).
func ParseRequestFilter(data []byte, opts ...Option) (*RequestFilter, error) {
	root, err := parseRoot(data)
	if err != nil {
		return nil, err
	}
	p := &parser{o: buildOptions(opts)}
	if !root.IsObject() {
		return nil, p.errorf("", root, "want an object (a RequestFilter), got %s", typeName(root))
	}
	f := &RequestFilter{src: string(bytes.TrimSpace(data))}
	keys, vals := members(root)
	for i, k := range keys {
		v := vals[i]
		switch k.Str {
		case "method":
			if !v.IsArray() {
				return nil, p.errorf("method", v, "want a list of HTTP methods, got %s", typeName(v))
			}
			f.hasMeth = true
			f.methods = []string{}
			for j, m := range v.Array() {
				ok := m.Type == gjson.String
				if ok {
					ok = false
					for _, hm := range httpMethods {
						ok = ok || m.Str == hm
					}
				}
				if !ok {
					return nil, p.errorf("method["+strconv.Itoa(j)+"]", m, "%s is not one of %s (upper-case)", m.Raw, strings.Join(httpMethods, ", "))
				}
				f.methods = append(f.methods, m.Str)
			}
		case "headers", "query":
			n, err := p.stringMatches(v, k.Str)
			if err != nil {
				return nil, err
			}
			if k.Str == "headers" {
				f.headers = n
			} else {
				f.query = n
			}
		case "body":
			n, err := p.node(v, "body")
			if err != nil {
				return nil, err
			}
			f.body = n
		default:
			if !p.o.compat {
				hint := ""
				if k.Str == "header" {
					hint = " (did you mean \"headers\"?)"
				}
				return nil, p.errorf(k.Str, k, "unknown request filter key%s: want method, headers, query or body (the reference drops it silently; use the Compat option (--compat) to do the same)", hint)
			}
		}
	}
	return f, nil
}

// stringMatches compiles a headers or query record of StringMatch lists.
func (p *parser) stringMatches(obj gjson.Result, path string) (*node, error) {
	if !obj.IsObject() {
		return nil, p.errorf(path, obj, "want an object of name: [matches], got %s", typeName(obj))
	}
	keys, vals := members(obj)
	n := &node{}
	for i, k := range keys {
		v := vals[i]
		kp := join(path, k.Str)
		if path == "headers" && !p.o.compat && k.Str != strings.ToLower(k.Str) {
			return nil, p.errorf(kp, k, "header names must be lower-case: the reference lower-cases the request's names, so %q never matches (write %q)", k.Str, strings.ToLower(k.Str))
		}
		if !v.IsArray() {
			return nil, p.errorf(kp, v, "want a list of strings or of $endsWith, $startsWith, $ignoreCaseEquals objects, got %s", typeName(v))
		}
		items := v.Array()
		if len(items) > 0 && !items[0].IsObject() && items[0].Type != gjson.String {
			return nil, p.errorf(kp+"[0]", items[0], "want a string or a $endsWith, $startsWith or $ignoreCaseEquals object, got %s", typeName(items[0]))
		}
		e, err := p.list(v, kp)
		if err != nil {
			return nil, err
		}
		for j, o := range e.ops {
			if o.kind > opIgnoreCaseEquals {
				if !p.o.compat {
					return nil, p.errorf(kp+"["+strconv.Itoa(j)+"]", items[j], "%s is not allowed here: a %s match takes $endsWith, $startsWith or $ignoreCaseEquals", opNames[o.kind], strings.TrimSuffix(path, "s"))
				}
				return nil, p.errorf(kp+"["+strconv.Itoa(j)+"]", items[j], "no $endsWith, $startsWith or $ignoreCaseEquals operator (the reference schema rejects it)")
			}
		}
		e.key = jsText(k.Str)
		n.entries = append(n.entries, e)
	}
	return n, nil
}

// Match reports whether r matches, as requestFilterMatches does.
func (f *RequestFilter) Match(r Request) bool { return f.match(r, nil, nil) }

// Explain returns why r does not match, or nil when it matches.
func (f *RequestFilter) Explain(r Request) *Explanation {
	ex := &Explanation{}
	if f.match(r, nil, ex) {
		return nil
	}
	return ex
}

// MatchRequest matches a server-side request. It reads the body once (at
// most DefaultMaxBody bytes) and leaves r.Body readable with the same
// bytes for the next handler.
func (f *RequestFilter) MatchRequest(r *http.Request) (bool, error) {
	c, err := CaptureRequest(r, DefaultMaxBody)
	if err != nil {
		return false, err
	}
	return f.Match(c), nil
}

// CaptureRequest reads a server-side request into a Request: the method,
// the URL rebuilt from Host and the request target, the headers with Host
// added back (a Fetch Request has it), and the body (at most max bytes),
// which is put back so the next handler can read it.
func CaptureRequest(r *http.Request, max int64) (Request, error) {
	c := Request{Method: r.Method, Header: r.Header.Clone()}
	if c.Header == nil {
		c.Header = http.Header{}
	}
	if r.Host != "" && c.Header.Get("Host") == "" {
		c.Header.Set("Host", r.Host)
	}
	if r.URL.IsAbs() {
		c.URL = r.URL.String()
	} else {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		c.URL = scheme + "://" + r.Host + r.URL.RequestURI()
	}
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return Request{}, fmt.Errorf("matcher: reading body: %w", err)
		}
		if int64(len(body)) > max {
			return Request{}, fmt.Errorf("matcher: body larger than %d bytes", max)
		}
		c.Body = body
	}
	return c, nil
}

// match matches r, reading the body through s when s is not nil, and
// records every mismatch in ex when ex is not nil (then s is nil).
func (f *RequestFilter) match(r Request, s *Scan, ex *Explanation) bool {
	ok := true
	fail := func() bool {
		ok = false
		return ex == nil
	}
	if f.hasMeth {
		m := fetchMethod(r.Method)
		found := false
		for _, w := range f.methods {
			found = found || w == m
		}
		if !found {
			if ex != nil {
				ex.add("method", "method", jsonList(f.methods), jsonString(m))
			}
			if fail() {
				return false
			}
		}
	}
	if f.headers != nil && !f.matchHeaders(r.Header, ex) {
		if fail() {
			return false
		}
	}
	if f.query != nil && !matchNode(f.query, dval{v: searchParams(r.URL), defined: true}, ex, "query") {
		if fail() {
			return false
		}
	}
	if f.body != nil {
		if s != nil {
			return s.matchBody(r.Body, f.body)
		}
		text := whatwg.BodyText(r.Body)
		if ex == nil {
			// One validating pass that reads only the filter's paths.
			if matched, valid := matchRaw(f.body, text); !valid || !matched {
				return false
			}
		} else if !gjson.ValidBytes(text) {
			if ex != nil {
				ex.add("body", "object", "a JSON body", "a body that is not JSON ("+strconv.Itoa(len(r.Body))+" bytes)")
			}
			if fail() {
				return false
			}
		} else if !matchNode(f.body, rval{gjson.ParseBytes(text)}, ex, "body") {
			if fail() {
				return false
			}
		}
	}
	return ok
}

// matchHeaders matches the headers filter against h as seen through
// fetchHeaders. Without an explanation it reads each filtered name from h
// directly, without building the whole record.
func (f *RequestFilter) matchHeaders(h http.Header, ex *Explanation) bool {
	if ex != nil {
		return matchNode(f.headers, dval{v: fetchHeaders(h), defined: true}, ex, "headers")
	}
	for i := range f.headers.entries {
		e := &f.headers.entries[i]
		v, ok := fetchHeader(h, e.key)
		if !ok {
			return matchNode(f.headers, dval{v: fetchHeaders(h), defined: true}, nil, "headers")
		}
		if !matchEntry(e, v, nil, "headers") {
			return false
		}
	}
	return true
}

// fetchHeader returns fetchHeaders(h)[name] when it can without building
// the record: when exactly one key of h lower-cases to name (or none) and
// every key it compares is ASCII. ok is false otherwise, and the caller
// builds the record.
func fetchHeader(h http.Header, name string) (v hval, ok bool) {
	var vs []string
	found := false
	for k, kvs := range h {
		eq, ascii := asciiLowerEquals(k, name)
		if !ascii {
			return hval{}, false
		}
		if !eq || len(kvs) == 0 { // a name without values is no entry
			continue
		}
		if found {
			return hval{}, false // two spellings: joined in sorted order
		}
		vs, found = kvs, true
	}
	switch {
	case !found:
		return hval{}, true
	case len(vs) == 1 || name == "set-cookie":
		return hval{k: kString, s: latin1(strings.Trim(vs[len(vs)-1], " \t\r\n"))}, true
	}
	parts := make([]string, len(vs))
	for i, s := range vs {
		parts[i] = latin1(strings.Trim(s, " \t\r\n"))
	}
	return hval{k: kString, s: strings.Join(parts, ", ")}, true
}

// asciiLowerEquals reports whether strings.ToLower(k) == name, when k is
// ASCII (ascii is false otherwise, and eq means nothing).
func asciiLowerEquals(k, name string) (eq, ascii bool) {
	eq = len(k) == len(name)
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 0x80 {
			return false, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		eq = eq && c == name[i]
	}
	return eq, true
}

// hval is a header value as a filter reads it: a string, undefined, or a
// property of a string (its "length", one of its UTF-16 units).
type hval struct {
	k kind // kUndefined, kString or kNumber
	s string
	n float64
}

func (v hval) kind() kind      { return v.k }
func (v hval) str() string     { return v.s }
func (v hval) num() float64    { return v.n }
func (v hval) boolean() bool   { return false }
func (v hval) onePass() bool   { return false }
func (v hval) some(*node) bool { return false }

func (v hval) includes(scalar) bool { return false }

func (v hval) get(key string) hval {
	if v.k != kString {
		return hval{}
	}
	return stringProperty(v.s, key, func(x any) hval {
		switch x := x.(type) {
		case string:
			return hval{k: kString, s: x}
		case float64:
			return hval{k: kNumber, n: x}
		}
		return hval{}
	})
}

func (v hval) fields(n *node, out []hval) {
	for i := range n.entries {
		out[i] = v.get(n.entries[i].key)
	}
}

func (v hval) raw() string {
	switch v.k {
	case kString:
		return jsonString(v.s)
	case kNumber:
		return jsNumber(v.n)
	}
	return "undefined"
}

// fetchMethod normalizes a method as the Fetch Request constructor does:
// DELETE, GET, HEAD, OPTIONS, POST and PUT in any case become upper-case;
// anything else (PATCH included) is kept as written.
func fetchMethod(m string) string {
	for _, n := range []string{"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"} {
		if strings.EqualFold(m, n) {
			return n
		}
	}
	return m
}

// fetchHeaders is Object.fromEntries(request.headers.entries()): names
// lower-cased, values trimmed, repeated headers joined with ", ", except
// Set-Cookie, whose last value wins.
func fetchHeaders(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names) // a stable join order when one name is spelt two ways
	for _, k := range names {
		name := strings.ToLower(k)
		for _, v := range h[k] {
			v = latin1(strings.Trim(v, " \t\r\n"))
			if prev, ok := out[name]; ok && name != "set-cookie" {
				out[name] = prev.(string) + ", " + v
			} else {
				out[name] = v
			}
		}
	}
	return out
}

// latin1 reads a header value as Fetch does: a byte string, each byte one
// character U+0000–U+00FF (so UTF-8 "ä" reads as "Ã¤").
func latin1(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			r := make([]rune, len(s))
			for j := 0; j < len(s); j++ {
				r[j] = rune(s[j])
			}
			return string(r)
		}
	}
	return s
}

// searchParams reads a URL's query as new URL(u).searchParams does: the
// URL parser first drops leading and trailing C0 controls and spaces and
// every tab, CR and LF; the last value of a repeated name wins, as the
// reference's loop leaves it.
func searchParams(u string) map[string]any {
	u = strings.TrimFunc(u, func(r rune) bool { return r <= 0x20 })
	q := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, u)
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	out := map[string]any{}
	i := strings.IndexByte(q, '?')
	if i < 0 {
		return out
	}
	for _, p := range whatwg.ParseURLEncoded(q[i+1:]) {
		out[p.Name] = p.Value
	}
	return out
}

func jsonList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = jsonString(s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// String returns the filter as it was given.
func (f *RequestFilter) String() string { return f.src }
