package load

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Plot geometry in SVG user units. Both charts share the x axis, so a
// bucket sits at the same x in each.
const (
	plotWidth     = 960
	plotLeft      = 76  // room for the y tick labels
	plotRight     = 944 // plotWidth less a margin
	latHeight     = 340
	latTop        = 36 // room for the legend
	latBottom     = 300
	barHeight     = 224
	barTop        = 36 // room for the legend
	barBottom     = 196
	singletonHalf = 3.0 // a bucket without neighbours is a dash, at least 6 units wide
)

// WritePlot writes the report as one self-contained HTML page for a
// person to open in a browser: a summary table, latency over time (p50,
// p99 and max from the intended send time, p99 from the actual send,
// on a log scale), requests a second per time bucket with errors
// highlighted, and a note on reading them. The page loads nothing: its
// charts are inline SVG and its style a few lines of inline CSS. The
// title and every string taken from the report are HTML-escaped. A
// report without requests gets the table and "No requests" instead of
// charts. The output depends only on the report, byte for byte.
func (r *Report) WritePlot(w io.Writer, title string) error {
	var b bytes.Buffer
	t := html.EscapeString(title)
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>%s</h1>\n", t, plotCSS, t)
	var ps []Point
	width := time.Second
	if m := r.Raw.Metrics; m != nil && m.Series != nil {
		ps, width = m.Series.Points(), max(m.Series.Width, time.Millisecond)
		if len(ps) > 0 {
			fmt.Fprintf(&b, "<p class=\"sub\">Started %s UTC; buckets of %s.</p>\n", ps[0].Time.UTC().Format("2006-01-02 15:04:05"), width)
		}
	}
	r.writeSummary(&b)
	if !hasRequests(ps) {
		b.WriteString("<p class=\"empty\">No requests were sent, so there is nothing to plot.</p>\n")
	} else {
		ax := timeAxis{n: len(ps), width: width.Seconds()}
		b.WriteString("<h2>Latency over time</h2>\n")
		writeLatencyChart(&b, ps, ax)
		b.WriteString("<h2>Requests per second</h2>\n")
		writeRateChart(&b, ps, ax)
		fmt.Fprintf(&b, plotNote, width)
	}
	b.WriteString("</body>\n</html>\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("load: writing the plot: %w", err)
	}
	return nil
}

const plotCSS = `body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1000px;margin:24px auto;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 4px}.sub{color:#666;margin:0 0 12px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}th{white-space:nowrap}
svg{display:block;width:100%;height:auto;font:12px system-ui,sans-serif}text{fill:#444}
.grid{stroke:#e4e4e4}.minor{stroke:#f3f3f3}.axis{stroke:#888}
.line{fill:none;stroke-width:1.6;stroke-linejoin:round;stroke-linecap:round}
.p50{stroke:#1f77b4}.p99{stroke:#d62728}.max{stroke:#999;stroke-width:1}
.up99{stroke:#d62728;stroke-dasharray:6 4;opacity:.55}
.ok{fill:#8fb3d9}.err{fill:#d62728}.hit{fill:#000;fill-opacity:0}.hit:hover{fill-opacity:.06}
.empty{font-size:16px;padding:24px;background:#f6f6f6}.note{max-width:820px}
`

const plotNote = `<h2>How to read this</h2>
<p class="note">Solid lines measure latency from the <em>intended</em> send time: when the schedule said
the request should go. That is what a sender keeping the schedule experiences, including any time the
request waited because earlier ones had not finished (the correction for coordinated omission). The
dashed line is p99 from the <em>actual</em> send, what a tool that waits for each answer would report.
Normally the two p99 lines lie together. When they part, with the solid line high and the dashed line
low, the target stalled: requests queued up behind the stall, and the dashed line hides that wait.
Each point is one bucket of %s; bucket percentiles are upper bounds within 19%% (never above the
bucket's max), the table's are exact to 0.1%%. A break in a line is a bucket without requests. Hover over the latency chart for
a bucket's figures. Red in the bar chart is requests that failed or were not answered 2xx.</p>
`

func hasRequests(ps []Point) bool {
	for _, p := range ps {
		if p.Count > 0 {
			return true
		}
	}
	return false
}

