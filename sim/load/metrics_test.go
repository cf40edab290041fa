package load_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
)

// base is the synthetic runs' start: fixed, so that their series buckets
// and JSON are reproducible.
var base = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// syntheticResults is a reproducible run of n slots 5 ms apart (200/s):
// latencies from 1 ms to about 2 s, every 17th slot dropped, every 13th
// answered 503, every 29th timed out, the rest 200.
func syntheticResults(n int, seed uint64) []*load.Result {
	rng := rand.New(rand.NewPCG(seed, 1))
	rs := make([]*load.Result, n)
	for i := range rs {
		r := &load.Result{Seq: uint64(i), Intended: base.Add(time.Duration(i) * 5 * time.Millisecond)}
		rs[i] = r
		if i%17 == 16 {
			r.Dropped = true
			continue
		}
		lat := time.Millisecond + time.Duration(rng.ExpFloat64()*float64(100*time.Millisecond))
		lag := time.Duration(rng.Int64N(int64(lat)))
		r.ID = "syn-" + string(rune('a'+i%26))
		r.Sent = r.Intended.Add(lag)
		r.Latency, r.Uncorrected = lat, lat-lag
		r.BytesOut, r.BytesIn = 300, 40
		switch {
		case i%29 == 28:
			r.ErrorKind, r.Error, r.BytesIn = load.ErrTimeout, "context deadline exceeded", 0
		case i%13 == 12:
			r.Status = http.StatusServiceUnavailable
		default:
			r.Status = http.StatusOK
		}
	}
	return rs
}

// assertSameMetrics compares every figure of two Metrics, histograms by
// their summaries and counts, the series by its points.
func assertSameMetrics(t *testing.T, want, got *load.Metrics) {
	t.Helper()
	assert.Equal(t, want.Requests, got.Requests, "Requests")
	assert.Equal(t, want.Success, got.Success, "Success")
	assert.Equal(t, want.Dropped, got.Dropped, "Dropped")
	assert.Equal(t, want.StatusCodes, got.StatusCodes, "StatusCodes")
	assert.Equal(t, want.Errors, got.Errors, "Errors")
	assert.Equal(t, want.BytesIn, got.BytesIn, "BytesIn")
	assert.Equal(t, want.BytesOut, got.BytesOut, "BytesOut")
	assert.True(t, want.First.Equal(got.First), "First = %v, want %v", got.First, want.First)
	assert.True(t, want.LastSlot.Equal(got.LastSlot), "LastSlot = %v, want %v", got.LastSlot, want.LastSlot)
	assert.True(t, want.End.Equal(got.End), "End = %v, want %v", got.End, want.End)
	assert.Equal(t, want.Latency.Count(), got.Latency.Count(), "Latency.Count")
	assert.Equal(t, want.Latency.Summary(), got.Latency.Summary(), "Latency.Summary")
	assert.Equal(t, want.Uncorrected.Count(), got.Uncorrected.Count(), "Uncorrected.Count")
	assert.Equal(t, want.Uncorrected.Summary(), got.Uncorrected.Summary(), "Uncorrected.Summary")
	for _, q := range []float64{1, 10, 25, 50, 75, 95, 99.99} {
		assert.Equal(t, want.Latency.Quantile(q), got.Latency.Quantile(q), "Latency.Quantile(%g)", q)
	}
	assert.Equal(t, want.Series.Width, got.Series.Width, "Series.Width")
	assert.Equal(t, want.Series.Points(), got.Series.Points(), "Series.Points")
}

