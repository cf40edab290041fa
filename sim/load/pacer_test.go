package load_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
)

// schedule returns every due time of p before end, asking Due as the
// attacker does: slot after slot, each from the previous due time.
func schedule(t *testing.T, p load.Pacer, end time.Duration) []time.Duration {
	t.Helper()
	var out []time.Duration
	var prev time.Duration
	for n := uint64(0); ; n++ {
		due, ok := load.Due(p, n, prev, end)
		if !ok {
			return out
		}
		out = append(out, due)
		prev = due
		if n > 1_000_000 {
			t.Fatalf("Due(%#v, …) never reached end %s", p, end)
		}
	}
}

// seconds converts a closed-form time in seconds to a Duration.
func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// Due's binary search stops within a quarter microsecond; closed forms are
// compared within a microsecond.
const dueTolerance = time.Microsecond

func assertDue(t *testing.T, p load.Pacer, n uint64, got, want time.Duration) {
	t.Helper()
	if d := got - want; d < -dueTolerance || d > dueTolerance {
		t.Errorf("Due(%#v, %d) = %s, want %s (closed form)", p, n, got, want)
	}
}

func TestConstantDueIsNOverRate(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		// every is the exact spacing, when the rate divides a second.
		every time.Duration
	}{
		{"200PerSecond", 200, 5 * time.Millisecond},
		{"1000PerSecond", 1000, time.Millisecond},
		{"HalfPerSecond", 0.5, 2 * time.Second},
		{"ThreePerSecond", 3, 0}, // 1/3 s is not a whole number of ns
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load.Constant{Rate: tt.rate}
			end := time.Duration(math.MaxInt64)
			for n := uint64(0); n <= 1000; n++ {
				got, ok := load.Due(p, n, 0, end)
				if !ok {
					t.Fatalf("Due(%v, %d, 0, max) = _, false, want due", p, n)
				}
				want := time.Duration(n) * tt.every
				if tt.every == 0 {
					want = time.Duration(n) * time.Second / 3
				}
				// Within 1 ns: Constant's closed form truncates n/rate·1e9
				// (201/200 s is 1.004999999 s); see /tmp/load_failing for the
				// exact version.
				if d := got - want; d < -1 || d > 1 {
					t.Fatalf("Due(%v, %d) = %v, want %v", p, n, got, want)
				}
			}
		})
	}
}

func TestDueStopsBeforeEnd(t *testing.T) {
	// A run of end sends every slot due strictly before end: at 200/s for
	// 1 s, slots 0 … 199 (the last at 995 ms), and slot 200 (at 1 s) is not
	// sent. The general path (Linear with a flat ramp) must agree with
	// Constant's closed form.
	tests := []struct {
		name string
		p    load.Pacer
	}{
		{"Constant", load.Constant{Rate: 200}},
		{"LinearFlat", load.Linear{Start: 200, End: 200, Over: time.Second}},
		{"StepsOne", load.Steps{{Rate: 200, For: time.Second}}},
		{"SineFlat", load.Sine{Mean: 200, Amp: 0, Period: time.Second}},
		{"PacerFunc", load.PacerFunc(func(e time.Duration) float64 { return 200 * e.Seconds() })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due := schedule(t, tt.p, time.Second)
			require.Len(t, due, 200, "slots due before 1s")
			assertDue(t, tt.p, 199, due[199], 995*time.Millisecond)
			if _, ok := load.Due(tt.p, 200, due[199], time.Second); ok {
				t.Errorf("Due(%#v, 200, _, 1s) = _, true, want false: slot 200 is due at 1s, the end", tt.p)
			}
		})
	}
}

