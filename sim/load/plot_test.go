package load

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// updateGolden rewrites the golden files: go test ./sim/load -run TestWritePlot -update
var updateGolden = flag.Bool("update", false, "rewrite testdata golden files")

// plotSample, if set, receives the 10-minute sample page of
// TestWritePlotLongRun, for a person to open.
var plotSample = flag.String("plot.sample", "", "write the 10-minute sample plot to this file")

// plotT0 is the scenarios' start: a whole second, so buckets align.
var plotT0 = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// plotResult is one answered request intended at plotT0+at.
func plotResult(seq int, at, latency, uncorrected time.Duration, status int) *Result {
	intended := plotT0.Add(at)
	r := &Result{
		Seq: uint64(seq), Intended: intended, Sent: intended.Add(latency - uncorrected),
		Latency: latency, Uncorrected: uncorrected, Status: status, BytesOut: 900, BytesIn: 40,
	}
	if status == 0 {
		r.ErrorKind, r.Error = ErrTimeout, "context deadline exceeded"
	}
	return r
}

// steadyMetrics is rate requests a second for d, latency 1–5 ms from a
// fixed seed, with a 500 every 97th request and one timeout; shard i of
// n sends slots i, i+n, …, offset by i ms.
func steadyMetrics(d time.Duration, rate, i, n int) *Metrics {
	m := NewMetrics()
	rng := rand.New(rand.NewPCG(1, uint64(i)))
	every := time.Second / time.Duration(rate)
	for seq := i; time.Duration(seq)*every < d; seq += n {
		lat := time.Millisecond + time.Duration(rng.Int64N(int64(4*time.Millisecond)))
		status := 200
		switch {
		case seq%97 == 50:
			status = 500
		case seq == 333:
			status, lat = 0, time.Second
		}
		m.Add(plotResult(seq, time.Duration(seq)*every+time.Duration(i)*time.Millisecond, lat, lat*9/10, status))
	}
	return m
}

// stallMetrics is 10 s at 10 requests a second, 2 ms each, except that
// the requests intended in seconds 4 and 5 waited behind a stall: 800 ms
// from the intended send, 2 ms from the actual send.
func stallMetrics() *Metrics {
	m := NewMetrics()
	for seq := range 100 {
		lat, unc := 2*time.Millisecond, 2*time.Millisecond
		if seq >= 40 && seq < 60 {
			lat = 800 * time.Millisecond
		}
		m.Add(plotResult(seq, time.Duration(seq)*100*time.Millisecond, lat, unc, 200))
	}
	return m
}

// plotJSONRoundTrip writes r as JSON and reads it back, as a shard's
// report reaches `hooklab load merge`.
func plotJSONRoundTrip(t *testing.T, r *Report) *Report {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b))
	out, err := ReadReport("shard.json", b.Bytes())
	require.NoError(t, err)
	return out
}

type plotScenario struct {
	name   string
	title  string
	report func(t *testing.T) *Report
}

func plotScenarios() []plotScenario {
	return []plotScenario{
		{"steady", "steady 50/s", func(*testing.T) *Report { return NewReport(steadyMetrics(10*time.Second, 50, 0, 1), nil, 50) }},
		{"stall", "stall at 4s", func(*testing.T) *Report { return NewReport(stallMetrics(), nil, 10) }},
		{"empty", "nothing sent", func(*testing.T) *Report { return NewReport(NewMetrics(), nil, 100) }},
		{"merged", "two shards", func(t *testing.T) *Report {
			var shards []*Report
			for i := range 2 {
				dm := &DeliveryMetrics{Latency: NewHistogram(), Delivered: 240, Lost: uint64(i), Duplicated: 1 - uint64(i)}
				for k := range 240 {
					dm.Latency.Record(time.Duration(5+k%20) * time.Millisecond)
				}
				shards = append(shards, plotJSONRoundTrip(t, NewReport(steadyMetrics(12*time.Second, 40, i, 2), dm, 20)))
			}
			for i, r := range shards {
				r.RunID, r.Shard = "run-1", &ShardID{Index: i + 1, Count: 2}
			}
			merged, err := MergeReports(shards...)
			if err != nil {
				t.Fatal(err)
			}
			return merged
		}},
		{"single-bucket", "one second", func(*testing.T) *Report {
			m := NewMetrics()
			for seq := range 5 {
				m.Add(plotResult(seq, time.Duration(seq)*150*time.Millisecond, 3*time.Millisecond, 3*time.Millisecond, 200))
			}
			return NewReport(m, nil, 0)
		}},
		{"gaps", "idle seconds", func(*testing.T) *Report {
			m := NewMetrics()
			for seq, sec := range []int{0, 1, 2, 6, 7, 8, 10} {
				m.Add(plotResult(seq, time.Duration(sec)*time.Second, 4*time.Millisecond, 4*time.Millisecond, 200))
			}
			return NewReport(m, nil, 0)
		}},
		{"hour", "latency of an hour", func(*testing.T) *Report {
			m := NewMetrics()
			for seq := range 12 {
				lat := time.Duration(seq+1) * 5 * time.Minute // up to an hour
				m.Add(plotResult(seq, time.Duration(seq)*6*time.Minute, lat, 20*time.Millisecond, 200))
			}
			return NewReport(m, nil, 0)
		}},
	}
}

