package fault

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/internal/whatwg"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// The triggerdev-v2 profile's faults: each breaks one of Trigger.dev v2's
// quirks (sim.TriggerDevV2), and the differential test against the real
// packages (sim/interop_triggerdev_test.go) must tell each from the
// profile. In that profile the call's request is the platform's through
// Verify and Match, and Deliver swaps in the run's.
func init() {
	td := func(name, doc string, change func(*stage.Stages)) { register(sim.TriggerDevV2, name, doc, change) }

	td("verify-at-door", "answers 401 to a request whose signature does not verify, instead of 200 and a failed run", func(s *stage.Stages) {
		verify := s.Verify
		s.Verify = func(c *stage.Call) bool {
			if !verify(c) {
				return false
			}
			if c.Endpoint.Verifier != nil && !c.Verification.Verified {
				stage.WriteError(c.W, http.StatusUnauthorized, "signature verification failed", c.Verification.Reason)
				c.Note = "rejected"
				return false
			}
			return true
		}
	})
	td("json-answer", "answers 200 with a JSON body naming the runs instead of an empty body", func(s *stage.Stages) {
		answer := s.Answer
		s.Answer = func(c *stage.Call) bool {
			if c.Early != nil {
				return answer(c)
			}
			ids := make([]string, len(c.Matched))
			for i, t := range c.Matched {
				ids[i] = t.ID
			}
			c.W.Header().Set("Content-Type", "application/json; charset=utf-8")
			b, _ := json.Marshal(map[string]any{"ok": true, "endpoint": c.Endpoint.ID, "triggered": ids})
			c.W.Write(b)
			c.Note = fmt.Sprintf("runs %d", len(ids))
			return true
		}
	})
	td("verify-raw-bytes", "verifies the body bytes as received instead of the UTF-8 text the run gets", wrapCheck(func(c *stage.Call, p *signer.Payload) {
		p.Body = c.Req.Body // the platform's request: the raw bytes
	}))
	td("request-filter-triggers", "matches trigger filters as respondWith's (query read, body parsed whatever the content type) instead of with the dispatcher's rules", func(s *stage.Stages) {
		s.Match = func(c *stage.Call) bool {
			for i := range c.Endpoint.Triggers {
				t := &c.Endpoint.Triggers[i]
				if t.Filter == nil || s.Filter(c, t.Filter) {
					c.Matched = append(c.Matched, t)
				}
			}
			return true
		}
	})
	td("json-content-type-any-case", `treats a content type containing "application/json" in any case as JSON`, matchWith(func(h http.Header) {
		if ct := h.Get("Content-Type"); strings.Contains(strings.ToLower(ct), "application/json") {
			h.Set("Content-Type", "application/json")
		}
	}))
	td("no-event-dedupe", "starts runs again for a repeated idempotency-key or x-request-id", matchWith(func(h http.Header) {
		h.Del("Idempotency-Key")
		h.Del("X-Request-Id")
	}))
	td("bad-json-wakes-unfiltered", "lets a JSON body that does not parse wake the triggers without a filter, instead of none", func(s *stage.Stages) {
		match := s.Match
		s.Match = func(c *stage.Call) bool {
			if !strings.Contains(c.Req.Header.Get("Content-Type"), "application/json") || json.Valid(whatwg.BodyText(c.Req.Body)) {
				return match(c)
			}
			return matchWithHeader(match, c, func(h http.Header) { h.Del("Content-Type") })
		}
	})
	td("get-runs-verify", "verifies GET and HEAD runs instead of failing them in the Request constructor", func(s *stage.Stages) {
		verify := s.Verify
		s.Verify = func(c *stage.Call) bool {
			if c.R.Method != http.MethodGet && c.R.Method != http.MethodHead {
				return verify(c)
			}
			cc := *c
			cc.Req.Method = http.MethodPost
			ok := verify(&cc)
			c.Verification, c.Note = cc.Verification, cc.Note
			return ok
		}
	})
	td("body-limit", "answers 413 to a body over the spec's maxBody, which the platform does not have", func(s *stage.Stages) {
		read := s.Read
		s.Read = func(c *stage.Call) bool {
			if !read(c) {
				return false
			}
			if int64(len(c.Req.Body)) > c.Endpoint.MaxBody {
				c.W.WriteHeader(http.StatusRequestEntityTooLarge)
				c.Note = "body over maxBody"
				return false
			}
			return true
		}
	})
}

// matchWith returns a change that runs Match over a copy of the call
// whose request headers edit has changed.
func matchWith(edit func(http.Header)) func(*stage.Stages) {
	return func(s *stage.Stages) {
		match := s.Match
		s.Match = func(c *stage.Call) bool { return matchWithHeader(match, c, edit) }
	}
}

// matchWithHeader runs match over a copy of c with edited headers and
// keeps what it matched.
func matchWithHeader(match stage.Step, c *stage.Call, edit func(http.Header)) bool {
	cc := *c
	cc.Req.Header = c.Req.Header.Clone()
	edit(cc.Req.Header)
	ok := match(&cc)
	c.Matched, c.Note = cc.Matched, cc.Note
	return ok
}
