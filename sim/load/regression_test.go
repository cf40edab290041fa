package load_test

// Regression tests for bugs found in sim/load by review and fuzzing:
// each failed before its fix.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooklab/hooklab/sim/load"
)

// Constant.due truncates n/rate·1e9, so slot 201 at 200/s is due at
// 1.004999999 s instead of 1.005 s.
func TestRegressionConstantDueIsExact(t *testing.T) {
	p := load.Constant{Rate: 200}
	for n := uint64(0); n <= 10000; n++ {
		got, _ := load.Due(p, n, 0, time.Hour)
		if want := time.Duration(n) * 5 * time.Millisecond; got != want {
			t.Fatalf("Due(Constant{200}, %d) = %s, want %s", n, got, want)
		}
	}
}

// A rate so small that slot 1 lies past 292 years overflows the float to
// Duration conversion (negative on amd64): Due then says every slot is
// due, and an open-loop attack sends without end.
func TestRegressionDueTinyRateEndsTheRun(t *testing.T) {
	for _, rate := range []float64{1e-10, 1e-300} {
		p := load.Constant{Rate: rate}
		if got, ok := load.Due(p, 1, 0, time.Minute); ok {
			t.Errorf("Due(Constant{%g}, 1, 0, 1m) = %s, true, want false: slot 1 is due after 300 years", rate, got)
		}
	}
	p, err := load.ParseRate("1e-10", time.Minute)
	if err == nil {
		if got, ok := load.Due(p, 1, 0, time.Minute); ok {
			t.Errorf("ParseRate(\"1e-10\") = %#v; Due(_, 1, 0, 1m) = %s, true, want false", p, got)
		}
	}
}

// Series.bucket prepends one bucket at a time, copying the whole series
// (about 1 KB a bucket) each time, so adding a value far before the
// start, as merging the reports of shards run at different times does,
// costs thousands of 1 MB allocations and seconds of CPU.
func TestRegressionSeriesAddFarBackIsCheap(t *testing.T) {
	start := time.Now()
	allocs := testing.AllocsPerRun(1, func() {
		s := load.NewSeries()
		s.Add(base, time.Millisecond, time.Millisecond, true)
		s.Add(base.Add(-24*time.Hour), time.Millisecond, time.Millisecond, true)
	})
	t.Logf("one add a day back: %.0f allocations, %s", allocs, time.Since(start))
	if allocs > 100 {
		t.Errorf("Series.Add a day before the start: %.0f allocations, want at most 100 (the buckets prepended at once)", allocs)
	}
}

// Result.Triggered is tagged omitempty, so an answer that named no
// triggers ({"triggered": []}: expect no delivery) comes back from the
// results file as one that named none at all (nil: expect Deliveries.Expect
// deliveries). `json:"triggered,omitzero"` keeps the difference (and
// `json:"sent,omitzero"` would drop the zero Sent of dropped slots, which
// omitempty does not do for a struct).
func TestRegressionResultKeepsEmptyTriggered(t *testing.T) {
	var buf bytes.Buffer
	enc := load.NewEncoder(&buf)
	enc.Encode(&load.Result{Seq: 1, Status: 200, Triggered: []string{}})
	enc.Flush()
	line := strings.TrimSpace(buf.String())
	var r load.Result
	if err := load.NewDecoder(&buf, "r.jsonl").Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Triggered == nil {
		t.Errorf("Triggered after a round trip = nil, want []string{} (line %s)", line)
	}
}

// ReadReport accepts any raw.metrics.series, and the Series code trusts
// it: a width of 0, a width near the int64 limit, or a start outside the
// years time.UnixNano can represent (1678–2262) makes MergeReports (hooklab
// load merge) panic, or loop appending billions of buckets until memory
// runs out. Each input must either be an error naming the file or merge.
func TestRegressionReadReportRejectsBadSeries(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join("testdata", "report-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, old, new string }{
		{"WidthZero", `"width_ns": 1000000000`, `"width_ns": 0`},
		{"WidthNegative", `"width_ns": 1000000000`, `"width_ns": -1000000000`},
		{"WidthHuge", `"width_ns": 1000000000`, `"width_ns": 9000000000000000000`},
		{"StartYear1025", `"start": "2025-03-14T15:09:26Z"`, `"start": "1025-03-14T15:09:26Z"`},
		{"StartYear2262", `"start": "2025-03-14T15:09:26Z"`, `"start": "2262-04-12T00:00:00Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(string(v1), tt.old, tt.new, 1)
			r, err := load.ReadReport("shard.json", []byte(data))
			if err != nil {
				if !strings.HasPrefix(err.Error(), "shard.json: ") {
					t.Errorf("ReadReport error %q does not name the file", err)
				}
				return
			}
			done := make(chan any, 1)
			go func() {
				defer func() { done <- recover() }()
				other := *r
				load.MergeReports(asShards(r, &other)...)
			}()
			select {
			case p := <-done:
				if p != nil {
					t.Errorf("ReadReport accepted series %s, then MergeReports panicked: %v", tt.new, p)
				}
			case <-time.After(5 * time.Second):
				// The merge goroutine is still allocating: stop here.
				panic(fmt.Sprintf("ReadReport accepted series %s, then MergeReports ran for 5s (appending buckets without bound)", tt.new))
			}
		})
	}
}

// ReadReport takes raw.requested as it is: shards that claim 1e308/s each
// merge into +Inf, and the merged report can no longer be written as JSON
// (json: unsupported value: +Inf); a negative rate is accepted too.
func TestRegressionReadReportRejectsBadRequestedRate(t *testing.T) {
	var one bytes.Buffer
	load.NewReport(load.NewMetrics(), nil, 10).WriteJSON(&one)
	for _, bad := range []string{`"requested": 1e308`, `"requested": -5`} {
		data := strings.Replace(one.String(), `"requested": 10`, bad, 1)
		if data == one.String() {
			t.Fatalf("no requested in %s", one.String())
		}
		r, err := load.ReadReport("shard.json", []byte(data))
		if err != nil {
			continue // rejected: fine
		}
		other := *r
		merged := mustMerge(t, asShards(r, &other)...)
		if err := merged.WriteJSON(io.Discard); err != nil || merged.RateRequested < 0 {
			t.Errorf("raw %s: ReadReport accepted it; merged rate_requested %g, WriteJSON error %v", bad, merged.RateRequested, err)
		}
	}
}
