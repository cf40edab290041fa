package signer

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
)

// segKind is one kind of piece of a compiled message template.
type segKind uint8

const (
	segLiteral segKind = iota
	segBody
	segTS
	segID
	segMethod
	segURL
	segParams
	segToken
	segSecret
)

var placeholders = map[string]segKind{
	"body": segBody, "ts": segTS, "id": segID, "method": segMethod,
	"url": segURL, "params": segParams, "token": segToken, "secret": segSecret,
}

type segment struct {
	kind segKind
	lit  []byte
}

// template is a compiled Scheme.Message.
type template []segment

// parseTemplate compiles a message template. Braces must enclose a known
// placeholder; a literal brace is not supported (no provider needs one).
func parseTemplate(s string) (template, error) {
	var t template
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '{')
		if j < 0 {
			t = append(t, segment{kind: segLiteral, lit: []byte(s[i:])})
			break
		}
		if j > 0 {
			t = append(t, segment{kind: segLiteral, lit: []byte(s[i : i+j])})
		}
		i += j
		k := strings.IndexByte(s[i:], '}')
		if k < 0 {
			return nil, fmt.Errorf("unclosed { at offset %d", i)
		}
		name := s[i+1 : i+k]
		kind, ok := placeholders[name]
		if !ok {
			return nil, fmt.Errorf("unknown placeholder {%s} at offset %d", name, i)
		}
		t = append(t, segment{kind: kind})
		i += k + 1
	}
	if strings.IndexByte(s, '}') >= 0 && len(t) == 0 {
		return nil, fmt.Errorf("stray }")
	}
	return t, nil
}

// uses reports whether the template has a placeholder of kind k.
func (t template) uses(k segKind) bool {
	for _, s := range t {
		if s.kind == k {
			return true
		}
	}
	return false
}

// parts are the values a template is filled with.
type parts struct {
	body   []byte
	ts     string
	id     string
	method string
	url    string
	params string
	token  string
	secret []byte
}

// writeTo writes the signed bytes to w without building them in memory.
// String parts are copied through scratch, which is returned (grown) for
// reuse, so that writing to a hash allocates nothing. Writers used here
// (hash.Hash, strings.Builder) never fail.
func (t template) writeTo(w io.Writer, p *parts, scratch []byte) []byte {
	str := func(s string) {
		scratch = append(scratch[:0], s...)
		w.Write(scratch)
	}
	for _, s := range t {
		switch s.kind {
		case segLiteral:
			w.Write(s.lit)
		case segBody:
			w.Write(p.body)
		case segTS:
			str(p.ts)
		case segID:
			str(p.id)
		case segMethod:
			str(p.method)
		case segURL:
			str(p.url)
		case segParams:
			str(p.params)
		case segToken:
			str(p.token)
		case segSecret:
			w.Write(p.secret)
		}
	}
	return scratch
}

// bytes returns the signed bytes.
func (t template) bytes(p *parts) []byte {
	n := len(p.body) + len(p.ts) + len(p.id) + len(p.method) + len(p.url) + len(p.params) + len(p.token) + len(p.secret) + 16
	var buf bytes.Buffer
	buf.Grow(n)
	t.writeTo(&buf, p, nil)
	return buf.Bytes()
}

// sortedParams renders form-encoded body parameters as Twilio and Mandrill
// sign them: every key in byte order, each followed by its value; a
// repeated key contributes key+value once per value, values in byte order.
// A body that is not a valid form renders as "".
func sortedParams(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), vals[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return b.String()
}
