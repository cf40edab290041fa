package load

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"
)

// seriesMaxBuckets bounds a Series: past it, adjacent buckets merge and
// the width doubles, so memory stays constant however long the run.
const seriesMaxBuckets = 1024

// logBins is a small latency histogram for one time bucket: bins of a
// quarter octave from 1 µs to about 70 minutes. Percentiles read from it
// are upper bounds of their bin (within 19%), enough for a plot; the
// report's figures come from the HDR histograms.
type logBins [128]uint32

func binOf(d time.Duration) int {
	us := uint64(max(d/time.Microsecond, 1))
	oct := bits.Len64(us) - 1 // 2^oct <= us < 2^(oct+1)
	sub := 0
	if oct >= 2 {
		sub = int((us >> (oct - 2)) & 3)
	} else if oct == 1 {
		sub = int(us&1) * 2
	}
	return min(oct*4+sub, len(logBins{})-1)
}

// binUpper is the largest duration of bin i.
func binUpper(i int) time.Duration {
	oct, sub := i/4, i%4
	hi := math.Ldexp(1+float64(sub+1)/4, oct)
	return time.Duration(hi) * time.Microsecond
}

func (b *logBins) quantile(q float64, n uint32) time.Duration {
	if n == 0 {
		return 0
	}
	want := uint32(math.Ceil(q * float64(n)))
	var seen uint32
	for i, c := range b {
		seen += c
		if seen >= want && c > 0 {
			return binUpper(i)
		}
	}
	return binUpper(len(b) - 1)
}

// A Bucket is one interval of a Series.
type Bucket struct {
	Count  uint32        `json:"n"`
	Errors uint32        `json:"err,omitempty"`
	Max    time.Duration `json:"max_ns"`
	UMax   time.Duration `json:"umax_ns"`
	Lat    logBins       `json:"lat"`
	ULat   logBins       `json:"ulat"`
}

// A Series is latency over time: requests bucketed by their intended send
// time into intervals of Width, aligned to the Unix epoch so that shards
// merge bucket by bucket. It holds at most 1024 buckets.
type Series struct {
	Width   time.Duration `json:"width_ns"`
	Start   time.Time     `json:"start"` // the first bucket's start
	Buckets []Bucket      `json:"buckets"`
}

// NewSeries returns an empty series of one-second buckets.
func NewSeries() *Series { return &Series{Width: time.Second} }

func (s *Series) align(t time.Time) time.Time {
	return time.Unix(0, t.UnixNano()-t.UnixNano()%int64(s.Width)).UTC()
}

// bucket returns the bucket for t, growing or coarsening the series.
func (s *Series) bucket(t time.Time) *Bucket {
	if len(s.Buckets) == 0 {
		s.Start = s.align(t)
	}
	for t.Before(s.Start) {
		// An earlier value (results arrive out of order): prepend the
		// buckets up to it at once, coarsening first until they fit.
		n := int64((s.Start.Sub(t) + s.Width - 1) / s.Width)
		if n+int64(len(s.Buckets)) > seriesMaxBuckets {
			s.coarsen()
			continue
		}
		s.Buckets = append(make([]Bucket, n, n+int64(len(s.Buckets))), s.Buckets...)
		s.Start = s.Start.Add(-time.Duration(n) * s.Width)
	}
	i := int(t.Sub(s.Start) / s.Width)
	for i >= seriesMaxBuckets {
		s.coarsen()
		i = int(t.Sub(s.Start) / s.Width)
	}
	for len(s.Buckets) <= i {
		s.Buckets = append(s.Buckets, Bucket{})
	}
	return &s.Buckets[i]
}

// validate checks a non-empty series read from a file, which the rest of
// Series trusts: a width of one second doubled at most 23 times (97
// days), at most seriesMaxBuckets buckets, and times between 1970 and 2200
// (well inside what time.UnixNano represents).
func (s *Series) validate() error {
	if s.Width%time.Second != 0 || !isPow2(s.Width/time.Second) || s.Width > time.Second<<23 {
		return fmt.Errorf("width_ns %d is not one second doubled at most 23 times", int64(s.Width))
	}
	if len(s.Buckets) > seriesMaxBuckets {
		return fmt.Errorf("%d buckets, want at most %d", len(s.Buckets), seriesMaxBuckets)
	}
	end := s.Start.Add(time.Duration(len(s.Buckets)) * s.Width)
	if s.Start.Year() < 1970 || end.Year() >= 2200 {
		return fmt.Errorf("start %s: want a time between 1970 and 2200", s.Start.Format(time.RFC3339))
	}
	return nil
}

