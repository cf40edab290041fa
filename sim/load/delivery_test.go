package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load"
)

// envelope is a delivery envelope for request id (none when id is "")
// from trigger, as an ingress POSTs it, with the header named as given.
func envelope(t *testing.T, header, id, trigger string) []byte {
	t.Helper()
	h := map[string][]string{"Content-Type": {"application/json"}}
	if id != "" {
		h[header] = []string{id}
	}
	b, err := json.Marshal(sim.Delivery{
		Endpoint: "ep", Trigger: trigger,
		Request:     sim.DeliveredRequest{Method: http.MethodPost, URL: "http://ingress/hooks/ep", Header: h, Body: []byte(`{}`)},
		ReceivedAt:  time.Now(),
		DeliveredAt: time.Now(),
	})
	require.NoError(t, err)
	return b
}

// deliverWithID hands d one attempt of delivery deliveryID: in the
// envelope's "id", or only in sim.DeliveryIDHeader when inHeader.
func deliverWithID(t *testing.T, d *load.Deliveries, id, trigger, deliveryID string, inHeader bool) {
	t.Helper()
	var env map[string]any
	require.NoError(t, json.Unmarshal(envelope(t, sim.RequestIDHeader, id, trigger), &env))
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if inHeader {
		r.Header.Set(sim.DeliveryIDHeader, deliveryID)
	} else {
		env["id"] = deliveryID
	}
	b, err := json.Marshal(env)
	require.NoError(t, err)
	r.Body = io.NopCloser(bytes.NewReader(b))
	w := httptest.NewRecorder()
	d.ServeHTTP(w, r)
	if w.Code != http.StatusNoContent {
		t.Fatalf("POST envelope(%q, %q, id %q) = %d %s, want 204", id, trigger, deliveryID, w.Code, w.Body)
	}
}

// deliver hands d one envelope and checks that it was taken.
func deliver(t *testing.T, d *load.Deliveries, id, trigger string) {
	t.Helper()
	w := httptest.NewRecorder()
	d.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(envelope(t, sim.RequestIDHeader, id, trigger))))
	if w.Code != http.StatusNoContent {
		t.Fatalf("POST envelope(%q, %q) = %d %s, want 204", id, trigger, w.Code, w.Body)
	}
}

// sent is a 2xx result for request id, sent ago before now, whose answer
// named triggered (nil: named none).
func sent(id string, ago time.Duration, triggered ...string) *load.Result {
	now := time.Now()
	return &load.Result{ID: id, Intended: now.Add(-ago), Sent: now.Add(-ago), Status: http.StatusAccepted, Triggered: triggered}
}

type deliveryCounts struct {
	Delivered, Lost, Duplicated, Retries, Stray uint64
	Latencies                                   int64
	Pending                                     int
}

func countsOf(d *load.Deliveries) deliveryCounts {
	m := d.Metrics()
	return deliveryCounts{Delivered: m.Delivered, Lost: m.Lost, Duplicated: m.Duplicated, Retries: m.Retries, Stray: m.Stray, Latencies: m.Latency.Count(), Pending: d.Pending()}
}

