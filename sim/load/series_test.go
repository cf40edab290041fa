package load_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
)

// seriesTotals sums a series' counts and errors.
func seriesTotals(s *load.Series) (count, errs uint64) {
	for _, p := range s.Points() {
		count += uint64(p.Count)
		errs += uint64(p.Errors)
	}
	return count, errs
}

// assertSeriesShape checks the invariants of every series: at most 1024
// buckets, a width that is the one-second default doubled k times, a
// start aligned to the width (so shards merge bucket by bucket), and
// points one width apart.
func assertSeriesShape(t *testing.T, s *load.Series) {
	t.Helper()
	assert.LessOrEqual(t, len(s.Buckets), 1024, "buckets")
	w := s.Width
	for w > time.Second && w%2 == 0 {
		w /= 2
	}
	assert.Equal(t, time.Second, w, "Width %s is not 1s·2^k", s.Width)
	if len(s.Buckets) > 0 {
		assert.Zero(t, s.Start.UnixNano()%int64(s.Width), "Start %v is not aligned to the width %s", s.Start, s.Width)
	}
	ps := s.Points()
	for i := 1; i < len(ps); i++ {
		if d := ps[i].Time.Sub(ps[i-1].Time); d != s.Width {
			t.Fatalf("point %d is %s after point %d, want the width %s", i, d, i-1, s.Width)
		}
	}
}

func TestSeriesStaysBoundedAndConservesCounts(t *testing.T) {
	t.Parallel()
	s := load.NewSeries()
	const secs, perSec = 10_000, 3
	for i := range secs * perSec {
		at := base.Add(time.Duration(i) * time.Second / perSec)
		s.Add(at, time.Duration(i%100+1)*time.Millisecond, time.Millisecond, i%10 != 0)
	}
	assertSeriesShape(t, s)
	assert.Equal(t, 16*time.Second, s.Width, "Width: 10,000 s in at most 1024 buckets")
	count, errs := seriesTotals(s)
	assert.Equal(t, uint64(secs*perSec), count, "requests conserved")
	assert.Equal(t, uint64(secs*perSec/10), errs, "errors conserved")
	ps := s.Points()
	assert.False(t, ps[0].Time.After(base), "first point %v after the first request %v", ps[0].Time, base)
	var most time.Duration
	for _, p := range ps {
		most = max(most, p.Max)
	}
	assert.Equal(t, 100*time.Millisecond, most, "Max: the largest latency added")
}

func TestSeriesOutOfOrderAdds(t *testing.T) {
	s := load.NewSeries()
	// Results arrive out of order: later ones first.
	for _, at := range []time.Duration{5 * time.Second, 2 * time.Second, 7*time.Second + 500*time.Millisecond, 0, 5*time.Second + 999*time.Millisecond} {
		s.Add(base.Add(at), 10*time.Millisecond, time.Millisecond, true)
	}
	assertSeriesShape(t, s)
	ps := s.Points()
	require.Len(t, ps, 8, "buckets from 0s to 7s")
	assert.True(t, ps[0].Time.Equal(base), "Start = %v, want %v", ps[0].Time, base)
	want := []uint32{1, 0, 1, 0, 0, 2, 0, 1}
	for i, p := range ps {
		assert.Equal(t, want[i], p.Count, "bucket %d (%v) count", i, p.Time)
	}
	// Further out of order: 100 s back. (Adding far before the start is
	// slow: each bucket is prepended one by one; see the report.)
	back := base.Add(-100 * time.Second)
	s.Add(back, time.Millisecond, time.Millisecond, false)
	assertSeriesShape(t, s)
	count, errs := seriesTotals(s)
	assert.Equal(t, uint64(6), count)
	assert.Equal(t, uint64(1), errs)
	assert.False(t, s.Start.After(back), "Start %v after the earliest add %v", s.Start, back)
	assert.Equal(t, uint32(1), s.Points()[0].Count, "the earliest add is in the first bucket")
}

func TestSeriesPointsPercentiles(t *testing.T) {
	s := load.NewSeries()
	// One bucket: 99 requests at 1 ms, one at 1 s (200 ms uncorrected).
	for i := range 100 {
		lat, unc := time.Millisecond, time.Millisecond
		if i == 99 {
			lat, unc = time.Second, 200*time.Millisecond
		}
		s.Add(base.Add(time.Duration(i)*time.Millisecond), lat, unc, true)
	}
	ps := s.Points()
	require.Len(t, ps, 1)
	p := ps[0]
	assert.Equal(t, uint32(100), p.Count)
	assert.Equal(t, time.Second, p.Max, "Max")
	assert.Equal(t, 200*time.Millisecond, p.UMax, "UMax")
	// Bins are a quarter octave wide and report their upper bound.
	assert.InEpsilon(t, float64(time.Millisecond), float64(p.P50), 0.25, "P50 = %s", p.P50)
	assert.InEpsilon(t, float64(time.Millisecond), float64(p.P99), 0.25, "P99 = %s: 99 of 100 at 1ms", p.P99)
	assert.GreaterOrEqual(t, p.P50, time.Millisecond, "P50 is an upper bound")
}

