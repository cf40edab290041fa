package signer

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
)

// maxHeaderLen bounds how much of one header value is parsed.
const maxHeaderLen = 64 << 10

// A Verifier checks deliveries against one scheme and key set. Build it
// once with NewVerifier and reuse it: it is safe for concurrent use, and a
// verification of an HMAC scheme does not allocate in the steady state.
//
// Verification reads the exact bytes received, computes the expected
// signature under every key, and compares decoded bytes in constant time
// (hmac.Equal). Any signature in the header (or any repeated header, or
// any extra signature header) that matches under any key verifies the
// delivery: key rotation works on both sides. The timestamp is checked
// against the tolerance only once a signature matched, so a timestamp
// error means the delivery is authentic but stale or early.
type Verifier struct {
	r          *keyring
	o          options
	tolerance  time.Duration
	sigHeaders []string
	tsHeader   string
	idHeader   string
	scratch    sync.Pool
}

// NewVerifier compiles s and keys (public keys for asymmetric schemes).
// Empty secrets are ignored; with none left it fails with ErrMissingSecret,
// so a missing environment variable fails closed.
func NewVerifier(s Scheme, keys KeySet, opts ...Option) (*Verifier, error) {
	r, err := newKeyring(s, keys, false)
	if err != nil {
		return nil, err
	}
	v := &Verifier{r: r, o: buildOptions(opts), tolerance: s.Tolerance}
	if v.o.hasTolerance {
		v.tolerance = v.o.tolerance
	}
	if s.Header != "" {
		v.sigHeaders = append(v.sigHeaders, canonical(s.Header))
	}
	for _, h := range s.ExtraHeaders {
		v.sigHeaders = append(v.sigHeaders, canonical(h))
	}
	v.tsHeader = canonical(s.Timestamp.Header)
	v.idHeader = canonical(s.IDHeader)
	v.scratch.New = func() any { return new([maxSigLen]byte) }
	return v, nil
}

// Verify checks a delivery given as a Payload. It returns nil or a
// *VerifyError wrapping one of ErrMissingHeader, ErrMalformedHeader,
// ErrNoMatch, ErrTimestampTooOld or ErrTimestampInFuture.
func (v *Verifier) Verify(p Payload) error {
	s := &v.r.s
	pt := parts{body: p.Body, method: p.method(), url: p.URL}
	if v.r.t.uses(segParams) {
		pt.params = sortedParams(p.Body)
	}
	if v.r.t.uses(segID) {
		if pt.id = firstHeader(p.Header, v.idHeader); pt.id == "" {
			return v.fail(ErrMissingHeader, s.IDHeader, "")
		}
	}
	var ts time.Time
	switch s.Timestamp.Source {
	case TimestampHeader:
		if pt.ts = firstHeader(p.Header, v.tsHeader); pt.ts == "" {
			return v.fail(ErrMissingHeader, s.Timestamp.Header, "")
		}
		var err error
		if ts, err = parseTime(s.Timestamp.Format, pt.ts); err != nil {
			return v.fail(ErrMalformedHeader, s.Timestamp.Header, err.Error())
		}
	case TimestampInBody:
		res := gjson.GetBytes(p.Body, s.Timestamp.Path)
		if !res.Exists() {
			return v.fail(ErrMissingHeader, "body: "+s.Timestamp.Path, "")
		}
		pt.ts = jsonScalar(res)
		var err error
		if ts, err = parseTime(s.Timestamp.Format, pt.ts); err != nil {
			return v.fail(ErrMalformedHeader, "body: "+s.Timestamp.Path, err.Error())
		}
	}
	if s.BodyHashParam != "" {
		if err := v.checkBodyHash(&p); err != nil {
			return err
		}
	}

	st := verifyState{ts: ts}
	buf := v.scratch.Get().(*[maxSigLen]byte)
	defer v.scratch.Put(buf)
	if s.Syntax.Kind == InBody {
		if s.Syntax.TokenPath != "" {
			tok := gjson.GetBytes(p.Body, s.Syntax.TokenPath)
			if !tok.Exists() {
				return v.fail(ErrMissingHeader, "body: "+s.Syntax.TokenPath, "")
			}
			pt.token = tok.String()
		}
		sig := gjson.GetBytes(p.Body, s.Syntax.SignaturePath).String()
		if sig == "" {
			return v.fail(ErrMissingHeader, "body: "+s.Syntax.SignaturePath, "")
		}
		st.found = true
		v.candidate(&pt, sig, buf, &st)
	} else {
		for _, h := range v.sigHeaders {
			for _, val := range headerValues(p.Header, h) {
				if err := v.value(&pt, strings.TrimSpace(val), buf, &st); err != nil {
					return err
				}
				if st.matched {
					break
				}
			}
			if st.matched {
				break
			}
		}
	}
	switch {
	case st.matched:
		return v.checkTime(st.ts)
	case !st.found:
		return v.fail(ErrMissingHeader, s.Header, "")
	case !st.decoded:
		return v.fail(ErrMalformedHeader, st.badHeader(s.Header), st.malformed)
	}
	return v.fail(ErrNoMatch, st.badHeader(s.Header), "")
}

