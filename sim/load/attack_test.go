package load_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load"
)

// seqHeader carries the slot number to the test servers.
const seqHeader = "X-Test-Seq"

// seqSource posts {"seq":N} to url, with the slot in seqHeader and a
// request id "test-N".
func seqSource(url string) load.Source {
	return load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		s := strconv.FormatUint(seq, 10)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"seq":`+s+`}`))
		if err != nil {
			return nil, err
		}
		req.Header.Set(seqHeader, s)
		req.Header.Set(sim.RequestIDHeader, "test-"+s)
		return req, nil
	})
}

func seqOf(r *http.Request) int {
	n, err := strconv.Atoi(r.Header.Get(seqHeader))
	if err != nil {
		return -1
	}
	return n
}

// collect drains a results channel and returns the results by Seq.
func collect(ch <-chan *load.Result) []*load.Result {
	var rs []*load.Result
	for r := range ch {
		rs = append(rs, r)
	}
	sortBySeq(rs)
	return rs
}

func sortBySeq(rs []*load.Result) {
	slices.SortFunc(rs, func(a, b *load.Result) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
}

func seqs(rs []*load.Result) []uint64 {
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.Seq
	}
	return out
}

func seqRange(from, to, step uint64) []uint64 {
	var out []uint64
	for s := from; s < to; s += step {
		out = append(out, s)
	}
	return out
}

// newServer starts an httptest server and closes it at the end of the test.
func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func okHandler(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`)
}

// metricsOf adds results to fresh Metrics.
func metricsOf(rs []*load.Result) *load.Metrics {
	m := load.NewMetrics()
	for _, r := range rs {
		m.Add(r)
	}
	return m
}

func TestAttackOpenLoopKeepsTheSchedule(t *testing.T) {
	t.Parallel()
	srv := newServer(t, okHandler)
	const rate = 200
	p := load.Constant{Rate: rate}
	rs := collect(load.NewAttacker().Attack(context.Background(), seqSource(srv.URL), p, 2*time.Second))

	// 200/s for 2 s is slots 0 … 399, each sent once, none dropped.
	require.Equal(t, seqRange(0, 400, 1), seqs(rs), "slots sent")
	first := rs[0].Intended
	for _, r := range rs {
		if r.Dropped || r.Status != http.StatusOK || r.ErrorKind != "" {
			t.Errorf("slot %d: dropped %v, status %d, error %q, want sent and 200", r.Seq, r.Dropped, r.Status, r.Error)
		}
		// The intended times are computed from the schedule: slot n is
		// n × 5 ms after slot 0 (within Constant's 1 ns truncation).
		want := time.Duration(r.Seq) * time.Second / rate
		if d := r.Intended.Sub(first) - want; d < -1 || d > 1 {
			t.Errorf("slot %d: Intended - Intended(0) = %s, want %s", r.Seq, r.Intended.Sub(first), want)
		}
		// Never early, and the corrected latency is the uncorrected one plus
		// the time from intended to actual send.
		if r.Sent.Before(r.Intended) {
			t.Errorf("slot %d: Sent %s before Intended", r.Seq, r.Intended.Sub(r.Sent))
		}
		if r.Latency-r.Uncorrected != r.Sent.Sub(r.Intended) {
			t.Errorf("slot %d: Latency - Uncorrected = %s, want Sent - Intended = %s", r.Seq, r.Latency-r.Uncorrected, r.Sent.Sub(r.Intended))
		}
		if r.ID != "test-"+strconv.FormatUint(r.Seq, 10) {
			t.Errorf("slot %d: ID = %q, want the source's request id", r.Seq, r.ID)
		}
	}
	// The figures a report computes from the intended times, not the clock.
	m := metricsOf(rs)
	assert.Equal(t, 1995*time.Millisecond, m.Duration().Round(time.Microsecond), "Duration: first slot to last slot")
	assert.InDelta(t, rate, m.RateAchieved(), 0.001, "RateAchieved")
	assert.InDelta(t, rate, m.RateScheduled(), 0.001, "RateScheduled")
	assert.Equal(t, uint64(0), m.Dropped, "Dropped")
}

