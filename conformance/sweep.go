package conformance

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hooklab/hooklab/sim"
)

// DefaultLateWindow is how long, at the end of a run, the suite keeps
// listening after the last request whose deliveries a case checked, before
// it sweeps the deliveries of the whole run (see LateWindow).
const DefaultLateWindow = 2 * time.Second

// LateWindow sets how long the sink keeps listening, at the end of the
// run, after the last request whose deliveries a case checked. A case's
// check of deliveries listens for the settle time only (Settle); the sink
// listens for the whole run, and at its end a sweep fails every case whose
// requests show up in a delivery the case said must not happen, however
// late: a delivery of a request that must wake nothing (a rejected one, a
// handshake that skips triggering), or one to a trigger past the number
// the case wanted it to get. Zero means DefaultLateWindow; the sweep always waits at
// least the settle time, and not at all once the run's context is done.
// When every endpoint whose requests a case checked has a Drain (see
// Endpoint.Drain), the sweep waits for those instead, the window
// bounding the wait.
//
// A case the sweep fails is reported on the case itself in Check's Report
// (and Progress hears of it again); under Run and RunT, whose subtest for
// the case is over by then, in a subtest LateDeliveries/<Group>/<Name>.
func LateWindow(d time.Duration) Option { return func(o *options) { o.lateWindow = d } }

// lateSweep holds what the run's cases said about the deliveries of their
// requests, for the sweep at the end of the run. It is safe for
// concurrent use.
type lateSweep struct {
	mu   sync.Mutex
	want []expectation
	last time.Time // when the newest of those requests was answered
}

// expectation is what a case said about the deliveries of one request.
type expectation struct {
	x *exchange
	r *response
	// want is how many deliveries each trigger (as the case names it)
	// must get; a trigger not in it must get none.
	want map[string]int
	// seen is how many deliveries of the request the case's own check
	// received (and judged); the sweep judges only the ones after.
	seen int
}

// expect records that r must cause want deliveries to each trigger and no
// other; the case's own check judged seen deliveries of it.
func (s *lateSweep) expect(x *exchange, r *response, want map[string]int, seen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want = append(s.want, expectation{x: x, r: r, want: want, seen: seen})
	if r.at.After(s.last) {
		s.last = r.at
	}
}

// index adds the sink's new deliveries to e.byID.
func (e *env) index() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.indexLocked()
}

// indexLocked is index with e.mu held.
func (e *env) indexLocked() {
	for _, d := range e.sink.From(e.seen) {
		e.seen++
		e.byID[d.RequestID()] = append(e.byID[d.RequestID()], d)
		if d.RecordedAt.After(e.lastAt) {
			e.lastAt = d.RecordedAt
		}
	}
}

// lateFinding is what the sweep found for one case.
type lateFinding struct {
	c          *check
	problems   []string
	unverified int // deliveries marked verified: false, among the problems
	deliveries int
	// accepted are the deliveries marked verified: false that the profile
	// accepts: logged, not failed.
	accepted []string
}

// sweepLate waits until the newest request a case checked is the late
// window old (at least the settle time, less if t's context ends), or
// until their endpoints' Drains returned when they all have one, then
// fails every case whose requests show up in a delivery, received during
// the run, that the case said must not happen. With acceptUnverified, a
// delivery marked verification.verified: false is logged, not failed (for
// a profile whose receivers deliver unverified requests by design).
func (e *env) sweepLate(t T, acceptUnverified bool) {
	t.Helper()
	e.late.mu.Lock()
	fs := append([]expectation(nil), e.late.want...)
	last := e.late.last
	e.late.mu.Unlock()
	if len(fs) == 0 {
		return
	}
	window := e.opts.lateWindow
	if window <= 0 {
		window = DefaultLateWindow
	}
	wait := max(window-time.Since(last), e.opts.settle)
	ids := make(map[string]*response, len(fs))
	for _, f := range fs {
		ids[f.r.ID] = f.r
	}
	if ds := drainsOf(ids); ds != nil {
		// Every endpoint says when it has nothing left to deliver: the
		// window only bounds the wait.
		ctx, cancel := context.WithTimeout(t.Context(), wait)
		drainAll(ctx, ds)
		cancel()
	} else {
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-t.Context().Done():
			timer.Stop()
		}
	}
	e.index()
	findings := e.lateFindings(fs, acceptUnverified)
	if len(findings) == 0 {
		return
	}
	if r, ok := t.(*reportT); ok {
		for _, f := range findings {
			r.reportLate(f)
		}
		return
	}
	// Under go test the cases' subtests are over: report each case's late
	// deliveries in a subtest named after it.
	var failed []*lateFinding
	for _, f := range findings {
		for _, a := range f.accepted {
			t.Logf("%s: %s", f.c.ID(), a)
		}
		if len(f.problems) > 0 {
			failed = append(failed, f)
		}
	}
	if len(failed) == 0 {
		return
	}
	t.Run("LateDeliveries", func(t T) {
		for _, f := range failed {
			t.Run(f.c.ID(), func(t T) { t.Errorf("%s", f.message()) })
		}
	})
}

