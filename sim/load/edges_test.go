package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
)

func TestStartInIsTheNextMultipleOfTheWindow(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		now   time.Time
		every time.Duration
		want  time.Time
	}{
		{"just after a multiple", base.Add(time.Nanosecond), 30 * time.Second, base.Add(30 * time.Second)},
		{"just before a multiple", base.Add(-time.Nanosecond), 30 * time.Second, base},
		{"on a multiple: the next one, never now", base, 30 * time.Second, base.Add(30 * time.Second)},
		{"a window that does not divide a day", base.Add(time.Second), 7 * time.Second, time.Unix(0, (base.Add(time.Second).UnixNano()/int64(7*time.Second)+1)*int64(7*time.Second))},
		{"minutes", base.Add(59 * time.Second), time.Minute, base.Add(time.Minute)},
		{"before the epoch", time.Unix(-45, 0), 30 * time.Second, time.Unix(-30, 0)},
		{"a window of zero is now", base, 0, base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := load.StartIn(tc.now, tc.every)
			assert.True(t, got.Equal(tc.want), "StartIn(%s, %s) = %s, want %s", tc.now, tc.every, got, tc.want)
			if tc.every > 0 {
				assert.True(t, got.After(tc.now), "the start is after now")
				assert.LessOrEqual(t, got.Sub(tc.now), tc.every, "at most one window ahead")
				assert.Zero(t, got.UnixNano()%int64(tc.every), "a multiple of the window since the Unix epoch")
			}
		})
	}
}

func TestStartInAgreesWithinAWindow(t *testing.T) {
	t.Parallel()
	// Processes that start at different moments of one window agree.
	w := 30 * time.Second
	base := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	want := load.StartIn(base, w)
	for off := time.Duration(0); off < w; off += 997 * time.Millisecond {
		assert.True(t, load.StartIn(base.Add(off), w).Equal(want), "StartIn at +%s", off)
	}
}

