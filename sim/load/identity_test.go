package load_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
)

// threeShards is a synthetic run at 300/s split into 3 shards of run
// "run-1", each named shard-i.json.
func threeShards() []*load.Report { return shardReports(syntheticResults(600, 7), 3, 300) }

func TestMergeReportsRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		reports func() []*load.Report
		want    string
	}{
		{"TheSameShardTwice", func() []*load.Report {
			s := threeShards()
			return []*load.Report{s[0], s[1], s[2], s[1]}
		}, "shard-2.json and shard-2.json are both shard 2/3: the same shard twice"},
		{"ACopyOfAShard", func() []*load.Report {
			s, c := threeShards(), threeShards()[2]
			c.Name = "copy.json"
			return append(s, c)
		}, "shard-3.json and copy.json are both shard 3/3: the same shard twice"},
		{"AMergeAndOneOfItsShards", func() []*load.Report {
			s := threeShards()
			m := mustMerge(t, s...)
			m.Name = "merged.json"
			return []*load.Report{m, threeShards()[0]}
		}, "merged.json and shard-1.json are both shard 1/3: the same shard twice"},
		{"AnotherRun", func() []*load.Report {
			s := threeShards()
			s[2].RunID = "run-2"
			return s
		}, "shard-3.json: run id run-2, but shard-1.json has run id run-1: reports of different runs (give every shard the same --run-id)"},
		{"AnotherRate", func() []*load.Report {
			s := threeShards()
			s[1].Plan.Rate = "500"
			return s
		}, `shard-2.json: plan rate is "500", but shard-1.json has "300": not shards of one plan`},
		{"AnotherTarget", func() []*load.Report {
			s := threeShards()
			s[2].Plan.Target = "http://127.0.0.1:2/hooks/gh"
			return s
		}, `shard-3.json: plan target is "http://127.0.0.1:2/hooks/gh", but shard-1.json has "http://127.0.0.1:1/hooks/gh": not shards of one plan`},
		{"AnotherDuration", func() []*load.Report {
			s := threeShards()
			s[2].Plan.DurationS = 6
			return s
		}, `shard-3.json: plan duration_s is "6", but shard-1.json has "5": not shards of one plan`},
		{"AnotherStartBarrier", func() []*load.Report {
			s := threeShards()
			at, other := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 3, 0, 30, 0, time.UTC)
			s[0].StartAt, s[1].StartAt, s[2].StartAt = &at, &at, &other
			return s
		}, "shard-3.json: start barrier 2026-12-06T03:00:30Z, but shard-1.json has 2026-12-06T03:00:00Z: shards of one run share one --start-at"},
		{"OneWithoutTheStartBarrier", func() []*load.Report {
			s := threeShards()
			at := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
			s[0].StartAt, s[1].StartAt = &at, &at
			return s
		}, "shard-3.json: start barrier none, but shard-1.json has 2026-12-06T03:00:00Z: shards of one run share one --start-at"},
		{"NoPlan", func() []*load.Report {
			s := threeShards()
			s[1].Plan = nil
			return s
		}, `shard-2.json: plan (the whole plan) is absent, but shard-1.json has present: not shards of one plan`},
		{"AnotherShardCount", func() []*load.Report {
			s := threeShards()
			s[1].Shard = &load.ShardID{Index: 1, Count: 1}
			return s
		}, "shard-2.json: a shard of 1, but shard-1.json is a shard of 3: not shards of one run"},
		{"NoRunID", func() []*load.Report {
			s := threeShards()
			s[2].RunID = ""
			return s
		}, "shard-3.json: not a shard of a run: it has no run id (a report of hooklab load before run ids?)"},
		{"NoShard", func() []*load.Report {
			s := threeShards()
			s[0].Shard = nil
			return s
		}, "shard-1.json: not a shard of a run: it names no shard"},
		{"OneMissing", func() []*load.Report {
			s := threeShards()
			return []*load.Report{s[2], s[0]}
		}, "run run-1: shard 2 of 3 missing (merge every shard, or merge partially with --partial)"},
		{"TwoMissing", func() []*load.Report {
			return threeShards()[1:2]
		}, "run run-1: shards 1, 3 of 3 missing (merge every shard, or merge partially with --partial)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := load.MergeReports(tt.reports()...)
			assert.Nil(t, got, "no merged report")
			assert.EqualError(t, err, tt.want)
		})
	}
	t.Run("Nothing", func(t *testing.T) {
		_, err := load.MergeReports()
		assert.Error(t, err)
	})
}

