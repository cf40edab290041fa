package load

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A Pacer is a schedule: Hits returns how many requests are due by a
// moment of the run, the integral of the rate, which must not decrease.
// Request n (from 0) is due when Hits first reaches n (see Due).
type Pacer interface {
	Hits(elapsed time.Duration) float64
}

// PacerFunc adapts a function to Pacer.
type PacerFunc func(elapsed time.Duration) float64

// Hits calls f.
func (f PacerFunc) Hits(elapsed time.Duration) float64 { return f(elapsed) }

var (
	_ Pacer = PacerFunc(nil)
	_ Pacer = Constant{}
	_ Pacer = Linear{}
	_ Pacer = Steps{}
	_ Pacer = Sine{}
)

// Constant sends Rate requests a second.
type Constant struct{ Rate float64 }

// Hits implements Pacer.
func (c Constant) Hits(t time.Duration) float64 { return c.Rate * t.Seconds() }

// Linear ramps the rate from Start to End requests a second over Over,
// then holds End.
type Linear struct {
	Start, End float64
	Over       time.Duration
}

// Hits implements Pacer.
func (l Linear) Hits(t time.Duration) float64 {
	s := t.Seconds()
	over := l.Over.Seconds()
	if over <= 0 {
		return l.End * s
	}
	slope := (l.End - l.Start) / over
	if s <= over {
		return l.Start*s + slope*s*s/2
	}
	return l.Start*over + slope*over*over/2 + l.End*(s-over)
}

// A Step holds Rate requests a second for For.
type Step struct {
	Rate float64
	For  time.Duration
}

// Steps holds each step's rate in turn, then the last one's.
type Steps []Step

// Hits implements Pacer.
func (st Steps) Hits(t time.Duration) float64 {
	var hits float64
	for i, s := range st {
		if t <= s.For || i == len(st)-1 {
			return hits + s.Rate*t.Seconds()
		}
		hits += s.Rate * s.For.Seconds()
		t -= s.For
	}
	return hits
}

// Total is the steps' whole length.
func (st Steps) Total() time.Duration {
	var d time.Duration
	for _, s := range st {
		d += s.For
	}
	return d
}

// Sine varies the rate as Mean + Amp·sin(2πt/Period), starting at Mean
// and rising.
type Sine struct {
	Mean, Amp float64
	Period    time.Duration
}

// Hits implements Pacer.
func (s Sine) Hits(t time.Duration) float64 {
	p := s.Period.Seconds()
	if p <= 0 {
		return s.Mean * t.Seconds()
	}
	w := 2 * math.Pi / p
	return s.Mean*t.Seconds() + s.Amp/w*(1-math.Cos(w*t.Seconds()))
}

// Rate returns p's rate at elapsed, in requests a second.
func Rate(p Pacer, elapsed time.Duration) float64 {
	const dt = time.Millisecond
	from := max(elapsed-dt, 0)
	return (p.Hits(elapsed+dt) - p.Hits(from)) / (elapsed + dt - from).Seconds()
}

// Due returns when request n (from 0) is due, after the previous one at
// prev, and false when it is not due before end.
func Due(p Pacer, n uint64, prev, end time.Duration) (time.Duration, bool) {
	if c, ok := p.(Constant); ok && c.Rate > 0 {
		// The closed form n/rate, rounded to the nanosecond, compared with
		// end before the conversion so that a slot centuries away does not
		// overflow Duration.
		ns := math.Round(float64(n) * float64(time.Second) / c.Rate)
		if ns >= float64(end) {
			return 0, false
		}
		return time.Duration(ns), true
	}
	target := float64(n)
	if p.Hits(end) <= target {
		return 0, false
	}
	lo, hi := prev, end
	if p.Hits(lo) >= target {
		return lo, true
	}
	for hi-lo > time.Microsecond/4 {
		mid := lo + (hi-lo)/2
		if p.Hits(mid) >= target {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}

// ParseRate reads a --rate value over a run of the given duration:
//
//	100, 100/s, 6000/m, 50/500ms    a constant rate
//	100:10s,500:20s,1000:30s        steps (a rate, then how long it holds)
//	linear:100..1000                a ramp from 100/s to 1000/s over the run
//	sine:500+-200/60s               500/s ± 200/s over a 60 s period
//	0                               closed loop: nil Pacer (see Workers)
func ParseRate(s string, duration time.Duration) (Pacer, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("rate %q: %s", s, fmt.Sprintf(format, args...))
	}
	switch {
	case s == "0" || s == "0/s":
		return nil, nil
	case strings.HasPrefix(s, "linear:"):
		a, b, ok := strings.Cut(strings.TrimPrefix(s, "linear:"), "..")
		if !ok {
			return nil, bad("want linear:START..END, such as linear:100..1000")
		}
		start, err1 := parseOneRate(a)
		end, err2 := parseOneRate(b)
		if err := errors.Join(err1, err2); err != nil {
			return nil, bad("%v", err)
		}
		return Linear{Start: start, End: end, Over: duration}, nil
	case strings.HasPrefix(s, "sine:"):
		rest := strings.TrimPrefix(s, "sine:")
		mean, rest, ok1 := strings.Cut(rest, "+-")
		amp, period, ok2 := strings.Cut(rest, "/")
		if !ok1 || !ok2 {
			return nil, bad("want sine:MEAN+-AMP/PERIOD, such as sine:500+-200/60s")
		}
		m, err1 := parseOneRate(mean)
		a, err2 := parseOneRate(amp)
		p, err3 := time.ParseDuration(period)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, bad("%v", err)
		}
		if a > m {
			return nil, bad("the amplitude %g is larger than the mean %g: the rate would go below zero", a, m)
		}
		if p <= 0 {
			return nil, bad("the period must be positive")
		}
		return Sine{Mean: m, Amp: a, Period: p}, nil
	case strings.Contains(s, ":"):
		var st Steps
		for _, part := range strings.Split(s, ",") {
			r, d, ok := strings.Cut(part, ":")
			if !ok {
				return nil, bad("step %q: want RATE:DURATION, such as 500:20s", part)
			}
			rate, err := parseOneRate(r)
			if err != nil {
				return nil, bad("step %q: %v", part, err)
			}
			dur, err := time.ParseDuration(d)
			if err != nil || dur <= 0 {
				return nil, bad("step %q: %q is not a positive duration", part, d)
			}
			st = append(st, Step{Rate: rate, For: dur})
		}
		return st, nil
	}
	r, err := parseOneRate(s)
	if err != nil {
		return nil, bad("%v", err)
	}
	if r == 0 {
		return nil, nil
	}
	return Constant{Rate: r}, nil
}

// parseOneRate reads "100", "100/s", "6000/m" or "50/500ms" as requests a
// second.
func parseOneRate(s string) (float64, error) {
	num, per, hasPer := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("%q is not a rate such as 100 or 100/s", s)
	}
	if !hasPer {
		return n, nil
	}
	switch per {
	case "s":
		return n, nil
	case "m":
		return n / 60, nil
	case "h":
		return n / 3600, nil
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: %q is not a unit (s, m, h) or a duration", s, per)
	}
	return n / d.Seconds(), nil
}