// verifyState accumulates what the candidates of one delivery showed.
type verifyState struct {
	ts        time.Time // timestamp of the matching candidate
	found     bool      // some signature header had a value
	decoded   bool      // some candidate was well-formed
	matched   bool
	malformed string // why the first malformed candidate was malformed
	header    string
}

func (st *verifyState) badHeader(def string) string {
	if st.header != "" {
		return st.header
	}
	return def
}

func (st *verifyState) setMalformed(detail string) {
	if st.malformed == "" {
		st.malformed = detail
	}
}

// value parses one signature header value and tries its signatures.
func (v *Verifier) value(pt *parts, val string, buf *[maxSigLen]byte, st *verifyState) error {
	s := &v.r.s
	if val == "" {
		return nil
	}
	st.found = true
	if len(val) > maxHeaderLen {
		st.setMalformed("value longer than " + strconv.Itoa(maxHeaderLen) + " bytes")
		return nil
	}
	switch s.Syntax.Kind {
	case Bare:
		sig, ok := strings.CutPrefix(val, s.Syntax.Prefix)
		if !ok {
			st.setMalformed("value does not start with " + strconv.Quote(s.Syntax.Prefix))
			return nil
		}
		v.candidate(pt, sig, buf, st)
	case VersionedList:
		seen := false
		for rest := val; rest != "" && !st.matched; {
			var entry string
			entry, rest = nextField(rest, ' ')
			version, sig, ok := strings.Cut(entry, ",")
			if !ok || version != s.Syntax.SignatureKey {
				continue
			}
			seen = true
			v.candidate(pt, sig, buf, st)
		}
		if !seen {
			st.setMalformed("no " + s.Syntax.SignatureKey + " signature")
		}
	case KeyValue:
		sep := strings.TrimSpace(s.separator())[0]
		if s.Timestamp.Source == TimestampInHeader {
			tsText, err := kvTimestamp(val, sep, s.Syntax.TimestampKey)
			if err != "" {
				st.setMalformed(err)
				return nil
			}
			ts, perr := parseTime(s.Timestamp.Format, tsText)
			if perr != nil {
				st.setMalformed(s.Syntax.TimestampKey + "=: " + perr.Error())
				return nil
			}
			pt.ts = tsText
			st.ts = ts
		}
		seen := false
		for rest := val; rest != "" && !st.matched; {
			var pair string
			pair, rest = nextField(rest, sep)
			if pair == "" {
				continue
			}
			k, sig, ok := strings.Cut(pair, "=")
			if !ok {
				st.setMalformed("pair without '='")
				continue
			}
			if k != s.Syntax.SignatureKey {
				continue
			}
			seen = true
			v.candidate(pt, sig, buf, st)
		}
		if !seen {
			st.setMalformed("no " + s.Syntax.SignatureKey + "= signature")
		}
	}
	return nil
}

// nextField splits off the text before sep, trimmed of spaces.
func nextField(s string, sep byte) (field, rest string) {
	i := strings.IndexByte(s, sep)
	if i < 0 {
		return strings.TrimSpace(s), ""
	}
	return strings.TrimSpace(s[:i]), s[i+1:]
}

