package load_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load"
)

// dedup answers a request whose sim.RequestIDHeader it has seen with 200
// and does not pass it on: a receiver that deduplicates.
func dedup(h http.Handler) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(sim.RequestIDHeader)
		mu.Lock()
		dup := seen[id]
		seen[id] = true
		mu.Unlock()
		if dup {
			w.Write([]byte(`{"ok":true,"duplicate":true}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// failFirstSight answers 500 to the first request of each request id;
// when process is set it first passes that request on (a receiver that
// acts, then fails).
func failFirstSight(process bool) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		var mu sync.Mutex
		seen := map[string]bool{}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(sim.RequestIDHeader)
			mu.Lock()
			again := seen[id]
			seen[id] = true
			mu.Unlock()
			if again {
				h.ServeHTTP(w, r)
				return
			}
			if process {
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			w.WriteHeader(http.StatusInternalServerError)
		})
	}
}

// runChaos sends 50 github/push requests (100/s for 500 ms) to ref under
// c and returns the report once the ingress is idle.
func (ref *reference) runChaos(t *testing.T, c *sim.Chaos) (*load.Report, *load.DeliveryMetrics) {
	t.Helper()
	require.NoError(t, c.Validate())
	f, err := fixtures.Lookup("github/push")
	require.NoError(t, err)
	rep, err := load.Run(context.Background(), load.Plan{
		Source:     load.FixtureSource(f, ref.target, ref.keys, 1),
		Pacer:      load.Constant{Rate: 100},
		Duration:   500 * time.Millisecond,
		Attacker:   load.NewAttacker(load.WithChaos(c)),
		Deliveries: ref.dl,
		Grace:      10 * time.Second,
	})
	require.NoError(t, err, "Run")
	require.NotNil(t, rep.Chaos, "Report.Chaos with chaos on")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ref.in.Flush(ctx), "Flush")
	return rep, ref.dl.Metrics()
}

// duplicatesOf counts the deliveries among the first n that c sends twice.
func duplicatesOf(c *sim.Chaos, n uint64) uint64 {
	var k uint64
	for seq := range n {
		if c.Duplicated(seq) {
			k++
		}
	}
	return k
}

func TestChaosDuplicatesAreDoubledByTheReference(t *testing.T) {
	t.Parallel()
	const requests, triggers = 50, 2
	ref := newReference(t, nil)
	c := &sim.Chaos{Duplicate: 0.1, Seed: 1}
	want := duplicatesOf(c, requests)
	require.Positive(t, want, "seed 1 duplicates some of the 50")
	rep, m := ref.runChaos(t, c)
	assert.Equal(t, want, rep.Chaos.Duplicates, "duplicates sent")
	assert.Equal(t, requests+want, rep.Requests, "requests: the slots and the copies")
	assert.Equal(t, rep.Requests, rep.Success, "every copy verifies: the same bytes (status codes %v)", rep.StatusCodes)
	assert.Equal(t, want*triggers, m.Duplicated, "doubled: each copy delivered again to both triggers")
	assert.Equal(t, uint64(requests*triggers), m.Delivered, "delivered")
	assert.Equal(t, uint64(0), m.Lost, "lost")
}

func TestChaosDuplicatesAreNotDoubledByADedupingReceiver(t *testing.T) {
	t.Parallel()
	const requests, triggers = 50, 2
	ref := newReference(t, dedup)
	c := &sim.Chaos{Duplicate: 0.1, Seed: 1}
	want := duplicatesOf(c, requests)
	rep, m := ref.runChaos(t, c)
	assert.Equal(t, want, rep.Chaos.Duplicates, "duplicates sent")
	assert.Equal(t, rep.Requests, rep.Success, "success")
	assert.Equal(t, uint64(0), m.Duplicated, "doubled")
	assert.Equal(t, uint64(requests*triggers), m.Delivered, "delivered")
	assert.Equal(t, uint64(0), m.Lost, "lost: a copy expects no delivery of its own")
}

func TestChaosRetries(t *testing.T) {
	t.Parallel()
	const requests, triggers = 50, 2
	stripe, _ := sim.RetryPolicyFor("stripe")
	tests := []struct {
		name    string
		process bool   // the receiver acts on the request it answers 500
		doubled uint64 // then the retry delivers again
	}{
		{"failing-before-acting", false, 0},
		{"failing-after-acting", true, requests * triggers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ref := newReference(t, failFirstSight(tt.process))
			sg, err := signer.NewSigner(signer.GitHub(), ref.keys)
			require.NoError(t, err)
			rep, m := ref.runChaos(t, &sim.Chaos{Retry: &stripe, TimeScale: 0.0001, Signer: sg})
			assert.Equal(t, map[string]uint64{"2": requests}, rep.Chaos.Retries, "one retry each, attempt 2")
			assert.Equal(t, uint64(requests), rep.Chaos.Retried, "retried")
			assert.Equal(t, uint64(0), rep.Chaos.GaveUp, "gave up")
			assert.Equal(t, uint64(2*requests), rep.Requests, "requests: first attempts and retries")
			assert.Equal(t, uint64(requests), rep.Success, "the retries succeed")
			assert.Equal(t, uint64(requests*triggers), m.Delivered, "delivered")
			assert.Equal(t, tt.doubled, m.Duplicated, "doubled")
			assert.Equal(t, uint64(0), m.Lost, "lost")
		})
	}
}

func TestChaosRetriesGiveUpAfterTheLastAttempt(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	slack, _ := sim.RetryPolicyFor("slack")
	src, err := load.BodySource(signer.Slack(), signer.Keys("s"), "", srv.URL, nil, []byte(`{}`))
	require.NoError(t, err)
	rep, err := load.Run(context.Background(), load.Plan{
		Source: src, Pacer: load.Constant{Rate: 100}, Duration: 100 * time.Millisecond,
		Attacker: load.NewAttacker(load.WithChaos(&sim.Chaos{Retry: &slack, TimeScale: 0.00001})),
	})
	require.NoError(t, err)
	const n = 10
	assert.Equal(t, map[string]uint64{"2": n, "3": n, "4": n}, rep.Chaos.Retries, "retries by attempt")
	assert.Equal(t, uint64(n), rep.Chaos.GaveUp, "gave up")
	assert.Equal(t, uint64(4*n), rep.Requests, "requests")
}

func TestChaosReorderSendsEachDeliveryOnceOutOfOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var arrived []uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		id := r.Header.Get(sim.RequestIDHeader)
		seq, err := strconv.ParseUint(id[strings.LastIndexByte(id, '-')+1:], 10, 64)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		arrived = append(arrived, seq)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	src, err := load.BodySource(signer.GitHub(), signer.Keys("s"), "", srv.URL, nil, []byte(`{}`))
	require.NoError(t, err)
	c := &sim.Chaos{Reorder: 8, Seed: 3}
	// Closed loop with one worker: slots go out one after the other.
	rep, err := load.Run(context.Background(), load.Plan{
		Source: src, Duration: 200 * time.Millisecond,
		Attacker: load.NewAttacker(load.Workers(1), load.WithChaos(c)),
	})
	require.NoError(t, err)
	require.Equal(t, int(rep.Requests), len(arrived), "one request a slot")
	var moved uint64
	for pos, seq := range arrived {
		require.Equal(t, c.Order(uint64(pos)), seq, "slot %d sent delivery Order(%d)", pos, pos)
		if seq != uint64(pos) {
			moved++
		}
	}
	require.Greater(t, len(arrived), 8, "a full window was sent")
	assert.Positive(t, moved, "some deliveries out of order")
	assert.Equal(t, moved, rep.Chaos.Reordered, "reordered in the report")
}

func TestMergeReportsAddsChaos(t *testing.T) {
	mk := func(dups uint64, retries map[string]uint64) *load.Report {
		m := load.NewMetrics()
		m.Chaos = load.NewChaosMetrics()
		m.Chaos.Duplicates, m.Chaos.Reordered, m.Chaos.Retried, m.Chaos.GaveUp = dups, 1, 2, 3
		m.Chaos.Retries = retries
		return load.NewReport(m, nil, 0)
	}
	got := mustMerge(t, asShards(mk(2, map[string]uint64{"2": 4}), mk(5, map[string]uint64{"2": 1, "3": 1}), load.NewReport(load.NewMetrics(), nil, 0))...)
	require.NotNil(t, got.Chaos)
	assert.Equal(t, &load.ChaosMetrics{Duplicates: 7, Reordered: 2, Retried: 4, GaveUp: 6, Retries: map[string]uint64{"2": 5, "3": 1}}, got.Chaos)
	var b strings.Builder
	require.NoError(t, got.WriteText(&b))
	assert.Contains(t, b.String(), "Chaos         [duplicates sent, reordered]       7, 2\n")
	assert.Contains(t, b.String(), "  retries     [attempt:count, retried, gave up]  2:5 3:1, 4, 6\n")
	assert.Nil(t, mustMerge(t, asShards(load.NewReport(load.NewMetrics(), nil, 0))...).Chaos, "no chaos section without chaos")
}

func TestDeliveriesIgnoreASecondAnswerForOneRequest(t *testing.T) {
	dl := load.NewDeliveries()
	dl.Timeout = time.Hour
	sent := time.Now()
	dl.Sent(&load.Result{ID: "r1", Status: 200, Sent: sent, Triggered: []string{"t1"}})
	rec := httptest.NewRecorder()
	dl.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(envelope(t, sim.RequestIDHeader, "r1", "t1")))))
	// The copy's answer, after the delivery, and a copy answered without
	// naming triggers: neither expects a delivery of its own.
	dl.Sent(&load.Result{ID: "r1", Status: 200, Sent: sent.Add(time.Millisecond), Triggered: []string{"t1"}})
	dl.Sent(&load.Result{ID: "r1", Status: 200, Sent: sent.Add(2 * time.Millisecond)})
	dl.Close()
	m := dl.Metrics()
	assert.Equal(t, uint64(1), m.Delivered, "delivered")
	assert.Equal(t, uint64(0), m.Lost, "lost")
	assert.Equal(t, uint64(0), m.Duplicated, "doubled")
}

// BenchmarkAttackChaos is BenchmarkAttack with chaos on that sends
// nothing extra (a reorder window): the cost of its per-request path.
func BenchmarkAttackChaos(b *testing.B) {
	benchAttack(b, load.WithChaos(&sim.Chaos{Reorder: 16, Seed: 1}))
}