func TestCheckStartRefusesFarAheadAndLongPast(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		at      time.Time
		d       time.Duration
		wantErr string
	}{
		{"ahead", now.Add(time.Minute), time.Second, ""},
		{"a day ahead", now.Add(load.MaxStartAhead), time.Second, ""},
		{"more than a day ahead", now.Add(load.MaxStartAhead + time.Second), time.Second, "2026-12-07T03:00:01Z is 24h0m1s ahead, more than the 24h0m0s allowed"},
		{"past by less than the duration", now.Add(-time.Second), 2 * time.Second, ""},
		{"past by the duration", now.Add(-2 * time.Second), 2 * time.Second, "was 2s ago, not less than the run's duration 2s"},
		{"long past", now.Add(-time.Hour), 2 * time.Second, "2026-12-06T02:00:00Z was 1h0m0s ago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := load.CheckStart(tc.at, now, tc.d)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestCheckRateRefusesAboveOneProcess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		p       load.Pacer
		shards  int
		peak    float64
		wantErr string
	}{
		{"closed loop", nil, 1, 0, ""},
		{"constant at the limit", load.Constant{Rate: 1e6}, 1, 1e6, ""},
		{"constant above", load.Constant{Rate: 1e9}, 1, 1e9, "1000000000/s is above the 1000000/s one process can schedule: shard the run over 1000 processes or more"},
		{"sharded under the limit", load.Constant{Rate: 3e6}, 4, 3e6, ""},
		{"sharded above", load.Constant{Rate: 3e6}, 2, 3e6, "3000000/s over 2 shards is 1500000/s a process, above the 1000000/s one process can schedule: use 3 shards or more"},
		{"a ramp's end", load.Linear{Start: 10, End: 2e6, Over: time.Second}, 1, 2e6, "2000000/s is above"},
		{"a ramp down's start", load.Linear{Start: 2e6, End: 10, Over: time.Second}, 1, 2e6, "2000000/s is above"},
		{"a step in the middle", load.Steps{{Rate: 10, For: time.Second}, {Rate: 5e6, For: time.Second}, {Rate: 10, For: time.Second}}, 1, 5e6, "5000000/s is above"},
		{"a sine's crest", load.Sine{Mean: 8e5, Amp: 3e5, Period: time.Second}, 1, 1.1e6, "1100000/s is above"},
		{"a pacer func, sampled", load.PacerFunc(func(t time.Duration) float64 { return 2e6 * t.Seconds() }), 1, 2e6, "above"},
		{"an infinite rate", load.Constant{Rate: math.Inf(1)}, 1, math.Inf(1), "above"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.peak > 0 && !math.IsInf(tc.peak, 0) {
				assert.InEpsilon(t, tc.peak, load.PeakRate(tc.p, 2*time.Second), 1e-6, "PeakRate")
			}
			err := load.CheckRate(tc.p, 2*time.Second, tc.shards)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestRunRefusesARateAboveOneProcess(t *testing.T) {
	t.Parallel()
	srv := newServer(t, okHandler)
	rep, err := load.Run(context.Background(), load.Plan{Source: seqSource(srv.URL), Pacer: load.Constant{Rate: 1e9}, Duration: time.Second})
	require.Error(t, err)
	assert.Nil(t, rep)
	assert.Contains(t, err.Error(), "above the 1000000/s one process can schedule")
}

// decodeResults reads the JSON lines of Plan.Out.
func decodeResults(t *testing.T, out *bytes.Buffer) []*load.Result {
	t.Helper()
	var rs []*load.Result
	dec := load.NewDecoder(out, "out")
	for {
		r := new(load.Result)
		err := dec.Decode(r)
		if err == io.EOF {
			return rs
		}
		require.NoError(t, err)
		rs = append(rs, r)
	}
}

// TestRunStartAtAnchorsEveryShard runs two shards at once with one start
// barrier: every slot's intended time is the barrier plus the schedule's
// offset, so the merged report spans exactly the unsharded schedule.
func TestRunStartAtAnchorsEveryShard(t *testing.T) {
	t.Parallel()
	srv := newServer(t, okHandler)
	p := load.Constant{Rate: 100}
	d := 500 * time.Millisecond
	at := time.Now().Add(300 * time.Millisecond).Truncate(time.Millisecond)
	reps := make([]*load.Report, 2)
	outs := make([]bytes.Buffer, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := load.NewAttacker(load.Shard(i, 2))
			var err error
			reps[i], err = load.Run(context.Background(), load.Plan{Source: seqSource(srv.URL), Pacer: p, Duration: d, Attacker: a, Out: &outs[i], StartAt: at, RunID: "anchor"})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	var all []*load.Result
	for i, rep := range reps {
		require.NotNil(t, rep)
		require.NotNil(t, rep.StartAt, "shard %d: Report.StartAt", i)
		assert.True(t, rep.StartAt.Equal(at), "shard %d: Report.StartAt = %s, want %s", i, rep.StartAt, at)
		assert.GreaterOrEqual(t, rep.LateStartS, 0.0, "shard %d: LateStartS", i)
		assert.Equal(t, uint64(25), rep.Requests+rep.Dropped, "shard %d: slots", i)
		assert.False(t, rep.Interrupted)
		all = append(all, decodeResults(t, &outs[i])...)
	}
	require.Len(t, all, 50)
	for _, r := range all {
		due, ok := load.Due(p, r.Seq, 0, d)
		require.True(t, ok)
		assert.True(t, r.Intended.Equal(at.Add(due)), "slot %d: intended %s, want the barrier + %s", r.Seq, r.Intended, due)
	}
	merged, err := load.MergeReports(reps...)
	require.NoError(t, err)
	assert.Equal(t, uint64(50), merged.Requests+merged.Dropped)
	assert.InDelta(t, 0.49, merged.DurationS, 1e-9, "the merged span is the unsharded schedule's: slot 0 to slot 49")
	require.NotNil(t, merged.StartAt, "the merged report keeps the shared barrier")
	assert.True(t, merged.StartAt.Equal(at))
}

// TestRunLateStartSendsTheSlotsAlreadyDue starts a run after its
// barrier: the slots already due are sent at once (none dropped under
// MaxInFlight), every slot keeps its place in the shared schedule, and
// the report says how late the run began.
func TestRunLateStartSendsTheSlotsAlreadyDue(t *testing.T) {
	t.Parallel()
	srv := newServer(t, okHandler)
	p := load.Constant{Rate: 100}
	d := time.Second
	at := time.Now().Add(-400 * time.Millisecond)
	var out bytes.Buffer
	rep, err := load.Run(context.Background(), load.Plan{Source: seqSource(srv.URL), Pacer: p, Duration: d, Out: &out, StartAt: at})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, rep.LateStartS, 0.4, "LateStartS")
	assert.Equal(t, uint64(100), rep.Requests, "every slot of the schedule was sent")
	assert.Zero(t, rep.Dropped)
	assert.Equal(t, uint64(100), rep.Success)
	rs := decodeResults(t, &out)
	require.Len(t, rs, 100)
	late := 0
	for _, r := range rs {
		due, _ := load.Due(p, r.Seq, 0, d)
		assert.True(t, r.Intended.Equal(at.Add(due)), "slot %d keeps its intended time", r.Seq)
		if due < 400*time.Millisecond {
			late++
			// Corrected latency counts the lateness: measured from the
			// shared schedule.
			assert.GreaterOrEqual(t, r.Latency, 400*time.Millisecond-due, "slot %d: corrected latency", r.Seq)
		}
	}
	assert.Equal(t, 40, late, "slots due before the run began")
	var text strings.Builder
	require.NoError(t, rep.WriteText(&text))
	assert.Regexp(t, `(?m)^Start         \[barrier, late by\]                 \S+, \d`, text.String())
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var fields map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &fields))
	assert.Contains(t, fields, "start_at")
	assert.Contains(t, fields, "late_start_s")
}

func TestRunRefusesABadStart(t *testing.T) {
	t.Parallel()
	srv := newServer(t, okHandler)
	for name, at := range map[string]time.Time{
		"more than a day ahead": time.Now().Add(25 * time.Hour),
		"past by the duration":  time.Now().Add(-2 * time.Second),
	} {
		rep, err := load.Run(context.Background(), load.Plan{Source: seqSource(srv.URL), Pacer: load.Constant{Rate: 10}, Duration: time.Second, StartAt: at})
		assert.Error(t, err, name)
		assert.Nil(t, rep, name)
	}
}

// TestRunStopEndsTheBarrierWait stops a run waiting for a barrier an
// hour away: Run returns at once an empty report marked Interrupted.
func TestRunStopEndsTheBarrierWait(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"Stop", "context"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, okHandler)
			a := load.NewAttacker()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan *load.Report, 1)
			go func() {
				rep, err := load.Run(ctx, load.Plan{Source: seqSource(srv.URL), Pacer: load.Constant{Rate: 10}, Duration: time.Second, Attacker: a, StartAt: time.Now().Add(time.Hour)})
				assert.NoError(t, err)
				done <- rep
			}()
			if how == "Stop" {
				a.Stop()
			} else {
				cancel()
			}
			select {
			case rep := <-done:
				require.NotNil(t, rep)
				assert.True(t, rep.Interrupted)
				assert.Zero(t, rep.Requests+rep.Dropped, "nothing sent")
				assert.NotNil(t, rep.StartAt)
			case <-time.After(10 * time.Second):
				t.Fatal("Run still waiting for the barrier 10s after the stop")
			}
		})
	}
}

