package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// A Plan is one load run: where requests come from, the schedule, and
// what to do with results. Run executes it.
type Plan struct {
	// Source builds each request. Required.
	Source Source
	// Pacer is the schedule; nil runs closed loop (the Attacker's Workers).
	// With the Attacker's Shard option, the run sends its shard of this
	// schedule and reports that share as the requested rate.
	Pacer Pacer
	// Duration is how long to send. Required.
	Duration time.Duration
	// Attacker sends; nil means NewAttacker().
	Attacker *Attacker
	// Out, if set, gets every Result as a JSON line as it happens.
	Out io.Writer
	// Deliveries, if set, is told about every Result, and measures the
	// deliveries its sink receives; Run waits up to Grace after the last
	// answer for the deliveries still expected.
	Deliveries *Deliveries
	Grace      time.Duration
	// Progress, if set, is called about once a second with the figures so
	// far, from Run's goroutine.
	Progress func(Progress)
	// Watch, if set, is called every WatchEvery (default
	// DefaultWatchEvery) with the figures so far, and once at the end with
	// the final figures (State StateDone), from Run's goroutine: it must
	// return at once (the live view's Publish does), or results queue up.
	Watch      func(*Snapshot)
	WatchEvery time.Duration

	// The run's identity, written in its report (Report.RunID, Plan,
	// Shard) so that MergeReports can tell the shards of one run from
	// others. RunID names the run: give every shard the same one; ""
	// makes Run generate one (NewRunID); it must pass CheckRunID. Rate is
	// the schedule as the user gave it ("100/s"; default the Pacer
	// printed); Origin what is sent (default the Source's, if it is an
	// Originer: FixtureOrigin, BodyOrigin); Target
	// where (the report has it through RedactURL). The shard is the
	// Attacker's (Shard).
	RunID  string
	Rate   string
	Origin string
	Target string
	// StartAt, if set, is the start barrier: Run waits until then (ctx
	// or the Attacker's Stop ends the wait, and the report is then empty
	// and Interrupted) and anchors the schedule there, so that slot n is
	// due at StartAt plus its offset (Due) in every shard given the same
	// StartAt, and latency is measured from that shared schedule. A run
	// that begins after StartAt (its process came up late) sends the
	// slots already due at once, as a run that fell behind does: at most
	// MaxInFlight go out and the rest are dropped and counted, so that
	// the shards' sent plus dropped slots still add up to the unsharded
	// schedule. The report gives the barrier and how late the run began
	// (Report.StartAt, Report.LateStartS). CheckStart says which values
	// Run accepts.
	StartAt time.Time
}

// Limits of a plan that Run refuses to pass (CheckStart, CheckRate).
const (
	// MaxStartAhead is how far ahead a start barrier may be.
	MaxStartAhead = 24 * time.Hour
	// MaxRate is the highest rate, in requests a second, that one
	// process schedules: above it the pacer's timer cannot keep up and a
	// run lasts many times its duration while dropping nearly every slot.
	// Shard the run over several processes instead.
	MaxRate = 1e6
	// DroppedWarn is the share of the schedule's slots dropped above
	// which Run adds a warning to the report (Report.Warnings).
	DroppedWarn = 0.01
)

// CheckStart returns an error when at is not a start barrier Run accepts
// at now for a run of duration d: more than MaxStartAhead ahead, or past
// by d or more (every slot would be late).
func CheckStart(at, now time.Time, d time.Duration) error {
	switch ahead := at.Sub(now); {
	case ahead > MaxStartAhead:
		return fmt.Errorf("the start %s is %s ahead, more than the %s allowed", at.UTC().Format(time.RFC3339), ahead.Round(time.Second), MaxStartAhead)
	case -ahead >= d:
		return fmt.Errorf("the start %s was %s ago, not less than the run's duration %s: every slot would be late", at.UTC().Format(time.RFC3339), (-ahead).Round(time.Millisecond), d)
	}
	return nil
}

// StartIn returns the start barrier that processes started at about the
// same time agree on without talking to each other: the first instant
// after now that is a whole multiple of every (counted from the Unix
// epoch, 1970-01-01T00:00:00Z). Processes that compute it within the
// same window of length every get the same instant; two that straddle a
// multiple get instants every apart, so every should be much longer than
// the spread of the processes' start times (the chance of a split is
// spread/every) plus their clocks' skew. every must be positive.
func StartIn(now time.Time, every time.Duration) time.Time {
	if every <= 0 {
		return now
	}
	ns := now.UnixNano()
	next := (ns/int64(every) + 1) * int64(every)
	if ns < 0 && ns%int64(every) != 0 {
		next -= int64(every)
	}
	return time.Unix(0, next)
}

