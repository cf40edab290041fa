package signer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// A Signer signs deliveries with one scheme and key set, as the provider
// would. Build it once with NewSigner and reuse it: it is safe for
// concurrent use.
type Signer struct {
	r *keyring
	o options
}

// NewSigner compiles s and keys (private keys for asymmetric schemes),
// newest first. With no non-empty secret it fails with ErrMissingSecret.
func NewSigner(s Scheme, keys KeySet, opts ...Option) (*Signer, error) {
	r, err := newKeyring(s, keys, true)
	if err != nil {
		return nil, err
	}
	return &Signer{r: r, o: buildOptions(opts)}, nil
}

// Sign returns p signed: a copy with the signature, timestamp, id and
// fixed headers set (replacing any already there), and, where the scheme
// needs it, the body (Linear's webhookTimestamp, Mailgun's signature
// object) or the URL (Twilio's bodySHA256) rewritten. p is not modified.
// The timestamp is the signer's clock now; the message id is the ID option
// or fresh. Options given here override those given to NewSigner.
func (sg *Signer) Sign(p Payload, opts ...Option) (Payload, error) {
	o := sg.o
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	s := &sg.r.s
	out := Payload{Method: p.method(), URL: p.URL, Body: p.Body}
	if p.Header != nil {
		out.Header = p.Header.Clone()
	} else {
		out.Header = make(http.Header)
	}
	pt := parts{method: out.Method}

	id := o.id
	if id == "" && (s.IDHeader != "" || s.Syntax.TokenPath != "") {
		var err error
		if id, err = newID(s, o.rand); err != nil {
			return Payload{}, fmt.Errorf("signer: %s: generating id: %w", s.Name, err)
		}
	}
	if s.IDHeader != "" {
		out.Header.Set(s.IDHeader, id)
		pt.id = id
	}
	if s.HasTimestamp() {
		pt.ts = formatTime(s.Timestamp.Format, o.now())
	}
	var err error
	switch s.Timestamp.Source {
	case TimestampHeader:
		out.Header.Set(s.Timestamp.Header, pt.ts)
	case TimestampInBody:
		raw := pt.ts
		if s.Timestamp.Format == RFC3339 || s.Timestamp.Format == RFC3339Nano || s.Syntax.Kind == InBody {
			raw = strconv.Quote(pt.ts)
		}
		if out.Body, err = setJSON(out.Body, s.Timestamp.Path, raw); err != nil {
			return Payload{}, fmt.Errorf("signer: %s: body: %w", s.Name, err)
		}
	}
	if s.Syntax.TokenPath != "" {
		pt.token = id
		if out.Body, err = setJSON(out.Body, s.Syntax.TokenPath, strconv.Quote(id)); err != nil {
			return Payload{}, fmt.Errorf("signer: %s: body: %w", s.Name, err)
		}
	}
	if s.BodyHashParam != "" {
		sum := sha256.Sum256(out.Body)
		if out.URL, err = setQuery(out.URL, s.BodyHashParam, hex.EncodeToString(sum[:])); err != nil {
			return Payload{}, fmt.Errorf("signer: %s: %w", s.Name, err)
		}
	}
	pt.body = out.Body
	pt.url = out.URL
	if sg.r.t.uses(segParams) {
		pt.params = sortedParams(out.Body)
	}

	n := 1
	switch {
	case s.MultipleSignatures:
		n = len(sg.r.keys)
	case len(s.ExtraHeaders) > 0:
		n = min(len(sg.r.keys), 1+len(s.ExtraHeaders))
	}
	sigs := make([]string, n)
	for i := range sigs {
		if sigs[i], err = sg.signOne(&sg.r.keys[i], &pt, o); err != nil {
			return Payload{}, fmt.Errorf("signer: %s: %w", s.Name, err)
		}
	}

	switch s.Syntax.Kind {
	case Bare:
		out.Header.Set(s.Header, s.Syntax.Prefix+sigs[0])
		for i, h := range s.ExtraHeaders {
			if i+1 < len(sigs) {
				out.Header.Set(h, s.Syntax.Prefix+sigs[i+1])
			} else {
				out.Header.Del(h)
			}
		}
	case KeyValue:
		var b strings.Builder
		sep := s.separator()
		if s.Timestamp.Source == TimestampInHeader {
			b.WriteString(s.Syntax.TimestampKey + "=" + pt.ts)
		}
		for _, sig := range sigs {
			if b.Len() > 0 {
				b.WriteString(sep)
			}
			b.WriteString(s.Syntax.SignatureKey + "=" + sig)
		}
		out.Header.Set(s.Header, b.String())
	case VersionedList:
		for i, sig := range sigs {
			sigs[i] = s.Syntax.SignatureKey + "," + sig
		}
		out.Header.Set(s.Header, strings.Join(sigs, " "))
	case InBody:
		if out.Body, err = setJSON(out.Body, s.Syntax.SignaturePath, strconv.Quote(sigs[0])); err != nil {
			return Payload{}, fmt.Errorf("signer: %s: body: %w", s.Name, err)
		}
	}
	for _, f := range s.SetHeaders {
		out.Header.Set(f.Name, f.Value)
	}
	return out, nil
}