func TestMergeReportsPartialSaysWhatIsMissing(t *testing.T) {
	t.Parallel()
	s := threeShards()
	got, err := load.MergeReportsWith(load.MergeOptions{Partial: true}, s[2], s[0])
	require.NoError(t, err)
	assert.True(t, got.Partial, "partial")
	assert.Equal(t, &load.ShardSet{Count: 3, Indexes: []int{1, 3}, Missing: []int{2}}, got.Merged)
	assert.Equal(t, s[0].Requests+s[2].Requests, got.Requests, "requests: the shards there are")
	assert.InDelta(t, 200.0, got.RateRequested, 1e-9, "rate_requested: 2 of 3 shards of 300/s")
	var b strings.Builder
	require.NoError(t, got.WriteText(&b))
	assert.Contains(t, b.String(), "Partial: shard 2 of 3 missing; the report covers the others only.\n")
	assert.Contains(t, b.String(), "Run           [id, shards merged, start spread]  run-1, 1 3 of 3, 0s\n")

	// Complete, --partial changes nothing.
	all, err := load.MergeReportsWith(load.MergeOptions{Partial: true}, threeShards()...)
	require.NoError(t, err)
	assert.False(t, all.Partial)
	assert.Nil(t, all.Merged.Missing)
}

// The merged requested rate is the plan's, not the sum of what each shard
// thought its share was.
func TestMergeReportsRequestedRateIsThePlans(t *testing.T) {
	t.Parallel()
	s := threeShards()
	s[0].Raw.Requested, s[1].Raw.Requested = 250, 1
	got := mustMerge(t, s...)
	assert.Equal(t, 300.0, got.RateRequested)
	var b strings.Builder
	require.NoError(t, got.WriteJSON(&b))
	back, err := load.ReadReport("merged.json", []byte(b.String()))
	require.NoError(t, err)
	assert.Equal(t, "run-1", back.RunID)
	assert.Equal(t, s[0].Plan, back.Plan)
	assert.Equal(t, got.Merged, back.Merged)
	assert.Nil(t, back.Shard)
}

// Merging a merge with the shards it lacks gives the whole run.
func TestMergeReportsOfAPartialMergeAndTheRest(t *testing.T) {
	t.Parallel()
	s := threeShards()
	part, err := load.MergeReportsWith(load.MergeOptions{Partial: true}, s[0], s[2])
	require.NoError(t, err)
	part.Name = "part.json"
	got := mustMerge(t, part, s[1])
	whole := mustMerge(t, threeShards()...)
	assert.Equal(t, whole.Requests, got.Requests)
	assert.Equal(t, whole.Latency, got.Latency)
	assert.False(t, got.Partial)
	assert.Equal(t, []int{1, 2, 3}, got.Merged.Indexes)
}

