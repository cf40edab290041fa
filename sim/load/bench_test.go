package load_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/load"
)

// BenchmarkAttack sends b.N signed requests closed loop (4 workers) to a
// local server that answers 200, and accounts every Result in Metrics:
// the attacker's whole per-request path. Compare runs as a ratio in one
// session; the absolute figure is the machine's.
func BenchmarkAttack(b *testing.B) { benchAttack(b) }

// BenchmarkAttackFixture is BenchmarkAttack with every request rendered
// from the github/pull_request fixture (28 KB) with its own seed, as
// hooklab load --fixture sends: compare it with BenchmarkAttack, and
// profile it (-cpuprofile) to see the fixture's share of a request.
func BenchmarkAttackFixture(b *testing.B) {
	f, err := fixtures.Lookup("github/pull_request")
	if err != nil {
		b.Fatal(err)
	}
	benchAttackSource(b, func(target string) (load.Source, error) {
		return load.FixtureSource(f, target, signer.Keys("bench-secret"), 1), nil
	})
}

// benchAttack is BenchmarkAttack with the attacker's options opts.
func benchAttack(b *testing.B, opts ...load.Option) {
	body := []byte(`{"action":"opened","number":7,"repository":{"full_name":"hooklab/demo"}}`)
	benchAttackSource(b, func(target string) (load.Source, error) {
		return load.BodySource(signer.GitHub(), signer.Keys("bench-secret"), "", target, nil, body)
	}, opts...)
}

// benchAttackSource is BenchmarkAttack with the source newSource makes
// for the server's URL and the attacker's options opts.
func benchAttackSource(b *testing.B, newSource func(target string) (load.Source, error), opts ...load.Option) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{"ok":true,"triggered":["t1"]}`))
	}))
	defer srv.Close()
	inner, err := newSource(srv.URL)
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