// signOne computes one encoded signature.
func (sg *Signer) signOne(k *key, pt *parts, o options) (string, error) {
	s := &sg.r.s
	switch s.Algorithm {
	case Ed25519:
		return encode(s.encoding(), ed25519.Sign(k.edKey, sg.r.t.bytes(pt))), nil
	case ECDSAP256:
		sum := sha256.Sum256(sg.r.t.bytes(pt))
		sig, err := ecdsa.SignASN1(o.rand, k.ecKey, sum[:])
		if err != nil {
			return "", err
		}
		return encode(s.encoding(), sig), nil
	case Token:
		return string(k.raw), nil
	}
	sum, st := sg.r.digest(k, pt)
	out := encode(s.encoding(), sum)
	k.release(st)
	return out, nil
}

// SignRequest signs an outgoing request in place: it reads the body (at
// most MaxBody bytes), signs it, sets the headers, and puts back the body
// (and the URL, if the scheme rewrote them).
func (sg *Signer) SignRequest(r *http.Request, opts ...Option) error {
	body, err := readBody(r, sg.o.maxBody)
	if err != nil {
		return err
	}
	p, err := sg.Sign(Payload{Method: r.Method, URL: r.URL.String(), Header: r.Header, Body: body}, opts...)
	if err != nil {
		return err
	}
	r.Header = p.Header
	if !bytes.Equal(p.Body, body) {
		r.Body = io.NopCloser(bytes.NewReader(p.Body))
		r.ContentLength = int64(len(p.Body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(p.Body)), nil }
	}
	if p.URL != r.URL.String() {
		u, err := url.Parse(p.URL)
		if err != nil {
			return fmt.Errorf("signer: %s: %w", sg.r.s.Name, err)
		}
		r.URL = u
	}
	return nil
}

// Sign signs one delivery: NewSigner followed by Signer.Sign.
func Sign(s Scheme, keys KeySet, p Payload, opts ...Option) (Payload, error) {
	sg, err := NewSigner(s, keys, opts...)
	if err != nil {
		return Payload{}, err
	}
	return sg.Sign(p)
}

// SignRequest signs one outgoing request in place: NewSigner followed by
// Signer.SignRequest.
func SignRequest(r *http.Request, s Scheme, keys KeySet, opts ...Option) error {
	sg, err := NewSigner(s, keys, opts...)
	if err != nil {
		return err
	}
	return sg.SignRequest(r)
}

// formatTime writes t as a scheme's timestamp.
func formatTime(f TimeFormat, t time.Time) string {
	switch f {
	case UnixMillis:
		return strconv.FormatInt(t.UnixMilli(), 10)
	case RFC3339:
		return t.Format("2006-01-02T15:04:05Z07:00")
	case RFC3339Nano:
		return t.Format("2006-01-02T15:04:05.000000000Z07:00")
	}
	return strconv.FormatInt(t.Unix(), 10)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID makes a message id in the scheme's style: IDPrefix and 27 base62
// characters ("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"), 50 hex digits for a body
// token (Mailgun), or a UUID.
func newID(s *Scheme, random io.Reader) (string, error) {
	var b [27]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", err
	}
	switch {
	case s.IDPrefix != "":
		for i := range b {
			b[i] = base62[int(b[i])%len(base62)]
		}
		return s.IDPrefix + string(b[:]), nil
	case s.Syntax.TokenPath != "":
		return hex.EncodeToString(b[:25]), nil
	}
	u := b[:16]
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// setQuery sets one query parameter of a URL, keeping the others as
// written.
func setQuery(u, key, value string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("url: %v", err)
	}
	q := pu.RawQuery
	var kept []string
	for _, kv := range strings.Split(q, "&") {
		if kv == "" {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == key {
			continue
		}
		kept = append(kept, kv)
	}
	kept = append(kept, url.QueryEscape(key)+"="+url.QueryEscape(value))
	pu.RawQuery = strings.Join(kept, "&")
	return pu.String(), nil
}

// setJSON sets the value at a dotted path of a JSON object to raw (a JSON
// literal), replacing what is there or inserting the key, and creating
// parent objects as needed. Other bytes are left exactly as they were.
func setJSON(body []byte, path, raw string) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("not valid JSON, cannot set %s", path)
	}
	if r := gjson.GetBytes(body, path); r.Exists() && r.Index > 0 {
		out := make([]byte, 0, len(body)-len(r.Raw)+len(raw))
		out = append(out, body[:r.Index]...)
		out = append(out, raw...)
		return append(out, body[r.Index+len(r.Raw):]...), nil
	}
	parent, name := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent, name = path[:i], path[i+1:]
	}
	keyJSON, _ := json.Marshal(name)
	var obj gjson.Result
	if parent == "" {
		obj = gjson.ParseBytes(body)
		obj.Index = bytes.IndexByte(body, '{')
	} else {
		obj = gjson.GetBytes(body, parent)
		if !obj.Exists() {
			return setJSON(body, parent, "{"+string(keyJSON)+":"+raw+"}")
		}
	}
	if !obj.IsObject() || obj.Index < 0 || (parent != "" && obj.Index == 0) {
		return nil, fmt.Errorf("%s is not an object, cannot set %s", orTop(parent), path)
	}
	at := obj.Index + 1 // just after '{'
	member := string(keyJSON) + ":" + raw
	if len(obj.Map()) > 0 {
		member += ","
	}
	out := make([]byte, 0, len(body)+len(member))
	out = append(out, body[:at]...)
	out = append(out, member...)
	return append(out, body[at:]...), nil
}

func orTop(p string) string {
	if p == "" {
		return "the body"
	}
	return p
}
