package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// responder is a compiled RespondWithSpec.
type responder struct {
	filter  *matcher.RequestFilter
	skip    bool
	status  int
	headers []headerTemplate
	body    *template.Template
	key     signer.Secret
}

type headerTemplate struct {
	name string
	tmpl *template.Template
}

// The bounds of a rendered response. A response template is written by
// whoever can create an endpoint and fed by whoever can reach it, so its
// output, and the work done to produce it, are bounded.
const (
	// maxResponseBody is the largest rendered body, in bytes.
	maxResponseBody = 1 << 20
	// maxResponseHeaders is the most bytes the templated header values of
	// one response may have together: well within the 16 KiB that Node's
	// HTTP parser accepts by default for a whole header section.
	maxResponseHeaders = 8 << 10
	// maxTemplateWork is the most bytes the template functions may read
	// or produce while rendering one response (a body path scanned, a
	// value returned, a value quoted), whether or not it is written.
	maxTemplateWork = 16 << 20
	// maxTemplateSteps bounds the actions a template may execute,
	// counted when the spec is compiled: every action once, times the
	// counts of the ranges around it.
	maxTemplateSteps = 10_000
	// maxToken is the longest value hmac signs.
	maxToken = 256
)

// errResponseTooLarge is wrapped by a render error when the response, or
// the work of producing it, passes a bound: the ingress answers 500.
var errResponseTooLarge = errors.New("response too large")

// errRequestInput is wrapped by a render error when a value taken from
// the request is refused (hmac of anything but an opaque token): the
// ingress answers 400.
var errRequestInput = errors.New("request input refused")

// templateFuncs are the functions a response template may call: the
// request's, and the few builtins that cost next to nothing. The other
// builtins (printf, html, eq, index …) are refused when the spec is
// compiled, as are define, template and block.
var templateFuncs = []string{"query", "header", "body", "hmac", "json", "method", "rawBody", "and", "or", "not", "len"}

// stubFuncs lets templates parse; execution swaps in the request's.
var stubFuncs = template.FuncMap{
	"query":   func(string) (string, error) { return "", nil },
	"header":  func(string) (string, error) { return "", nil },
	"body":    func(string) (string, error) { return "", nil },
	"hmac":    func(string, string) (string, error) { return "", nil },
	"json":    func(any) (string, error) { return "", nil },
	"method":  func() string { return "" },
	"rawBody": func() (string, error) { return "", nil },
}

func newResponder(r *RespondWithSpec, v *VerifySpec) (*responder, error) {
	raw := bytes.TrimSpace(r.Filter)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, specErrorf("respondWith.filter", "missing: without a filter Trigger.dev never calls the handler")
	}
	f, err := matcher.ParseRequestFilter(raw)
	if err != nil {
		return nil, filterError("respondWith.filter", err)
	}
	rs := &responder{filter: f, skip: r.SkipTriggering, status: r.Response.Status}
	if rs.status == 0 {
		rs.status = http.StatusOK
	}
	if rs.status < 100 || rs.status > 599 {
		return nil, specErrorf("respondWith.response.status", "%d is not an HTTP status", rs.status)
	}
	if v != nil && len(v.Secrets) > 0 {
		rs.key = v.Secrets[0]
	}
	rs.body, err = parseTemplate("body", r.Response.Body)
	if err != nil {
		return nil, specErrorf("respondWith.response.body", "%v", err)
	}
	names := make([]string, 0, len(r.Response.Headers))
	for name := range r.Response.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t, err := parseTemplate(name, r.Response.Headers[name])
		if err != nil {
			return nil, specErrorf("respondWith.response.headers."+name, "%v", err)
		}
		rs.headers = append(rs.headers, headerTemplate{name: name, tmpl: t})
	}
	return rs, nil
}

