package load

import (
	"maps"
	"time"
)

// DefaultWatchEvery is how often Run calls Plan.Watch by default.
const DefaultWatchEvery = 500 * time.Millisecond

// Snapshot states.
const (
	StateRunning = "running"
	StateDone    = "done"
)

// A Snapshot is a run's figures at one moment, as the live load view
// shows them (package sim/load/view): the report's figures so far, and
// the latency-over-time points that changed since the previous snapshot.
// Run makes one every Plan.WatchEvery and a last one, with State
// StateDone, from the report; SnapshotOf makes the one of a saved report.
// A Snapshot is not changed after it is handed over: it may be read from
// any goroutine.
type Snapshot struct {
	// Seq numbers a run's snapshots from 1.
	Seq uint64 `json:"seq"`
	// State is StateRunning, or StateDone for the last snapshot.
	State string `json:"state"`
	// Interrupted reports a run stopped early (Ctrl-C); set when done.
	Interrupted bool `json:"interrupted,omitempty"`
	// ElapsedS is seconds since the run started (when done: the sending
	// period, as the report's duration_s); PlannedS the run's planned
	// duration (0 for a saved report).
	ElapsedS float64 `json:"elapsed_s"`
	PlannedS float64 `json:"planned_s"`
	// The rest are as in Report, over the results received so far.
	Requests      uint64            `json:"requests"`
	Success       uint64            `json:"success"`
	Dropped       uint64            `json:"dropped"`
	RateRequested float64           `json:"rate_requested"`
	RateAchieved  float64           `json:"rate_achieved"`
	Throughput    float64           `json:"throughput"`
	SuccessRatio  float64           `json:"success_ratio"`
	InFlight      int64             `json:"in_flight"`
	StatusCodes   map[string]uint64 `json:"status_codes"`
	Errors        map[string]uint64 `json:"errors"`
	Latency       Summary           `json:"latency_ms"`
	Delivery      *Summary          `json:"delivery_ms,omitempty"`
	Delivered     *uint64           `json:"delivered,omitempty"`
	Lost          *uint64           `json:"lost,omitempty"`
	Duplicated    *uint64           `json:"duplicated,omitempty"`
	Chaos         *ChaosMetrics     `json:"chaos,omitempty"`
	Shards        int               `json:"shards"`
	// Series is the latency-over-time points that changed.
	Series SeriesDelta `json:"series"`
}

// A SeriesDelta is the part of a Series that changed: points From on
// replace the receiver's points From on. Reset means the series was
// rebuilt (its start or bucket width changed): drop every point first;
// From is then 0.
type SeriesDelta struct {
	// WidthS is the bucket width in seconds; Start the first bucket's.
	WidthS float64     `json:"width_s"`
	Start  time.Time   `json:"start"`
	Reset  bool        `json:"reset"`
	From   int         `json:"from"`
	Points []PlotPoint `json:"points"`
}

// A PlotPoint is one bucket of a Series as the live plot draws it, in
// milliseconds: latency from the intended send (P50, P99, Max) and P99
// from the actual send (UP99), of the bucket's answered requests.
type PlotPoint struct {
	N    uint32  `json:"n"`
	Err  uint32  `json:"err"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	UP99 float64 `json:"up99"`
}

func plotPoint(p Point) PlotPoint {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return PlotPoint{N: p.Count, Err: p.Errors, P50: ms(p.P50), P99: ms(p.P99), Max: ms(p.Max), UP99: ms(p.UP99)}
}

// SnapshotOf returns the final snapshot of a report (a saved one, or
// Run's): State done, every point of its series, Seq 1.
func SnapshotOf(r *Report) *Snapshot {
	s := &Snapshot{
		Seq: 1, State: StateDone, Interrupted: r.Interrupted, ElapsedS: r.DurationS,
		Requests: r.Requests, Success: r.Success, Dropped: r.Dropped,
		RateRequested: r.RateRequested, RateAchieved: r.RateAchieved, Throughput: r.Throughput,
		SuccessRatio: r.SuccessRatio, StatusCodes: maps.Clone(r.StatusCodes), Errors: maps.Clone(r.Errors),
		Latency: r.Latency, Delivery: r.Delivery, Delivered: r.Delivered, Lost: r.Lost, Duplicated: r.Duplicated,
		Chaos: r.Chaos, Shards: r.Shards,
	}
	if s.StatusCodes == nil {
		s.StatusCodes = map[string]uint64{}
	}
	if s.Errors == nil {
		s.Errors = map[string]uint64{}
	}
	if m := r.Raw.Metrics; m != nil && m.Series != nil {
		var w watcher
		s.Series = w.delta(m.Series)
	} else {
		s.Series = SeriesDelta{WidthS: 1, Reset: true, Points: []PlotPoint{}}
	}
	return s
}

// A watcher makes a run's snapshots: it remembers the bucket counts the
// previous snapshot carried, to send only the points that changed.
type watcher struct {
	seq   uint64
	width time.Duration
	start time.Time
	count []uint32
}

// delta returns the points of s that changed since the last call, and
// remembers s's counts.
func (w *watcher) delta(s *Series) SeriesDelta {
	d := SeriesDelta{WidthS: s.Width.Seconds(), Start: s.Start, Points: []PlotPoint{}}
	if w.count == nil || s.Width != w.width || !s.Start.Equal(w.start) || len(s.Buckets) < len(w.count) {
		d.Reset = true
		w.count = w.count[:0]
	}
	from := len(s.Buckets)
	for i := range s.Buckets {
		if i >= len(w.count) || s.Buckets[i].Count != w.count[i] {
			from = i
			break
		}
	}
	d.From = from
	for i := from; i < len(s.Buckets); i++ {
		d.Points = append(d.Points, plotPoint(s.pointAt(i)))
	}
	w.width, w.start = s.Width, s.Start
	w.count = w.count[:0]
	for i := range s.Buckets {
		w.count = append(w.count, s.Buckets[i].Count)
	}
	return d
}

// snapshot returns the figures of a run so far.
func (w *watcher) snapshot(m *Metrics, d *DeliveryMetrics, requested float64, elapsed, planned time.Duration, inFlight int64) *Snapshot {
	w.seq++
	r := NewReport(m, d, requested)
	s := &Snapshot{
		Seq: w.seq, State: StateRunning, ElapsedS: elapsed.Seconds(), PlannedS: planned.Seconds(),
		Requests: r.Requests, Success: r.Success, Dropped: r.Dropped,
		RateRequested: r.RateRequested, RateAchieved: r.RateAchieved, Throughput: r.Throughput,
		SuccessRatio: r.SuccessRatio, InFlight: inFlight,
		StatusCodes: maps.Clone(m.StatusCodes), Errors: maps.Clone(m.Errors),
		Latency: r.Latency, Delivery: r.Delivery, Delivered: r.Delivered, Lost: r.Lost, Duplicated: r.Duplicated,
		Shards: r.Shards, Series: w.delta(m.Series),
	}
	if m.Chaos != nil {
		c := NewChaosMetrics()
		c.Merge(m.Chaos)
		s.Chaos = c
	}
	return s
}

// final returns the last snapshot of a run, from its report.
func (w *watcher) final(r *Report, planned time.Duration) *Snapshot {
	w.seq++
	s := SnapshotOf(r)
	s.Seq, s.PlannedS = w.seq, planned.Seconds()
	if r.Raw.Metrics != nil && r.Raw.Metrics.Series != nil {
		s.Series = w.delta(r.Raw.Metrics.Series)
	}
	return s
}