// PeakRate returns p's highest rate over a run of duration d, in
// requests a second: exact for this package's pacers, and the highest
// of a thousand samples of Rate for others.
func PeakRate(p Pacer, d time.Duration) float64 {
	switch p := p.(type) {
	case nil:
		return 0
	case Constant:
		return p.Rate
	case Linear:
		return max(p.Start, p.End)
	case Sine:
		return p.Mean + max(p.Amp, -p.Amp)
	case Steps:
		peak := 0.0
		for _, s := range p {
			peak = max(peak, s.Rate)
		}
		return peak
	}
	const samples = 1000
	peak := 0.0
	for i := range samples + 1 {
		peak = max(peak, Rate(p, time.Duration(float64(d)*float64(i)/samples)))
	}
	return peak
}

// CheckRate returns an error when shard of shards' share of p's peak
// rate over a run of duration d is above MaxRate.
func CheckRate(p Pacer, d time.Duration, shards int) error {
	shards = max(shards, 1)
	peak := PeakRate(p, d)
	if per := peak / float64(shards); per > MaxRate || math.IsNaN(per) {
		if shards == 1 {
			return fmt.Errorf("%.0f/s is above the %.0f/s one process can schedule: shard the run over %d processes or more",
				peak, MaxRate, int(math.Ceil(peak/MaxRate)))
		}
		return fmt.Errorf("%.0f/s over %d shards is %.0f/s a process, above the %.0f/s one process can schedule: use %d shards or more",
			peak, shards, per, MaxRate, int(math.Ceil(peak/MaxRate)))
	}
	return nil
}

// Abort ends the attack at once: it stops sending as Stop does and
// cancels the requests in flight, which end as errors of kind
// ErrAborted, so that Run returns without waiting for them. Use it when
// waiting is no longer wanted (a second Ctrl-C); it cannot be undone.
func (a *Attacker) Abort() {
	a.Stop()
	a.abortFn()
}

// scheduleStart is the instant the open loop's schedule counts from:
// Plan.StartAt, or now.
func (a *Attacker) scheduleStart() time.Time {
	if !a.anchor.IsZero() {
		return a.anchor
	}
	return time.Now()
}

// abortable returns req bound to the Attacker's abort context, so that
// Abort cancels it; a request built on that context is returned as it is.
func (a *Attacker) abortable(req *http.Request) *http.Request {
	if req.Context() == a.abortCtx {
		return req
	}
	return req.WithContext(a.abortCtx)
}

// waitStart waits until at; it reports false when ctx or Stop ended the
// wait first.
func (a *Attacker) waitStart(ctx context.Context, at time.Time) bool {
	wait := time.Until(at)
	if wait <= 0 {
		return !a.stopped.Load() && ctx.Err() == nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.stop:
	case <-ctx.Done():
	}
	return false
}

// RunEdges are what a report says about the edges of its run: the start
// barrier and how late the run began after it, and warnings about
// figures that cannot be trusted as they are. Report embeds it.
type RunEdges struct {
	// StartAt is Plan.StartAt, the barrier; nil without one.
	StartAt *time.Time `json:"start_at,omitempty"`
	// LateStartS is how late the run began after StartAt, in seconds.
	LateStartS float64 `json:"late_start_s,omitempty"`
	// Warnings says, one sentence each, which figures are not what the
	// plan asked for (more than DroppedWarn of the slots dropped).
	Warnings []string `json:"warnings,omitempty"`
}

// DroppedRatio is the share of the schedule's slots that were dropped:
// dropped / (requests + dropped); 0 when there were none.
func (r *Report) DroppedRatio() float64 {
	if n := r.Requests + r.Dropped; n > 0 {
		return float64(r.Dropped) / float64(n)
	}
	return 0
}

// warnDropped adds a warning to r when more than DroppedWarn of the
// slots were dropped.
func (r *Report) warnDropped() {
	if ratio := r.DroppedRatio(); ratio > DroppedWarn {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"%d of %d slots (%.2f%%) were dropped, more than %g%%: the run did not keep its schedule (allow more in flight, lower the rate or shard the run)",
			r.Dropped, r.Requests+r.Dropped, 100*ratio, 100*DroppedWarn))
	}
}

// mergeEdges combines the edges of shard reports: the barrier when they
// share one, the latest start, and every warning.
func (e *RunEdges) mergeEdges(i int, o RunEdges) {
	if i == 0 {
		e.StartAt = o.StartAt
	} else if e.StartAt != nil && (o.StartAt == nil || !o.StartAt.Equal(*e.StartAt)) {
		e.StartAt = nil
	}
	e.LateStartS = max(e.LateStartS, o.LateStartS)
	e.Warnings = append(e.Warnings, o.Warnings...)
}

// writeText writes the edges' lines of the text report.
func (e RunEdges) writeText(b *strings.Builder) {
	for _, w := range e.Warnings {
		fmt.Fprintf(b, "Warning: %s\n", w)
	}
	if e.StartAt != nil {
		late := time.Duration(e.LateStartS * float64(time.Second)).Round(time.Microsecond)
		fmt.Fprintf(b, "Start         [barrier, late by]                 %s, %s\n", e.StartAt.UTC().Format(time.RFC3339Nano), late)
	}
}

// Progress is a run's figures so far.
type Progress struct {
	Elapsed   time.Duration
	Requests  uint64
	Success   uint64
	Dropped   uint64
	Rate      float64 // requests sent a second, over the last second
	P50, P99  time.Duration
	InFlight  int64
	Delivered uint64
}