// gatedSource holds the requests of slots [from, to) inside Request until
// slot to is requested: a sender that cannot send for a while (a GC pause,
// a lock, a full connection pool in front of the send) and then sends
// what piled up all at once.
func gatedSource(src load.Source, from, to uint64) load.Source {
	gate := make(chan struct{})
	var once sync.Once
	return load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		if seq >= to {
			once.Do(func() { close(gate) })
		}
		if seq >= from && seq < to {
			<-gate
		}
		return src.Request(ctx, seq)
	})
}

// TestAttackCorrectedLatencySeesSenderStall is coordinated omission in its
// purest form: the stall is on the sending side, so every request of the
// stall is sent late, and a latency measured from the actual send cannot
// see it at all: Result.Sent is taken after the request is built, when the
// stall is over, so Uncorrected covers only the (fast) exchange. Latency,
// measured from the time the schedule intended, includes the wait. 25 of
// 100 slots are held, so p99 must show the stall and the uncorrected p99
// must not.
//
// The test runs alone (not parallel): the uncorrected p99 is a local
// round trip only when the machine is not busy with other tests.
func TestAttackCorrectedLatencySeesSenderStall(t *testing.T) {
	srv := newServer(t, okHandler)
	const from, to = 40, 65 // 0.8 s … 1.3 s at 50/s: a 500 ms stall
	src := gatedSource(seqSource(srv.URL), from, to)
	rs := collect(load.NewAttacker().Attack(context.Background(), src, load.Constant{Rate: 50}, 2*time.Second))
	require.Equal(t, seqRange(0, 100, 1), seqs(rs), "slots sent")

	// Deterministic per slot: slot n in the stall was sent after slot to
	// was requested, which the scheduler did no earlier than slot to's
	// intended time, so it was held at least Intended(to) - Intended(n),
	// which the schedule computes: (to - n) × 20 ms.
	for _, r := range rs[from:to] {
		held := rs[to].Intended.Sub(r.Intended)
		if got := r.Sent.Sub(r.Intended); got < held {
			t.Errorf("slot %d: Sent - Intended = %s, want at least %s (held by the stall)", r.Seq, got, held)
		}
		if r.Latency < held {
			t.Errorf("slot %d: Latency = %s, want at least %s: the corrected latency includes the stall", r.Seq, r.Latency, held)
		}
		if r.Latency-r.Uncorrected < held {
			t.Errorf("slot %d: Latency - Uncorrected = %s, want at least %s: the uncorrected latency leaves the stall out", r.Seq, r.Latency-r.Uncorrected, held)
		}
	}

	m := metricsOf(rs)
	rep := load.NewReport(m, nil, 50)
	// p99 over 100 values is the 2nd largest; the stall alone puts it at
	// 480 ms or more.
	if p99 := m.Latency.Quantile(99); p99 < 300*time.Millisecond {
		t.Errorf("Metrics.Latency p99 = %s, want >= 300ms: the corrected latency must catch the 500ms stall", p99)
	}
	if rep.Latency.P99 < 300 {
		t.Errorf("Report latency_ms.p99 = %g, want >= 300", rep.Latency.P99)
	}
	// The uncorrected p99 is only the exchange (a local round trip, 25 at
	// once when the stall ends), so it misses the stall: it is lower than
	// the corrected p99 by at least the 300 ms that count as catching it.
	// (Compared with the corrected figure rather than with a fixed bound,
	// so that a busy machine, which slows every exchange alike, does not
	// fail the test.)
	p99, u99 := m.Latency.Quantile(99), m.Uncorrected.Quantile(99)
	if p99-u99 < 300*time.Millisecond {
		t.Errorf("Metrics.Uncorrected p99 = %s, want at most %s (the corrected p99 %s less 300ms): the uncorrected latency cannot see a stall before the send", u99, p99-300*time.Millisecond, p99)
	}
	t.Logf("p99 corrected %s, uncorrected %s", p99, u99)
}

// stallServer handles one request at a time (a single worker) and holds
// the one for slot stallSeq for stall.
func stallServer(t *testing.T, stallSeq int, stall time.Duration) *httptest.Server {
	var mu sync.Mutex
	return newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if seqOf(r) == stallSeq {
			time.Sleep(stall)
		}
		okHandler(w, r)
	})
}