// writeSummary writes the report's figures as two tables.
func (r *Report) writeSummary(b *bytes.Buffer) {
	row := func(k, v string) { fmt.Fprintf(b, "<tr><th>%s</th><td>%s</td></tr>\n", k, v) }
	b.WriteString("<table class=\"summary\">\n")
	row("Requests", fmt.Sprintf("%d sent, %d answered 2xx, %d dropped (not sent: max in flight)", r.Requests, r.Success, r.Dropped))
	rate := fmt.Sprintf("achieved %s/s, throughput %s/s", fixed(r.RateAchieved, 2), fixed(r.Throughput, 2))
	if r.RateRequested > 0 { // closed loop requests no rate
		rate = fmt.Sprintf("requested %s/s, ", fixed(r.RateRequested, 2)) + rate
	}
	row("Rate", rate)
	row("Duration", html.EscapeString(time.Duration(r.DurationS*float64(time.Second)).Round(time.Millisecond).String())+" sending")
	row("Success", fixed(100*r.SuccessRatio, 2)+"%")
	row("Status codes", countsHTML(r.StatusCodes))
	if len(r.Errors) > 0 {
		row("Errors", countsHTML(r.Errors))
	}
	if r.Delivered != nil && r.Lost != nil && r.Duplicated != nil {
		row("Deliveries", fmt.Sprintf("%d delivered, %d lost, %d doubled", *r.Delivered, *r.Lost, *r.Duplicated))
	}
	if c := r.Chaos; c != nil {
		row("Chaos", fmt.Sprintf("%d duplicates sent, %d reordered, %d retries (%d deliveries retried, %d gave up)",
			c.Duplicates, c.Reordered, c.RetriesSent(), c.Retried, c.GaveUp))
	}
	if r.Shards > 1 {
		row("Shards", fmt.Sprintf("%d merged", r.Shards))
	}
	if r.Interrupted {
		row("Interrupted", "yes: the figures cover the requests sent before the stop")
	}
	b.WriteString("</table>\n<table class=\"latency\">\n<tr><th>Latency</th><th class=\"n\">p50</th><th class=\"n\">p90</th>" +
		"<th class=\"n\">p99</th><th class=\"n\">p99.9</th><th class=\"n\">max</th><th class=\"n\">mean</th><th class=\"n\">count</th></tr>\n")
	lat := func(name string, s Summary) {
		fmt.Fprintf(b, "<tr><th>%s</th>", name)
		for _, ms := range []float64{s.P50, s.P90, s.P99, s.P999, s.Max, s.Mean} {
			v := "-"
			if s.Count > 0 && !math.IsNaN(ms) && !math.IsInf(ms, 0) {
				v = readable(time.Duration(ms * float64(time.Millisecond)))
			}
			fmt.Fprintf(b, "<td class=\"n\">%s</td>", v)
		}
		fmt.Fprintf(b, "<td class=\"n\">%d</td></tr>\n", s.Count)
	}
	lat("from intended send (corrected)", r.Latency)
	lat("from actual send (uncorrected)", r.LatencyUncorrected)
	if r.Delivery != nil {
		lat("send to delivery", *r.Delivery)
	}
	b.WriteString("</table>\n")
}

// countsHTML writes "k: n" pairs sorted by key, escaped.
func countsHTML(m map[string]uint64) string {
	return joinCounts(m, "%s: %d", ", ", html.EscapeString)
}

// fixed formats v with prec decimals, writing NaN, ±Inf and -0 as 0 so
// that they never reach the page.
func fixed(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		v = 0 // also turns -0 into 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// c formats an SVG coordinate.
func c(v float64) string { return fixed(v, 1) }

// timeAxis maps seconds since the first bucket's start to x.
type timeAxis struct {
	n     int     // buckets
	width float64 // bucket width in seconds
}

func (a timeAxis) total() float64 { return float64(a.n) * a.width }

func (a timeAxis) x(sec float64) float64 {
	return plotLeft + sec/a.total()*(plotRight-plotLeft)
}

// center is the x of bucket i's middle, where its points are drawn.
func (a timeAxis) center(i int) float64 { return a.x((float64(i) + 0.5) * a.width) }

// label formats seconds as "12s" (short runs) or "m:ss" / "h:mm:ss".
func (a timeAxis) label(sec float64) string {
	if a.total() <= 120 {
		prec := 0
		if sec != math.Trunc(sec) {
			prec = 1
		}
		return fixed(sec, prec) + "s"
	}
	s := int64(math.Round(sec))
	if a.total() >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// writeTicks draws the x axis: gridlines, labels and the axis line.
func (a timeAxis) writeTicks(b *bytes.Buffer, top, bottom float64) {
	step := 0.0
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
		if step = s; a.total()/s <= 10 {
			break
		}
	}
	for k := 0; float64(k)*step <= a.total()+1e-9; k++ {
		x := c(a.x(float64(k) * step))
		fmt.Fprintf(b, "<line class=\"grid\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"/><text x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>\n",
			x, c(top), x, c(bottom), x, c(bottom+16), a.label(float64(k)*step))
	}
	fmt.Fprintf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\"/>\n", plotLeft, c(bottom), plotRight, c(bottom))
}

