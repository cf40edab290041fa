package load

import (
	"strconv"
	"time"
)

// Metrics accumulates Results into the numbers a report shows, in
// constant memory: counts, HDR latency histograms and a latency-over-time
// series. Add every Result, then Close. Metrics from shards Merge
// exactly. It is not safe for concurrent use.
type Metrics struct {
	// Requests counts requests sent; Success those answered 2xx; Dropped
	// the schedule slots not sent because max in flight was reached.
	Requests uint64 `json:"requests"`
	Success  uint64 `json:"success"`
	Dropped  uint64 `json:"dropped"`
	// StatusCodes counts answers by status ("200"); "0" counts requests
	// that got no answer.
	StatusCodes map[string]uint64 `json:"status_codes"`
	// Errors counts failures by kind (ErrorKind), and "status" for answers
	// that are not 2xx.
	Errors   map[string]uint64 `json:"errors"`
	BytesIn  uint64            `json:"bytes_in"`
	BytesOut uint64            `json:"bytes_out"`
	// First is the first slot's intended time, LastSlot the last one's,
	// End the end of the last answer.
	First    time.Time `json:"first"`
	LastSlot time.Time `json:"last_slot"`
	End      time.Time `json:"end"`
	// Latency is measured from the intended send time (corrected for
	// coordinated omission), Uncorrected from the actual send.
	Latency     *Histogram `json:"latency"`
	Uncorrected *Histogram `json:"latency_uncorrected"`
	// Series is latency over time, for the plot.
	Series *Series `json:"series"`
	// Shards counts the runs merged into these metrics (1 for one run).
	Shards int `json:"shards"`
	// Chaos counts what WithChaos injected; nil for a run without chaos.
	Chaos *ChaosMetrics `json:"chaos,omitempty"`
	// FirstSent is when the first request was sent.
	FirstSent time.Time `json:"first_sent,omitzero"`
	// Failures keeps the first bodies of the answers that were not 2xx,
	// by status (bounded: see MaxFailureSamples).
	Failures Failures `json:"failures,omitempty"`
}

// ChaosMetrics count the delivery chaos a run injected (sim.Chaos).
// Requests, status codes and latencies include the extra requests.
type ChaosMetrics struct {
	// Duplicates counts byte-for-byte copies sent.
	Duplicates uint64 `json:"duplicates"`
	// Reordered counts slots that sent another delivery than their own.
	Reordered uint64 `json:"reordered"`
	// Retries counts retries sent by attempt number ("2" is the first
	// retry).
	Retries map[string]uint64 `json:"retries"`
	// Retried counts deliveries retried at least once; GaveUp those whose
	// every attempt failed.
	Retried uint64 `json:"retried"`
	GaveUp  uint64 `json:"gave_up"`
}

// NewChaosMetrics returns empty ChaosMetrics.
func NewChaosMetrics() *ChaosMetrics { return &ChaosMetrics{Retries: map[string]uint64{}} }

// RetriesSent is the number of retries sent, every attempt number.
func (c *ChaosMetrics) RetriesSent() uint64 {
	var n uint64
	for _, v := range c.Retries {
		n += v
	}
	return n
}

// Merge adds o to c.
func (c *ChaosMetrics) Merge(o *ChaosMetrics) {
	c.Duplicates += o.Duplicates
	c.Reordered += o.Reordered
	for k, v := range o.Retries {
		c.Retries[k] += v
	}
	c.Retried += o.Retried
	c.GaveUp += o.GaveUp
}

func (c *ChaosMetrics) add(r *Result) {
	switch {
	case r.Duplicate:
		c.Duplicates++
	case r.Attempt > 1:
		c.Retries[strconv.Itoa(r.Attempt)]++
		if r.Attempt == 2 {
			c.Retried++
		}
	case r.Reordered:
		c.Reordered++
	}
	if r.GaveUp {
		c.GaveUp++
	}
}

// NewMetrics returns empty Metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		StatusCodes: map[string]uint64{},
		Errors:      map[string]uint64{},
		Latency:     NewHistogram(),
		Uncorrected: NewHistogram(),
		Series:      NewSeries(),
		Shards:      1,
	}
}

