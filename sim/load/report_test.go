package load_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
)

// syntheticDeliveries is end-to-end figures with n delivery latencies of
// 2 ms, 4 ms, … and the given lost and duplicated counts.
func syntheticDeliveries(n int, lost, dup uint64) *load.DeliveryMetrics {
	d := &load.DeliveryMetrics{Latency: load.NewHistogram(), Delivered: uint64(n), Lost: lost, Duplicated: dup}
	for i := range n {
		d.Latency.Record(time.Duration(2*(i+1)) * time.Millisecond)
	}
	return d
}

// shardReports splits a synthetic run into n shards, as Shard(i, n) does,
// and reports each with its share of the requested rate.
func shardReports(rs []*load.Result, n int, requested float64) []*load.Report {
	ms := make([]*load.Metrics, n)
	for i := range ms {
		ms[i] = load.NewMetrics()
	}
	for _, r := range rs {
		ms[r.Seq%uint64(n)].Add(r)
	}
	reps := make([]*load.Report, n)
	for i, m := range ms {
		reps[i] = load.NewReport(m, nil, requested/float64(n))
		reps[i].Name = fmt.Sprintf("shard-%d.json", i+1)
		reps[i].RunID = "run-1"
		reps[i].Shard = &load.ShardID{Index: i + 1, Count: n}
		reps[i].Plan = &load.PlanInfo{Schedule: "constant", Rate: fmt.Sprint(requested), RatePlanned: requested, MaxInFlight: 10, DurationS: 5,
			Source: "fixture github/push seed 1", Target: "http://127.0.0.1:1/hooks/gh"}
	}
	return reps
}

// asShards makes rs the shards of one run, as Run would have: run id
// "run-1" and shards 1 to len(rs).
func asShards(rs ...*load.Report) []*load.Report {
	for i, r := range rs {
		r.RunID, r.Shard, r.Name = "run-1", &load.ShardID{Index: i + 1, Count: len(rs)}, fmt.Sprintf("shard-%d.json", i+1)
	}
	return rs
}

// mustMerge merges rs, which must merge.
func mustMerge(t testing.TB, rs ...*load.Report) *load.Report {
	t.Helper()
	r, err := load.MergeReports(rs...)
	require.NoError(t, err, "MergeReports")
	return r
}

func writeJSON(t *testing.T, r *load.Report) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b), "WriteJSON")
	return b.Bytes()
}