// TestAttackCorrectedLatencySeesTargetStall stalls the target: a single
// worker holds one request for 500 ms, so every request that arrives
// meanwhile queues behind it. An open-loop sender keeps sending on
// schedule during the stall (MaxInFlight is ample), so the 100 slots due
// in those 500 ms all wait, and the corrected p99 shows the stall. Here
// the uncorrected figure sees it too, because the requests were sent on
// time: this attacker never waits for the target before sending, which is
// the point of open loop. The figure that misses a target's stall is that
// of a sender that does wait, a closed loop: it sends nothing while its
// request is stuck, so the stall is one slow sample among many and its p99
// stays low. Both runs are checked, alone (not parallel to other tests),
// so that the closed loop's other requests are fast.
func TestAttackCorrectedLatencySeesTargetStall(t *testing.T) {
	const stall = 500 * time.Millisecond
	t.Run("OpenLoop", func(t *testing.T) {
		t.Parallel()
		srv := stallServer(t, 100, stall)
		rs := collect(load.NewAttacker().Attack(context.Background(), seqSource(srv.URL), load.Constant{Rate: 200}, 2*time.Second))
		require.Equal(t, seqRange(0, 400, 1), seqs(rs), "slots sent (none dropped)")
		// Slot n after 100 ends no earlier than the stall does, which starts
		// no earlier than slot 100's intended time.
		for _, r := range rs[101:200] {
			want := stall - r.Intended.Sub(rs[100].Intended)
			if r.Latency < want {
				t.Errorf("slot %d: Latency = %s, want at least %s (queued behind the stall)", r.Seq, r.Latency, want)
			}
		}
		m := metricsOf(rs)
		if p99 := m.Latency.Quantile(99); p99 < 300*time.Millisecond {
			t.Errorf("open loop: Latency p99 = %s, want >= 300ms", p99)
		}
	})
	t.Run("ClosedLoopMissesIt", func(t *testing.T) {
		t.Parallel()
		srv := stallServer(t, 10, stall)
		// 301 requests, however fast the machine: the source stops the
		// attack at slot 300. p99 over 301 values is the 4th largest, so it
		// is blind to the one stalled request.
		a := load.NewAttacker(load.Workers(1))
		src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
			if seq >= 300 {
				a.Stop()
			}
			return seqSource(srv.URL).Request(ctx, seq)
		})
		rs := collect(a.Attack(context.Background(), src, nil, 20*time.Second))
		require.Equal(t, seqRange(0, 301, 1), seqs(rs), "closed-loop slots")
		m := metricsOf(rs)
		assert.GreaterOrEqual(t, m.Latency.Quantile(100), stall, "closed loop: max latency: the stalled request itself")
		if p99 := m.Latency.Quantile(99); p99 >= 300*time.Millisecond {
			t.Errorf("closed loop: Latency p99 = %s, want < 300ms: a sender that waits sends nothing during the stall", p99)
		}
		for _, r := range rs {
			if r.Latency != r.Uncorrected+r.Sent.Sub(r.Intended) {
				t.Fatalf("slot %d: Latency %s != Uncorrected %s + Sent - Intended", r.Seq, r.Latency, r.Uncorrected)
			}
		}
	})
}

// holdServer counts requests and holds each until release is closed (or
// the client goes away), recording the most it held at once.
type holdServer struct {
	*httptest.Server
	release  chan struct{}
	arrived  chan int // the count after each arrival
	count    atomic.Int64
	cur, max atomic.Int64
	once     sync.Once
}

func newHoldServer(t *testing.T) *holdServer {
	h := &holdServer{release: make(chan struct{}), arrived: make(chan int, 10000)}
	h.Server = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := h.cur.Add(1)
		defer h.cur.Add(-1)
		for m := h.max.Load(); n > m && !h.max.CompareAndSwap(m, n); m = h.max.Load() {
		}
		h.arrived <- int(h.count.Add(1))
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		}
		okHandler(w, r)
	})
	// Release before the server's Close waits for the handlers.
	t.Cleanup(h.Release)
	return h
}

func (h *holdServer) Release() { h.once.Do(func() { close(h.release) }) }

// waitArrivals waits until n requests have arrived.
func (h *holdServer) waitArrivals(n int) error {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c := <-h.arrived:
			if c >= n {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("%d requests arrived in 10s, want %d", h.count.Load(), n)
		}
	}
}