// Run executes p and returns its report. When ctx is done or the
// Attacker is stopped, sending stops, requests in flight finish and the
// report covers what was sent (Report.Interrupted). The error is about
// writing Out; the report is returned even then.
func Run(ctx context.Context, p Plan) (*Report, error) {
	if p.Source == nil || p.Duration <= 0 {
		return nil, fmt.Errorf("load: a plan needs a Source and a positive Duration")
	}
	runID := p.RunID
	if runID == "" {
		runID = NewRunID()
	} else if err := CheckRunID(runID); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	a := p.Attacker
	if a == nil {
		a = NewAttacker()
	}
	if a.of > MaxShards {
		return nil, fmt.Errorf("load: %d shards, want at most %d", a.of, MaxShards)
	}
	info := planInfo(&p, a)
	if err := CheckRate(p.Pacer, p.Duration, int(a.of)); err != nil {
		return nil, fmt.Errorf("load: rate %w", err)
	}
	if !p.StartAt.IsZero() {
		if err := CheckStart(p.StartAt, time.Now(), p.Duration); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		if !a.waitStart(ctx, p.StartAt) {
			rep := NewReport(NewMetrics(), nil, 0)
			at := p.StartAt
			rep.StartAt, rep.Interrupted = &at, true
			rep.RunID, rep.Plan, rep.PlannedStart = runID, info, at
			rep.Shard = &ShardID{Index: int(a.shard) + 1, Count: int(a.of)}
			return rep, nil
		}
	}
	a.anchor = p.StartAt
	late := time.Duration(0)
	if !p.StartAt.IsZero() {
		late = time.Since(p.StartAt)
	}
	requested := 0.0
	if p.Pacer != nil {
		// The Attacker's Shard sends 1 slot in a.of: its share of the schedule.
		requested = p.Pacer.Hits(p.Duration) / p.Duration.Seconds() / float64(a.of)
	}
	m := NewMetrics()
	if a.chaos != nil {
		m.Chaos = NewChaosMetrics()
	}
	var enc *Encoder
	if p.Out != nil {
		enc = NewEncoder(p.Out)
	}
	var werr error
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastReq uint64
	var w watcher
	var watchC <-chan time.Time
	if p.Watch != nil {
		every := p.WatchEvery
		if every <= 0 {
			every = DefaultWatchEvery
		}
		wt := time.NewTicker(every)
		defer wt.Stop()
		watchC = wt.C
	}
	plannedStart := time.Now()
	if !p.StartAt.IsZero() {
		plannedStart = p.StartAt
	}
	results := a.Attack(ctx, p.Source, p.Pacer, p.Duration)
loop:
	for {
		select {
		case <-watchC:
			var dm *DeliveryMetrics
			if p.Deliveries != nil {
				dm = p.Deliveries.Metrics()
			}
			p.Watch(w.snapshot(m, dm, requested, time.Since(start), p.Duration, a.inflight.Load()))
		case r, ok := <-results:
			if !ok {
				break loop
			}
			m.Add(r)
			if p.Deliveries != nil {
				p.Deliveries.Sent(r)
			}
			if enc != nil && werr == nil {
				werr = enc.Encode(r)
			}
		case <-tick.C:
			if p.Progress != nil {
				pr := Progress{Elapsed: time.Since(start), Requests: m.Requests, Success: m.Success, Dropped: m.Dropped,
					Rate: float64(m.Requests - lastReq), P50: m.Latency.Quantile(50), P99: m.Latency.Quantile(99),
					InFlight: a.inflight.Load()}
				if p.Deliveries != nil {
					pr.Delivered = p.Deliveries.Metrics().Delivered
				}
				p.Progress(pr)
			}
			lastReq = m.Requests
		}
	}
	if enc != nil {
		if err := enc.Flush(); err != nil && werr == nil {
			werr = err
		}
	}
	var dm *DeliveryMetrics
	if p.Deliveries != nil {
		grace := p.Grace
		if grace <= 0 {
			grace = 2 * time.Second
		}
		deadline := time.Now().Add(grace)
		for p.Deliveries.Pending() > 0 && time.Now().Before(deadline) && ctx.Err() == nil && a.abortCtx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		p.Deliveries.Close()
		dm = p.Deliveries.Metrics()
	}
	rep := NewReport(m, dm, requested)
	rep.RunID, rep.Plan, rep.PlannedStart = runID, info, plannedStart
	rep.Shard = &ShardID{Index: int(a.shard) + 1, Count: int(a.of)}
	rep.Interrupted = a.stopped.Load() || ctx.Err() != nil
	if !p.StartAt.IsZero() {
		at := p.StartAt
		rep.StartAt, rep.LateStartS = &at, late.Seconds()
	}
	rep.warnDropped()
	if p.Watch != nil {
		p.Watch(w.final(rep, p.Duration))
	}
	if werr != nil {
		werr = fmt.Errorf("load: writing results: %w", werr)
	}
	return rep, werr
}
