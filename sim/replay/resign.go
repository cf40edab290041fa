package replay

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/record"
)

// A Resigner signs recorded requests again as the provider would: the
// scheme's signature, timestamp and id headers (Scheme.Headers) are
// removed, then the request is signed at the replay's clock with a fresh
// id. When it has old keys it first checks the original signature. It is
// safe for concurrent use.
type Resigner struct {
	scheme signer.Scheme
	sg     *signer.Signer
	old    signer.KeySet
}

// NewResigner returns a Resigner for scheme that signs with keys (newest
// first) and, when old is not empty, checks each original signature
// against old. Errors are signer's (ErrMissingSecret, a bad key) and never
// hold a secret.
func NewResigner(scheme signer.Scheme, keys, old signer.KeySet) (*Resigner, error) {
	sg, err := signer.NewSigner(scheme, keys)
	if err != nil {
		return nil, err
	}
	rs := &Resigner{scheme: scheme, sg: sg}
	if len(old) > 0 {
		if _, err := signer.NewVerifier(scheme, old); err != nil {
			return nil, fmt.Errorf("old secret: %w", err)
		}
		rs.old = old
	}
	return rs, nil
}

// Scheme returns the scheme the Resigner signs with.
func (rs *Resigner) Scheme() signer.Scheme { return rs.scheme }

// Signer returns the Resigner's signer, for retries signed anew.
func (rs *Resigner) Signer() *signer.Signer { return rs.sg }

// An Original is what the check of a recorded signature found.
type Original struct {
	// Checked reports that the signature was checked (old keys given).
	Checked bool `json:"checked"`
	// Valid reports that it verified; Reason says why not (the signer's
	// error, which never holds a secret).
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
}

// Check verifies rec's original signature against the old keys with the
// timestamp check off: a recording is old by nature, and the question is
// whether the provider signed these bytes with that secret (a malformed
// or missing timestamp still fails). Without old keys it returns the zero
// Original.
func (rs *Resigner) Check(rec *record.Recording) Original {
	if len(rs.old) == 0 {
		return Original{}
	}
	p := signer.Payload{Method: rec.Meta.Method, URL: originalURL(rec), Header: rec.Header, Body: rec.Body}
	if err := signer.Verify(rs.scheme, rs.old, p, signer.Tolerance(0)); err != nil {
		return Original{Checked: true, Reason: err.Error()}
	}
	return Original{Checked: true, Valid: true}
}

// Sign returns rec re-signed for url at time at: a copy of its headers
// without the scheme's own, signed anew with a fresh id (a fresh
// timestamp where the scheme has one; where the scheme keeps them in the
// body, as Linear and Mailgun do, the body is rewritten).
func (rs *Resigner) Sign(rec *record.Recording, url string, at time.Time) (signer.Payload, error) {
	h := rec.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, name := range rs.scheme.Headers() {
		h.Del(name)
	}
	p, err := rs.sg.Sign(signer.Payload{Method: rec.Meta.Method, URL: url, Header: h, Body: rec.Body}, signer.At(at))
	if err != nil {
		return signer.Payload{}, fmt.Errorf("%s: %w", recName(rec), err)
	}
	return p, nil
}

// originalURL is the URL the request was sent to, as far as the recording
// tells: http://Host + target (URL-bound schemes sign it).
func originalURL(rec *record.Recording) string {
	target := rec.Meta.Target
	if target == "" {
		target = "/"
	}
	if rec.Meta.Host == "" {
		return target
	}
	return "http://" + rec.Meta.Host + target
}

func recName(rec *record.Recording) string {
	if rec.Path == "" {
		return fmt.Sprintf("request %d", rec.Meta.Seq)
	}
	return rec.Path
}