// lateFindings returns, case by case in the order of the expectations,
// the deliveries the cases' own checks did not see and that exceed what
// the case wanted for their trigger.
func (e *env) lateFindings(fs []expectation, acceptUnverified bool) []*lateFinding {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*lateFinding
	byCase := map[*exchange]*lateFinding{}
	for _, f := range fs {
		ds := e.byID[f.r.ID]
		if len(ds) <= f.seen {
			continue
		}
		counts := map[string]int{}
		for i, d := range ds {
			st := f.r.ep
			if st != nil && st.Spec != nil && !hasTrigger(st.spec, d.Trigger) {
				continue // a declared app's trigger the case did not ask for
			}
			name := f.x.askedTrigger(st, d.Trigger)
			counts[name]++
			if i < f.seen || counts[name] <= f.want[name] {
				continue
			}
			lf := byCase[f.x]
			if lf == nil {
				lf = &lateFinding{c: f.x.c}
				byCase[f.x] = lf
				out = append(out, lf)
			}
			if acceptUnverified && f.r.rejected && markedRejected(d) {
				lf.accepted = append(lf.accepted, redactAll(fmt.Sprintf("%s: delivery to trigger %q came %s after the answer, marked verification.verified: false (accepted by this profile)",
					f.r.desc, name, lateBy(d, f.r)), f.x.specs()))
				continue
			}
			lf.deliveries++
			note := ""
			if markedRejected(d) {
				lf.unverified++
				note = fmt.Sprintf(", marked verification.verified: false (reason %q)", truncate(d.Verification.Reason, 120))
			}
			want := "want no delivery ever"
			if n := f.want[name]; n > 0 {
				want = fmt.Sprintf("want %d in all, this is number %d", n, counts[name])
			}
			if len(lf.problems) < maxDeliveryLines {
				lf.problems = append(lf.problems, redactAll(fmt.Sprintf("%s: delivery to trigger %q came %s after the answer (delivery id %q)%s, %s",
					f.r.desc, name, lateBy(d, f.r), d.ID, note, want), f.x.specs()))
			}
		}
	}
	return out
}

// markedRejected reports whether d's envelope says its request failed
// verification: verified false, with the reason. (False without a reason
// means the receiver did not verify at all.) Such deliveries are counted
// apart: the receiver knew, and delivered anyway; only a profile whose
// receivers deliver unverified requests by design accepts them.
func markedRejected(d sim.Delivery) bool {
	return !d.Verification.Verified && d.Verification.Reason != ""
}

// lateBy says how long after r's answer the sink received d.
func lateBy(d sim.Delivery, r *response) string {
	return d.RecordedAt.Sub(r.at).Round(time.Millisecond).String()
}

// message is the finding in the failure format: the late deliveries, a
// line counting them, then the case's rule, reference and source.
func (f *lateFinding) message() string {
	var b strings.Builder
	for _, p := range f.problems {
		b.WriteString(p + "\n")
	}
	if more := f.deliveries - len(f.problems); more > 0 {
		fmt.Fprintf(&b, "… and %d more late deliveries like these\n", more)
	}
	fmt.Fprintf(&b, "    swept at the end of the run: %d late deliveries the case said must not happen", f.deliveries)
	if f.unverified > 0 {
		fmt.Fprintf(&b, "; %d of them marked verified: false (the receiver knew the request failed verification and delivered it anyway)", f.unverified)
	}
	fmt.Fprintf(&b, "\n    rule: %s\n    ref:  %s\n    case: %s", f.c.Rule, f.c.Reference, f.c.Source)
	return b.String()
}

// reportLate puts f in Check's report: the accepted deliveries in the
// case's log and, when there are others, the case failed with f's
// message, told to the Progress callback again.
func (t *reportT) reportLate(f *lateFinding) {
	id := f.c.ID()
	fail := len(f.problems) > 0
	t.rec.mu.Lock()
	var res CaseResult
	found := false
	for i := range t.rec.results {
		if r := &t.rec.results[i]; r.Case.ID() == id {
			r.Log = append(r.Log, f.accepted...)
			if fail {
				r.Status, r.Reason = StatusFail, ""
				r.Problems = append(r.Problems, f.message())
			}
			res, found = *r, true
			break
		}
	}
	t.rec.mu.Unlock()
	switch {
	case !fail:
	case !found:
		t.Errorf("%s: %s", id, f.message())
	case t.rec.notify != nil:
		t.rec.notify(res)
	}
}

// specs returns the effective specs of the case's endpoints.
func (x *exchange) specs() []sim.EndpointSpec {
	x.mu.Lock()
	defer x.mu.Unlock()
	var specs []sim.EndpointSpec
	for _, st := range x.eps {
		specs = append(specs, st.spec)
	}
	return specs
}