func writePlotString(t *testing.T, r *Report, title string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WritePlot(&b, title))
	return b.String()
}

func TestWritePlot(t *testing.T) {
	for _, sc := range plotScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			got := writePlotString(t, sc.report(t), sc.title)
			path := filepath.Join("testdata", t.Name()+".golden.html")
			if *updateGolden {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "golden file missing: run go test -run TestWritePlot -update")
			if d := lineDiff(string(want), got); d != "" {
				t.Errorf("WritePlot(%s) differs from %s (-want +got):\n%s", sc.name, path, d)
			}
		})
	}
}

// lineDiff shows the first differing lines of want and got, with two
// lines of context; "" when they are equal.
func lineDiff(want, got string) string {
	if want == got {
		return ""
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	for k := max(0, i-2); k < i; k++ {
		fmt.Fprintf(&b, "  %d: %.200s\n", k+1, w[k])
	}
	for k := i; k < min(i+3, len(w)); k++ {
		fmt.Fprintf(&b, "- %d: %.200s\n", k+1, w[k])
	}
	for k := i; k < min(i+3, len(g)); k++ {
		fmt.Fprintf(&b, "+ %d: %.200s\n", k+1, g[k])
	}
	fmt.Fprintf(&b, "(want %d lines, %d bytes; got %d lines, %d bytes)", len(w), len(want), len(g), len(got))
	return b.String()
}

var svgRE = regexp.MustCompile(`(?s)<svg[ >].*?</svg>`)

// checkPage asserts what every page must be, whatever the report.
func checkPage(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"NaN", "Inf", "http://", "https://", "src=", "href=", "url(", "@import", "<link", "<script"} {
		assert.NotContains(t, page, bad, "page contains %q", bad)
	}
	assert.True(t, strings.HasPrefix(page, "<!DOCTYPE html>\n"), "page starts %.40q, want <!DOCTYPE html>", page)
	assert.True(t, strings.HasSuffix(page, "</html>\n"), "page ends %q, want </html>", page[max(0, len(page)-20):])
	for i, svg := range svgRE.FindAllString(page, -1) {
		assert.Contains(t, svg[:strings.Index(svg, ">")], "viewBox=\"0 0 ", "svg %d has no viewBox", i)
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err != nil {
				assert.Equal(t, "EOF", err.Error(), "svg %d is not well-formed XML", i)
				break
			}
		}
	}
	assert.Equal(t, strings.Count(page, "<svg"), len(svgRE.FindAllString(page, -1)), "every <svg> is closed")
}

func TestWritePlotIsSelfContainedAndWellFormed(t *testing.T) {
	for _, sc := range plotScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			page := writePlotString(t, sc.report(t), sc.title)
			checkPage(t, page)
			if sc.name == "empty" {
				assert.Contains(t, page, "No requests")
				assert.NotContains(t, page, "<svg")
			} else {
				assert.Equal(t, 2, strings.Count(page, "<svg "), "charts")
				assert.NotContains(t, page, "No requests")
			}
		})
	}
}

func TestWritePlotEscapesReportStrings(t *testing.T) {
	m := stallMetrics()
	m.Errors[`<img onerror="x">`] = 1
	page := writePlotString(t, NewReport(m, nil, 10), `<script>alert("t")</script> & co`)
	checkPage(t, page)
	assert.Contains(t, page, "<title>&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; co</title>")
	assert.Contains(t, page, "<h1>&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; co</h1>")
	assert.Contains(t, page, "&lt;img onerror=&#34;x&#34;&gt;: 1")
	assert.NotContains(t, page, "<img")
}

func TestWritePlotIsDeterministic(t *testing.T) {
	for _, sc := range plotScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			r := sc.report(t)
			first := writePlotString(t, r, sc.title)
			for range 3 { // maps iterate in a new order each time
				assert.Equal(t, first, writePlotString(t, r, sc.title))
			}
			if sc.name != "empty" { // JSON keeps no empty series' start
				assert.Empty(t, lineDiff(first, writePlotString(t, plotJSONRoundTrip(t, r), sc.title)), "after a JSON round trip")
			}
		})
	}
}