func TestAttackMaxInFlightDropsSlots(t *testing.T) {
	t.Parallel()
	h := newHoldServer(t)
	// 100/s for 500 ms is 50 slots; the target answers none until released,
	// so the first 3 go out and the other 47 find 3 in flight.
	ch := load.NewAttacker(load.MaxInFlight(3)).Attack(context.Background(), seqSource(h.URL), load.Constant{Rate: 100}, 500*time.Millisecond)
	var rs []*load.Result
	dropped := 0
	timeout := time.After(10 * time.Second)
	for dropped < 47 {
		select {
		case r := <-ch:
			rs = append(rs, r)
			if r.Dropped {
				dropped++
			}
		case <-timeout:
			t.Fatalf("%d dropped slots after 10s, want 47", dropped)
		}
	}
	h.Release()
	rs = append(rs, collect(ch)...)
	sortBySeq(rs)

	require.Equal(t, seqRange(0, 50, 1), seqs(rs), "every slot has a result")
	for _, r := range rs {
		wantDropped := r.Seq >= 3
		if r.Dropped != wantDropped {
			t.Errorf("slot %d: Dropped = %v, want %v", r.Seq, r.Dropped, wantDropped)
		}
		if r.Dropped && (!r.Sent.IsZero() || r.Status != 0 || r.Latency != 0 || r.Intended.IsZero()) {
			t.Errorf("dropped slot %d: Sent %v, Status %d, Latency %s, Intended %v: want only the intended time", r.Seq, r.Sent, r.Status, r.Latency, r.Intended)
		}
		if !r.Dropped && r.Status != http.StatusOK {
			t.Errorf("slot %d: Status = %d, want 200 once released", r.Seq, r.Status)
		}
	}
	assert.Equal(t, int64(3), h.max.Load(), "most requests in flight at the target")
	assert.Equal(t, int64(3), h.count.Load(), "requests that reached the target")
	m := metricsOf(rs)
	assert.Equal(t, uint64(3), m.Requests, "Metrics.Requests")
	assert.Equal(t, uint64(47), m.Dropped, "Metrics.Dropped")
	assert.InDelta(t, 100, m.RateScheduled(), 0.001, "RateScheduled counts dropped slots")
	assert.Equal(t, uint64(47), load.NewReport(m, nil, 100).Dropped, "Report.Dropped")
}

func TestAttackClosedLoopSendsWorkersAtATime(t *testing.T) {
	t.Parallel()
	const workers = 4
	var cur, most, arrivals atomic.Int64
	barrier := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		defer cur.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		// The first requests wait for each other, so that all the workers
		// are seen in flight together.
		switch a := arrivals.Add(1); {
		case a == workers:
			close(barrier)
		case a < workers:
			select {
			case <-barrier:
			case <-time.After(5 * time.Second):
			}
		}
		time.Sleep(time.Millisecond)
		okHandler(w, r)
	})
	rs := collect(load.NewAttacker(load.Workers(workers)).Attack(context.Background(), seqSource(srv.URL), nil, 300*time.Millisecond))
	require.NotEmpty(t, rs)
	assert.Equal(t, int64(workers), most.Load(), "most requests in flight at once")
	assert.Equal(t, seqRange(0, uint64(len(rs)), 1), seqs(rs), "slots: 0 … n-1, each once")
	for _, r := range rs {
		if r.Dropped || r.Status != http.StatusOK {
			t.Errorf("slot %d: dropped %v, status %d, want 200", r.Seq, r.Dropped, r.Status)
		}
	}
}

