package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Report is a run's outcome as the JSON report writes it: the figures
// people read, and under "raw" the histograms and series that let reports
// of several shards merge exactly (MergeReports).
type Report struct {
	// RunID names the run; the shards of one run share it.
	RunID string `json:"run_id,omitempty"`
	// Plan is the run's plan: schedule, duration, source and target.
	Plan *PlanInfo `json:"plan,omitempty"`
	// Shard is the shard of the run this report is (1 of 1 unsharded);
	// nil for a merged report, whose Merged says which shards it covers.
	Shard  *ShardID  `json:"shard,omitempty"`
	Merged *ShardSet `json:"merged,omitempty"`
	// Partial marks a merged report that lacks shards (Merged.Missing).
	Partial bool `json:"partial,omitempty"`
	// PlannedStart is when the schedule started; Start when the first
	// request was sent; End when the last answer ended.
	PlannedStart time.Time `json:"planned_start,omitzero"`
	Start        time.Time `json:"start,omitzero"`
	End          time.Time `json:"end,omitzero"`

	Requests uint64 `json:"requests"`
	Success  uint64 `json:"success"`
	// RateRequested is the rate the schedule asked for of this report's
	// shards, in requests a second; 0 (and absent from the JSON) in
	// closed loop, which asks for no rate.
	RateRequested float64 `json:"rate_requested,omitempty"`
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
	// Failures keeps the first bodies of the answers that were not 2xx,
	// by status (see MaxFailureSamples).
	Failures Failures `json:"failures,omitempty"`
	// Chaos counts what delivery chaos injected (WithChaos); nil without.
	Chaos *ChaosMetrics `json:"chaos,omitempty"`
	// Interrupted reports a run stopped early (Ctrl-C).
	Interrupted bool `json:"interrupted,omitempty"`
	Shards      int  `json:"shards"`
	Raw         Raw  `json:"raw"`
	// Name is the file the report was read from (ReadReport), for errors.
	Name string `json:"-"`

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
		Chaos: m.Chaos, Failures: m.Failures, Start: m.FirstSent, End: m.End,
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
	if err := r.Raw.Metrics.Failures.validate(); err != nil {
		return nil, fmt.Errorf("%s: raw.metrics.failures: %w", name, err)
	}
	if err := r.validateIdentity(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.Name = name
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

// MergeReports combines the reports of the shards of one run into one,
// as MergeReportsWith with no options: every shard must be there.
func MergeReports(rs ...*Report) (*Report, error) {
	return MergeReportsWith(MergeOptions{}, rs...)
}

// MergeReportsWith combines the reports of the shards of one run (the
// same RunID and Plan, distinct shards; a merged report counts as the
// shards it covers) into the report the unsharded run would have
// written: counts add, histograms merge exactly, the requested rate is
// the plan's (its share of the shards there are in a partial merge), the
// achieved rate is over the union of the shards' sending periods.
// Without opt.Partial every shard must be there. An error names the
// report at fault (Report.Name) and why.
func MergeReportsWith(opt MergeOptions, rs ...*Report) (*Report, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("load: no report to merge")
	}
	count, indexes, missing, err := checkShards(opt, rs)
	if err != nil {
		return nil, err
	}
	m := NewMetrics()
	m.Shards = 0
	var d *DeliveryMetrics
	interrupted := false
	var planned, last time.Time
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
		interrupted = interrupted || r.Interrupted
		planned = earliest(planned, r.PlannedStart)
		end := r.PlannedStart
		if r.Merged != nil {
			end = end.Add(time.Duration(r.Merged.StartSpreadMS * float64(time.Millisecond)))
		}
		if end.After(last) {
			last = end
		}
	}
	// The plan's rate, not the sum of the shards' shares (which need not
	// add up to it exactly); a report without a plan has only its share.
	requested := 0.0
	if p := rs[0].Plan; p != nil {
		requested = p.RatePlanned * float64(len(indexes)) / float64(count)
	} else {
		for _, r := range rs {
			requested += r.Raw.Requested
		}
	}
	out := NewReport(m, d, requested)
	out.Interrupted = interrupted
	out.RunID, out.Plan, out.PlannedStart = rs[0].RunID, rs[0].Plan, planned
	out.Merged = &ShardSet{Count: count, Indexes: indexes, Missing: missing}
	if !planned.IsZero() {
		out.Merged.StartSpreadMS = float64(last.Sub(planned)) / float64(time.Millisecond)
	}
	out.Partial = len(missing) > 0
	out.RunEdges = edges
	return out, nil
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Interrupted {
		b.WriteString("Interrupted: the report covers the requests sent before the stop.\n")
	}
	if r.Partial {
		fmt.Fprintf(&b, "Partial: %s of %d missing; the report covers the others only.\n", shardList(r.Merged.Missing), r.Merged.Count)
	}
	identityText(&b, r)
	r.RunEdges.writeText(&b)
	if r.RateRequested > 0 {
		fmt.Fprintf(&b, "Requests      [total, rate requested, rate achieved, throughput]  %d, %.2f/s, %.2f/s, %.2f/s\n",
			r.Requests, r.RateRequested, r.RateAchieved, r.Throughput)
	} else {
		fmt.Fprintf(&b, "Requests      [total, rate achieved, throughput]  %d, %.2f/s, %.2f/s\n",
			r.Requests, r.RateAchieved, r.Throughput)
	}
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
	failuresText(&b, r.Failures)
	if r.Shards > 1 {
		fmt.Fprintf(&b, "Shards        %d\n", r.Shards)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// identityText writes the run id, the shards, the plan and the times.
func identityText(b *strings.Builder, r *Report) {
	if r.RunID != "" {
		switch {
		case r.Shard != nil:
			fmt.Fprintf(b, "Run           [id, shard]                        %s, %d/%d\n", r.RunID, r.Shard.Index, r.Shard.Count)
		case r.Merged != nil:
			fmt.Fprintf(b, "Run           [id, shards merged, start spread]  %s, %s of %d, %s\n", r.RunID, intsText(r.Merged.Indexes), r.Merged.Count,
				time.Duration(r.Merged.StartSpreadMS*float64(time.Millisecond)).Round(time.Microsecond))
		default:
			fmt.Fprintf(b, "Run           [id]                               %s\n", r.RunID)
		}
	}
	if p := r.Plan; p != nil {
		sched := p.Schedule
		switch {
		case p.Workers > 0:
			sched += fmt.Sprintf(" %d workers", p.Workers)
		case p.Rate != "":
			sched += " " + p.Rate
		}
		fmt.Fprintf(b, "Plan          [schedule, duration, source]       %s, %s, %s\n", sched,
			time.Duration(p.DurationS*float64(time.Second)).Round(time.Millisecond), orDash(p.Source))
		fmt.Fprintf(b, "Target        %s\n", orDash(p.Target))
	}
	if !r.Start.IsZero() || !r.PlannedStart.IsZero() {
		t := func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		fmt.Fprintf(b, "Times         [planned start, first send, last answer]  %s, %s, %s\n", t(r.PlannedStart), t(r.Start), t(r.End))
	}
}

// orDash returns s, quoted if it needs to be (it is read from a file), or
// "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		return q
	}
	return s
}

// intsText writes "1 2 4".
func intsText(is []int) string {
	s := make([]string, len(is))
	for k, i := range is {
		s[k] = strconv.Itoa(i)
	}
	return strings.Join(s, " ")
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
