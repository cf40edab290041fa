package load

import (
	"context"
	"fmt"
	"io"
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
		for p.Deliveries.Pending() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		p.Deliveries.Close()
		dm = p.Deliveries.Metrics()
	}
	rep := NewReport(m, dm, requested)
	rep.RunID, rep.Plan, rep.PlannedStart = runID, info, plannedStart
	rep.Shard = &ShardID{Index: int(a.shard) + 1, Count: int(a.of)}
	rep.Interrupted = a.stopped.Load() || ctx.Err() != nil
	if p.Watch != nil {
		p.Watch(w.final(rep, p.Duration))
	}
	if werr != nil {
		werr = fmt.Errorf("load: writing results: %w", werr)
	}
	return rep, werr
}