// TestAttackStopDrainsInFlight stops an attack while requests are held
// at the target: the channel must stay open until they are answered, and
// every request that reached the target must have a result.
func TestAttackStopDrainsInFlight(t *testing.T) {
	t.Parallel()
	h := newHoldServer(t)
	a := load.NewAttacker()
	ch := a.Attack(context.Background(), seqSource(h.URL), load.Constant{Rate: 100}, 10*time.Second)
	require.NoError(t, h.waitArrivals(5))
	assert.True(t, a.Stop(), "first Stop() = false, want true")
	assert.False(t, a.Stop(), "second Stop() = true, want false")
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("results channel closed after Stop with requests still in flight")
		}
		t.Fatalf("result for slot %d before any request was answered", r.Seq)
	case <-time.After(200 * time.Millisecond):
	}
	h.Release()
	done := make(chan []*load.Result)
	go func() { done <- collect(ch) }()
	var rs []*load.Result
	select {
	case rs = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("results channel still open 10s after the requests were answered")
	}
	require.Equal(t, int(h.count.Load()), len(rs), "results = requests that reached the target")
	require.GreaterOrEqual(t, len(rs), 5)
	assert.Equal(t, seqRange(0, uint64(len(rs)), 1), seqs(rs), "slots")
	for _, r := range rs {
		if r.Status != http.StatusOK || r.ErrorKind != "" {
			t.Errorf("slot %d: status %d, error %q: want the in-flight request to finish with 200", r.Seq, r.Status, r.Error)
		}
	}
}

// TestRunInterruptedStillReports stops a run with requests in flight:
// Run returns the report of everything sent, marked Interrupted, and
// writes every result to Out.
func TestRunInterruptedStillReports(t *testing.T) {
	t.Parallel()
	t.Run("Stop", func(t *testing.T) {
		t.Parallel()
		h := newHoldServer(t)
		a := load.NewAttacker()
		go func() {
			if err := h.waitArrivals(5); err != nil {
				t.Error(err)
			}
			a.Stop()
			time.Sleep(100 * time.Millisecond)
			h.Release()
		}()
		var out bytes.Buffer
		start := time.Now()
		rep, err := load.Run(context.Background(), load.Plan{Source: seqSource(h.URL), Pacer: load.Constant{Rate: 100}, Duration: 10 * time.Second, Attacker: a, Out: &out})
		require.NoError(t, err, "Run")
		assert.Less(t, time.Since(start), 5*time.Second, "Run returned after the stop, not at the end of the schedule")
		checkInterrupted(t, rep, &out, uint64(h.count.Load()))
	})
	t.Run("ContextCanceled", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, okHandler)
		var sent atomic.Int64
		src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
			sent.Add(1)
			return seqSource(srv.URL).Request(ctx, seq)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		var out bytes.Buffer
		rep, err := load.Run(ctx, load.Plan{Source: src, Pacer: load.Constant{Rate: 100}, Duration: 10 * time.Second, Out: &out})
		require.NoError(t, err, "Run")
		checkInterrupted(t, rep, &out, uint64(sent.Load()))
	})
}

func checkInterrupted(t *testing.T, rep *load.Report, out *bytes.Buffer, sent uint64) {
	t.Helper()
	require.NotNil(t, rep)
	assert.True(t, rep.Interrupted, "Report.Interrupted")
	assert.Equal(t, sent, rep.Requests, "Report.Requests = requests sent")
	assert.Equal(t, rep.Requests, rep.Success, "Report.Success: in-flight requests finish")
	assert.Equal(t, int64(rep.Requests), rep.Raw.Metrics.Latency.Count(), "latency histogram count")
	assert.Equal(t, 1.0, rep.SuccessRatio, "SuccessRatio")
	lines := 0
	dec := load.NewDecoder(out, "out.jsonl")
	for {
		var r load.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		lines++
	}
	assert.Equal(t, int(rep.Requests), lines, "results written to Out")
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	assert.True(t, strings.HasPrefix(text.String(), "Interrupted: "), "WriteText starts with the interruption:\n%s", text.String())
}

