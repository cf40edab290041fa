package load

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWatcherDeltaSendsOnlyTheChangedPoints(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	s := NewSeries()
	var w watcher
	type want struct {
		reset      bool
		from, n    int
		firstCount uint32
	}
	check := func(step string, d SeriesDelta, wt want) {
		t.Helper()
		got := want{reset: d.Reset, from: d.From, n: len(d.Points)}
		if len(d.Points) > 0 {
			got.firstCount = d.Points[0].N
		}
		assert.Equal(t, wt, got, "%s: delta", step)
	}
	s.Add(t0, time.Millisecond, time.Millisecond, true)
	s.Add(t0.Add(time.Second), time.Millisecond, time.Millisecond, true)
	check("first", w.delta(s), want{reset: true, from: 0, n: 2, firstCount: 1})
	check("unchanged", w.delta(s), want{from: 2, n: 0})
	s.Add(t0.Add(time.Second), time.Millisecond, time.Millisecond, true)
	s.Add(t0.Add(2*time.Second), time.Millisecond, time.Millisecond, true)
	check("last bucket grows, a new one", w.delta(s), want{from: 1, n: 2, firstCount: 2})
	s.AddUnanswered(t0) // a late result in the first bucket
	check("late result", w.delta(s), want{from: 0, n: 3, firstCount: 2})
	s.Add(t0.Add(-time.Second), time.Millisecond, time.Millisecond, true) // before the start
	check("earlier start", w.delta(s), want{reset: true, from: 0, n: 4, firstCount: 1})
	s.Add(t0.Add(seriesMaxBuckets*time.Second), time.Millisecond, time.Millisecond, true) // coarsens
	d := w.delta(s)
	assert.True(t, d.Reset, "after coarsening: delta.Reset")
	assert.Equal(t, 2.0, d.WidthS, "after coarsening: delta.WidthS")
	assert.Equal(t, len(s.Buckets), len(d.Points), "after coarsening: every point")
}
