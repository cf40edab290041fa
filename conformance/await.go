package conformance

import (
	"context"
	"math"
	"time"

	"github.com/hooklab/hooklab/sim"
)

// A judgment judges the deliveries of a check's requests, by request id:
// problems through errorf, notes through logf.
type judgment func(got map[string][]sim.Delivery, errorf, logf func(format string, args ...any))

// pendingCheck is a check of deliveries that found nothing wrong when its
// expected deliveries arrived and is judged again, on every delivery of
// its requests, once the case is over (see settlePending).
type pendingCheck struct {
	rs    []*response
	ids   map[string]*response
	want  map[string]int
	judge judgment
}

// awaitDeliveries waits until total deliveries of rs have arrived, or
// none came for the quiet period (see Quiet), and judges them. A check
// that finds a problem reports it at once; one that finds none is judged
// again, on every delivery of rs by then, when the case is over and the
// settle time has passed since its newest answer or delivery (see
// settlePending): a case listens for extra deliveries once, not once per
// check, and a case whose deliveries all came pays no wait for its
// checks. The requests' deliveries after that are the sweep's (see
// LateWindow). A check that finds a problem listens until its requests'
// deliveries have been quiet for the quiet period, and judges them again,
// before it tells the problem. It reports whether that judgment found no
// problem.
func (x *exchange) awaitDeliveries(rs []*response, want map[string]int, total int, judge judgment) bool {
	ids := map[string]*response{}
	for _, r := range rs {
		ids[r.ID] = r
	}
	ctx, cancel := context.WithTimeout(x.ctx, x.env.opts.deliveryWait)
	defer cancel()
	var problems, logs []string
	try := func(got map[string][]sim.Delivery) {
		problems, logs = nil, nil
		judge(got,
			func(format string, args ...any) { problems = append(problems, sprintf(format, args...)) },
			func(format string, args ...any) { logs = append(logs, sprintf(format, args...)) })
	}
	got := x.env.deliveries(ctx, ids, total, 0)
	if try(got); len(problems) > 0 {
		// The count may have been reached by deliveries the check does
		// not count (a declared app's other triggers) or the wrong ones
		// may be early: before a problem is told, listen until the
		// requests' deliveries have been quiet for the quiet period.
		got = x.env.deliveries(ctx, ids, math.MaxInt, 0)
		try(got)
	}
	if len(problems) == 0 && x.env.opts.settle > 0 {
		x.mu.Lock()
		x.pending = append(x.pending, &pendingCheck{rs: rs, ids: ids, want: want, judge: judge})
		x.mu.Unlock()
		return true
	}
	for _, l := range logs {
		x.Logf("%s", l)
	}
	for _, p := range problems {
		x.Errorf("%s", p)
	}
	x.expectLate(rs, want, got)
	return len(problems) == 0
}

// settlePending judges the case's pending checks again once the settle
// time has passed since the newest answer or delivery of their requests
// (less if the case's context ends), or once their endpoints' Drains
// returned when they all have one (see Endpoint.Drain), on every
// delivery of their requests by then, and hands the requests to the
// sweep.
func (x *exchange) settlePending() {
	x.mu.Lock()
	ps := x.pending
	x.pending = nil
	x.mu.Unlock()
	if len(ps) == 0 {
		return
	}
	all := map[string]*response{}
	for _, p := range ps {
		for id, r := range p.ids {
			all[id] = r
		}
	}
	if ds := drainsOf(all); ds != nil {
		// The target says when it has nothing left to deliver.
		ctx, cancel := context.WithTimeout(x.ctx, x.env.opts.deliveryWait)
		drainAll(ctx, ds)
		cancel()
	} else {
		x.settle(all)
	}
	for _, p := range ps {
		got := x.env.deliveries(x.ctx, p.ids, 0, 0)
		p.judge(got, x.Errorf, x.Logf)
		x.expectLate(p.rs, p.want, got)
	}
}

// settle waits until the settle time has passed since the newest answer
// or delivery of the requests of ids, or the case's context is done.
func (x *exchange) settle(ids map[string]*response) {
	newest := time.Time{}
	for _, r := range ids {
		if r.at.After(newest) {
			newest = r.at
		}
	}
	for _, ds := range x.env.deliveries(x.ctx, ids, 0, 0) {
		for _, d := range ds {
			if d.RecordedAt.After(newest) {
				newest = d.RecordedAt
			}
		}
	}
	if wait := x.env.opts.settle - time.Since(newest); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-x.ctx.Done():
			t.Stop()
		}
	}
}

// expectLate hands rs to the sweep at the end of the run, with what the
// case wants of their deliveries and how many of them it judged.
func (x *exchange) expectLate(rs []*response, want map[string]int, got map[string][]sim.Delivery) {
	for _, r := range rs {
		x.env.late.expect(x, r, want, len(got[r.ID]))
	}
}