func TestAttackShardsPartitionTheSchedule(t *testing.T) {
	t.Parallel()
	srv := newServer(t, okHandler)
	p := load.Constant{Rate: 200}
	const d = 500 * time.Millisecond // slots 0 … 99
	var shards [3][]*load.Result
	var wg sync.WaitGroup
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shards[i] = collect(load.NewAttacker(load.Shard(i, 3)).Attack(context.Background(), seqSource(srv.URL), p, d))
		}()
	}
	wg.Wait()
	var all []uint64
	for i, rs := range shards {
		require.Equal(t, seqRange(uint64(i), 100, 3), seqs(rs), "shard %d of 3: every 3rd slot from %d", i, i)
		// Each shard keeps the whole schedule's times for its slots.
		for _, r := range rs {
			want, _ := load.Due(p, r.Seq, 0, d)
			first, _ := load.Due(p, rs[0].Seq, 0, d)
			if got := r.Intended.Sub(rs[0].Intended); got != want-first {
				t.Errorf("shard %d slot %d: Intended - Intended(first) = %s, want %s", i, r.Seq, got, want-first)
			}
		}
		all = append(all, seqs(rs)...)
	}
	slices.Sort(all)
	assert.Equal(t, seqRange(0, 100, 1), all, "the shards' slots together are the schedule, each once")

	t.Run("ClosedLoop", func(t *testing.T) {
		rs := collect(load.NewAttacker(load.Shard(1, 3), load.Workers(2)).Attack(context.Background(), seqSource(srv.URL), nil, 100*time.Millisecond))
		require.NotEmpty(t, rs)
		assert.Equal(t, seqRange(1, 1+3*uint64(len(rs)), 3), seqs(rs), "closed-loop shard 1 of 3")
	})
}

// refusedURL returns the URL of a loopback port nothing listens on.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// hijackServer takes each connection over after reading the request and
// lets do finish it.
func hijackServer(t *testing.T, do func(c net.Conn)) string {
	return newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		do(c)
	}).URL
}

// blockedURL is a server that reads the request and never answers
// (midAnswer: after 10 bytes of a 200 answer's body) until the test ends.
func blockedURL(midAnswer bool) func(t *testing.T) string {
	return func(t *testing.T) string {
		block := make(chan struct{})
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // so that the server sees the client go
			if midAnswer {
				w.Header().Set("Content-Length", "100")
				io.WriteString(w, "0123456789")
				http.NewResponseController(w).Flush()
			}
			select {
			case <-block:
			case <-r.Context().Done():
			}
		})
		t.Cleanup(func() { close(block) }) // before srv.Close waits
		return srv.URL
	}
}

func TestAttackErrorKinds(t *testing.T) {
	t.Parallel()
	netHTTP := func(timeout time.Duration) []load.Option {
		return []load.Option{load.Client(&http.Client{Timeout: timeout})}
	}
	tests := []struct {
		name   string
		url    func(t *testing.T) string
		opts   []load.Option
		want   string
		status int
		// bytesOut is the BytesOut of each result: the body when it was
		// written.
		bytesOut int64
	}{
		{name: "Refused", url: refusedURL, want: load.ErrRefused, bytesOut: 0},
		{name: "RefusedNetHTTP", url: refusedURL, opts: netHTTP(0), want: load.ErrRefused, bytesOut: 9},
		{name: "Timeout", url: blockedURL(false), opts: []load.Option{load.Timeout(100 * time.Millisecond)}, want: load.ErrTimeout, bytesOut: 9},
		{name: "TimeoutNetHTTP", url: blockedURL(false), opts: netHTTP(100 * time.Millisecond), want: load.ErrTimeout, bytesOut: 9},
		{
			name: "Reset",
			url: func(t *testing.T) string {
				return hijackServer(t, func(c net.Conn) {
					c.(*net.TCPConn).SetLinger(0) // close with RST
					c.Close()
				})
			},
			want:     load.ErrReset,
			bytesOut: 9,
		},
		{
			name: "EOF",
			url: func(t *testing.T) string {
				return hijackServer(t, func(c net.Conn) { c.Close() })
			},
			want:     load.ErrEOF,
			bytesOut: 9,
		},
		{
			name: "EOFMidAnswer",
			url: func(t *testing.T) string {
				return hijackServer(t, func(c net.Conn) {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
					c.Close()
				})
			},
			want:     load.ErrEOF,
			status:   http.StatusOK,
			bytesOut: 9,
		},
		{
			name: "MalformedAnswer",
			url: func(t *testing.T) string {
				return hijackServer(t, func(c net.Conn) {
					io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
					c.Close()
				})
			},
			want:     load.ErrOther,
			bytesOut: 9,
		},
		{name: "TimeoutMidAnswer", url: blockedURL(true), opts: []load.Option{load.Timeout(100 * time.Millisecond)}, want: load.ErrTimeout, status: http.StatusOK, bytesOut: 9},
		{name: "TimeoutMidAnswerNetHTTP", url: blockedURL(true), opts: netHTTP(100 * time.Millisecond), want: load.ErrTimeout, status: http.StatusOK, bytesOut: 9},
		{
			name: "Non2xxIsAStatusNotAnError",
			url: func(t *testing.T) string {
				return newServer(t, func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "no", http.StatusServiceUnavailable)
				}).URL
			},
			status:   http.StatusServiceUnavailable,
			bytesOut: 9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// 10/s for 150 ms: slots 0 and 1.
			rs := collect(load.NewAttacker(tt.opts...).Attack(context.Background(), seqSource(tt.url(t)), load.Constant{Rate: 10}, 150*time.Millisecond))
			require.Len(t, rs, 2)
			for _, r := range rs {
				assert.Equal(t, tt.want, r.ErrorKind, "slot %d: ErrorKind (error %q)", r.Seq, r.Error)
				assert.Equal(t, tt.status, r.Status, "slot %d: Status", r.Seq)
				assert.Equal(t, tt.want != "", r.Error != "", "slot %d: Error = %q", r.Seq, r.Error)
				assert.Positive(t, r.Latency, "slot %d: Latency of a failed request", r.Seq)
				assert.Equal(t, tt.bytesOut, r.BytesOut, "slot %d: BytesOut", r.Seq)
			}
			m := metricsOf(rs)
			assert.Equal(t, map[string]uint64{strconv.Itoa(tt.status): 2}, m.StatusCodes, "Metrics.StatusCodes (no answer is status 0)")
			assert.Equal(t, uint64(0), m.Success, "Metrics.Success")
			if tt.want != "" {
				assert.Equal(t, map[string]uint64{tt.want: 2}, m.Errors, "Metrics.Errors")
			} else {
				assert.Equal(t, map[string]uint64{"status": 2}, m.Errors, "Metrics.Errors")
			}
		})
	}
}