// latencyTicks are the latencies a log axis is labelled with: decades
// up to 10 s, then minutes and hours.
var latencyTicks = []time.Duration{
	time.Microsecond, 10 * time.Microsecond, 100 * time.Microsecond,
	time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond,
	time.Second, 10 * time.Second, time.Minute, 10 * time.Minute, time.Hour, 10 * time.Hour,
}

// logScale maps a latency to y on a log scale from lo to hi.
type logScale struct {
	lo, hi      time.Duration
	top, bottom float64
}

// newLogScale spans the plotted values of ps, from tick to tick.
func newLogScale(ps []Point, top, bottom float64) logScale {
	lo, hi := time.Duration(math.MaxInt64), time.Microsecond
	for _, p := range ps {
		if p.Count > 0 {
			for _, d := range []time.Duration{p.P50, p.P99, p.Max, p.UP99} {
				lo, hi = min(lo, max(d, time.Microsecond)), max(hi, d)
			}
		}
	}
	s := logScale{lo: latencyTicks[0], hi: max(hi, latencyTicks[len(latencyTicks)-1]), top: top, bottom: bottom}
	for _, t := range latencyTicks {
		if t <= lo {
			s.lo = t
		}
		if t > s.lo && t >= hi && t < s.hi {
			s.hi = t
		}
	}
	return s
}

func (s logScale) y(d time.Duration) float64 {
	f := math.Log10(float64(max(d, s.lo))/float64(s.lo)) / math.Log10(float64(s.hi)/float64(s.lo))
	return s.bottom - f*(s.bottom-s.top)
}

// ticks returns the labelled latencies: latencyTicks within the scale,
// and 2× and 5× each too when it spans no more than 100×.
func (s logScale) ticks() (ds []time.Duration, major []bool) {
	for _, t := range latencyTicks {
		if t < s.lo || t > s.hi {
			continue
		}
		ds, major = append(ds, t), append(major, true)
		if t < s.hi && s.hi <= 100*s.lo {
			ds, major = append(ds, 2*t, 5*t), append(major, false, false)
		}
	}
	return ds, major
}

// tickLabel formats a tick in its largest whole unit: 100µs, 2ms, 1m.
func tickLabel(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d >= u.d && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d/time.Microsecond), 10) + "µs"
}

// linePath is SVG path data through v of each bucket with requests, at
// the bucket's centre; a bucket without requests breaks the line, and a
// point with no neighbour is a dash across most of its bucket.
func linePath(ps []Point, ax timeAxis, ys logScale, v func(Point) time.Duration) string {
	var b strings.Builder
	for i, p := range ps {
		if p.Count == 0 {
			continue
		}
		cmd := "L"
		if i == 0 || ps[i-1].Count == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&b, "%s%s %s", cmd, c(ax.center(i)), c(ys.y(v(p))))
		if cmd == "M" && (i == len(ps)-1 || ps[i+1].Count == 0) {
			half := max(singletonHalf, 0.4*(plotRight-plotLeft)/float64(ax.n))
			fmt.Fprintf(&b, "m-%s 0h%s", c(half), c(2*half))
		}
	}
	return b.String()
}

// capped returns ps with each percentile at most its bucket's max: a
// bucket percentile is the upper bound of a histogram bin, and may
// otherwise pass the exact max.
func capped(ps []Point) []Point {
	out := make([]Point, len(ps))
	for i, p := range ps {
		p.P50, p.P99 = min(p.P50, p.Max), min(p.P99, p.Max)
		p.UP50, p.UP99 = min(p.UP50, p.UMax), min(p.UP99, p.UMax)
		out[i] = p
	}
	return out
}

