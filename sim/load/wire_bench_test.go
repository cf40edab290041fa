package load

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
)

// stopAfter is a BodySource that stops its attacker after n requests,
// keeping the attacker's direct path (wireSource) that hooklab load takes.
type stopAfter struct {
	*bodySource
	n     uint64
	built atomic.Uint64
	a     *Attacker
}

func (s *stopAfter) wire(seq uint64, w *wireRequest) error {
	if s.built.Add(1) >= s.n {
		s.a.Stop()
	}
	return s.bodySource.wire(seq, w)
}

// BenchmarkAttackWire is BenchmarkAttack on the path hooklab load takes:
// a BodySource signing every request, sent by the attacker's own client
// without an *http.Request.
func BenchmarkAttackWire(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{"ok":true,"triggered":["t1"]}`))
	}))
	defer srv.Close()
	body := []byte(`{"action":"opened","number":7,"repository":{"full_name":"hooklab/demo"}}`)
	inner, err := BodySource(signer.GitHub(), signer.Keys("bench-secret"), "", srv.URL, nil, body)
	if err != nil {
		b.Fatal(err)
	}
	a := NewAttacker(Workers(4))
	src := &stopAfter{bodySource: inner.(*bodySource), n: uint64(b.N), a: a}
	m := NewMetrics()
	b.ReportAllocs()
	b.ResetTimer()
	for r := range a.Attack(context.Background(), src, nil, time.Hour) {
		m.Add(r)
	}
	b.StopTimer()
	if m.Success < uint64(b.N) {
		b.Fatalf("%d of %d requests answered 2xx", m.Success, b.N)
	}
}
