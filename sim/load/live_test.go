package load_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/load"
)

func TestRunWatchEndsWithTheReportsFigures(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	src, err := load.BodySource(signer.GitHub(), signer.Keys("watch-secret"), "", srv.URL, nil, []byte(`{"zen":"hi"}`))
	require.NoError(t, err)
	var snaps []*load.Snapshot
	rep, err := load.Run(context.Background(), load.Plan{
		Source: src, Pacer: load.Constant{Rate: 200}, Duration: 300 * time.Millisecond,
		Watch: func(s *load.Snapshot) { snaps = append(snaps, s) }, WatchEvery: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	require.NotEmpty(t, snaps, "snapshots")
	last := snaps[len(snaps)-1]
	assert.Equal(t, load.StateDone, last.State, "the last snapshot's state")
	for i, s := range snaps[:len(snaps)-1] {
		assert.Equal(t, load.StateRunning, s.State, "snapshot %d state", i)
	}
	var plot []load.PlotPoint
	for i, s := range snaps {
		assert.Equal(t, uint64(i+1), s.Seq, "snapshot %d seq", i)
		if i > 0 {
			assert.GreaterOrEqual(t, s.Requests, snaps[i-1].Requests, "snapshot %d requests", i)
		}
		if s.Series.Reset {
			plot = nil
		}
		plot = append(plot[:min(s.Series.From, len(plot))], s.Series.Points...)
	}
	assert.Equal(t, rep.Requests, last.Requests, "final snapshot requests")
	assert.Equal(t, rep.Success, last.Success, "final snapshot success")
	assert.Equal(t, rep.StatusCodes, last.StatusCodes, "final snapshot status codes")
	assert.Equal(t, rep.Latency, last.Latency, "final snapshot latency")
	assert.Equal(t, rep.RateRequested, last.RateRequested, "final snapshot rate requested")
	assert.Equal(t, rep.RateAchieved, last.RateAchieved, "final snapshot rate achieved")
	assert.Equal(t, 0.3, last.PlannedS, "final snapshot planned_s")
	// The plot reassembled from every delta is the report's series.
	assert.Equal(t, load.SnapshotOf(rep).Series.Points, plot, "plot reassembled from the snapshots")
	var sum uint64
	for _, p := range plot {
		sum += uint64(p.N)
	}
	assert.Equal(t, rep.Requests, sum, "requests in the plot")
}

func TestSnapshotOfAReportWithoutSeries(t *testing.T) {
	r := load.NewReport(load.NewMetrics(), nil, 0)
	r.Raw.Metrics.Series = nil
	s := load.SnapshotOf(r)
	assert.Equal(t, load.StateDone, s.State)
	assert.True(t, s.Series.Reset, "Series.Reset")
	assert.NotNil(t, s.Series.Points, "Series.Points (an empty list in JSON, not null)")
	assert.Nil(t, s.Delivered, "Delivered without a sink")
}