func TestAttackBuildErrorIsReported(t *testing.T) {
	t.Parallel()
	src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		return nil, errors.New("no key for slot " + strconv.FormatUint(seq, 10))
	})
	rs := collect(load.NewAttacker().Attack(context.Background(), src, load.Constant{Rate: 10}, 150*time.Millisecond))
	require.Len(t, rs, 2)
	for _, r := range rs {
		assert.Equal(t, load.ErrBuild, r.ErrorKind, "slot %d: ErrorKind", r.Seq)
		assert.Equal(t, "no key for slot "+strconv.FormatUint(r.Seq, 10), r.Error, "slot %d: Error", r.Seq)
		assert.Equal(t, 0, r.Status, "slot %d: Status", r.Seq)
		assert.False(t, r.Sent.IsZero(), "slot %d: Sent is set", r.Seq)
	}
}

func TestAttackReadsAnswer(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 100_000) // past the 64 KiB read for triggered ids
	tests := []struct {
		name          string
		status        int
		body          string
		wantTriggered []string
		wantBody      string
	}{
		{"TriggeredIDs", 200, `{"ok":true,"triggered":["a","b"]}`, []string{"a", "b"}, ""},
		{"TriggeredNone", 202, `{"triggered":[]}`, []string{}, ""},
		{"NoTriggeredField", 200, `{"ok":true}`, nil, ""},
		{"Non2xxIgnoresTriggered", 500, `{"triggered":["a"]}`, nil, `{"triggered":["a"]}`},
		{"NotJSON", 200, `hello`, nil, ""},
		{"LongAnswerCountedInFull", 200, `{"triggered":["a"],"pad":"` + big + `"}`, []string{"a"}, ""},
		{"FailureBodyKeptUpTo512Bytes", 401, `{"error":"` + big + `"}`, nil, (`{"error":"` + big)[:load.MaxFailureBody]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			rs := collect(load.NewAttacker().Attack(context.Background(), seqSource(srv.URL), load.Constant{Rate: 10}, 50*time.Millisecond))
			require.Len(t, rs, 1)
			r := rs[0]
			assert.Equal(t, tt.status, r.Status, "Status")
			assert.Equal(t, tt.wantTriggered, r.Triggered, "Triggered")
			assert.Equal(t, tt.wantBody, string(r.Body), "Body")
			assert.Equal(t, int64(len(tt.body)), r.BytesIn, "BytesIn")
			assert.Equal(t, int64(len(`{"seq":0}`)), r.BytesOut, "BytesOut")
		})
	}
}