func TestMetricsAdd(t *testing.T) {
	at := base
	tests := []struct {
		name        string
		r           load.Result
		want        load.Metrics // counts only
		latencies   int64
		wantSuccess bool
	}{
		{
			name:      "OK",
			r:         load.Result{Intended: at, Sent: at, Status: 200, BytesIn: 10, BytesOut: 20, Latency: 5 * time.Millisecond, Uncorrected: 4 * time.Millisecond},
			want:      load.Metrics{Requests: 1, Success: 1, StatusCodes: map[string]uint64{"200": 1}, Errors: map[string]uint64{}, BytesIn: 10, BytesOut: 20},
			latencies: 1,
		},
		{
			name:      "NoContentIsSuccess",
			r:         load.Result{Intended: at, Sent: at, Status: 204, Latency: time.Millisecond},
			want:      load.Metrics{Requests: 1, Success: 1, StatusCodes: map[string]uint64{"204": 1}, Errors: map[string]uint64{}},
			latencies: 1,
		},
		{
			name:      "Non2xxIsAStatusError",
			r:         load.Result{Intended: at, Sent: at, Status: 503, BytesIn: 7, Latency: time.Millisecond},
			want:      load.Metrics{Requests: 1, StatusCodes: map[string]uint64{"503": 1}, Errors: map[string]uint64{"status": 1}, BytesIn: 7},
			latencies: 1,
		},
		{
			name:      "RedirectIsNotSuccess",
			r:         load.Result{Intended: at, Sent: at, Status: 302, Latency: time.Millisecond},
			want:      load.Metrics{Requests: 1, StatusCodes: map[string]uint64{"302": 1}, Errors: map[string]uint64{"status": 1}},
			latencies: 1,
		},
		{
			name: "NoAnswerIsStatus0AndNoLatency",
			r:    load.Result{Intended: at, Sent: at, ErrorKind: load.ErrRefused, Error: "connection refused", BytesOut: 9, Latency: time.Millisecond},
			want: load.Metrics{Requests: 1, StatusCodes: map[string]uint64{"0": 1}, Errors: map[string]uint64{load.ErrRefused: 1}, BytesOut: 9},
		},
		{
			name:      "ErrorAfterAnswerCountsTheKind",
			r:         load.Result{Intended: at, Sent: at, Status: 200, ErrorKind: load.ErrEOF, Latency: time.Millisecond},
			want:      load.Metrics{Requests: 1, StatusCodes: map[string]uint64{"200": 1}, Errors: map[string]uint64{load.ErrEOF: 1}},
			latencies: 1,
		},
		{
			name: "DroppedIsNotARequest",
			r:    load.Result{Intended: at, Dropped: true},
			want: load.Metrics{Dropped: 1, StatusCodes: map[string]uint64{}, Errors: map[string]uint64{}},
		},
		{
			name:      "NegativeBytesIgnored",
			r:         load.Result{Intended: at, Sent: at, Status: 200, BytesIn: -1, BytesOut: -5, Latency: time.Millisecond},
			want:      load.Metrics{Requests: 1, Success: 1, StatusCodes: map[string]uint64{"200": 1}, Errors: map[string]uint64{}},
			latencies: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := load.NewMetrics()
			m.Add(&tt.r)
			got := load.Metrics{Requests: m.Requests, Success: m.Success, Dropped: m.Dropped, StatusCodes: m.StatusCodes, Errors: m.Errors, BytesIn: m.BytesIn, BytesOut: m.BytesOut}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.latencies, m.Latency.Count(), "Latency.Count")
			assert.Equal(t, tt.latencies, m.Uncorrected.Count(), "Uncorrected.Count")
			assert.True(t, m.First.Equal(at), "First = %v, want the intended time", m.First)
			assert.True(t, m.LastSlot.Equal(at), "LastSlot = %v, want the intended time", m.LastSlot)
			var n uint32
			for _, p := range m.Series.Points() {
				n += p.Count
			}
			assert.Equal(t, uint32(tt.want.Requests), n, "requests in the series")
		})
	}
}

func TestMetricsAddRecordsBothLatencies(t *testing.T) {
	m := load.NewMetrics()
	m.Add(&load.Result{Intended: base, Sent: base.Add(300 * time.Millisecond), Status: 200, Latency: 310 * time.Millisecond, Uncorrected: 10 * time.Millisecond})
	assert.Equal(t, 310*time.Millisecond, m.Latency.Quantile(50).Round(time.Millisecond), "Latency")
	assert.Equal(t, 10*time.Millisecond, m.Uncorrected.Quantile(50).Round(time.Millisecond), "Uncorrected")
	assert.True(t, m.End.Equal(base.Add(310*time.Millisecond)), "End = %v, want Sent + Uncorrected", m.End)
}