func TestSeriesMergeOfDifferentWidths(t *testing.T) {
	t.Parallel()
	fine := load.NewSeries() // 100 s: width 1 s
	for i := range 100 {
		fine.Add(base.Add(time.Duration(i)*time.Second), time.Millisecond, time.Millisecond, true)
	}
	coarse := load.NewSeries() // 50 s later, 2100 s long: width 4 s
	for i := range 2100 {
		coarse.Add(base.Add(50*time.Second+time.Duration(i)*time.Second), 2*time.Millisecond, time.Millisecond, i%2 == 0)
	}
	require.Equal(t, time.Second, fine.Width)
	require.Equal(t, 4*time.Second, coarse.Width)

	tests := []struct {
		name      string
		into, add *load.Series
	}{
		{"CoarseIntoFine", fine, coarse},
		{"FineIntoCoarse", coarse, fine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			into := cloneSeries(t, tt.into)
			into.Merge(tt.add)
			assertSeriesShape(t, into)
			assert.GreaterOrEqual(t, into.Width, 4*time.Second, "Width: the coarser of the two, or more")
			count, errs := seriesTotals(into)
			assert.Equal(t, uint64(2200), count, "counts conserved")
			assert.Equal(t, uint64(1050), errs, "errors conserved")
			assert.True(t, into.Start.Before(base.Add(time.Second)), "Start %v", into.Start)
		})
	}
	// Merge leaves its argument alone.
	count, _ := seriesTotals(fine)
	assert.Equal(t, uint64(100), count, "fine after merges")
	assert.Equal(t, time.Second, fine.Width, "fine's width after merges")
}

func TestSeriesMergeIntoEmpty(t *testing.T) {
	s := load.NewSeries()
	s.Add(base, time.Millisecond, time.Millisecond, true)
	got := load.NewSeries()
	got.Merge(s)
	got.Merge(load.NewSeries())
	assert.Equal(t, s.Points(), got.Points())
}

func cloneSeries(t *testing.T, s *load.Series) *load.Series {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var c load.Series
	require.NoError(t, json.Unmarshal(b, &c))
	return &c
}

func TestSeriesJSONRoundTrip(t *testing.T) {
	s := load.NewSeries()
	for i := range 2000 {
		s.Add(base.Add(time.Duration(i)*7*time.Millisecond), time.Duration(i%300+1)*time.Millisecond, time.Duration(i%7+1)*time.Millisecond, i%5 != 0)
	}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var got load.Series
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, s.Width, got.Width, "Width")
	assert.True(t, s.Start.Equal(got.Start), "Start = %v, want %v", got.Start, s.Start)
	assert.Equal(t, s.Buckets, got.Buckets, "Buckets")
	assert.Equal(t, s.Points(), got.Points(), "Points")
}

func TestSeriesJSONErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"BinOutOfRange", `{"width_ns":1000000000,"buckets":[{"n":1,"lat":[[128,1]],"ulat":[]}]}`, "bin 128 out of range"},
		{"BinsNotPairs", `{"width_ns":1000000000,"buckets":[{"n":1,"lat":{"a":1},"ulat":[]}]}`, "want [[bin, count], …]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s load.Series
			err := json.Unmarshal([]byte(tt.in), &s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSeriesUnansweredCountButHaveNoLatency(t *testing.T) {
	s := load.NewSeries()
	for i := range 10 {
		at := base.Add(time.Duration(i) * time.Millisecond)
		if i < 3 {
			s.Add(at, 10*time.Millisecond, 8*time.Millisecond, true)
		} else {
			s.AddUnanswered(at) // refused or timed out
		}
	}
	ps := s.Points()
	require.Len(t, ps, 1)
	p := ps[0]
	assert.Equal(t, uint32(10), p.Count, "Count: answered and unanswered")
	assert.Equal(t, uint32(7), p.Errors, "Errors: the unanswered")
	// The percentiles are of the 3 answered requests, all at 10 ms: the
	// 7 unanswered do not pull them to zero.
	for name, d := range map[string]time.Duration{"P50": p.P50, "P99": p.P99, "Max": p.Max} {
		assert.Equal(t, 10*time.Millisecond, d, "%s", name)
	}
	for name, d := range map[string]time.Duration{"UP50": p.UP50, "UP99": p.UP99, "UMax": p.UMax} {
		assert.Equal(t, 8*time.Millisecond, d, "%s", name)
	}
}
