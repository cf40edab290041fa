package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// endpoint is an EndpointSpec compiled for serving.
type endpoint struct {
	spec     EndpointSpec
	maxBody  int64
	verifier *signer.Verifier // nil: no verification
	scheme   signer.Scheme
	respond  *responder // nil: no respondWith
	triggers []trigger
	// loose verifier: the no-tolerance fault's.
	loose *signer.Verifier
	// first: the first-key-only fault's.
	first *signer.Verifier
	// td is the triggerdev-v2 profile's part.
	td *tdEndpoint
}

type trigger struct {
	id      string
	filter  *matcher.RequestFilter // nil: every request
	noQuery *matcher.RequestFilter // the filter without its query part (query-filter-ignored)
	deliver string
}

// compile checks a spec and builds what serving it needs. now is the
// verifier's clock (nil: time.Now).
func compile(s EndpointSpec, now func() time.Time) (*endpoint, error) {
	if s.ID == "" {
		return nil, specErrorf("id", "missing")
	}
	if !idPattern.MatchString(s.ID) {
		return nil, specErrorf("id", "%q: want letters, digits and -._~ only", s.ID)
	}
	e := &endpoint{spec: s, maxBody: s.MaxBody}
	if s.MaxBody < 0 {
		return nil, specErrorf("maxBody", "%d is negative", s.MaxBody)
	}
	if e.maxBody == 0 {
		e.maxBody = DefaultMaxBody
	}
	if v := s.Verify; v != nil {
		scheme, err := v.resolveScheme("verify")
		if err != nil {
			return nil, err
		}
		if len(v.Secrets) == 0 {
			return nil, specErrorf("verify", `no secret: want "secret" or "secrets"`)
		}
		for i, k := range v.Secrets {
			if k.IsZero() {
				return nil, specErrorf("verify.secrets["+strconv.Itoa(i)+"]", "empty")
			}
		}
		if v.Tolerance < 0 {
			return nil, specErrorf("verify.tolerance", "%s is negative", v.Tolerance)
		}
		opts := []signer.Option{signer.MaxBody(e.maxBody)}
		if now != nil {
			opts = append(opts, signer.Now(now))
		}
		if v.Tolerance > 0 {
			opts = append(opts, signer.Tolerance(v.Tolerance))
		}
		if e.verifier, err = signer.NewVerifier(scheme, v.Secrets, opts...); err != nil {
			return nil, &specError{Path: "verify", Err: err}
		}
		e.scheme = scheme
		e.loose, _ = signer.NewVerifier(scheme, v.Secrets, append(opts, signer.Tolerance(0))...)
		e.first, _ = signer.NewVerifier(scheme, v.Secrets[:1], opts...)
	}
	if r := s.RespondWith; r != nil {
		resp, err := newResponder(r, s.Verify)
		if err != nil {
			return nil, err
		}
		e.respond = resp
	}
	seen := map[string]bool{}
	for i, t := range s.Triggers {
		path := "triggers[" + strconv.Itoa(i) + "]"
		if t.ID == "" {
			return nil, specErrorf(path+".id", "missing")
		}
		if seen[t.ID] {
			return nil, specErrorf(path+".id", "%q used twice", t.ID)
		}
		seen[t.ID] = true
		tr := trigger{id: t.ID, deliver: t.Deliver}
		if len(bytes.TrimSpace(t.Filter)) > 0 && string(bytes.TrimSpace(t.Filter)) != "null" {
			f, err := matcher.ParseRequestFilter(t.Filter)
			if err != nil {
				return nil, filterError(path+".filter", err)
			}
			tr.filter = f
			tr.noQuery = withoutQuery(t.Filter, f)
		}
		if t.Deliver != "" {
			if err := checkDeliverURL(t.Deliver); err != nil {
				return nil, specErrorf(path+".deliver", "%v", err)
			}
		}
		e.triggers = append(e.triggers, tr)
	}
	return e, nil
}

// withoutQuery compiles f without its "query" key.
func withoutQuery(raw json.RawMessage, f *matcher.RequestFilter) *matcher.RequestFilter {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return f
	}
	if _, ok := m["query"]; !ok {
		return f
	}
	delete(m, "query")
	b, _ := json.Marshal(m)
	g, err := matcher.ParseRequestFilter(b)
	if err != nil {
		return f
	}
	return g
}

func checkDeliverURL(s string) error {
	u, err := parseHTTPURL(s)
	if err != nil {
		return err
	}
	_ = u
	return nil
}

// String names the endpoint for logs.
func (e *endpoint) String() string { return fmt.Sprintf("endpoint %q", e.spec.ID) }