// TestMetricsRates checks the rates of a synthetic run against its
// numbers: 200 slots 5 ms apart, the odd ones dropped, 10 of the 100 sent
// answered 503; each sent 1 ms late and answered 4 ms later.
func TestMetricsRates(t *testing.T) {
	m := load.NewMetrics()
	for i := range 200 {
		intended := base.Add(time.Duration(i) * 5 * time.Millisecond)
		if i%2 == 1 {
			m.Add(&load.Result{Seq: uint64(i), Intended: intended, Dropped: true})
			continue
		}
		status := 200
		if i%20 == 0 {
			status = 503
		}
		m.Add(&load.Result{Seq: uint64(i), Intended: intended, Sent: intended.Add(time.Millisecond), Status: status,
			Latency: 5 * time.Millisecond, Uncorrected: 4 * time.Millisecond})
	}
	require.Equal(t, uint64(100), m.Requests)
	require.Equal(t, uint64(100), m.Dropped)
	require.Equal(t, uint64(90), m.Success)
	// Slot 0 at 0 ms to slot 199 at 995 ms; the last answer (slot 198,
	// sent at 991 ms) ends at 995 ms.
	assert.Equal(t, 995*time.Millisecond, m.Duration(), "Duration")
	assert.InDelta(t, 199/0.995, m.RateScheduled(), 1e-9, "RateScheduled: 200 slots over 995 ms")
	assert.InDelta(t, 99/0.995, m.RateAchieved(), 1e-9, "RateAchieved: 100 sent")
	assert.InDelta(t, 89/0.995, m.Throughput(), 1e-9, "Throughput: 90 successes, first slot to last answer")
	assert.InDelta(t, 0.9, m.SuccessRatio(), 1e-12, "SuccessRatio")

	rep := load.NewReport(m, nil, 200)
	assert.Equal(t, 200.0, rep.RateRequested, "Report.RateRequested: the schedule's")
	assert.InDelta(t, m.RateAchieved(), rep.RateAchieved, 1e-12, "Report.RateAchieved")
	assert.InDelta(t, 0.995, rep.DurationS, 1e-12, "Report.DurationS")
	closed := load.NewReport(m, nil, 0)
	assert.Zero(t, closed.RateRequested, "closed-loop Report.RateRequested: closed loop requests no rate")
}

func TestMetricsRatesOfTooFewRequestsAreZero(t *testing.T) {
	m := load.NewMetrics()
	assert.Zero(t, m.RateAchieved(), "no requests")
	assert.Zero(t, m.SuccessRatio(), "no requests")
	m.Add(&load.Result{Intended: base, Sent: base, Status: 200})
	assert.Zero(t, m.RateAchieved(), "one request: no interval")
	assert.Zero(t, m.Throughput(), "one request: no interval")
	assert.Equal(t, 1.0, m.SuccessRatio())
}

func TestMetricsMergeEqualsOneMetrics(t *testing.T) {
	t.Parallel()
	rs := syntheticResults(5000, 7)
	all := metricsOf(rs)
	tests := []struct {
		name   string
		shards int
		order  func(ms []*load.Metrics) []*load.Metrics
	}{
		{"TwoShards", 2, func(ms []*load.Metrics) []*load.Metrics { return ms }},
		{"TwoShardsReversed", 2, func(ms []*load.Metrics) []*load.Metrics { return []*load.Metrics{ms[1], ms[0]} }},
		{"ThreeShards", 3, func(ms []*load.Metrics) []*load.Metrics { return []*load.Metrics{ms[2], ms[0], ms[1]} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shards := make([]*load.Metrics, tt.shards)
			for i := range shards {
				shards[i] = load.NewMetrics()
			}
			for _, r := range rs {
				shards[r.Seq%uint64(tt.shards)].Add(r)
			}
			got := load.NewMetrics()
			got.Shards = 0
			for _, m := range tt.order(shards) {
				got.Merge(m)
			}
			assertSameMetrics(t, all, got)
			assert.Equal(t, tt.shards, got.Shards, "Shards")
		})
	}
}

// TestMetricsJSONRoundTrip: a shard's metrics travel as JSON (the report's
// "raw") and must come back exactly, histograms and series included.
func TestMetricsJSONRoundTrip(t *testing.T) {
	t.Parallel()
	m := metricsOf(syntheticResults(3000, 3))
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var got load.Metrics
	require.NoError(t, json.Unmarshal(b, &got))
	assertSameMetrics(t, m, &got)
	b2, err := json.Marshal(&got)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(b2), "JSON after a round trip")
}