func TestDeliveries(t *testing.T) {
	// A step is one event: a result registered, a delivery arriving, or
	// Close.
	type step func(t *testing.T, d *load.Deliveries)
	result := func(r *load.Result) step { return func(t *testing.T, d *load.Deliveries) { d.Sent(r) } }
	delivery := func(id, trigger string) step {
		return func(t *testing.T, d *load.Deliveries) { deliver(t, d, id, trigger) }
	}
	withID := func(id, trigger, deliveryID string) step {
		return func(t *testing.T, d *load.Deliveries) { deliverWithID(t, d, id, trigger, deliveryID, false) }
	}
	withHeaderID := func(id, trigger, deliveryID string) step {
		return func(t *testing.T, d *load.Deliveries) { deliverWithID(t, d, id, trigger, deliveryID, true) }
	}
	closeD := func(t *testing.T, d *load.Deliveries) { d.Close() }
	tests := []struct {
		name   string
		expect int
		steps  []step
		want   deliveryCounts
	}{
		{
			name:  "ExpectedFromTriggered",
			steps: []step{result(sent("r1", 0, "a", "b")), delivery("r1", "a"), delivery("r1", "b"), closeD},
			want:  deliveryCounts{Delivered: 2, Latencies: 2},
		},
		{
			name:  "PendingUntilEveryTriggerDelivers",
			steps: []step{result(sent("r1", 0, "a", "b")), delivery("r1", "a")},
			want:  deliveryCounts{Delivered: 1, Latencies: 1, Pending: 1},
		},
		{
			name:  "EarlyDeliveryMatched",
			steps: []step{delivery("r1", "a"), result(sent("r1", 0, "a")), closeD},
			want:  deliveryCounts{Delivered: 1, Latencies: 1},
		},
		{
			name:  "EarlyAndLateDeliveries",
			steps: []step{delivery("r1", "a"), result(sent("r1", 0, "a", "b")), delivery("r1", "b"), closeD},
			want:  deliveryCounts{Delivered: 2, Latencies: 2},
		},
		{
			name:  "TriggeredNoneExpectsNothing",
			steps: []step{result(sent("r1", 0, []string{}...)), closeD},
			want:  deliveryCounts{},
		},
		{
			name:  "ExpectDefaultsToOne",
			steps: []step{result(sent("r1", 0)), delivery("r1", "x")},
			want:  deliveryCounts{Delivered: 1, Latencies: 1},
		},
		{
			name:   "ExpectFromExpect",
			expect: 2,
			steps:  []step{result(sent("r1", 0)), delivery("r1", "x"), delivery("r1", "y")},
			want:   deliveryCounts{Delivered: 2, Latencies: 2},
		},
		{
			name:   "ExpectLostAfterClose",
			expect: 3,
			steps:  []step{result(sent("r1", 0)), delivery("r1", "x"), closeD},
			want:   deliveryCounts{Delivered: 1, Latencies: 1, Lost: 2},
		},
		{
			name:  "LostAfterClose",
			steps: []step{result(sent("r1", 0, "a", "b")), delivery("r1", "a"), result(sent("r2", 0, "a")), closeD},
			want:  deliveryCounts{Delivered: 1, Latencies: 1, Lost: 2},
		},
		{
			name:  "NotLostBeforeClose",
			steps: []step{result(sent("r1", 0, "a", "b"))},
			want:  deliveryCounts{Pending: 1},
		},
		{
			name:  "DuplicatedWhilePending",
			steps: []step{result(sent("r1", 0, "a", "b")), delivery("r1", "a"), delivery("r1", "a"), delivery("r1", "b"), closeD},
			want:  deliveryCounts{Delivered: 2, Duplicated: 1, Latencies: 2},
		},
		{
			name:  "DuplicatedAfterDone",
			steps: []step{result(sent("r1", 0, "a")), delivery("r1", "a"), delivery("r1", "a"), delivery("r1", "a"), closeD},
			want:  deliveryCounts{Delivered: 1, Duplicated: 2, Latencies: 1},
		},
		{
			name:  "DuplicatedEarly",
			steps: []step{delivery("r1", "a"), delivery("r1", "a"), result(sent("r1", 0, "a")), closeD},
			want:  deliveryCounts{Delivered: 1, Duplicated: 1, Latencies: 1},
		},
		{
			name:  "RetryIsNotADuplicate",
			steps: []step{result(sent("r1", 0, "a", "b")), withID("r1", "a", "d1"), withID("r1", "a", "d1"), withID("r1", "b", "d2"), closeD},
			want:  deliveryCounts{Delivered: 2, Retries: 1, Latencies: 2},
		},
		{
			name:  "RetryAfterDone",
			steps: []step{result(sent("r1", 0, "a")), withID("r1", "a", "d1"), withID("r1", "a", "d1"), withID("r1", "a", "d1"), closeD},
			want:  deliveryCounts{Delivered: 1, Retries: 2, Latencies: 1},
		},
		{
			name:  "RetryEarly",
			steps: []step{withID("r1", "a", "d1"), withID("r1", "a", "d1"), result(sent("r1", 0, "a")), closeD},
			want:  deliveryCounts{Delivered: 1, Retries: 1, Latencies: 1},
		},
		{
			name:  "RetryByHeaderID",
			steps: []step{result(sent("r1", 0, "a")), withHeaderID("r1", "a", "d1"), withHeaderID("r1", "a", "d1"), closeD},
			want:  deliveryCounts{Delivered: 1, Retries: 1, Latencies: 1},
		},
		{
			name:  "TwoIDsAreADuplicate",
			steps: []step{result(sent("r1", 0, "a")), withID("r1", "a", "d1"), withID("r1", "a", "d2"), withID("r1", "a", "d2"), closeD},
			want:  deliveryCounts{Delivered: 1, Duplicated: 1, Retries: 1, Latencies: 1},
		},
		{
			name:  "StrayWithoutRequestID",
			steps: []step{delivery("", "a"), closeD},
			want:  deliveryCounts{Stray: 1},
		},
		// Delivered counts every envelope that names a request and is not a
		// copy, expected or not; Stray tells the unexpected ones apart.
		{
			name: "StrayForNon2xx",
			steps: []step{
				result(&load.Result{ID: "r1", Sent: time.Now(), Status: http.StatusUnauthorized, Triggered: []string{"a"}}),
				delivery("r1", "a"), closeD,
			},
			want: deliveryCounts{Delivered: 1, Stray: 1},
		},
		{
			name:  "StrayForUnknownRequest",
			steps: []step{delivery("nobody", "a"), delivery("nobody", "b"), closeD},
			want:  deliveryCounts{Delivered: 2, Stray: 2},
		},
		{
			name: "DroppedAndFailedResultsExpectNothing",
			steps: []step{
				result(&load.Result{ID: "r1", Intended: time.Now(), Dropped: true}),
				result(&load.Result{ID: "r2", Sent: time.Now(), ErrorKind: load.ErrRefused}),
				result(&load.Result{Sent: time.Now(), Status: 200}), // no id
				closeD,
			},
			want: deliveryCounts{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := load.NewDeliveries()
			d.Expect = tt.expect
			for _, s := range tt.steps {
				s(t, d)
			}
			assert.Equal(t, tt.want, countsOf(d))
		})
	}
}

