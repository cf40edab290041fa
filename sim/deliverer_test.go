package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attemptSink answers the n-th POST it gets (from 0) with script[n]; past
// the script it answers 204. It records every attempt's headers and
// envelope id.
type attemptSink struct {
	script []func(w http.ResponseWriter, r *http.Request)

	mu       sync.Mutex
	attempts []attemptSeen
	seen     chan struct{} // gets a value per attempt, if not nil
}

type attemptSeen struct {
	headerID, envelopeID, attempt string
}

func (s *attemptSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var d Delivery
	json.Unmarshal(body, &d)
	s.mu.Lock()
	n := len(s.attempts)
	s.attempts = append(s.attempts, attemptSeen{r.Header.Get(DeliveryIDHeader), d.ID, r.Header.Get(DeliveryAttemptHeader)})
	s.mu.Unlock()
	if s.seen != nil {
		s.seen <- struct{}{}
	}
	if n < len(s.script) {
		s.script[n](w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *attemptSink) seenAttempts() []attemptSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]attemptSeen(nil), s.attempts...)
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

// hang answers only when the client gives up: a timed-out attempt.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// drop closes the connection without an answer.
func drop(w http.ResponseWriter, r *http.Request) {
	c, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		c.Close()
	}
}

// testDeliverer is a deliverer with waits short enough for tests.
func testDeliverer(t *testing.T, cfg delivererConfig) *deliverer {
	t.Helper()
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	d := newDeliverer(cfg)
	t.Cleanup(func() { d.Close() })
	return d
}

func testDelivery(trigger string) *Delivery {
	return &Delivery{Endpoint: "ep", Trigger: trigger, Request: DeliveredRequest{Method: "POST", URL: "http://x/hooks/ep", Body: []byte(`{}`)}}
}

// TestDelivererRetriesOnlyAfterAFailedAttempt checks how many attempts
// each answer sequence gets, and that every attempt of a delivery carries
// the same id, in its header and its envelope, with attempt numbers 1, 2, ….
func TestDelivererRetriesOnlyAfterAFailedAttempt(t *testing.T) {
	tests := []struct {
		name     string
		script   []func(http.ResponseWriter, *http.Request)
		attempts int
		timeout  time.Duration
		want     int
	}{
		{name: "SuccessAtOnce", script: nil, want: 1},
		{name: "OK200IsSuccess", script: []func(http.ResponseWriter, *http.Request){status(200)}, want: 1},
		{name: "ServerErrorThenSuccess", script: []func(http.ResponseWriter, *http.Request){status(500)}, want: 2},
		{name: "ClientErrorIsAFailure", script: []func(http.ResponseWriter, *http.Request){status(400), status(429)}, want: 3},
		{name: "TimeoutThenSuccess", script: []func(http.ResponseWriter, *http.Request){hang}, timeout: 50 * time.Millisecond, want: 2},
		{name: "DroppedConnectionThenSuccess", script: []func(http.ResponseWriter, *http.Request){drop}, want: 2},
		{name: "GivesUpAfterAttempts", script: []func(http.ResponseWriter, *http.Request){status(503), status(503), status(503), status(503)}, attempts: 3, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &attemptSink{script: tt.script}
			srv := httptest.NewServer(sink)
			defer srv.Close()
			d := testDeliverer(t, delivererConfig{Attempts: tt.attempts, Timeout: tt.timeout})
			dv := testDelivery("a")
			require.NoError(t, d.enqueue(context.Background(), srv.URL, dv))
			require.NoError(t, d.Flush(context.Background()))

			got := sink.seenAttempts()
			require.Len(t, got, tt.want, "attempts")
			for i, a := range got {
				assert.Equal(t, dv.ID, a.headerID, "attempt %d: %s", i+1, DeliveryIDHeader)
				assert.Equal(t, dv.ID, a.envelopeID, "attempt %d: envelope id", i+1)
				assert.Equal(t, strconv.Itoa(i+1), a.attempt, "attempt %d: %s", i+1, DeliveryAttemptHeader)
			}
		})
	}
}

// TestDelivererGivesEachDeliveryItsOwnID checks that two deliveries of
// the same trigger and request get different ids, so a duplicate stays
// visible, and that an id already set is kept.
func TestDelivererGivesEachDeliveryItsOwnID(t *testing.T) {
	sink := &attemptSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	d := testDeliverer(t, delivererConfig{})
	a, b, c := testDelivery("a"), testDelivery("a"), testDelivery("a")
	c.ID = "given"
	for _, dv := range []*Delivery{a, b, c} {
		require.NoError(t, d.enqueue(context.Background(), srv.URL, dv))
	}
	require.NoError(t, d.Flush(context.Background()))
	assert.NotEqual(t, a.ID, b.ID, "ids of two deliveries")
	assert.Equal(t, "given", c.ID)
	assert.False(t, a.DeliveredAt.IsZero(), "DeliveredAt set")
	ids := map[string]int{}
	for _, s := range sink.seenAttempts() {
		ids[s.envelopeID]++
	}
	assert.Equal(t, map[string]int{a.ID: 1, b.ID: 1, "given": 1}, ids, "envelope ids received")
}

