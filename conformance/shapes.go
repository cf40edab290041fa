package conformance

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
)

// providerDefaults are the headers a provider sends with every delivery,
// as its fixtures declare them (fixtures/payloads/<provider>/provider.json:
// the provider's headers and those of one of its events), and its content
// type. A nil *providerDefaults adds nothing.
type providerDefaults struct {
	fixture *fixtures.Fixture
}

// defaultsOf returns the defaults of the provider that signs with preset,
// from the fixture the Verify cases take their sample from
// (presetFixtures); nil when no fixture signs with it.
func defaultsOf(preset string) *providerDefaults {
	f, ok := presetFixtures()[preset]
	if !ok {
		return nil
	}
	return &providerDefaults{fixture: f}
}

// contentType is the content type of the provider's JSON deliveries
// ("application/json; charset=utf-8" for Stripe); application/json when
// the provider sends no JSON or is not known.
func (d *providerDefaults) contentType() string {
	if d != nil && isJSONMediaType(d.fixture.ContentType) {
		return d.fixture.ContentType
	}
	return "application/json"
}

// notDefaulted are headers apply never sets: the transport's own (Host,
// the framing, compression, which the client negotiates) and
// Content-Type, which Build chooses from the request's body.
var notDefaulted = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Accept-Encoding", "Content-Type"}

// apply adds to h each of the provider's headers that h does not have
// (under any spelling of its name), rendered afresh: unique-per-delivery
// values (X-GitHub-Delivery, idempotency keys) differ on every call, so
// a receiver that de-duplicates by them takes every request. The
// signing headers of s are left to the signer.
func (d *providerDefaults) apply(h http.Header, s signer.Scheme) error {
	if d == nil {
		return nil
	}
	var seed [8]byte
	rand.Read(seed[:])
	del, err := d.fixture.Render(int64(binary.LittleEndian.Uint64(seed[:])), time.Now())
	if err != nil {
		return fmt.Errorf("the provider headers of %s: %w", d.fixture.Name, err)
	}
	skip := append(s.Headers(), notDefaulted...)
	for k, vs := range del.Header {
		if hasHeader(h, k) || containsFold(skip, k) {
			continue
		}
		h[k] = append([]string(nil), vs...)
	}
	return nil
}

// hasHeader reports whether h has the header name under any spelling
// (a case may set a name exactly as it is to be sent, not canonicalised).
func hasHeader(h http.Header, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// isJSONMediaType reports whether ct is application/json or a +json
// type, parameters aside.
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