func TestDeliveriesLatencyRunsFromSend(t *testing.T) {
	tests := []struct {
		name  string
		early bool
	}{{"Late", false}, {"Early", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := load.NewDeliveries()
			// The request was sent 50 ms before the delivery arrives, whether
			// its result is registered before or after the delivery.
			r := sent("r1", 50*time.Millisecond, "a")
			if tt.early {
				deliver(t, d, "r1", "a")
				d.Sent(r)
			} else {
				d.Sent(r)
				deliver(t, d, "r1", "a")
			}
			m := d.Metrics()
			require.Equal(t, int64(1), m.Latency.Count())
			assert.GreaterOrEqual(t, m.Latency.Quantile(100), 50*time.Millisecond, "delivery latency")
			assert.Less(t, m.Latency.Quantile(100), 10*time.Second, "delivery latency")
		})
	}
}

func TestDeliveriesMatchesHeaderInAnyCase(t *testing.T) {
	d := load.NewDeliveries()
	d.Sent(sent("r1", 0, "a"))
	w := httptest.NewRecorder()
	d.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(envelope(t, strings.ToLower(sim.RequestIDHeader), "r1", "a"))))
	require.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, deliveryCounts{Delivered: 1, Latencies: 1}, countsOf(d))
}

func TestDeliveriesRejectsWhatIsNotAnEnvelope(t *testing.T) {
	tests := []struct {
		name, method, body string
	}{
		{"GET", http.MethodGet, ""},
		{"NotJSON", http.MethodPost, "hello"},
		{"NoTrigger", http.MethodPost, `{"endpoint":"ep","request":{"headers":{"Hooklab-Request-Id":["r1"]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := load.NewDeliveries()
			d.Sent(sent("r1", 0, "a"))
			w := httptest.NewRecorder()
			d.ServeHTTP(w, httptest.NewRequest(tt.method, "/", strings.NewReader(tt.body)))
			assert.Equal(t, http.StatusBadRequest, w.Code, "%s / = %d, want 400", tt.method)
			assert.Equal(t, deliveryCounts{Pending: 1}, countsOf(d), "nothing counted")
		})
	}
}

// TestDeliveriesForgetsAfterTimeout: completed ids are kept for Timeout to
// spot duplicates, then forgotten (so memory stays bounded), and pending
// requests older than Timeout count as lost without waiting for Close.
// The sweep runs at most once a second, on Sent.
func TestDeliveriesForgetsAfterTimeout(t *testing.T) {
	t.Parallel()
	d := load.NewDeliveries()
	d.Timeout = 50 * time.Millisecond
	d.Sent(sent("done", 0, "a")) // the first sweep: nothing to do
	deliver(t, d, "done", "a")
	deliver(t, d, "done", "a") // within the window: a duplicate
	d.Sent(sent("missing", 0, "a"))
	require.Equal(t, deliveryCounts{Delivered: 1, Duplicated: 1, Latencies: 1, Pending: 1}, countsOf(d), "before the window ends")

	time.Sleep(1100 * time.Millisecond) // past the timeout and the sweep interval
	d.Sent(sent("next", 0, "a"))        // sweeps
	assert.Equal(t, deliveryCounts{Delivered: 1, Duplicated: 1, Latencies: 1, Lost: 1, Pending: 1}, countsOf(d),
		"after the window: the pending request that got nothing is lost")

	// "done" was forgotten: a late copy is no longer a duplicate but a
	// delivery nobody expects, stray once judged.
	deliver(t, d, "done", "a")
	deliver(t, d, "next", "a")
	d.Close()
	assert.Equal(t, deliveryCounts{Delivered: 3, Duplicated: 1, Latencies: 2, Lost: 1, Stray: 1}, countsOf(d), "after Close")
}

// reference is the reference ingress serving one GitHub endpoint whose two
// triggers deliver to a sink served by Deliveries.
type reference struct {
	target string
	in     *sim.Ingress
	dl     *load.Deliveries
	keys   signer.KeySet
}

func newReference(t *testing.T, wrap func(http.Handler) http.Handler, faults ...string) *reference {
	t.Helper()
	return newReferenceWithSink(t, wrap, nil, faults...)
}

// newReferenceWithSink is newReference whose sink is wrapped by sinkWrap
// (nil: not wrapped).
func newReferenceWithSink(t *testing.T, wrap, sinkWrap func(http.Handler) http.Handler, faults ...string) *reference {
	t.Helper()
	dl := load.NewDeliveries()
	var sinkH http.Handler = dl
	if sinkWrap != nil {
		sinkH = sinkWrap(dl)
	}
	sink, err := sim.NewServer("", sinkH)
	require.NoError(t, err, "sink")
	t.Cleanup(func() { sink.Close() })
	keys := signer.Keys("load-test-secret")
	spec := sim.EndpointSpec{
		ID:     "gh",
		Verify: &sim.VerifySpec{Preset: "github", Secrets: keys},
		Triggers: []sim.TriggerSpec{
			{ID: "t1", Deliver: sink.URL + "/t1"},
			{ID: "t2", Deliver: sink.URL + "/t2"},
		},
	}
	var fs []fault.Fault
	for _, name := range faults {
		f, err := fault.Lookup(sim.Strict, name)
		require.NoError(t, err)
		fs = append(fs, f)
	}
	cfg, err := fault.With(sim.Config{DeliveryBackoff: time.Millisecond}, fs...)
	require.NoError(t, err)
	in, err := sim.NewIngress(cfg, spec)
	require.NoError(t, err, "NewIngress")
	t.Cleanup(func() { in.Close() })
	var h http.Handler = sim.Handler(in)
	if wrap != nil {
		h = wrap(h)
	}
	srv, err := sim.NewServer("", h)
	require.NoError(t, err, "ingress server")
	t.Cleanup(func() { srv.Close() })
	return &reference{target: srv.URL + sim.PathPrefix + "gh", in: in, dl: dl, keys: keys}
}

func (ref *reference) run(t *testing.T, rate float64, d, grace time.Duration) *load.Report {
	t.Helper()
	f, err := fixtures.Lookup("github/push")
	require.NoError(t, err)
	rep, err := load.Run(context.Background(), load.Plan{
		Source:     load.FixtureSource(f, ref.target, ref.keys, 1),
		Pacer:      load.Constant{Rate: rate},
		Duration:   d,
		Deliveries: ref.dl,
		Grace:      grace,
	})
	require.NoError(t, err, "Run")
	require.NotNil(t, rep.Delivered, "Report.Delivered with a sink")
	return rep
}

func TestDeliveriesEndToEnd(t *testing.T) {
	t.Parallel()
	ref := newReference(t, nil)
	rep := ref.run(t, 100, 500*time.Millisecond, 10*time.Second)
	const triggers = 2
	require.Equal(t, uint64(50), rep.Requests, "requests")
	assert.Equal(t, rep.Requests, rep.Success, "every freshly signed request verifies (status codes %v)", rep.StatusCodes)
	assert.Equal(t, rep.Requests*triggers, *rep.Delivered, "delivered = requests × triggers")
	assert.Equal(t, uint64(0), *rep.Lost, "lost")
	assert.Equal(t, uint64(0), *rep.Duplicated, "duplicated")
	assert.Equal(t, int64(rep.Requests*triggers), rep.Delivery.Count, "delivery_ms count")
	assert.Positive(t, rep.Delivery.P50, "delivery_ms.p50")
	assert.Equal(t, uint64(0), rep.Raw.Deliveries.Stray, "stray")
}

func TestDeliveriesSeeDuplicateDelivery(t *testing.T) {
	t.Parallel()
	ref := newReference(t, nil, "duplicate-delivery")
	rep := ref.run(t, 100, 500*time.Millisecond, 10*time.Second)
	const triggers = 2
	require.Equal(t, uint64(50), rep.Requests, "requests")
	assert.Equal(t, uint64(0), *rep.Lost, "lost")
	assert.Positive(t, *rep.Duplicated, "duplicated in the report")
	// The report is taken as soon as every request has its first
	// deliveries; once the ingress is idle every copy has arrived.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ref.in.Flush(ctx), "Flush")
	m := ref.dl.Metrics()
	assert.Equal(t, rep.Requests*triggers, m.Delivered, "delivered")
	assert.Equal(t, rep.Requests*triggers, m.Duplicated, "duplicated: every trigger's second copy")
}

// slowWriter holds an answer for 50 ms before writing it, so that the
// ingress has many requests in flight at 200/s.
type slowWriter struct{ http.ResponseWriter }

func (w slowWriter) Write(b []byte) (int, error) {
	time.Sleep(50 * time.Millisecond)
	return w.ResponseWriter.Write(b)
}

func TestDeliveriesSeeDropUnderConcurrency(t *testing.T) {
	t.Parallel()
	slow := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(slowWriter{w}, r) })
	}
	ref := newReference(t, slow, "drop-under-concurrency")
	rep := ref.run(t, 200, 500*time.Millisecond, 500*time.Millisecond)
	const triggers = 2
	require.Equal(t, uint64(100), rep.Requests, "requests")
	assert.Equal(t, rep.Requests, rep.Success, "success")
	assert.Positive(t, *rep.Lost, "lost")
	assert.Equal(t, uint64(0), *rep.Duplicated, "duplicated")
	assert.Equal(t, rep.Requests*triggers, *rep.Delivered+*rep.Lost, "delivered + lost = requests × triggers")
}

// TestDeliveriesCountRetriesApart runs the reference against a sink that
// takes every delivery's first attempt and then answers 500, as a receiver
// that fails after acting: each delivery is retried, and Deliveries counts
// the retries by delivery id, not as duplicates.
func TestDeliveriesCountRetriesApart(t *testing.T) {
	t.Parallel()
	failFirst := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get(sim.DeliveryAttemptHeader) != "1" {
				h.ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			w.WriteHeader(http.StatusInternalServerError)
		})
	}
	ref := newReferenceWithSink(t, nil, failFirst)
	rep := ref.run(t, 100, 200*time.Millisecond, 10*time.Second)
	const triggers = 2
	require.Equal(t, uint64(20), rep.Requests, "requests")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ref.in.Flush(ctx), "Flush")
	m := ref.dl.Metrics()
	assert.Equal(t, rep.Requests*triggers, m.Delivered, "delivered")
	assert.Equal(t, uint64(0), m.Duplicated, "duplicated")
	assert.Equal(t, rep.Requests*triggers, m.Retries, "retries: one per delivery")
	assert.Equal(t, uint64(0), m.Lost, "lost")
}