// TestRunAbortCancelsTheRequestsInFlight aborts a run whose target never
// answers: Run returns without waiting for the client's timeout, with
// every request in flight counted as aborted and every result in Out.
func TestRunAbortCancelsTheRequestsInFlight(t *testing.T) {
	t.Parallel()
	h := newHoldServer(t)
	a := load.NewAttacker()
	go func() {
		if err := h.waitArrivals(5); err != nil {
			t.Error(err)
		}
		a.Stop()
		a.Abort()
	}()
	var out bytes.Buffer
	done := make(chan *load.Report, 1)
	go func() {
		rep, err := load.Run(context.Background(), load.Plan{Source: seqSource(h.URL), Pacer: load.Constant{Rate: 100}, Duration: 10 * time.Second, Attacker: a, Out: &out})
		assert.NoError(t, err)
		done <- rep
	}()
	var rep *load.Report
	select {
	case rep = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run still waiting for the requests in flight 10s after Abort")
	}
	require.NotNil(t, rep)
	assert.True(t, rep.Interrupted)
	assert.GreaterOrEqual(t, rep.Requests, uint64(5))
	assert.Zero(t, rep.Success, "no request was answered")
	assert.Equal(t, rep.Requests, rep.Errors[load.ErrAborted], "every request in flight ends aborted: %v", rep.Errors)
	rs := decodeResults(t, &out)
	assert.Len(t, rs, int(rep.Requests+rep.Dropped), "every result was written to Out")
}

