package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// A Report is a run's outcome as the JSON report writes it: the figures
// people read, and under "raw" the histograms and series that let reports
// of several shards merge exactly (MergeReports).
type Report struct {
	Requests uint64 `json:"requests"`
	Success  uint64 `json:"success"`
	// RateRequested is the rate the schedule asked for, in requests a
	// second (closed loop: the rate the workers reached).
	RateRequested float64 `json:"rate_requested"`
	// RateAchieved is requests sent a second.
	RateAchieved float64 `json:"rate_achieved"`
	// Throughput is 2xx answers a second.
	Throughput   float64           `json:"throughput"`
	SuccessRatio float64           `json:"success_ratio"`
	StatusCodes  map[string]uint64 `json:"status_codes"`
	Errors       map[string]uint64 `json:"errors"`
	Dropped      uint64            `json:"dropped"`
	BytesIn      uint64            `json:"bytes_in"`
	BytesOut     uint64            `json:"bytes_out"`
	DurationS    float64           `json:"duration_s"`
	// Latency is from the intended send time (corrected for coordinated
	// omission); LatencyUncorrected from the actual send.
	Latency            Summary `json:"latency_ms"`
	LatencyUncorrected Summary `json:"latency_uncorrected_ms"`
	// Delivery, Lost and Duplicated are set when a sink measured
	// deliveries: send to each trigger's delivery. Duplicated counts
	// double deliveries (a trigger delivering one request id twice); the
	// text report calls them doubled.
	Delivery   *Summary `json:"delivery_ms,omitempty"`
	Delivered  *uint64  `json:"delivered,omitempty"`
	Lost       *uint64  `json:"lost,omitempty"`
	Duplicated *uint64  `json:"duplicated,omitempty"`
	// Chaos counts what delivery chaos injected (WithChaos); nil without.
	Chaos *ChaosMetrics `json:"chaos,omitempty"`
	// Interrupted reports a run stopped early (Ctrl-C).
	Interrupted bool `json:"interrupted,omitempty"`
	Shards      int  `json:"shards"`
	Raw         Raw  `json:"raw"`

	// RunEdges: the start barrier and the warnings (run.go).
	RunEdges
}

// Raw is what a Report is computed from.
type Raw struct {
	Metrics    *Metrics         `json:"metrics"`
	Deliveries *DeliveryMetrics `json:"deliveries,omitempty"`
	// Requested is the schedule's rate (0 in closed loop).
	Requested float64 `json:"requested"`
}

// NewReport computes a report. requested is the schedule's rate (0 for a
// closed-loop run); d is nil when no sink measured deliveries.
func NewReport(m *Metrics, d *DeliveryMetrics, requested float64) *Report {
	r := &Report{
		Requests: m.Requests, Success: m.Success, RateRequested: requested,
		RateAchieved: m.RateAchieved(), Throughput: m.Throughput(), SuccessRatio: m.SuccessRatio(),
		StatusCodes: m.StatusCodes, Errors: m.Errors, Dropped: m.Dropped,
		BytesIn: m.BytesIn, BytesOut: m.BytesOut, DurationS: m.Duration().Seconds(),
		Latency: m.Latency.Summary(), LatencyUncorrected: m.Uncorrected.Summary(),
		Shards: m.Shards, Raw: Raw{Metrics: m, Deliveries: d, Requested: requested},
		Chaos: m.Chaos,
	}
	if requested == 0 {
		r.RateRequested = m.RateScheduled()
	}
	if d != nil {
		s := d.Latency.Summary()
		r.Delivery = &s
		r.Delivered, r.Lost, r.Duplicated = &d.Delivered, &d.Lost, &d.Duplicated
	}
	return r
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadReport reads a report WriteJSON wrote; name is used in errors,
// with the line and column of a JSON syntax error or of the end of a
// value of the wrong type ("shard-2.json:3:14: not a hooklab load report: …").
func ReadReport(name string, data []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		// Only the top level's offsets count: an error wrapped by a
		// value's UnmarshalJSON has an offset into that value.
		switch e := err.(type) {
		case *json.SyntaxError:
			name = position(name, data, e.Offset)
		case *json.UnmarshalTypeError:
			name = position(name, data, e.Offset)
		}
		return nil, fmt.Errorf("%s: not a hooklab load report: %v", name, err)
	}
	if r.Raw.Metrics == nil || r.Raw.Metrics.Latency == nil || r.Raw.Metrics.Uncorrected == nil {
		return nil, fmt.Errorf("%s: not a hooklab load report: no raw.metrics histograms (write it with --json)", name)
	}
	if s := r.Raw.Metrics.Series; s == nil || len(s.Buckets) == 0 {
		r.Raw.Metrics.Series = NewSeries()
	} else if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: raw.metrics.series: %w", name, err)
	}
	if r.Raw.Metrics.StatusCodes == nil {
		r.Raw.Metrics.StatusCodes = map[string]uint64{}
	}
	if r.Raw.Metrics.Errors == nil {
		r.Raw.Metrics.Errors = map[string]uint64{}
	}
	if q := r.Raw.Requested; !(q >= 0 && q <= 1e9) {
		return nil, fmt.Errorf("%s: raw.requested %g is not a rate (0 to 1e9 requests a second)", name, q)
	}
	if d := r.Raw.Deliveries; d != nil && d.Latency == nil {
		return nil, fmt.Errorf("%s: raw.deliveries has no latency histogram", name)
	}
	return &r, nil
}