// TestDeliveryIDFormat checks ids: 32 hex digits whose first 12 are the
// creation time in milliseconds, so they sort by time, and distinct.
func TestDeliveryIDFormat(t *testing.T) {
	now := time.UnixMilli(0x0123456789ab)
	d := &deliverer{cfg: delivererConfig{Now: func() time.Time { return now }, IDSource: bytes.NewReader(bytes.Repeat([]byte{0xfe}, 20))}}
	id := d.newID(now)
	assert.Equal(t, "0123456789abfefefefefefefefefefe", id)
	later := &deliverer{cfg: delivererConfig{Now: func() time.Time { return now.Add(time.Millisecond) }, IDSource: bytes.NewReader(make([]byte, 10))}}
	assert.Less(t, id, later.newID(now.Add(time.Millisecond)), "an id made later sorts after")

	failing := &deliverer{cfg: delivererConfig{Now: time.Now, IDSource: bytes.NewReader(nil)}}
	assert.NotEqual(t, failing.newID(now), failing.newID(now), "ids when the random source fails")
}

// TestBackoffGrowsWithJitterWithinBounds checks the wait after each
// failed attempt: base×2^(n-1) capped, plus up to half of it.
func TestBackoffGrowsWithJitterWithinBounds(t *testing.T) {
	const base, limit = 100 * time.Millisecond, time.Second
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 0, 100 * time.Millisecond},
		{1, 0.5, 125 * time.Millisecond},
		{2, 0, 200 * time.Millisecond},
		{3, 0.999, 400*time.Millisecond + 199800*time.Microsecond},
		{4, 0, 800 * time.Millisecond},
		{5, 0, time.Second}, // capped
		{5, 0.5, 1250 * time.Millisecond},
		{60, 0, time.Second}, // no overflow
	}
	for _, tt := range tests {
		if got := backoff(tt.n, base, limit, tt.r); got != tt.want {
			t.Errorf("backoff(%d, %v, %v, %v) = %v, want %v", tt.n, base, limit, tt.r, got, tt.want)
		}
	}
	for n := 1; n < 12; n++ {
		w := min(base<<(n-1), limit)
		for _, r := range []float64{0, 0.25, 0.5, 0.75, 0.9999} {
			got := backoff(n, base, limit, r)
			if got < w || got >= w+w/2 {
				t.Errorf("backoff(%d, r=%v) = %v, want in [%v, %v)", n, r, got, w, w+w/2)
			}
		}
		if n > 1 && w < limit && backoff(n, base, limit, 0) <= backoff(n-1, base, limit, 0.9999) {
			t.Errorf("backoff(%d) = %v, not above backoff(%d) with any jitter", n, backoff(n, base, limit, 0), n-1)
		}
	}
}

// TestDelivererBackPressure checks that enqueue blocks once Queue +
// Concurrency deliveries are accepted and not done, gives up with its
// context, and goes through once a delivery is done.
func TestDelivererBackPressure(t *testing.T) {
	release := make(chan struct{})
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		served.Add(1)
	}))
	defer srv.Close()
	defer close(release) // before srv.Close: let handlers end
	d := testDeliverer(t, delivererConfig{Concurrency: 1, Queue: 1})

	require.NoError(t, d.enqueue(context.Background(), srv.URL, testDelivery("in-flight")))
	require.NoError(t, d.enqueue(context.Background(), srv.URL, testDelivery("queued")))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := d.enqueue(ctx, srv.URL, testDelivery("refused"))
	require.ErrorIs(t, err, context.DeadlineExceeded, "enqueue on a full deliverer")

	done := make(chan error, 1)
	go func() { done <- d.enqueue(context.Background(), srv.URL, testDelivery("waits")) }()
	release <- struct{}{} // the first delivery ends: room for one
	require.NoError(t, <-done, "enqueue once there is room")
	release <- struct{}{}
	release <- struct{}{}
	require.NoError(t, d.Flush(context.Background()))
	assert.Equal(t, int64(3), served.Load(), "deliveries served")
}