func TestDueIsMonotonicAndBeforeEnd(t *testing.T) {
	tests := []struct {
		name string
		p    load.Pacer
		end  time.Duration
	}{
		{"Constant", load.Constant{Rate: 333}, 3 * time.Second},
		{"LinearUp", load.Linear{Start: 10, End: 500, Over: 2 * time.Second}, 3 * time.Second},
		{"LinearDown", load.Linear{Start: 500, End: 10, Over: 2 * time.Second}, 3 * time.Second},
		{"LinearFromZero", load.Linear{Start: 0, End: 400, Over: time.Second}, 2 * time.Second},
		{"Steps", load.Steps{{Rate: 100, For: time.Second}, {Rate: 0, For: time.Second}, {Rate: 700, For: time.Second}}, 4 * time.Second},
		{"Sine", load.Sine{Mean: 300, Amp: 300, Period: time.Second}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due := schedule(t, tt.p, tt.end)
			require.NotEmpty(t, due)
			for i := 1; i < len(due); i++ {
				if due[i] < due[i-1] {
					t.Fatalf("Due(%d) = %s before Due(%d) = %s", i, due[i], i-1, due[i-1])
				}
			}
			if last := due[len(due)-1]; last >= tt.end {
				t.Errorf("last due time = %s, want before end %s", last, tt.end)
			}
			// Every slot the schedule holds by end is sent: floor(Hits(end))
			// slots, or one fewer when Hits(end) is whole (that slot is due at
			// end itself).
			hits := tt.p.Hits(tt.end)
			want := int(math.Ceil(hits))
			assert.Equal(t, want, len(due), "slots due before %s, Hits(end) = %g", tt.end, hits)
		})
	}
}

func TestLinearRampsThenHolds(t *testing.T) {
	// From 100/s to 300/s over 2 s, then 300/s. Hits is the integral of
	// the rate: 100t + 50t² up to 2 s (400 hits), then 400 + 300(t-2), so
	// slot n is due at the root of that: -1 + sqrt(1 + n/50) in the ramp.
	p := load.Linear{Start: 100, End: 300, Over: 2 * time.Second}
	closedForm := func(n float64) float64 {
		if n <= 400 {
			return -1 + math.Sqrt(1+n/50)
		}
		return 2 + (n-400)/300
	}
	due := schedule(t, p, 4*time.Second)
	require.Len(t, due, 1000, "slots in 4s: 400 in the ramp, then 300/s for 2s")
	for _, n := range []int{0, 1, 2, 10, 99, 100, 250, 399, 400, 401, 550, 999} {
		assertDue(t, p, uint64(n), due[n], seconds(closedForm(float64(n))))
	}
	for _, tc := range []struct {
		at   time.Duration
		want float64
	}{{500 * time.Millisecond, 150}, {time.Second, 200}, {1500 * time.Millisecond, 250}, {3 * time.Second, 300}, {time.Hour, 300}} {
		assert.InDelta(t, tc.want, load.Rate(p, tc.at), 1e-6, "Rate(%#v, %s)", p, tc.at)
	}
	assert.InDelta(t, 400, p.Hits(2*time.Second), 1e-9, "Hits(2s): the ramp's area")
	assert.InDelta(t, 700, p.Hits(3*time.Second), 1e-9, "Hits(3s): the ramp plus 1s held at 300/s")
}

func TestLinearWithoutDurationHoldsEnd(t *testing.T) {
	p := load.Linear{Start: 10, End: 250}
	assert.InDelta(t, 250, p.Hits(time.Second), 1e-9, "Hits(1s) with Over = 0")
}

func TestStepsScheduleAndBoundaries(t *testing.T) {
	// 100/s for 1 s, 500/s for 2 s, 1000/s for 1 s, then 1000/s held.
	p := load.Steps{{Rate: 100, For: time.Second}, {Rate: 500, For: 2 * time.Second}, {Rate: 1000, For: time.Second}}
	assert.Equal(t, 4*time.Second, p.Total(), "Total")
	closedForm := func(n float64) float64 {
		switch {
		case n <= 100:
			return n / 100
		case n <= 1100:
			return 1 + (n-100)/500
		default:
			return 3 + (n-1100)/1000
		}
	}
	due := schedule(t, p, 5*time.Second)
	require.Len(t, due, 100+1000+1000+1000, "slots in 5s, the last step held for 1s past Total")
	for _, tc := range []struct {
		n    int
		what string
	}{
		{0, "first"}, {99, "last of step 1"}, {100, "first of step 2, at its boundary (1s)"},
		{101, "second of step 2"}, {1099, "last of step 2"}, {1100, "first of step 3, at 3s"},
		{2099, "last of step 3"}, {2100, "first past Total, at 4s"}, {3099, "last in the held rate"},
	} {
		want := seconds(closedForm(float64(tc.n)))
		if d := due[tc.n] - want; d < -dueTolerance || d > dueTolerance {
			t.Errorf("Due(steps, %d) (%s) = %s, want %s", tc.n, tc.what, due[tc.n], want)
		}
	}
	for _, tc := range []struct {
		at   time.Duration
		want float64
	}{{500 * time.Millisecond, 100}, {2 * time.Second, 500}, {3500 * time.Millisecond, 1000}, {10 * time.Second, 1000}} {
		assert.InDelta(t, tc.want, load.Rate(p, tc.at), 1e-6, "Rate(steps, %s)", tc.at)
	}
}