func TestReportJSONHasTheContractKeys(t *testing.T) {
	t.Parallel()
	m := metricsOf(syntheticResults(1000, 1))
	summaryKeys := []string{"p50", "p90", "p99", "p999", "max", "mean"}
	tests := []struct {
		name       string
		deliveries *load.DeliveryMetrics
	}{
		{"WithoutSink", nil},
		{"WithSink", syntheticDeliveries(50, 3, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := load.NewReport(m, tt.deliveries, 200)
			var got map[string]any
			require.NoError(t, json.Unmarshal(writeJSON(t, rep), &got), "the JSON report is one object")

			number := func(key string) float64 {
				t.Helper()
				v, ok := got[key].(float64)
				if !ok {
					t.Errorf("report[%q] = %#v, want a number", key, got[key])
				}
				return v
			}
			assert.Equal(t, float64(m.Requests), number("requests"), "requests")
			assert.Equal(t, float64(m.Success), number("success"), "success")
			assert.Equal(t, 200.0, number("rate_requested"), "rate_requested")
			assert.InDelta(t, m.RateAchieved(), number("rate_achieved"), 1e-9, "rate_achieved")
			assert.InDelta(t, m.Throughput(), number("throughput"), 1e-9, "throughput")
			assert.InDelta(t, m.SuccessRatio(), number("success_ratio"), 1e-12, "success_ratio")
			assert.Equal(t, float64(m.Dropped), number("dropped"), "dropped")
			assert.Equal(t, map[string]any{"200": float64(m.StatusCodes["200"]), "503": float64(m.StatusCodes["503"]), "0": float64(m.StatusCodes["0"])},
				got["status_codes"], "status_codes")
			assert.Equal(t, map[string]any{"status": float64(m.Errors["status"]), "timeout": float64(m.Errors["timeout"])}, got["errors"], "errors")

			summaries := map[string]load.Summary{"latency_ms": m.Latency.Summary(), "latency_uncorrected_ms": m.Uncorrected.Summary()}
			if tt.deliveries != nil {
				summaries["delivery_ms"] = tt.deliveries.Latency.Summary()
				assert.Equal(t, 3.0, number("lost"), "lost")
				assert.Equal(t, 2.0, number("duplicated"), "duplicated")
			} else {
				for _, k := range []string{"delivery_ms", "lost", "duplicated"} {
					assert.NotContains(t, got, k, "a report without a sink")
				}
			}
			for key, want := range summaries {
				obj, ok := got[key].(map[string]any)
				if !ok {
					t.Errorf("report[%q] = %#v, want an object", key, got[key])
					continue
				}
				wantMS := map[string]float64{"p50": want.P50, "p90": want.P90, "p99": want.P99, "p999": want.P999, "max": want.Max, "mean": want.Mean}
				for _, k := range summaryKeys {
					v, ok := obj[k].(float64)
					if !ok {
						t.Errorf("report[%q][%q] = %#v, want a number", key, k, obj[k])
						continue
					}
					assert.InDelta(t, wantMS[k], v, 1e-9, "report[%q][%q] (milliseconds)", key, k)
				}
			}
			// The milliseconds are milliseconds: the synthetic latencies are
			// about 100 ms, the delivery ones 2 … 100 ms.
			assert.InDelta(t, 100, got["latency_ms"].(map[string]any)["mean"], 20, "latency_ms.mean")
		})
	}
}

func TestReportJSONOfAnEmptyRunHasObjects(t *testing.T) {
	var got map[string]any
	require.NoError(t, json.Unmarshal(writeJSON(t, load.NewReport(load.NewMetrics(), nil, 100)), &got))
	assert.Equal(t, map[string]any{}, got["status_codes"], "status_codes of a run with no request")
	assert.Equal(t, map[string]any{}, got["errors"], "errors of a run with no error")
	assert.Equal(t, 0.0, got["requests"])
	lat, ok := got["latency_ms"].(map[string]any)
	require.True(t, ok, "latency_ms = %#v, want an object", got["latency_ms"])
	assert.Equal(t, 0.0, lat["p99"])
}

func TestReadReportRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rep  *load.Report
	}{
		{"Plain", load.NewReport(metricsOf(syntheticResults(2000, 2)), nil, 200)},
		{"WithDeliveries", load.NewReport(metricsOf(syntheticResults(500, 3)), syntheticDeliveries(80, 1, 4), 150)},
		{"Merged", mustMerge(t, shardReports(syntheticResults(900, 4), 3, 300)...)},
		{"Empty", load.NewReport(load.NewMetrics(), nil, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rep.Interrupted = tt.name == "Plain"
			first := writeJSON(t, tt.rep)
			got, err := load.ReadReport("r.json", first)
			require.NoError(t, err, "ReadReport(WriteJSON(r))")
			assert.Equal(t, string(first), string(writeJSON(t, got)), "WriteJSON(ReadReport(WriteJSON(r)))")
			assertSameMetrics(t, tt.rep.Raw.Metrics, got.Raw.Metrics)
			assert.Equal(t, tt.rep.Interrupted, got.Interrupted, "Interrupted")
			assert.Equal(t, tt.rep.Shards, got.Shards, "Shards")
			if tt.rep.Raw.Deliveries != nil {
				require.NotNil(t, got.Raw.Deliveries)
				assert.Equal(t, tt.rep.Raw.Deliveries.Latency.Summary(), got.Raw.Deliveries.Latency.Summary(), "raw deliveries latency")
			}
		})
	}
}

