package fault

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/sim"
)

// The strict profile's faults of de-duplication (a spec's dedup), each
// a way a receiver that means to act once per event gets it wrong. The
// Delivery cases of the conformance suite must catch them.
func init() {
	strict := func(name, doc string, change func(*stage.Stages)) { register(sim.Strict, name, doc, change) }

	strict("no-dedup", "ignores the spec's dedup: every delivery of an event wakes the triggers again", func(s *stage.Stages) {
		s.Dedup = nil
	})
	strict("dedup-before-verify", "remembers a delivery's id before verifying it, so a forged request with a real event's id keeps the real one out", func(s *stage.Stages) {
		verify := s.Verify
		s.Dedup = nil
		s.Verify = func(c *stage.Call) bool {
			if d := c.Endpoint.Dedup; d != nil {
				if id := d.ID(c.Req); id != "" && !d.First(id, c.Received) {
					answerDuplicate(c, "duplicate, remembered before verification")
					return false
				}
			}
			return verify(c)
		}
	})
	strict("dedup-by-signature", "de-duplicates by the signature headers and the body, so a byte-identical repeat is dropped but a provider's re-signed retry wakes the triggers again", func(s *stage.Stages) {
		s.Dedup = func(c *stage.Call) bool {
			d := c.Endpoint.Dedup
			if d == nil {
				return true
			}
			h := sha256.New()
			for _, name := range c.Endpoint.Scheme.Headers() {
				h.Write([]byte(c.Req.Header.Get(name)))
				h.Write([]byte{0})
			}
			h.Write(c.Req.Body)
			if d.First(hex.EncodeToString(h.Sum(nil)), c.Received) {
				return true
			}
			answerDuplicate(c, "duplicate signature and body")
			return false
		}
	})
	registerWithState(sim.Strict, "dedup-id-cursor", "keeps the greatest id taken as a cursor and drops every id not above it, so an older event that arrives after a newer one is lost", func() func(*stage.Stages) {
		var (
			mu     sync.Mutex
			cursor = map[*stage.Endpoint]string{}
		)
		return func(s *stage.Stages) {
			s.Dedup = func(c *stage.Call) bool {
				d := c.Endpoint.Dedup
				if d == nil {
					return true
				}
				id := d.ID(c.Req)
				if id == "" {
					return true
				}
				mu.Lock()
				last, ok := cursor[c.Endpoint]
				take := !ok || id > last
				if take {
					cursor[c.Endpoint] = id
				}
				mu.Unlock()
				if take {
					return true
				}
				answerDuplicate(c, "id not after the cursor")
				return false
			}
		}
	})
}

// answerDuplicate answers a request dropped as a duplicate as the
// reference does: 200, and nothing woken.
func answerDuplicate(c *stage.Call, note string) {
	c.W.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.W.WriteHeader(http.StatusOK)
	c.W.Write([]byte(`{"ok":true,"duplicate":true}` + "\n"))
	c.Note = note
}