func TestStepsEmptySendsNothing(t *testing.T) {
	assert.Empty(t, schedule(t, load.Steps{}, time.Second))
}

func TestSineAveragesTheMeanOverWholePeriods(t *testing.T) {
	p := load.Sine{Mean: 100, Amp: 50, Period: 2 * time.Second}
	for k := 1; k <= 5; k++ {
		at := time.Duration(k) * p.Period
		assert.InDelta(t, 100*at.Seconds(), p.Hits(at), 1e-6, "Hits(%d periods)", k)
	}
	// Over one period the first half (above the mean) holds more slots
	// than the second: mean·P/2 ± Amp·P/π.
	due := schedule(t, p, 4*time.Second)
	assert.InDelta(t, 400, len(due), 1, "slots in two whole periods = mean × time")
	firstHalf := 0
	for _, d := range due {
		if d < time.Second {
			firstHalf++
		}
	}
	assert.InDelta(t, 100+50*2/math.Pi, firstHalf, 1, "slots in the rising half period")

	for _, tc := range []struct {
		name string
		at   time.Duration
		want float64
	}{
		{"QuarterPeriodPeak", 500 * time.Millisecond, 150},
		{"HalfPeriodMean", time.Second, 100},
		{"ThreeQuarterTrough", 1500 * time.Millisecond, 50},
		{"SecondPeak", 2500 * time.Millisecond, 150},
	} {
		assert.InDelta(t, tc.want, load.Rate(p, tc.at), 0.01, "%s: Rate(%#v, %s)", tc.name, p, tc.at)
	}
}

func TestSineWithoutPeriodIsConstant(t *testing.T) {
	p := load.Sine{Mean: 40, Amp: 10}
	assert.InDelta(t, 80, p.Hits(2*time.Second), 1e-9, "Hits(2s) with Period = 0")
}

func TestConstantRate(t *testing.T) {
	for _, at := range []time.Duration{0, time.Millisecond, time.Second, time.Hour} {
		assert.InDelta(t, 250, load.Rate(load.Constant{Rate: 250}, at), 1e-6, "Rate(Constant{250}, %s)", at)
	}
}

func TestPacerFuncDue(t *testing.T) {
	p := load.PacerFunc(func(e time.Duration) float64 { return 10 * e.Seconds() })
	assert.Equal(t, 25.0, p.Hits(2500*time.Millisecond), "PacerFunc.Hits calls the function")
	due := schedule(t, p, time.Second)
	require.Len(t, due, 10)
	for n, d := range due {
		assertDue(t, p, uint64(n), d, time.Duration(n)*100*time.Millisecond)
	}
}

func TestParseRate(t *testing.T) {
	const run = time.Minute
	tests := []struct {
		name, in string
		want     load.Pacer
	}{
		{"Number", "100", load.Constant{Rate: 100}},
		{"PerSecond", "100/s", load.Constant{Rate: 100}},
		{"PerMinute", "6000/m", load.Constant{Rate: 100}},
		{"PerHour", "360000/h", load.Constant{Rate: 100}},
		{"PerDuration", "50/500ms", load.Constant{Rate: 100}},
		{"Fraction", "2.5", load.Constant{Rate: 2.5}},
		{"Spaces", " 100 ", load.Constant{Rate: 100}},
		{"Steps", "100:10s,500:20s,1000:30s", load.Steps{{Rate: 100, For: 10 * time.Second}, {Rate: 500, For: 20 * time.Second}, {Rate: 1000, For: 30 * time.Second}}},
		{"StepWithUnit", "6000/m:1m30s", load.Steps{{Rate: 100, For: 90 * time.Second}}},
		{"StepPause", "100:10s,0:5s", load.Steps{{Rate: 100, For: 10 * time.Second}, {Rate: 0, For: 5 * time.Second}}},
		{"Linear", "linear:100..1000", load.Linear{Start: 100, End: 1000, Over: run}},
		{"LinearWithUnits", "linear:6000/m..1000/s", load.Linear{Start: 100, End: 1000, Over: run}},
		{"Sine", "sine:500+-200/60s", load.Sine{Mean: 500, Amp: 200, Period: time.Minute}},
		{"SineFullSwing", "sine:500/s+-500/1m", load.Sine{Mean: 500, Amp: 500, Period: time.Minute}},
		{"ZeroClosedLoop", "0", nil},
		{"ZeroPerSecond", "0/s", nil},
		{"ZeroPerMinute", "0/m", nil},
		{"ZeroFraction", "0.0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := load.ParseRate(tt.in, run)
			require.NoError(t, err, "ParseRate(%q)", tt.in)
			assert.Equal(t, tt.want, got, "ParseRate(%q)", tt.in)
		})
	}
}

func TestParseRateErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Empty", "", `rate "": "" is not a rate such as 100 or 100/s`},
		{"NotANumber", "fast", `rate "fast": "fast" is not a rate such as 100 or 100/s`},
		{"Negative", "-5", `rate "-5": "-5" is not a rate such as 100 or 100/s`},
		{"NaN", "NaN", `rate "NaN": "NaN" is not a rate such as 100 or 100/s`},
		{"Infinite", "Inf/s", `rate "Inf/s": "Inf/s" is not a rate such as 100 or 100/s`},
		{"Overflow", "1e400", `rate "1e400": "1e400" is not a rate such as 100 or 100/s`},
		{"UnknownUnit", "100/x", `rate "100/x": "100/x": "x" is not a unit (s, m, h) or a duration`},
		{"ZeroPer", "100/0s", `rate "100/0s": "100/0s": "0s" is not a unit (s, m, h) or a duration`},
		{"NegativePer", "100/-1s", `rate "100/-1s": "100/-1s": "-1s" is not a unit (s, m, h) or a duration`},
		{"LinearNoDots", "linear:100", `rate "linear:100": want linear:START..END, such as linear:100..1000`},
		{"LinearBadStart", "linear:x..1000", `rate "linear:x..1000": "x" is not a rate such as 100 or 100/s`},
		{"LinearBothBad", "linear:x..y", "rate \"linear:x..y\": \"x\" is not a rate such as 100 or 100/s\n\"y\" is not a rate such as 100 or 100/s"},
		{"SineNoAmp", "sine:500", `rate "sine:500": want sine:MEAN+-AMP/PERIOD, such as sine:500+-200/60s`},
		{"SineNoPeriod", "sine:500+-200", `rate "sine:500+-200": want sine:MEAN+-AMP/PERIOD, such as sine:500+-200/60s`},
		{"SineAmpOverMean", "sine:100+-200/60s", `rate "sine:100+-200/60s": the amplitude 200 is larger than the mean 100: the rate would go below zero`},
		{"SineZeroPeriod", "sine:500+-200/0s", `rate "sine:500+-200/0s": the period must be positive`},
		{"SineNegativePeriod", "sine:500+-200/-1m", `rate "sine:500+-200/-1m": the period must be positive`},
		{"SineBadPeriod", "sine:500+-200/often", `rate "sine:500+-200/often": time: invalid duration "often"`},
		{"SineBadMean", "sine:x+-200/60s", `rate "sine:x+-200/60s": "x" is not a rate such as 100 or 100/s`},
		{"StepNoDuration", "100:10s,500", `rate "100:10s,500": step "500": want RATE:DURATION, such as 500:20s`},
		{"StepBadRate", "x:10s", `rate "x:10s": step "x:10s": "x" is not a rate such as 100 or 100/s`},
		{"StepZeroDuration", "100:0s", `rate "100:0s": step "100:0s": "0s" is not a positive duration`},
		{"StepNegativeDuration", "100:-5s", `rate "100:-5s": step "100:-5s": "-5s" is not a positive duration`},
		{"StepBadDuration", "100:ten", `rate "100:ten": step "100:ten": "ten" is not a positive duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := load.ParseRate(tt.in, time.Minute)
			if err == nil {
				t.Fatalf("ParseRate(%q) = %#v, nil, want error %q", tt.in, p, tt.want)
			}
			assert.Equal(t, tt.want, err.Error(), "ParseRate(%q) error", tt.in)
			assert.Nil(t, p, "ParseRate(%q) pacer on error", tt.in)
		})
	}
}
