package sim_test

import (
	"net/http"
	"testing"

	"github.com/hooklab/hooklab/sim"
)

// FuzzIDSource: ParseIDSource and IDSource.ID never panic, a parsed
// source prints back as what parses to it, and an id is never longer than
// MaxEventIDLen.
func FuzzIDSource(f *testing.F) {
	f.Add("body:event-data.id", []byte(`{"event-data":{"id":"e1"}}`), "")
	f.Add("body:id", []byte(`{"id":12.5e3}`), "")
	f.Add("header:webhook-id", []byte(`{}`), "msg_1")
	f.Add("body:a.b", []byte(`{"a":[{"b":1}]}`), "")
	f.Add("header:", []byte(``), "")
	f.Fuzz(func(t *testing.T, spec string, body []byte, header string) {
		src, err := sim.ParseIDSource(spec)
		if err != nil {
			return
		}
		again, err := sim.ParseIDSource(src.String())
		if err != nil || again != src {
			t.Fatalf("ParseIDSource(%q) = %+v; ParseIDSource(String()) = %+v, %v", spec, src, again, err)
		}
		h := http.Header{}
		if src.Header != "" {
			h.Set(src.Header, header)
		}
		if id := src.ID(h, body); len(id) > sim.MaxEventIDLen {
			t.Fatalf("ID() = %d bytes, want at most %d", len(id), sim.MaxEventIDLen)
		}
	})
}