// kvTimestamp finds the single timestamp pair of a key-value header.
func kvTimestamp(val string, sep byte, tsKey string) (ts string, problem string) {
	found := false
	for rest := val; rest != ""; {
		var pair string
		pair, rest = nextField(rest, sep)
		k, x, ok := strings.Cut(pair, "=")
		if ok && k == tsKey {
			if found {
				return "", "duplicate " + tsKey + "= pair"
			}
			ts, found = x, true
		}
	}
	if !found {
		return "", "no " + tsKey + "= timestamp"
	}
	return ts, ""
}

// candidate checks one signature text against every key.
func (v *Verifier) candidate(pt *parts, sigText string, buf *[maxSigLen]byte, st *verifyState) {
	s := &v.r.s
	if sigText == "" {
		st.setMalformed("empty signature")
		return
	}
	if s.Algorithm == Token {
		st.decoded = true
		for i := range v.r.keys {
			if constantTimeEqualString(sigText, v.r.keys[i].raw) {
				st.matched = true
				return
			}
		}
		return
	}
	sig, tooLong, err := decodeSig(s.encoding(), sigText, buf[:])
	if err != nil {
		st.setMalformed("signature is not " + string(s.encoding()))
		return
	}
	st.decoded = true
	if tooLong {
		return
	}
	if s.URLPortVariants {
		for _, u := range urlVariants(pt.url) {
			q := *pt
			q.url = u
			if v.match(&q, sig) {
				st.matched = true
				return
			}
		}
		return
	}
	if v.match(pt, sig) {
		st.matched = true
	}
}

// match reports whether sig is the signature of pt under any key.
func (v *Verifier) match(pt *parts, sig []byte) bool {
	switch v.r.s.Algorithm {
	case Ed25519:
		msg := v.r.t.bytes(pt)
		for i := range v.r.keys {
			if ed25519.Verify(v.r.keys[i].edPub, msg, sig) {
				return true
			}
		}
		return false
	case ECDSAP256:
		sum := sha256.Sum256(v.r.t.bytes(pt))
		for i := range v.r.keys {
			if ecdsa.VerifyASN1(v.r.keys[i].ecPub, sum[:], sig) {
				return true
			}
		}
		return false
	}
	ok := false
	for i := range v.r.keys {
		k := &v.r.keys[i]
		sum, ms := v.r.digest(k, pt)
		if hmac.Equal(sum, sig) {
			ok = true
		}
		k.release(ms)
		if ok {
			return true
		}
	}
	return false
}

// constantTimeEqualString compares a token in constant time for equal
// lengths.
func constantTimeEqualString(a string, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var x byte
	for i := 0; i < len(a); i++ {
		x |= a[i] ^ b[i]
	}
	return subtle.ConstantTimeByteEq(x, 0) == 1
}

// checkTime applies the tolerance to a matched delivery's timestamp.
func (v *Verifier) checkTime(ts time.Time) error {
	s := &v.r.s
	if !s.HasTimestamp() || v.tolerance <= 0 {
		return nil
	}
	now := v.o.now()
	where := s.Timestamp.Header
	switch s.Timestamp.Source {
	case TimestampInHeader:
		where = s.Header
	case TimestampInBody:
		where = "body: " + s.Timestamp.Path
	}
	if age := now.Sub(ts); age > v.tolerance {
		return v.fail(ErrTimestampTooOld, where, "older than "+v.tolerance.String())
	}
	if !s.PastOnly && ts.Sub(now) > v.tolerance {
		return v.fail(ErrTimestampInFuture, where, "more than "+v.tolerance.String()+" ahead")
	}
	return nil
}

// checkBodyHash checks Twilio's bodySHA256 query parameter.
func (v *Verifier) checkBodyHash(p *Payload) error {
	u, err := url.Parse(p.URL)
	if err != nil {
		return v.fail(ErrMalformedHeader, "url", "unparsable URL")
	}
	got := u.Query().Get(v.r.s.BodyHashParam)
	if got == "" {
		return v.fail(ErrMissingHeader, "url: "+v.r.s.BodyHashParam, "")
	}
	sum := sha256.Sum256(p.Body)
	if !strings.EqualFold(got, hex.EncodeToString(sum[:])) {
		return v.fail(ErrNoMatch, "url: "+v.r.s.BodyHashParam, "does not match the body")
	}
	return nil
}

