package sim

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// maxMaxBody is the largest MaxBody a spec may set: 1 GiB.
const maxMaxBody = 1 << 30

// compile checks a spec and builds what serving it needs. now is the
// verifier's clock (nil: time.Now).
func compile(s EndpointSpec, now func() time.Time) (*stage.Endpoint, error) {
	if s.ID == "" {
		return nil, specErrorf("id", "missing")
	}
	if !idPattern.MatchString(s.ID) {
		return nil, specErrorf("id", "%q: want letters, digits and -._~ only", s.ID)
	}
	e := &stage.Endpoint{ID: s.ID, MaxBody: s.MaxBody}
	if s.MaxBody < 0 || s.MaxBody > maxMaxBody {
		return nil, specErrorf("maxBody", "%d is out of range: want 1 to %d bytes, or 0 for the default of %d", s.MaxBody, maxMaxBody, DefaultMaxBody)
	}
	if e.MaxBody == 0 {
		e.MaxBody = DefaultMaxBody
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
		opts := []signer.Option{signer.MaxBody(e.MaxBody)}
		if now != nil {
			opts = append(opts, signer.Now(now))
		}
		if v.Tolerance > 0 {
			opts = append(opts, signer.Tolerance(v.Tolerance))
		}
		if e.Verifier, err = signer.NewVerifier(scheme, v.Secrets, opts...); err != nil {
			return nil, &specError{Path: "verify", Err: err}
		}
		e.Scheme, e.Secrets, e.VerifyOptions = scheme, v.Secrets, opts
	}
	if r := s.RespondWith; r != nil {
		rs, err := newResponder(r, s.Verify)
		if err != nil {
			return nil, err
		}
		e.Respond = &stage.Responder{
			Filter: &stage.Filter{RequestFilter: rs.filter, Raw: bytes.TrimSpace(r.Filter)},
			Skip:   rs.skip,
			Render: func(req matcher.Request) (*stage.Response, error) {
				d, err := rs.render(req)
				if err != nil {
					return nil, err
				}
				return &stage.Response{Status: d.status, Header: d.header, Body: d.body}, nil
			},
		}
	}
	if s.Dedup != nil {
		d, err := compileDedup(*s.Dedup, s.Verify)
		if err != nil {
			return nil, err
		}
		e.Dedup = d
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
		tr := stage.Trigger{ID: t.ID, Deliver: t.Deliver}
		if raw := bytes.TrimSpace(t.Filter); len(raw) > 0 && string(raw) != "null" {
			f, err := matcher.ParseRequestFilter(raw)
			if err != nil {
				return nil, filterError(path+".filter", err)
			}
			tr.Filter = &stage.Filter{RequestFilter: f, Raw: raw}
		}
		if t.Deliver != "" {
			if _, err := parseHTTPURL(t.Deliver); err != nil {
				return nil, specErrorf(path+".deliver", "%v", err)
			}
		}
		e.Triggers = append(e.Triggers, tr)
	}
	return e, nil
}

// checkDeliverHosts refuses a trigger whose deliver URL names a host that
// is neither loopback nor one of hosts, so that a spec cannot make the
// ingress post to any address it can reach (a cloud metadata service, an
// internal admin port).
func checkDeliverHosts(s EndpointSpec, hosts []string) error {
	for i, t := range s.Triggers {
		if t.Deliver == "" {
			continue
		}
		u, err := parseHTTPURL(t.Deliver)
		if err != nil {
			continue // compile reports it
		}
		host := u.Hostname()
		if isLoopbackHost(host) {
			continue
		}
		allowed := false
		for _, h := range hosts {
			if strings.EqualFold(h, host) {
				allowed = true
				break
			}
		}
		if !allowed {
			return specErrorf("triggers["+strconv.Itoa(i)+"].deliver", "host %q is not loopback and not an allowed deliver host (allow it with --allow-deliver-host or Config.DeliverHosts)", host)
		}
	}
	return nil
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