// position returns "name:line:col" for the byte at offset (from 0) of
// data; the encoding/json offsets count the bytes read, so the byte before
// offset is the one at fault.
func position(name string, data []byte, offset int64) string {
	offset = min(max(offset-1, 0), int64(len(data)))
	before := data[:offset]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := 1 + len(before) - (bytes.LastIndexByte(before, '\n') + 1)
	return fmt.Sprintf("%s:%d:%d", name, line, col)
}

// MergeReports combines the reports of shards run at the same time into
// one: counts add, histograms merge exactly, requested rates add.
func MergeReports(rs ...*Report) *Report {
	m := NewMetrics()
	m.Shards = 0
	var d *DeliveryMetrics
	requested := 0.0
	interrupted := false
	var edges RunEdges
	for i, r := range rs {
		edges.mergeEdges(i, r.RunEdges)
		m.Merge(r.Raw.Metrics)
		if r.Raw.Deliveries != nil {
			if d == nil {
				d = &DeliveryMetrics{Latency: NewHistogram()}
			}
			d.Merge(r.Raw.Deliveries)
		}
		requested += r.Raw.Requested
		interrupted = interrupted || r.Interrupted
	}
	out := NewReport(m, d, requested)
	out.Interrupted = interrupted
	out.RunEdges = edges
	return out
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Interrupted {
		b.WriteString("Interrupted: the report covers the requests sent before the stop.\n")
	}
	r.RunEdges.writeText(&b)
	fmt.Fprintf(&b, "Requests      [total, rate requested, rate achieved, throughput]  %d, %.2f/s, %.2f/s, %.2f/s\n",
		r.Requests, r.RateRequested, r.RateAchieved, r.Throughput)
	fmt.Fprintf(&b, "Duration      [sending]                                          %s\n", time.Duration(r.DurationS*float64(time.Second)).Round(time.Millisecond))
	fmt.Fprintf(&b, "Latency       [p50, p90, p99, p99.9, max, mean]  %s\n", summaryText(r.Latency))
	fmt.Fprintf(&b, "  uncorrected [p50, p90, p99, p99.9, max, mean]  %s\n", summaryText(r.LatencyUncorrected))
	if r.Delivery != nil {
		fmt.Fprintf(&b, "Delivery      [p50, p90, p99, p99.9, max, mean]  %s\n", summaryText(*r.Delivery))
		fmt.Fprintf(&b, "Deliveries    [delivered, lost, doubled]         %d, %d, %d\n", *r.Delivered, *r.Lost, *r.Duplicated)
	}
	if c := r.Chaos; c != nil {
		fmt.Fprintf(&b, "Chaos         [duplicates sent, reordered]       %d, %d\n", c.Duplicates, c.Reordered)
		if len(c.Retries) > 0 || c.GaveUp > 0 {
			fmt.Fprintf(&b, "  retries     [attempt:count, retried, gave up]  %s, %d, %d\n", countsText(c.Retries), c.Retried, c.GaveUp)
		}
	}
	fmt.Fprintf(&b, "Bytes         [in, out]                          %d, %d\n", r.BytesIn, r.BytesOut)
	fmt.Fprintf(&b, "Success       [ratio]                            %.2f%%\n", 100*r.SuccessRatio)
	fmt.Fprintf(&b, "Status codes  [code:count]                       %s\n", countsText(r.StatusCodes))
	fmt.Fprintf(&b, "Dropped       [slots not sent: max in flight]    %d\n", r.Dropped)
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "Errors        [kind:count]                       %s\n", countsText(r.Errors))
	}
	if r.Shards > 1 {
		fmt.Fprintf(&b, "Shards        %d\n", r.Shards)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func summaryText(s Summary) string {
	if s.Count == 0 {
		return "-"
	}
	f := func(ms float64) string {
		return time.Duration(ms * float64(time.Millisecond)).Round(time.Microsecond).String()
	}
	return strings.Join([]string{f(s.P50), f(s.P90), f(s.P99), f(s.P999), f(s.Max), f(s.Mean)}, ", ")
}

// countsText writes "k:n" pairs sorted by key, or "-" when there are none.
func countsText(m map[string]uint64) string {
	return joinCounts(m, "%s:%d", " ", func(k string) string { return k })
}

// joinCounts formats each pair of m with format (key, count), in key
// order, after passing the key through esc, and joins them with sep; it
// returns "-" for an empty map.
func joinCounts(m map[string]uint64, format, sep string, esc func(string) string) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf(format, esc(k), m[k]))
	}
	return strings.Join(parts, sep)
}