func TestReadReportErrorsNameTheFile(t *testing.T) {
	hist, err := json.Marshal(load.NewHistogram())
	require.NoError(t, err)
	metrics := `{"latency":` + string(hist) + `,"latency_uncorrected":` + string(hist) + `}`
	// A histogram of 60 bytes whose header declares 1..2^62 at five
	// significant digits: decoded, its counts array would take 49 MB.
	wide, err := hdr.New(1, 1<<62, 5).Encode(hdr.V2CompressedEncodingCookieBase)
	require.NoError(t, err)
	// The first 8 bytes (cookie and length) of a real one, nothing after.
	cut := base64.StdEncoding.EncodeToString(mustDecode64(t, hist)[:8])
	tests := []struct {
		name, in, want string
	}{
		{"Empty", ``, "shard-2.json:1:1: not a hooklab load report: unexpected end of JSON input"},
		{"NotJSON", `requests: 3`, "shard-2.json:1:1: not a hooklab load report: invalid character 'r' looking for beginning of value"},
		{"Array", `[]`, "shard-2.json:1:1: not a hooklab load report: json: cannot unmarshal array into Go value of type load.Report"},
		{"TextReport", `Requests      [total, rate requested, rate achieved, throughput]  100, 100.00/s`, "shard-2.json:1:1: not a hooklab load report: invalid character 'R' looking for beginning of value"},
		{"NoRaw", `{"requests":100,"success":100}`, "shard-2.json: not a hooklab load report: no raw.metrics histograms (write it with --json)"},
		{"NoHistograms", `{"raw":{"metrics":{"requests":1}}}`, "shard-2.json: not a hooklab load report: no raw.metrics histograms (write it with --json)"},
		{"OneHistogram", `{"raw":{"metrics":{"latency":` + string(hist) + `}}}`, "shard-2.json: not a hooklab load report: no raw.metrics histograms (write it with --json)"},
		{"HistogramNotAString", `{"raw":{"metrics":{"latency":5,"latency_uncorrected":5}}}`, "shard-2.json: not a hooklab load report: want an HDR histogram as a base64 string: json: cannot unmarshal number into Go value of type string"},
		{"HistogramNotHDR", `{"raw":{"metrics":{"latency":"aGVsbG8=","latency_uncorrected":"aGVsbG8="}}}`, "shard-2.json: not a hooklab load report: not an HDR histogram: "},
		{"HistogramOfOtherBounds", `{"raw":{"metrics":{"latency":"` + string(wide) + `","latency_uncorrected":` + string(hist) + `}}}`, "shard-2.json: not a hooklab load report: HDR histogram of 1..4611686018427387904 at 5 significant digits, want hooklab's 1..3600000000 at 3"},
		{"HistogramHeaderCut", `{"raw":{"metrics":{"latency":"` + cut + `","latency_uncorrected":` + string(hist) + `}}}`, "shard-2.json: not a hooklab load report: not an HDR histogram: "},
		{"WrongTypeOnLine3", "{\n  \"requests\": 1,\n  \"success\": \"all\"}", "shard-2.json:3:18: not a hooklab load report: json: cannot unmarshal string into Go struct field Report.success of type uint64"},
		{"SyntaxErrorOnLine2", "{\"requests\": 1,\n  ,}", "shard-2.json:2:3: not a hooklab load report: invalid character ',' looking for beginning of object key string"},
		{"DeliveriesWithoutLatency", `{"raw":{"metrics":` + metrics + `,"deliveries":{"delivered":3}}}`, "shard-2.json: raw.deliveries has no latency histogram"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := load.ReadReport("shard-2.json", []byte(tt.in))
			if err == nil {
				t.Fatalf("ReadReport(%q) = %+v, nil, want error %q", tt.in, r, tt.want)
			}
			if strings.HasSuffix(tt.want, ": ") {
				assert.True(t, strings.HasPrefix(err.Error(), tt.want), "ReadReport(%q) error = %q, want it to start %q", tt.in, err, tt.want)
			} else {
				assert.Equal(t, tt.want, err.Error(), "ReadReport(%q) error", tt.in)
			}
		})
	}
}

