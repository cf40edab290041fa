package view_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/load"
	"github.com/hooklab/hooklab/sim/load/view"
)

// BenchmarkRun measures load.Run's throughput, closed loop with 4
// workers against a local server answering 200, with the live view off
// and on. "on" publishes a snapshot every 50 ms (ten times the default
// rate) to a View with two browsers connected: one reading every event,
// one never reading. Compare on against off as a ratio in one session:
//
//	go test ./sim/load/view -run '^$' -bench BenchmarkRun -count 6
func BenchmarkRun(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchRun(b, false) })
	b.Run("on", func(b *testing.B) { benchRun(b, true) })
}

func benchRun(b *testing.B, live bool) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{"ok":true}`))
	}))
	defer target.Close()
	inner, err := load.BodySource(signer.GitHub(), signer.Keys("bench-secret"), "", target.URL, nil, []byte(`{"action":"opened","number":7}`))
	if err != nil {
		b.Fatal(err)
	}
	a := load.NewAttacker(load.Workers(4))
	n := uint64(b.N)
	var built atomic.Uint64
	src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		if built.Add(1) >= n {
			a.Stop()
		}
		return inner.Request(ctx, seq)
	})
	plan := load.Plan{Source: src, Duration: time.Hour, Attacker: a}
	if live {
		v := view.New()
		srv := httptest.NewServer(v)
		defer srv.Close()
		defer v.Close()
		// A browser that reads every event.
		resp, err := http.Get(srv.URL + view.EventsPath)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		go io.Copy(io.Discard, resp.Body)
		// A browser that never reads.
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", view.EventsPath)
		plan.Watch, plan.WatchEvery = v.Publish, 50*time.Millisecond
	}
	b.ReportAllocs()
	b.ResetTimer()
	rep, err := load.Run(context.Background(), plan)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if rep.Success < n {
		b.Fatalf("%d of %d requests answered 2xx", rep.Success, n)
	}
}
