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
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"text/template"

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

// stubFuncs lets templates parse; execution swaps in the request's.
var stubFuncs = template.FuncMap{
	"query":   func(string) string { return "" },
	"header":  func(string) string { return "" },
	"body":    func(string) string { return "" },
	"hmac":    func(string, string) (string, error) { return "", nil },
	"json":    func(any) string { return "" },
	"method":  func() string { return "" },
	"rawBody": func() string { return "" },
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
	rs.body, err = template.New("body").Funcs(stubFuncs).Option("missingkey=error").Parse(r.Response.Body)
	if err != nil {
		return nil, specErrorf("respondWith.response.body", "%v", err)
	}
	names := make([]string, 0, len(r.Response.Headers))
	for name := range r.Response.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t, err := template.New(name).Funcs(stubFuncs).Parse(r.Response.Headers[name])
		if err != nil {
			return nil, specErrorf("respondWith.response.headers."+name, "%v", err)
		}
		rs.headers = append(rs.headers, headerTemplate{name: name, tmpl: t})
	}
	return rs, nil
}

// funcs returns the template functions bound to one request.
func (rs *responder) funcs(r matcher.Request) template.FuncMap {
	var q url.Values
	return template.FuncMap{
		"query": func(name string) string {
			if q == nil {
				q = url.Values{}
				if u, err := url.Parse(r.URL); err == nil {
					q = u.Query()
				}
			}
			vs := q[name]
			if len(vs) == 0 {
				return ""
			}
			return vs[len(vs)-1]
		},
		"header": func(name string) string { return r.Header.Get(name) },
		"body":   func(path string) string { return gjson.GetBytes(r.Body, path).String() },
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
			m := hmac.New(h, rs.key.Bytes())
			m.Write([]byte(value))
			if b64 {
				return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
			}
			return hex.EncodeToString(m.Sum(nil)), nil
		},
		"json": func(v any) string {
			b, _ := json.Marshal(v)
			return string(b)
		},
		"method":  func() string { return r.Method },
		"rawBody": func() string { return string(r.Body) },
	}
}

// render builds the declared response for r.
func (rs *responder) render(r matcher.Request) (*declared, error) {
	fm := rs.funcs(r)
	d := &declared{status: rs.status, header: http.Header{}}
	for _, h := range rs.headers {
		var b bytes.Buffer
		t, err := h.tmpl.Clone()
		if err == nil {
			err = t.Funcs(fm).Execute(&b, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("respondWith: header %s: %w", h.name, err)
		}
		d.header.Set(h.name, b.String())
	}
	var b bytes.Buffer
	t, err := rs.body.Clone()
	if err == nil {
		err = t.Funcs(fm).Execute(&b, nil)
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