// plottedLine reads back the path of class line from page: for each
// point, its bucket index and latency, and how many pieces the line has.
func plottedLine(t *testing.T, page, class string, ps []Point, ax timeAxis) (byBucket map[int]time.Duration, pieces int) {
	t.Helper()
	m := regexp.MustCompile(`<path class="line ` + class + `" d="([^"]*)"/>`).FindStringSubmatch(page)
	require.NotNil(t, m, "no path of class %q", class)
	ys := newLogScale(capped(ps), latTop, latBottom)
	byBucket = map[int]time.Duration{}
	for _, pt := range regexp.MustCompile(`([ML])(-?[0-9.]+) (-?[0-9.]+)`).FindAllStringSubmatch(m[1], -1) {
		x, _ := strconv.ParseFloat(pt[2], 64)
		y, _ := strconv.ParseFloat(pt[3], 64)
		i := int(math.Floor((x - plotLeft) / (plotRight - plotLeft) * float64(ax.n)))
		f := (ys.bottom - y) / (ys.bottom - ys.top)
		byBucket[i] = time.Duration(float64(ys.lo) * math.Pow(float64(ys.hi)/float64(ys.lo), f))
		if pt[1] == "M" {
			pieces++
		}
	}
	return byBucket, pieces
}

func TestWritePlotStallSeparatesCorrectedFromUncorrected(t *testing.T) {
	r := NewReport(stallMetrics(), nil, 10)
	ps := r.Raw.Metrics.Series.Points()
	require.Len(t, ps, 10)
	ax := timeAxis{n: len(ps), width: 1}
	page := writePlotString(t, r, "stall")
	p99, _ := plottedLine(t, page, "p99", ps, ax)
	up99, _ := plottedLine(t, page, "up99", ps, ax)
	require.Len(t, p99, 10)
	require.Len(t, up99, 10)
	for i := range 10 {
		stalled := i == 4 || i == 5
		if got := p99[i]; (got > 500*time.Millisecond) != stalled {
			t.Errorf("p99 line at bucket %d = %v, want above 500ms: %v", i, got, stalled)
		}
		if got := up99[i]; got > 10*time.Millisecond {
			t.Errorf("uncorrected p99 line at bucket %d = %v, want below 10ms", i, got)
		}
	}
}

func TestWritePlotBreaksLinesAtEmptyBuckets(t *testing.T) {
	sc := plotScenarios()[5]
	require.Equal(t, "gaps", sc.name)
	r := sc.report(t)
	ps := r.Raw.Metrics.Series.Points()
	require.Len(t, ps, 11)
	page := writePlotString(t, r, sc.title)
	for _, class := range []string{"p50", "p99", "max", "up99"} {
		got, pieces := plottedLine(t, page, class, ps, timeAxis{n: len(ps), width: 1})
		assert.Equal(t, 3, pieces, "%s line pieces (seconds 0–2, 6–8, 10)", class)
		for _, i := range []int{3, 4, 5, 9} {
			_, ok := got[i]
			assert.False(t, ok, "%s line has a point in empty bucket %d", class, i)
		}
		assert.Len(t, got, 7, "%s line points", class)
	}
	assert.Regexp(t, `<path class="line p50" d="[^"]*M904\.5 [0-9.]+m-31\.6 0h63\.1"`, page, "the lone bucket 10 is a dash across 80% of it")
}

func TestLogScaleTicksAreReadable(t *testing.T) {
	tests := []struct {
		name     string
		lo, hi   time.Duration
		wantTick string
	}{
		{"micro-to-milli", 80 * time.Microsecond, 3 * time.Millisecond, "10µs 100µs 1ms 10ms"},
		{"one-decade", 2 * time.Millisecond, 8 * time.Millisecond, "1ms 2ms 5ms 10ms"},
		{"sub-microsecond", 0, 30 * time.Microsecond, "1µs 2µs 5µs 10µs 20µs 50µs 100µs"},
		{"up-to-an-hour", 20 * time.Millisecond, time.Hour, "10ms 100ms 1s 10s 1m 10m 1h"},
		{"minutes", 15 * time.Second, 4 * time.Minute, "10s 20s 50s 1m 2m 5m 10m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Point{Count: 1, P50: tt.lo, P99: tt.hi, Max: tt.hi, UP99: tt.lo}
			ds, _ := newLogScale([]Point{p}, 0, 100).ticks()
			var got []string
			for _, d := range ds {
				got = append(got, tickLabel(d))
			}
			assert.Equal(t, tt.wantTick, strings.Join(got, " "))
		})
	}
}

func TestWritePlotLongRun(t *testing.T) {
	m := steadyMetrics(10*time.Minute, 20, 0, 1)
	r := NewReport(m, nil, 20)
	require.Len(t, m.Series.Points(), 600)
	page := writePlotString(t, r, "ten minutes at 20/s")
	checkPage(t, page)
	assert.Contains(t, page, ">10:00</text>", "x axis in m:ss")
	assert.Contains(t, page, ">20/s</text>", "rate axis reaches 20/s")
	t.Logf("600 buckets: %d bytes", len(page))
	assert.Less(t, len(page), 512<<10, "page size")
	if *plotSample != "" {
		require.NoError(t, os.WriteFile(*plotSample, []byte(page), 0o644))
	}
}