// TestRunWarnsWhenMoreThanOnePercentIsDropped holds the target's only
// request in flight for the whole schedule: every later slot is dropped
// and the report says so.
func TestRunWarnsWhenMoreThanOnePercentIsDropped(t *testing.T) {
	t.Parallel()
	h := newHoldServer(t)
	go func() {
		if err := h.waitArrivals(1); err != nil {
			t.Error(err)
		}
		// 50 slots over 500ms: the first is held until the schedule is over.
		time.Sleep(600 * time.Millisecond)
		h.Release()
	}()
	rep, err := load.Run(context.Background(), load.Plan{Source: seqSource(h.URL), Pacer: load.Constant{Rate: 100}, Duration: 500 * time.Millisecond, Attacker: load.NewAttacker(load.MaxInFlight(1))})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), rep.Requests)
	assert.Equal(t, uint64(49), rep.Dropped)
	assert.InDelta(t, 0.98, rep.DroppedRatio(), 1e-9)
	require.Len(t, rep.Warnings, 1)
	assert.Equal(t, "49 of 50 slots (98.00%) were dropped, more than 1%: the run did not keep its schedule (allow more in flight, lower the rate or shard the run)",
		rep.Warnings[0])
	var text strings.Builder
	require.NoError(t, rep.WriteText(&text))
	assert.Contains(t, text.String(), "Warning: 49 of 50 slots (98.00%) were dropped")
}

func TestDroppedRatio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		requests, dropped uint64
		want              float64
	}{{0, 0, 0}, {100, 0, 0}, {99, 1, 0.01}, {0, 5, 1}, {5169, 34831, 34831.0 / 40000}} {
		r := &load.Report{Requests: tc.requests, Dropped: tc.dropped}
		assert.InDelta(t, tc.want, r.DroppedRatio(), 1e-12, fmt.Sprintf("%d sent, %d dropped", tc.requests, tc.dropped))
	}
}

// ExampleStartIn shows the start barrier that pods started in the same
// 30-second window agree on.
func ExampleStartIn() {
	first := time.Date(2026, 12, 6, 3, 0, 4, 0, time.UTC)
	last := first.Add(20 * time.Second)
	fmt.Println(load.StartIn(first, 30*time.Second).UTC().Format(time.RFC3339))
	fmt.Println(load.StartIn(last, 30*time.Second).UTC().Format(time.RFC3339))
	// Output:
	// 2026-12-06T03:00:30Z
	// 2026-12-06T03:00:30Z
}

// ExampleCheckRate shows the message for a rate one process cannot
// schedule.
func ExampleCheckRate() {
	fmt.Println(load.CheckRate(load.Constant{Rate: 4e6}, time.Minute, 1))
	fmt.Println(load.CheckRate(load.Constant{Rate: 4e6}, time.Minute, 4))
	// Output:
	// 4000000/s is above the 1000000/s one process can schedule: shard the run over 4 processes or more
	// <nil>
}