// mustDecode64 returns the bytes of a JSON string of base64.
func mustDecode64(t *testing.T, jsonString []byte) []byte {
	t.Helper()
	var s string
	require.NoError(t, json.Unmarshal(jsonString, &s))
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestReadReportFillsWhatIsMissing(t *testing.T) {
	hist, err := json.Marshal(load.NewHistogram())
	require.NoError(t, err)
	r, err := load.ReadReport("min.json", []byte(`{"raw":{"metrics":{"latency":`+string(hist)+`,"latency_uncorrected":`+string(hist)+`}}}`))
	require.NoError(t, err)
	m := r.Raw.Metrics
	assert.NotNil(t, m.Series, "Series")
	assert.NotNil(t, m.StatusCodes, "StatusCodes")
	assert.NotNil(t, m.Errors, "Errors")
	merged := mustMerge(t, asShards(r)...)
	assert.Equal(t, uint64(0), merged.Requests)
}

// TestReadReportTestdata reads a report written by the first version of
// the format (testdata/report-v1.json: a 1,000-slot synthetic run at 200/s
// with a sink), so that a change that cannot read older shards' reports
// fails here.
func TestReadReportTestdata(t *testing.T) {
	t.Parallel()
	rep := readTestdataReport(t, "report-v1.json")
	assert.Equal(t, uint64(942), rep.Requests, "requests")
	assert.Equal(t, uint64(58), rep.Dropped, "dropped")
	assert.Equal(t, 200.0, rep.RateRequested, "rate_requested")
	assert.Equal(t, int64(rep.Requests-rep.StatusCodes["0"]), rep.Raw.Metrics.Latency.Count(), "raw latency histogram count: requests answered")
	assert.Equal(t, rep.Latency, rep.Raw.Metrics.Latency.Summary(), "latency_ms is the raw histogram's summary")
	require.NotNil(t, rep.Raw.Deliveries)
	assert.Equal(t, uint64(40), rep.Raw.Deliveries.Delivered)
	assert.Equal(t, *rep.Delivery, rep.Raw.Deliveries.Latency.Summary(), "delivery_ms is the raw histogram's summary")
	// It says no run or shard: merging it is refused, and names it.
	_, err := load.MergeReports(rep, rep)
	assert.EqualError(t, err, "report-v1.json: not a shard of a run: it has no run id (a report of hooklab load before run ids?)")
	// Given an identity, merging it with a copy as its other shard doubles
	// every count and keeps the percentiles.
	other := readTestdataReport(t, "report-v1.json")
	twice := mustMerge(t, asShards(rep, other)...)
	assert.Equal(t, 2*rep.Requests, twice.Requests)
	assert.Equal(t, rep.Latency.P99, twice.Latency.P99)
	assert.Equal(t, 2*rep.Latency.Count, twice.Latency.Count)
	assert.Equal(t, 2*uint64(40), *twice.Delivered)
}

// readTestdataReport reads testdata/name with ReadReport.
func readTestdataReport(t *testing.T, name string) *load.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	r, err := load.ReadReport(name, b)
	require.NoError(t, err, "ReadReport(%s)", name)
	return r
}

