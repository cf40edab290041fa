package load_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/load"
)

// BenchmarkAttack sends b.N signed requests closed loop (4 workers) to a
// local server that answers 200, and accounts every Result in Metrics:
// the attacker's whole per-request path. Compare runs as a ratio in one
// session; the absolute figure is the machine's.
func BenchmarkAttack(b *testing.B) { benchAttack(b) }

// benchAttack is BenchmarkAttack with the attacker's options opts.
func benchAttack(b *testing.B, opts ...load.Option) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{"ok":true,"triggered":["t1"]}`))
	}))
	defer srv.Close()
	body := []byte(`{"action":"opened","number":7,"repository":{"full_name":"hooklab/demo"}}`)
	inner, err := load.BodySource(signer.GitHub(), signer.Keys("bench-secret"), "", srv.URL, nil, body)
	if err != nil {
		b.Fatal(err)
	}
	a := load.NewAttacker(append([]load.Option{load.Workers(4)}, opts...)...)
	n := uint64(b.N)
	var built atomic.Uint64
	src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		if built.Add(1) >= n {
			a.Stop()
		}
		return inner.Request(ctx, seq)
	})
	m := load.NewMetrics()
	b.ReportAllocs()
	b.ResetTimer()
	for r := range a.Attack(context.Background(), src, nil, time.Hour) {
		m.Add(r)
	}
	b.StopTimer()
	if m.Success < n {
		b.Fatalf("%d of %d requests answered 2xx", m.Success, n)
	}
}

// BenchmarkMetricsAdd accounts one answered Result: the collector's hot
// path.
func BenchmarkMetricsAdd(b *testing.B) {
	m := load.NewMetrics()
	t0 := time.Now()
	r := &load.Result{Status: 200, Intended: t0, Sent: t0, Latency: time.Millisecond, Uncorrected: time.Millisecond, BytesIn: 30, BytesOut: 70}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Intended = t0.Add(time.Duration(i) * time.Microsecond)
		m.Add(r)
	}
}