func writeLatencyChart(b *bytes.Buffer, ps []Point, ax timeAxis) {
	ps = capped(ps)
	ys := newLogScale(ps, latTop, latBottom)
	fmt.Fprintf(b, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"Latency over time\">\n", plotWidth, latHeight)
	ds, major := ys.ticks()
	for i, d := range ds {
		class := "grid"
		if !major[i] {
			class = "minor"
		}
		gridY(b, class, ys.y(d), tickLabel(d))
	}
	ax.writeTicks(b, latTop, latBottom)
	fmt.Fprintf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since start</text>\n", (plotLeft+plotRight)/2, latHeight-6)
	lines := []struct {
		class, name string
		legend      int // x of the legend entry
		v           func(Point) time.Duration
	}{
		{"max", "max", 560, func(p Point) time.Duration { return p.Max }},
		{"up99", "p99 from actual send (uncorrected)", 280, func(p Point) time.Duration { return p.UP99 }},
		{"p50", "p50", 80, func(p Point) time.Duration { return p.P50 }},
		{"p99", "p99", 180, func(p Point) time.Duration { return p.P99 }},
	}
	for _, l := range lines {
		fmt.Fprintf(b, "<path class=\"line %s\" d=\"%s\"/>\n", l.class, linePath(ps, ax, ys, l.v))
		fmt.Fprintf(b, "<path class=\"line %s key\" d=\"M%d 16h28\"/><text x=\"%d\" y=\"20\">%s</text>\n", l.class, l.legend, l.legend+34, l.name)
	}
	bw := (plotRight - plotLeft) / float64(ax.n)
	for i, p := range ps {
		if p.Count == 0 {
			continue
		}
		from := float64(i) * ax.width
		fmt.Fprintf(b, "<rect class=\"hit\" x=\"%s\" y=\"%d\" width=\"%s\" height=\"%d\"><title>%s to %s: %d requests, %d errors; "+
			"p50 %s, p99 %s, max %s; from actual send p50 %s, p99 %s, max %s</title></rect>\n",
			c(ax.x(from)), latTop, c(bw), latBottom-latTop, ax.label(from), ax.label(from+ax.width), p.Count, p.Errors,
			readable(p.P50), readable(p.P99), readable(p.Max), readable(p.UP50), readable(p.UP99), readable(p.UMax))
	}
	b.WriteString("</svg>\n")
}

// gridY draws a horizontal gridline at y, labelled on the left.
func gridY(b *bytes.Buffer, class string, y float64, label string) {
	fmt.Fprintf(b, "<line class=\"%s\" x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\"/><text x=\"%d\" y=\"%s\" text-anchor=\"end\">%s</text>\n",
		class, plotLeft, c(y), plotRight, c(y), plotLeft-6, c(y+4), label)
}

// readable rounds d to about four significant figures: 812.346ms,
// 2.5s, 1h0m1s.
func readable(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	if d >= time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// niceTop rounds v > 0 up to a multiple of a 1-2-5 step giving at most
// five intervals, and returns the step and the decimals its labels need.
func niceTop(v float64) (top, step float64, prec int) {
	v = max(v, 1e-9)
	e := math.Floor(math.Log10(v / 5))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * math.Pow(10, e); step*5 >= v {
			break
		}
	}
	prec = max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	return math.Ceil(v/step-1e-9) * step, step, prec
}

func writeRateChart(b *bytes.Buffer, ps []Point, ax timeAxis) {
	peak := 0.0
	for _, p := range ps {
		peak = max(peak, float64(p.Count)/ax.width)
	}
	top, step, prec := niceTop(peak)
	y := func(rate float64) float64 { return barBottom - rate/top*(barBottom-barTop) }
	fmt.Fprintf(b, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"Requests per second\">\n", plotWidth, barHeight)
	for k := 0; float64(k)*step <= top+step/2; k++ {
		gridY(b, "grid", y(float64(k)*step), fixed(float64(k)*step, prec)+"/s")
	}
	ax.writeTicks(b, barTop, barBottom)
	bw := (plotRight - plotLeft) / float64(ax.n)
	inset := 0.0
	if bw >= 4 {
		inset = bw / 10
	}
	var ok, bad strings.Builder
	bar := func(sb *strings.Builder, i int, from, to float64) {
		x := ax.x(float64(i)*ax.width) + inset
		fmt.Fprintf(sb, "M%s %sV%sh%sV%sZ", c(x), c(y(from)), c(y(to)), c(bw-2*inset), c(y(from)))
	}
	for i, p := range ps {
		errs := min(p.Errors, p.Count)
		good := float64(p.Count-errs) / ax.width
		if p.Count > errs {
			bar(&ok, i, 0, good)
		}
		if errs > 0 {
			bar(&bad, i, good, float64(p.Count)/ax.width)
		}
	}
	for _, p := range []struct{ class, d string }{{"ok", ok.String()}, {"err", bad.String()}} {
		if p.d != "" {
			fmt.Fprintf(b, "<path class=\"%s\" d=\"%s\"/>\n", p.class, p.d)
		}
	}
	b.WriteString("<rect class=\"ok\" x=\"80\" y=\"11\" width=\"12\" height=\"10\"/><text x=\"98\" y=\"20\">answered 2xx</text>\n" +
		"<rect class=\"err\" x=\"200\" y=\"11\" width=\"12\" height=\"10\"/><text x=\"218\" y=\"20\">failed or not 2xx</text>\n</svg>\n")
}