func TestMergeReports(t *testing.T) {
	t.Parallel()
	rs := syntheticResults(1500, 5)
	all := load.NewReport(metricsOf(rs), nil, 200)
	shards := shardReports(rs, 2, 200)
	shards[0].Raw.Deliveries = syntheticDeliveries(30, 1, 0)
	shards[1].Raw.Deliveries = syntheticDeliveries(20, 0, 5)
	shards[1].Interrupted = true

	viaJSON := make([]*load.Report, len(shards))
	for i, s := range shards {
		r, err := load.ReadReport("shard.json", writeJSON(t, s))
		require.NoError(t, err)
		viaJSON[i] = r
	}
	tests := []struct {
		name   string
		shards []*load.Report
	}{
		{"InMemory", shards},
		{"ThroughJSON", viaJSON},
		{"ReverseOrder", []*load.Report{shards[1], shards[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustMerge(t, tt.shards...)
			assert.Equal(t, all.Requests, got.Requests, "requests")
			assert.Equal(t, all.Success, got.Success, "success")
			assert.Equal(t, all.Dropped, got.Dropped, "dropped")
			assert.Equal(t, all.StatusCodes, got.StatusCodes, "status_codes")
			assert.Equal(t, all.Errors, got.Errors, "errors")
			assert.Equal(t, all.Latency, got.Latency, "latency_ms: histograms merge exactly")
			assert.Equal(t, all.LatencyUncorrected, got.LatencyUncorrected, "latency_uncorrected_ms")
			assert.Equal(t, 200.0, got.RateRequested, "rate_requested: the plan's")
			assert.InDelta(t, all.RateAchieved, got.RateAchieved, 1e-9, "rate_achieved")
			assert.InDelta(t, all.Throughput, got.Throughput, 1e-9, "throughput")
			assert.InDelta(t, all.DurationS, got.DurationS, 1e-12, "duration_s")
			assert.Equal(t, 2, got.Shards, "shards")
			assert.True(t, got.Interrupted, "interrupted: one shard was")
			require.NotNil(t, got.Delivered, "delivered")
			assert.Equal(t, uint64(50), *got.Delivered, "delivered")
			assert.Equal(t, uint64(1), *got.Lost, "lost")
			assert.Equal(t, uint64(5), *got.Duplicated, "duplicated")
			assert.Equal(t, syntheticDeliveries(50, 0, 0).Latency.Count(), got.Delivery.Count, "delivery_ms count")
			assertSameMetrics(t, all.Raw.Metrics, got.Raw.Metrics)
		})
	}
	t.Run("OneShardWithSink", func(t *testing.T) {
		a, b := shardReports(rs, 2, 200)[0], shardReports(rs, 2, 200)[1]
		a.Raw.Deliveries = syntheticDeliveries(10, 2, 0)
		got := mustMerge(t, a, b)
		require.NotNil(t, got.Delivered)
		assert.Equal(t, uint64(10), *got.Delivered)
		assert.Equal(t, uint64(2), *got.Lost)
		assert.False(t, got.Interrupted)
	})
	t.Run("NoSink", func(t *testing.T) {
		got := mustMerge(t, shardReports(rs, 2, 200)...)
		assert.Nil(t, got.Delivered, "delivered without a sink")
		assert.Nil(t, got.Delivery, "delivery_ms without a sink")
	})
	t.Run("MergeLeavesShardsAlone", func(t *testing.T) {
		ss := shardReports(rs, 2, 200)
		before := writeJSON(t, ss[0])
		mustMerge(t, ss...)
		assert.Equal(t, string(before), string(writeJSON(t, ss[0])), "shard 0 after MergeReports")
	})
}

// TestReportWriteText checks the text report of a synthetic run of 101
// slots 10 ms apart (latency i+1 ms): 4 dropped, 4 refused, 4 answered
// 503. The figures were worked out by hand: 97 requests, 96 intervals in
// 1 s, 89 successes from 0 to the last answer at 1.001 s (87.91/s), p50
// the 47th of 93 answered latencies (51 ms), p90 the 84th (92 ms), p99
// the 92nd (100 ms), each shown as HDR's bucket top (within 0.1%).
func TestReportWriteText(t *testing.T) {
	m := load.NewMetrics()
	for i := range 101 {
		at := base.Add(time.Duration(i) * 10 * time.Millisecond)
		r := &load.Result{Seq: uint64(i), Intended: at, Sent: at, Status: 200, BytesIn: 10, BytesOut: 100,
			Latency: time.Duration(i+1) * time.Millisecond, Uncorrected: time.Millisecond}
		switch i % 25 {
		case 7:
			r.Status = 503
		case 9:
			r.Status, r.ErrorKind, r.Error = 0, load.ErrRefused, "connection refused"
		case 11:
			r = &load.Result{Seq: uint64(i), Intended: at, Dropped: true}
		}
		m.Add(r)
	}
	tests := []struct {
		name string
		rep  func() *load.Report
		want string
	}{
		{
			name: "Plain",
			rep:  func() *load.Report { return load.NewReport(m, nil, 100) },
			want: `Times         [planned start, first send, last answer]  -, 2025-03-14T15:09:26.000Z, 2025-03-14T15:09:27.001Z
Requests      [total, rate requested, rate achieved, throughput]  97, 100.00/s, 96.00/s, 87.91/s
Duration      [sending]                                          1s
Latency       [p50, p90, p99, p99.9, max, mean]  51.007ms, 92.031ms, 100.031ms, 101.055ms, 101.055ms, 51.219ms
  uncorrected [p50, p90, p99, p99.9, max, mean]  1ms, 1ms, 1ms, 1ms, 1ms, 1ms
Bytes         [in, out]                          970, 9700
Success       [ratio]                            91.75%
Status codes  [code:count]                       0:4 200:89 503:4
Dropped       [slots not sent: max in flight]    4
Errors        [kind:count]                       refused:4 status:4
Failures      [status, count, first bytes of the body]
  503  4  ""
`,
		},
		{
			name: "InterruptedWithDeliveriesAndShards",
			rep: func() *load.Report {
				r := load.NewReport(m, syntheticDeliveries(4, 1, 2), 100)
				r.Interrupted, r.Shards = true, 3
				return r
			},
			want: `Interrupted: the report covers the requests sent before the stop.
Times         [planned start, first send, last answer]  -, 2025-03-14T15:09:26.000Z, 2025-03-14T15:09:27.001Z
Requests      [total, rate requested, rate achieved, throughput]  97, 100.00/s, 96.00/s, 87.91/s
Duration      [sending]                                          1s
Latency       [p50, p90, p99, p99.9, max, mean]  51.007ms, 92.031ms, 100.031ms, 101.055ms, 101.055ms, 51.219ms
  uncorrected [p50, p90, p99, p99.9, max, mean]  1ms, 1ms, 1ms, 1ms, 1ms, 1ms
Delivery      [p50, p90, p99, p99.9, max, mean]  4.001ms, 8.003ms, 8.003ms, 8.003ms, 8.003ms, 5.001ms
Deliveries    [delivered, lost, doubled]         4, 1, 2
Bytes         [in, out]                          970, 9700
Success       [ratio]                            91.75%
Status codes  [code:count]                       0:4 200:89 503:4
Dropped       [slots not sent: max in flight]    4
Errors        [kind:count]                       refused:4 status:4
Failures      [status, count, first bytes of the body]
  503  4  ""
Shards        3
`,
		},
		{
			name: "Empty",
			rep:  func() *load.Report { return load.NewReport(load.NewMetrics(), nil, 0) },
			want: `Requests      [total, rate achieved, throughput]  0, 0.00/s, 0.00/s
Duration      [sending]                                          0s
Latency       [p50, p90, p99, p99.9, max, mean]  -
  uncorrected [p50, p90, p99, p99.9, max, mean]  -
Bytes         [in, out]                          0, 0
Success       [ratio]                            0.00%
Status codes  [code:count]                       -
Dropped       [slots not sent: max in flight]    0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, tt.rep().WriteText(&b))
			assert.Equal(t, tt.want, b.String())
		})
	}
}