// TestDelivererCloseStopsRetries checks that Close ends a delivery
// waiting to retry and one in flight without further attempts, and that
// nothing is accepted after.
func TestDelivererCloseStopsRetries(t *testing.T) {
	tests := []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request)
	}{
		{name: "WaitingToRetry", answer: status(500)},
		{name: "InFlight", answer: hang},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &attemptSink{seen: make(chan struct{}, 10)}
			for range 5 {
				sink.script = append(sink.script, tt.answer)
			}
			srv := httptest.NewServer(sink)
			defer srv.Close()
			d := newDeliverer(delivererConfig{Backoff: time.Hour, Timeout: time.Hour})
			require.NoError(t, d.enqueue(context.Background(), srv.URL, testDelivery("a")))
			<-sink.seen
			require.NoError(t, d.Close())
			assert.Len(t, sink.seenAttempts(), 1, "attempts")
			assert.NoError(t, d.Flush(context.Background()), "Flush after Close")
			assert.ErrorIs(t, d.enqueue(context.Background(), srv.URL, testDelivery("b")), errDelivererClosed, "enqueue after Close")
		})
	}
}

// TestDelivererConcurrencyLimit checks that no more than Concurrency
// POSTs are ever in flight, and that a pool of workers, not one
// connection, serves them: N deliveries to one host open no more
// connections than the limit.
func TestDelivererConcurrencyLimit(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run("Limit"+strconv.Itoa(limit), func(t *testing.T) {
			var inFlight, most, conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := inFlight.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(time.Millisecond) // let others pile up
				inFlight.Add(-1)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			d := testDeliverer(t, delivererConfig{Concurrency: limit, Queue: 4})
			const n = 200
			for i := range n {
				require.NoError(t, d.enqueue(context.Background(), srv.URL, testDelivery(strconv.Itoa(i))))
			}
			require.NoError(t, d.Flush(context.Background()))
			assert.LessOrEqual(t, most.Load(), int64(limit), "POSTs in flight at once")
			assert.LessOrEqual(t, conns.Load(), int64(limit), "connections opened for %d deliveries", n)
		})
	}
}

// TestDelivererFlushWaitsForRetries checks that Flush waits for a
// delivery that is between attempts, not only for those in flight.
func TestDelivererFlushWaitsForRetries(t *testing.T) {
	sink := &attemptSink{script: []func(http.ResponseWriter, *http.Request){status(500), status(500)}}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	d := testDeliverer(t, delivererConfig{Backoff: 5 * time.Millisecond})
	require.NoError(t, d.enqueue(context.Background(), srv.URL, testDelivery("a")))
	require.NoError(t, d.Flush(context.Background()))
	assert.Len(t, sink.seenAttempts(), 3, "attempts made when Flush returns")
}

// TestDelivererFlushWaitsOnlyForEarlierDeliveries checks that Flush
// returns once the deliveries enqueued before it are done, although one
// enqueued after it is still in flight, and that a later Flush waits for
// that one.
func TestDelivererFlushWaitsOnlyForEarlierDeliveries(t *testing.T) {
	release := map[string]chan struct{}{"before": make(chan struct{}), "after": make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var dv Delivery
		json.NewDecoder(r.Body).Decode(&dv)
		<-release[dv.Trigger]
	}))
	defer srv.Close()
	d := testDeliverer(t, delivererConfig{Concurrency: 2})
	require.NoError(t, d.enqueue(context.Background(), srv.URL, testDelivery("before")))
	first := d.flushPoint()
	require.NoError(t, d.enqueue(context.Background(), srv.URL, testDelivery("after")))
	second := d.flushPoint()

	close(release["before"])
	waitClosed(t, first, "first Flush") // would wait for "after" too if Flush waited for idleness
	select {
	case <-second:
		t.Errorf("second Flush returned while a delivery enqueued before it is in flight")
	default:
	}
	close(release["after"])
	waitClosed(t, second, "second Flush")
	assert.NoError(t, d.Flush(context.Background()), "Flush when idle")
}

// waitClosed waits for ch to be closed; the bound only turns a hang into
// a failure.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: still waiting after 30s", what)
	}
}

// TestDelivererStartsWorkersAsDeliveriesCome checks that a deliverer runs
// no worker before its first delivery and never more than Concurrency.
func TestDelivererStartsWorkersAsDeliveriesCome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	d := testDeliverer(t, delivererConfig{Concurrency: 4})
	started := func() int {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.started
	}
	assert.Equal(t, 0, started(), "workers before any delivery")
	for i, want := range []int{1, 2, 3, 4, 4, 4} {
		require.NoError(t, d.enqueue(context.Background(), srv.URL, testDelivery(strconv.Itoa(i))))
		assert.Equal(t, want, started(), "workers after %d deliveries", i+1)
	}
	require.NoError(t, d.Flush(context.Background()))
}