func isPow2(n time.Duration) bool { return n > 0 && n&(n-1) == 0 }

// coarsen doubles the width, merging buckets pairwise.
func (s *Series) coarsen() {
	w := s.Width * 2
	start := time.Unix(0, s.Start.UnixNano()-s.Start.UnixNano()%int64(w)).UTC()
	out := make([]Bucket, 0, len(s.Buckets)/2+1)
	for i := range s.Buckets {
		j := int(s.Start.Add(time.Duration(i)*s.Width).Sub(start) / w)
		for len(out) <= j {
			out = append(out, Bucket{})
		}
		out[j].add(&s.Buckets[i])
	}
	s.Width, s.Start, s.Buckets = w, start, out
}

func (b *Bucket) add(o *Bucket) {
	b.Count += o.Count
	b.Errors += o.Errors
	b.Max = max(b.Max, o.Max)
	b.UMax = max(b.UMax, o.UMax)
	for i := range b.Lat {
		b.Lat[i] += o.Lat[i]
		b.ULat[i] += o.ULat[i]
	}
}

// Add records one request sent (intended) at t.
func (s *Series) Add(t time.Time, latency, uncorrected time.Duration, ok bool) {
	b := s.bucket(t)
	b.Count++
	if !ok {
		b.Errors++
	}
	b.Max = max(b.Max, latency)
	b.UMax = max(b.UMax, uncorrected)
	b.Lat[binOf(latency)]++
	b.ULat[binOf(uncorrected)]++
}

// AddUnanswered records one request sent (intended) at t that got no
// answer (refused, timed out): it counts as a request and an error, with
// no latency.
func (s *Series) AddUnanswered(t time.Time) {
	b := s.bucket(t)
	b.Count++
	b.Errors++
}

// Merge adds o's buckets to s, at the coarser of the two widths.
func (s *Series) Merge(o *Series) {
	if len(o.Buckets) == 0 {
		return
	}
	o = o.clone()
	for s.Width < o.Width {
		s.coarsen()
	}
	for o.Width < s.Width {
		o.coarsen()
	}
	for i := range o.Buckets {
		t := o.Start.Add(time.Duration(i) * o.Width)
		s.bucket(t).add(&o.Buckets[i])
	}
}

func (s *Series) clone() *Series {
	c := *s
	c.Buckets = append([]Bucket(nil), s.Buckets...)
	return &c
}

// A Point is one bucket as a plot draws it.
type Point struct {
	Time             time.Time
	Count, Errors    uint32
	P50, P99, Max    time.Duration // from the intended send time
	UP50, UP99, UMax time.Duration // from the actual send
}

// Points returns the series' buckets with their percentiles (of the
// answered requests; at most the bucket's max).
func (s *Series) Points() []Point {
	ps := make([]Point, len(s.Buckets))
	for i := range s.Buckets {
		ps[i] = s.pointAt(i)
	}
	return ps
}

// pointAt is bucket i as a Point.
func (s *Series) pointAt(i int) Point {
	b := &s.Buckets[i]
	var n uint32 // answered requests: those with a latency
	for _, c := range b.Lat {
		n += c
	}
	return Point{
		Time: s.Start.Add(time.Duration(i) * s.Width), Count: b.Count, Errors: b.Errors,
		P50: min(b.Lat.quantile(0.5, n), b.Max), P99: min(b.Lat.quantile(0.99, n), b.Max), Max: b.Max,
		UP50: min(b.ULat.quantile(0.5, n), b.UMax), UP99: min(b.ULat.quantile(0.99, n), b.UMax), UMax: b.UMax,
	}
}

// MarshalJSON writes the non-empty bins as [[bin, count], …].
func (b logBins) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 64)
	out = append(out, '[')
	for i, c := range b {
		if c == 0 {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, '[')
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, ',')
		out = strconv.AppendUint(out, uint64(c), 10)
		out = append(out, ']')
	}
	return append(out, ']'), nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (b *logBins) UnmarshalJSON(data []byte) error {
	var pairs [][2]uint32
	if err := json.Unmarshal(data, &pairs); err != nil {
		return fmt.Errorf("want [[bin, count], …]: %w", err)
	}
	*b = logBins{}
	for _, p := range pairs {
		if int(p[0]) >= len(b) {
			return fmt.Errorf("bin %d out of range", p[0])
		}
		b[p[0]] += p[1]
	}
	return nil
}