// Add accounts for one Result.
func (m *Metrics) Add(r *Result) {
	if m.Chaos != nil || r.Attempt > 0 || r.Duplicate || r.Reordered {
		if m.Chaos == nil {
			m.Chaos = NewChaosMetrics()
		}
		m.Chaos.add(r)
	}
	// The sending period is the schedule's: retries and copies come after
	// their slot and do not stretch it.
	if !r.extra() {
		if m.First.IsZero() || r.Intended.Before(m.First) {
			m.First = r.Intended
		}
		if r.Intended.After(m.LastSlot) {
			m.LastSlot = r.Intended
		}
	}
	if r.Dropped {
		m.Dropped++
		return
	}
	m.Requests++
	m.FirstSent = earliest(m.FirstSent, r.Sent)
	if end := r.Sent.Add(r.Uncorrected); end.After(m.End) {
		m.End = end
	}
	code := strconv.Itoa(r.Status)
	m.StatusCodes[code]++
	m.BytesIn += uint64(max(r.BytesIn, 0))
	m.BytesOut += uint64(max(r.BytesOut, 0))
	switch {
	case r.ErrorKind != "":
		m.Errors[r.ErrorKind]++
	case !r.OK():
		m.Errors["status"]++
	default:
		m.Success++
	}
	if !r.OK() && r.Status != 0 {
		if m.Failures == nil {
			m.Failures = Failures{}
		}
		m.Failures.add(code, r.Body[:min(len(r.Body), MaxFailureBody)], 1)
	}
	if r.Status == 0 {
		// No answer: no latency to record (it would be the timeout's).
		m.Series.AddUnanswered(r.Intended)
		return
	}
	m.Latency.Record(r.Latency)
	m.Uncorrected.Record(r.Uncorrected)
	m.Series.Add(r.Intended, r.Latency, r.Uncorrected, r.OK())
}

// Merge adds o's counts and values to m: the report of several shards.
func (m *Metrics) Merge(o *Metrics) {
	m.Requests += o.Requests
	m.Success += o.Success
	m.Dropped += o.Dropped
	for k, v := range o.StatusCodes {
		m.StatusCodes[k] += v
	}
	for k, v := range o.Errors {
		m.Errors[k] += v
	}
	m.BytesIn += o.BytesIn
	m.BytesOut += o.BytesOut
	if m.First.IsZero() || (!o.First.IsZero() && o.First.Before(m.First)) {
		m.First = o.First
	}
	if o.LastSlot.After(m.LastSlot) {
		m.LastSlot = o.LastSlot
	}
	if o.End.After(m.End) {
		m.End = o.End
	}
	m.Latency.Merge(o.Latency)
	m.Uncorrected.Merge(o.Uncorrected)
	if o.Series != nil {
		m.Series.Merge(o.Series)
	}
	m.Shards += o.Shards
	m.FirstSent = earliest(m.FirstSent, o.FirstSent)
	if len(o.Failures) > 0 {
		if m.Failures == nil {
			m.Failures = Failures{}
		}
		m.Failures.merge(o.Failures)
	}
	if o.Chaos != nil {
		if m.Chaos == nil {
			m.Chaos = NewChaosMetrics()
		}
		m.Chaos.Merge(o.Chaos)
	}
}

// Duration is how long sending lasted: first slot to last slot.
func (m *Metrics) Duration() time.Duration { return m.LastSlot.Sub(m.First) }

// RateAchieved is requests sent per second over the sending period.
func (m *Metrics) RateAchieved() float64 { return perSecond(m.Requests, m.Duration()) }

// RateScheduled is slots (sent and dropped) per second over the sending
// period: the rate the schedule asked for.
func (m *Metrics) RateScheduled() float64 { return perSecond(m.Requests+m.Dropped, m.Duration()) }

// Throughput is successful answers per second, first slot to last answer.
func (m *Metrics) Throughput() float64 { return perSecond(m.Success, m.End.Sub(m.First)) }

// SuccessRatio is the share of requests answered 2xx.
func (m *Metrics) SuccessRatio() float64 {
	if m.Requests == 0 {
		return 0
	}
	return float64(m.Success) / float64(m.Requests)
}

// perSecond is the rate of n events spread over d: n-1 intervals.
func perSecond(n uint64, d time.Duration) float64 {
	if n < 2 || d <= 0 {
		return 0
	}
	return float64(n-1) / d.Seconds()
}