// The merged report says how far apart the shards' schedules started.
func TestMergeReportsStartSpread(t *testing.T) {
	t.Parallel()
	s := threeShards()
	s[0].PlannedStart, s[1].PlannedStart, s[2].PlannedStart = base.Add(10*time.Millisecond), base.Add(40*time.Millisecond), base
	got := mustMerge(t, s...)
	assert.Equal(t, 40.0, got.Merged.StartSpreadMS)
	assert.Equal(t, base, got.PlannedStart, "the earliest")

	s = threeShards()
	s[0].PlannedStart, s[1].PlannedStart, s[2].PlannedStart = base.Add(10*time.Millisecond), base.Add(40*time.Millisecond), base.Add(25*time.Millisecond)
	part, err := load.MergeReportsWith(load.MergeOptions{Partial: true}, s[0], s[2])
	require.NoError(t, err)
	assert.Equal(t, 15.0, part.Merged.StartSpreadMS)
	part.Name = "part.json"
	got = mustMerge(t, part, s[1])
	assert.Equal(t, 30.0, got.Merged.StartSpreadMS, "a merge's spread counts")
	var b strings.Builder
	require.NoError(t, got.WriteText(&b))
	assert.Contains(t, b.String(), "Run           [id, shards merged, start spread]  run-1, 1 2 3 of 3, 30ms\n")
}

func TestCheckRunID(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"r1", "0123456789abcdef", "job-7.x_y:z", strings.Repeat("a", load.MaxRunID)} {
		assert.NoError(t, load.CheckRunID(ok), ok)
	}
	for _, bad := range []string{"", "a b", "a\x1b[2J", "é", "a/b", strings.Repeat("a", load.MaxRunID+1)} {
		assert.Error(t, load.CheckRunID(bad), "%q", bad)
	}
	id := load.NewRunID()
	assert.Regexp(t, `^[0-9a-f]{16}$`, id)
	assert.NotEqual(t, id, load.NewRunID(), "random")
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8080/hooks/gh", "http://127.0.0.1:8080/hooks/gh"},
		{"http://user:s3cret@127.0.0.1/hooks", "http://REDACTED@127.0.0.1/hooks"},
		{"https://token@example.com/h", "https://REDACTED@example.com/h"},
		{"http://h/p?token=s3cret&x=1&x=2", "http://h/p?token=REDACTED&x=REDACTED&x=REDACTED"},
		{"http://h/p#frag-s3cret", "http://h/p"},
		{"http://h/%zz", "(unparsable URL)"},
	}
	for _, tt := range tests {
		got := load.RedactURL(tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.NotContains(t, got, "s3cret")
	}
}