func (v *Verifier) fail(reason error, where, detail string) error {
	return &VerifyError{Scheme: v.r.s.Name, Header: where, Reason: reason, Detail: detail}
}

// VerifyRequest verifies a server-side request. It reads the body (at most
// MaxBody bytes) exactly once and puts an identical reader back, so the
// handler can read it again. URL-bound schemes use the URL option, or
// else the URL rebuilt from the request's Host, path and TLS state.
func (v *Verifier) VerifyRequest(r *http.Request) error {
	body, err := readBody(r, v.o.maxBody)
	if err != nil {
		if ve, ok := err.(*VerifyError); ok {
			ve.Scheme = v.r.s.Name
		}
		return err
	}
	p := Payload{Method: r.Method, Header: r.Header, Body: body, URL: v.o.url}
	if p.URL == "" && v.r.s.NeedsURL() {
		p.URL = requestURL(r)
	}
	return v.Verify(p)
}

// NeedsURL reports whether the scheme signs the URL (Twilio, Square,
// HubSpot v2/v3, Mandrill), so a verifier must know the URL the sender
// addressed.
func (s Scheme) NeedsURL() bool {
	t, err := parseTemplate(s.message())
	return s.BodyHashParam != "" || (err == nil && t.uses(segURL))
}

// Verify checks one delivery against a scheme and keys: NewVerifier
// followed by Verifier.Verify. Build a Verifier to check many.
func Verify(s Scheme, keys KeySet, p Payload, opts ...Option) error {
	v, err := NewVerifier(s, keys, opts...)
	if err != nil {
		return err
	}
	return v.Verify(p)
}

// VerifyRequest checks one server-side request: NewVerifier followed by
// Verifier.VerifyRequest.
func VerifyRequest(r *http.Request, s Scheme, keys KeySet, opts ...Option) error {
	v, err := NewVerifier(s, keys, opts...)
	if err != nil {
		return err
	}
	return v.VerifyRequest(r)
}

// VerifySignature is the lowest layer: it reports whether signature, as
// written in the header without any prefix, is the signature of message
// under key k with s's algorithm, key format and encoding. message is the
// exact signed bytes (for Stripe "<t>.<body>"); for plain SHA256 schemes it
// is what follows the secret. The scheme's template, header syntax and
// timestamp are not used.
func VerifySignature(s Scheme, k Secret, message []byte, signature string) error {
	raw := Scheme{Name: s.Name, Algorithm: s.Algorithm, Key: s.Key, Encoding: s.Encoding,
		Header: "Signature", Syntax: Syntax{Kind: Bare}}
	if s.Algorithm == SHA256 {
		raw.Message = "{secret}{body}"
	}
	v, err := NewVerifier(raw, KeySet{k})
	if err != nil {
		return err
	}
	return v.Verify(Payload{Header: http.Header{"Signature": {signature}}, Body: message})
}

// jsonScalar returns a JSON value's text: a string's contents or a
// number's literal.
func jsonScalar(r gjson.Result) string {
	if r.Type == gjson.String {
		return r.Str
	}
	return r.Raw
}

// urlVariants returns u and u with its default port added or removed, the
// way Twilio's SDKs retry.
func urlVariants(u string) []string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return []string{u}
	}
	def := map[string]string{"https": "443", "http": "80"}[pu.Scheme]
	if def == "" {
		return []string{u}
	}
	alt := *pu
	if pu.Port() == "" {
		alt.Host = pu.Host + ":" + def
	} else if pu.Port() == def {
		alt.Host = pu.Hostname()
	} else {
		return []string{u}
	}
	return []string{u, alt.String()}
}

// parseTime reads a timestamp in format f.
func parseTime(f TimeFormat, s string) (time.Time, error) {
	switch f {
	case RFC3339, RFC3339Nano:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, errTimestamp
		}
		return t, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || s[0] == '+' {
		return time.Time{}, errTimestamp
	}
	if f == UnixMillis {
		return time.UnixMilli(n), nil
	}
	if n > 1<<40 { // beyond year 36812: nonsense, and avoids overflow in Sub
		return time.Time{}, errTimestamp
	}
	return time.Unix(n, 0), nil
}

type timestampError struct{}

func (timestampError) Error() string { return "timestamp is not in the scheme's format" }

var errTimestamp error = timestampError{}