// parseTemplate parses a response template and checks that it stays
// within the language a response needs, and within maxTemplateSteps.
func parseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(stubFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	if len(t.Templates()) > 1 {
		return nil, fmt.Errorf("template: %s: define and block are not supported in a response", name)
	}
	if t.Tree == nil || t.Root == nil {
		return t, nil
	}
	steps, err := templateSteps(t.Root, 1)
	if err != nil {
		return nil, fmt.Errorf("template: %s: %w", name, err)
	}
	if steps > maxTemplateSteps {
		return nil, fmt.Errorf("template: %s: could run more than %d actions (ranges multiply the actions inside them)", name, maxTemplateSteps)
	}
	return t, nil
}

// templateSteps counts the actions under n, each times mult, the product
// of the ranges around it, refusing what a response template may not do.
// The count saturates past maxTemplateSteps.
func templateSteps(n parse.Node, mult int) (int, error) {
	steps := 0
	add := func(k int) { steps = min(steps+k, maxTemplateSteps+1) }
	var err error
	walk := func(m parse.Node, mult int) {
		if err != nil || m == nil || isNilNode(m) {
			return
		}
		var k int
		k, err = templateSteps(m, mult)
		add(k)
	}
	switch n := n.(type) {
	case *parse.ListNode:
		for _, c := range n.Nodes {
			walk(c, mult)
		}
	case *parse.ActionNode:
		add(mult)
		walk(n.Pipe, mult)
	case *parse.PipeNode:
		for _, c := range n.Cmds {
			add(mult)
			for _, a := range c.Args {
				walk(a, mult)
			}
		}
	case *parse.IdentifierNode:
		if !slices.Contains(templateFuncs, n.Ident) {
			return 0, fmt.Errorf("function %q is not allowed in a response template (want one of %s)", n.Ident, strings.Join(templateFuncs, ", "))
		}
	case *parse.IfNode:
		add(mult)
		walk(n.Pipe, mult)
		walk(n.List, mult)
		walk(n.ElseList, mult)
	case *parse.WithNode:
		add(mult)
		walk(n.Pipe, mult)
		walk(n.List, mult)
		walk(n.ElseList, mult)
	case *parse.RangeNode:
		count, ok := rangeCount(n.Pipe)
		if !ok {
			return 0, errors.New("range over anything but an integer constant is not supported in a response template")
		}
		add(mult)
		walk(n.List, min(mult*max(count, 1), maxTemplateSteps+1))
		walk(n.ElseList, mult)
	case *parse.TemplateNode:
		return 0, errors.New("template is not supported in a response template")
	case *parse.ChainNode:
		walk(n.Node, mult)
	case *parse.BreakNode, *parse.ContinueNode:
		add(mult)
	}
	return steps, err
}

// isNilNode reports a typed nil node (an absent else list).
func isNilNode(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		return n == nil
	case *parse.PipeNode:
		return n == nil
	}
	return false
}

// rangeCount returns the integer constant a range pipeline iterates to.
func rangeCount(p *parse.PipeNode) (int, bool) {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return 0, false
	}
	num, ok := p.Cmds[0].Args[0].(*parse.NumberNode)
	if !ok || !num.IsInt || num.Int64 < 0 {
		return 0, false
	}
	return int(min(num.Int64, maxTemplateSteps+1)), true
}

// A meter counts the work of one render against maxTemplateWork.
type meter struct{ used int }

// charge adds n bytes of work, failing past the bound.
func (m *meter) charge(n int) error {
	m.used += n
	if m.used > maxTemplateWork {
		return fmt.Errorf("%w: the templates read or produced more than %d bytes", errResponseTooLarge, maxTemplateWork)
	}
	return nil
}