func TestReadReportRejectsABadIdentity(t *testing.T) {
	t.Parallel()
	good := writeJSON(t, threeShards()[0])
	tests := []struct{ name, old, new, want string }{
		{"RunIDWithEscape", `"run_id": "run-1"`, `"run_id": "run\u001b[2J"`, "r.json: run_id: run id"},
		{"ShardPastCount", `"index": 1,`, `"index": 4,`, "r.json: shard 4 of 3: want 1 <= index <= count <= 10000"},
		{"TooManyShards", `"count": 3`, `"count": 100000`, "r.json: shard 1 of 100000"},
		{"HugeSource", `"source": "fixture github/push seed 1"`, `"source": "` + strings.Repeat("x", 5000) + `"`, "r.json: plan.source: 5000 bytes, want at most 4096"},
		{"MergedAndShard", `"shard": {`, `"merged": {"count": 1, "indexes": [1]}, "shard": {`, "r.json: both shard and merged"},
		{"NegativeRate", `"rate_planned": 300`, `"rate_planned": -1`, "r.json: plan: a rate, duration or count out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(string(good), tt.old, tt.new, 1)
			require.NotEqual(t, string(good), data, "the report has %s", tt.old)
			_, err := load.ReadReport("r.json", []byte(data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	t.Run("MergedOutOfRange", func(t *testing.T) {
		m := writeJSON(t, mustMerge(t, threeShards()...))
		data := strings.Replace(string(m), `"indexes": [
      1,
      2,
      3
    ]`, `"indexes": [1, 2, 2]`, 1)
		require.NotEqual(t, string(m), data)
		_, err := load.ReadReport("r.json", []byte(data))
		assert.EqualError(t, err, "r.json: merged: shard 2 of 3 listed twice or out of range")
	})
}

// Run writes the plan's identity into the report: the run id (given or
// generated), the shard, the plan with the target redacted, the times,
// and the failure answers' bodies.
func TestRunReportsItsIdentity(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("bad signature\x1b[2J\r\n"))
	}))
	defer srv.Close()
	src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{}`))
	})
	target := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1) + "/h?token=s3cret"
	tests := []struct {
		name     string
		plan     load.Plan
		schedule string
		shard    load.ShardID
	}{
		{"OpenLoopShard", load.Plan{Pacer: load.Constant{Rate: 100}, Rate: "100/s", RunID: "given-1",
			Attacker: load.NewAttacker(load.Shard(1, 2), load.MaxInFlight(7))}, "constant", load.ShardID{Index: 2, Count: 2}},
		{"ClosedLoop", load.Plan{Attacker: load.NewAttacker(load.Workers(2))}, "closed-loop", load.ShardID{Index: 1, Count: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.plan
			p.Source, p.Duration, p.Target, p.Origin = src, 100*time.Millisecond, target, "test source"
			before := time.Now()
			rep, err := load.Run(context.Background(), p)
			require.NoError(t, err)
			if p.RunID != "" {
				assert.Equal(t, p.RunID, rep.RunID)
			} else {
				assert.Regexp(t, `^[0-9a-f]{16}$`, rep.RunID, "a generated run id")
			}
			assert.Equal(t, &tt.shard, rep.Shard)
			require.NotNil(t, rep.Plan)
			assert.Equal(t, tt.schedule, rep.Plan.Schedule)
			assert.Equal(t, 0.1, rep.Plan.DurationS)
			assert.Equal(t, "test source", rep.Plan.Source)
			assert.Equal(t, strings.Replace(srv.URL, "http://", "http://REDACTED@", 1)+"/h?token=REDACTED", rep.Plan.Target)
			assert.False(t, rep.PlannedStart.Before(before), "planned start after the call")
			assert.False(t, rep.Start.Before(rep.PlannedStart), "first send after the planned start")
			assert.True(t, rep.End.After(rep.Start), "last answer after the first send")
			require.Positive(t, rep.Requests)
			assert.Equal(t, load.Failures{"401": {{Body: "bad signature\x1b[2J\r\n", Count: rep.Requests}}}, rep.Failures)

			js := writeJSON(t, rep)
			assert.NotContains(t, string(js), "s3cret", "the target's secrets")
			var top map[string]any
			require.NoError(t, json.Unmarshal(js, &top))
			var text strings.Builder
			require.NoError(t, rep.WriteText(&text))
			assert.NotContains(t, text.String(), "\x1b", "a terminal escape from the target")
			assert.Contains(t, text.String(), `  401  `+strconv.FormatUint(rep.Requests, 10)+`  "bad signature\x1b[2J\r\n"`+"\n")
			assert.Contains(t, text.String(), "Run           [id, shard]                        "+rep.RunID+", ")
			if tt.schedule == "closed-loop" {
				assert.Equal(t, 2, rep.Plan.Workers)
				assert.Zero(t, rep.RateRequested, "closed loop requests no rate")
				assert.NotContains(t, top, "rate_requested")
				assert.NotContains(t, text.String(), "rate requested")
				assert.Contains(t, text.String(), "Plan          [schedule, duration, source]       closed-loop 2 workers, 100ms, test source\n")
			} else {
				assert.Equal(t, 7, rep.Plan.MaxInFlight)
				assert.Equal(t, "100/s", rep.Plan.Rate)
				assert.Equal(t, 100.0, rep.Plan.RatePlanned)
				assert.Equal(t, 50.0, top["rate_requested"], "the shard's share")
				assert.Contains(t, text.String(), "Plan          [schedule, duration, source]       constant 100/s, 100ms, test source\n")
			}
		})
	}
	t.Run("BadRunID", func(t *testing.T) {
		_, err := load.Run(context.Background(), load.Plan{Source: src, Duration: time.Millisecond, RunID: "a b"})
		assert.ErrorContains(t, err, `load: run id "a b"`)
	})
}