// isToken reports whether v is an opaque token hmac may sign: 1 to
// maxToken characters of A-Z, a-z, 0-9, "_" and "-".
func isToken(v string) bool {
	if len(v) == 0 || len(v) > maxToken {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// funcs returns the template functions bound to one request; m meters
// their work.
func (rs *responder) funcs(r matcher.Request, m *meter) template.FuncMap {
	var q url.Values
	bodies := map[string]string{}
	return template.FuncMap{
		"query": func(name string) (string, error) {
			if q == nil {
				q = url.Values{}
				if u, err := url.Parse(r.URL); err == nil {
					q = u.Query()
				}
			}
			vs := q[name]
			if len(vs) == 0 {
				return "", nil
			}
			v := vs[len(vs)-1]
			return v, m.charge(len(v))
		},
		"header": func(name string) (string, error) {
			v := r.Header.Get(name)
			return v, m.charge(len(v))
		},
		"body": func(path string) (string, error) {
			v, ok := bodies[path]
			if !ok {
				res := gjson.GetBytes(r.Body, path)
				// What gjson scanned: up to the value, or the whole body.
				scanned := len(r.Body)
				if res.Exists() {
					scanned = min(res.Index+len(res.Raw), len(r.Body))
				}
				if err := m.charge(scanned); err != nil {
					return "", err
				}
				v = res.String()
				bodies[path] = v
			}
			return v, m.charge(len(v))
		},
		"hmac": func(alg, value string) (string, error) {
			var h func() hash.Hash
			b64 := false
			switch alg {
			case "sha1":
				h = sha1.New
			case "sha256":
				h = sha256.New
			case "sha256b64":
				h, b64 = sha256.New, true
			case "sha512":
				h = sha512.New
			default:
				return "", fmt.Errorf("hmac: unknown algorithm %q (want sha1, sha256, sha256b64 or sha512)", alg)
			}
			if rs.key.IsZero() {
				return "", fmt.Errorf("hmac: the endpoint has no secret")
			}
			// Signing anything else would make the endpoint a signing
			// oracle: a "token" such as Zoom's "v0:<ts>:<body>" is the
			// message of a signature header the endpoint accepts.
			if !isToken(value) {
				return "", fmt.Errorf("hmac: %w: the value (%d bytes) is not an opaque token of 1 to %d characters A-Z a-z 0-9 _ -", errRequestInput, len(value), maxToken)
			}
			mac := hmac.New(h, rs.key.Bytes())
			mac.Write([]byte(value))
			if b64 {
				return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
			}
			return hex.EncodeToString(mac.Sum(nil)), nil
		},
		"json": func(v any) (string, error) {
			if s, ok := v.(string); ok {
				if err := m.charge(len(s)); err != nil {
					return "", err
				}
			}
			b, _ := json.Marshal(v)
			return string(b), m.charge(len(b))
		},
		"method": func() string { return r.Method },
		"rawBody": func() (string, error) {
			if err := m.charge(len(r.Body)); err != nil {
				return "", err
			}
			return string(r.Body), nil
		},
	}
}

// limitWriter writes into buf until a shared count passes max.
type limitWriter struct {
	buf   *bytes.Buffer
	count *int
	max   int
	what  string
}

func (w limitWriter) Write(p []byte) (int, error) {
	if *w.count+len(p) > w.max {
		return 0, fmt.Errorf("%w: the %s would pass %d bytes", errResponseTooLarge, w.what, w.max)
	}
	*w.count += len(p)
	return w.buf.Write(p)
}

// render builds the declared response for r. Its errors wrap
// errResponseTooLarge when the response passes a bound and
// errRequestInput when a value of the request is refused.
func (rs *responder) render(r matcher.Request) (*declared, error) {
	m := &meter{}
	fm := rs.funcs(r, m)
	d := &declared{status: rs.status, header: http.Header{}}
	headerBytes := 0
	for _, h := range rs.headers {
		var b bytes.Buffer
		t, err := h.tmpl.Clone()
		if err == nil {
			err = t.Funcs(fm).Execute(limitWriter{&b, &headerBytes, maxResponseHeaders, "headers"}, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("respondWith: header %s: %w", h.name, err)
		}
		d.header.Set(h.name, b.String())
	}
	var b bytes.Buffer
	bodyBytes := 0
	t, err := rs.body.Clone()
	if err == nil {
		err = t.Funcs(fm).Execute(limitWriter{&b, &bodyBytes, maxResponseBody, "body"}, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("respondWith: body: %w", err)
	}
	d.body = b.Bytes()
	return d, nil
}

// declared is a rendered respondWith response.
type declared struct {
	status int
	header http.Header
	body   []byte
}
