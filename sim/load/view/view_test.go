package view_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
	"github.com/hooklab/hooklab/sim/load/view"
)

// knownReport is the report of a run of 4 requests in two seconds: three
// answered 200 (10, 20 and 30 ms), one 503 (40 ms), with deliveries.
func knownReport(t *testing.T) *load.Report {
	t.Helper()
	m := load.NewMetrics()
	t0 := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	for i, r := range []struct {
		at     time.Duration
		status int
		lat    time.Duration
	}{{0, 200, 10 * time.Millisecond}, {500 * time.Millisecond, 200, 20 * time.Millisecond},
		{time.Second, 503, 40 * time.Millisecond}, {1500 * time.Millisecond, 200, 30 * time.Millisecond}} {
		at := t0.Add(r.at)
		m.Add(&load.Result{Seq: uint64(i), Intended: at, Sent: at, Status: r.status, Latency: r.lat, Uncorrected: r.lat, BytesOut: 10, BytesIn: 5})
	}
	d := &load.DeliveryMetrics{Latency: load.NewHistogram(), Delivered: 2, Lost: 1, Duplicated: 3}
	d.Latency.Record(5 * time.Millisecond)
	return load.NewReport(m, d, 2)
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestSnapshotJSONOfAKnownRun(t *testing.T) {
	v := view.New()
	srv := httptest.NewServer(v)
	defer srv.Close()
	resp, _ := get(t, srv.URL+view.SnapshotPath)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "GET %s before Publish: status", view.SnapshotPath)

	v.Publish(load.SnapshotOf(knownReport(t)))
	resp, body := get(t, srv.URL+view.SnapshotPath)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: status", view.SnapshotPath)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &got), "GET %s = %s", view.SnapshotPath, body)
	for path, want := range map[string]any{
		"seq": 1.0, "state": "done", "requests": 4.0, "success": 3.0, "dropped": 0.0,
		"rate_requested": 2.0, "rate_achieved": 2.0, "success_ratio": 0.75, "elapsed_s": 1.5,
		"status_codes": map[string]any{"200": 3.0, "503": 1.0}, "errors": map[string]any{"status": 1.0},
		"delivered": 2.0, "lost": 1.0, "duplicated": 3.0,
	} {
		assert.Equal(t, want, got[path], "snapshot %s", path)
	}
	lat := got["latency_ms"].(map[string]any)
	assert.InDelta(t, 20.0, lat["p50"], 0.1, "snapshot latency_ms.p50")
	assert.InDelta(t, 40.0, lat["p99"], 0.1, "snapshot latency_ms.p99")
	series := got["series"].(map[string]any)
	assert.Equal(t, true, series["reset"], "snapshot series.reset")
	assert.Equal(t, 1.0, series["width_s"], "snapshot series.width_s")
	assert.Equal(t, "2026-12-06T01:00:00Z", series["start"], "snapshot series.start")
	var points []load.PlotPoint
	b, _ := json.Marshal(series["points"])
	require.NoError(t, json.Unmarshal(b, &points))
	require.Len(t, points, 2, "snapshot series.points")
	assert.Equal(t, []uint32{2, 2}, []uint32{points[0].N, points[1].N}, "requests per bucket")
	assert.Equal(t, []uint32{0, 1}, []uint32{points[0].Err, points[1].Err}, "errors per bucket")
	assert.InDelta(t, 20.0, points[0].Max, 0.001, "bucket 0 max")
	assert.InDelta(t, 40.0, points[1].Max, 0.001, "bucket 1 max")
}

// event is one Server-Sent Event.
type event struct{ id, name, data string }

// readEvents reads events from r until it ends, calling f with each.
func readEvents(t *testing.T, r io.Reader, f func(event) bool) {
	t.Helper()
	s := bufio.NewScanner(r)
	s.Buffer(nil, 16<<20)
	var e event
	for s.Scan() {
		line := s.Text()
		switch {
		case line == "":
			if e.data != "" && !f(e) {
				return
			}
			e = event{}
		case strings.HasPrefix(line, "id: "):
			e.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			e.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			e.data += line[6:]
		}
	}
}

// series reassembles a plot from deltas, as the page's script does.
type series []load.PlotPoint

func (s *series) apply(d load.SeriesDelta) {
	if d.Reset {
		*s = nil
	}
	*s = append((*s)[:min(d.From, len(*s))], d.Points...)
}

func TestEventsDeliverSnapshotsAndEndWithTheFinalOne(t *testing.T) {
	v := view.New()
	srv := httptest.NewServer(v)
	defer srv.Close()
	// Three snapshots of a run growing bucket by bucket, then the final.
	rep := knownReport(t)
	all := load.SnapshotOf(rep).Series.Points
	snap := func(seq uint64, state string, d load.SeriesDelta) *load.Snapshot {
		return &load.Snapshot{Seq: seq, State: state, Requests: seq, StatusCodes: map[string]uint64{}, Errors: map[string]uint64{}, Series: d}
	}
	v.Publish(snap(1, load.StateRunning, load.SeriesDelta{WidthS: 1, Reset: true, Points: all[:1]}))

	resp, err := http.Get(srv.URL + view.EventsPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	var got []*load.Snapshot
	var plot series
	readEvents(t, resp.Body, func(e event) bool {
		var s load.Snapshot
		require.NoError(t, json.Unmarshal([]byte(e.data), &s), "event %q data", e.name)
		assert.Equal(t, "snapshot", e.name, "event name")
		assert.Equal(t, fmt.Sprint(s.Seq), e.id, "event id")
		got = append(got, &s)
		plot.apply(s.Series)
		switch len(got) {
		case 1:
			// The second bucket arrives, then a late result changes the
			// first, then the run ends.
			v.Publish(snap(2, load.StateRunning, load.SeriesDelta{WidthS: 1, From: 1, Points: all[1:]}))
		case 2:
			v.Publish(snap(3, load.StateRunning, load.SeriesDelta{WidthS: 1, From: 0, Points: all}))
			v.Publish(snap(4, load.StateDone, load.SeriesDelta{WidthS: 1, From: 2, Points: nil}))
		}
		return true
	})
	require.NotEmpty(t, got, "events read")
	last := got[len(got)-1]
	assert.Equal(t, load.StateDone, last.State, "the last event's state")
	assert.Equal(t, uint64(4), last.Seq, "the last event's seq")
	for i := 1; i < len(got); i++ {
		assert.Greater(t, got[i].Seq, got[i-1].Seq, "event %d seq", i)
	}
	assert.Equal(t, all, []load.PlotPoint(plot), "plot reassembled from the events")
}

func TestAStreamThatSkippedSnapshotsGetsEveryChangedPoint(t *testing.T) {
	v := view.New()
	pts := func(n ...uint32) []load.PlotPoint {
		var ps []load.PlotPoint
		for _, c := range n {
			ps = append(ps, load.PlotPoint{N: c})
		}
		return ps
	}
	// What a browser that read snapshot 1 and missed 2 and 3 gets is the
	// latest state from the first point changed after 1.
	v.Publish(&load.Snapshot{Seq: 1, Series: load.SeriesDelta{WidthS: 1, Reset: true, Points: pts(1, 1)}})
	v.Publish(&load.Snapshot{Seq: 2, Series: load.SeriesDelta{WidthS: 1, From: 1, Points: pts(2, 1)}})
	v.Publish(&load.Snapshot{Seq: 3, Series: load.SeriesDelta{WidthS: 1, From: 3, Points: pts(5)}})
	v.Publish(&load.Snapshot{Seq: 3, Series: load.SeriesDelta{WidthS: 1, Reset: true}}) // not newer: ignored
	got := v.Snapshot()
	assert.Equal(t, uint64(3), got.Seq)
	assert.Equal(t, pts(1, 2, 1, 5), got.Series.Points, "Snapshot().Series.Points")
	assert.True(t, got.Series.Reset, "Snapshot().Series.Reset")
}

func TestSlowStreamsNeverBlockPublish(t *testing.T) {
	v := view.New(view.WriteTimeout(time.Hour))
	srv := httptest.NewServer(v)
	defer srv.Close()
	// Streams that never read: their socket buffers fill up.
	for range 4 {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", view.EventsPath)
	}
	big := make([]load.PlotPoint, 1024)
	for i := range big {
		big[i] = load.PlotPoint{N: uint32(i), P50: 1.5, P99: 2.5, Max: 3.5, UP99: 2}
	}
	// 2,000 snapshots of 1,024 points each (about 100 MB of events if
	// every one were sent to every stream): Publish must return each time.
	for i := range 2000 {
		v.Publish(&load.Snapshot{Seq: uint64(i + 1), State: load.StateRunning, Series: load.SeriesDelta{WidthS: 1, Reset: true, Points: big}})
	}
	assert.Equal(t, uint64(2000), v.Snapshot().Seq, "the latest snapshot after 2000 Publish calls")
	v.Close()
}

func TestTooManyStreamsAre503(t *testing.T) {
	v := view.New(view.MaxClients(1))
	v.Publish(&load.Snapshot{Seq: 1, State: load.StateRunning})
	srv := httptest.NewServer(v)
	defer srv.Close()
	first, err := http.Get(srv.URL + view.EventsPath)
	require.NoError(t, err)
	defer first.Body.Close()
	// Read the first event, so that the stream is registered.
	readEvents(t, first.Body, func(event) bool { return false })
	resp, body := get(t, srv.URL+view.EventsPath)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "GET %s past MaxClients(1): status (body %q)", view.EventsPath, body)
}

func TestPageEscapesHostileValues(t *testing.T) {
	const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	rep := knownReport(t)
	rep.StatusCodes[hostile] = 1
	rep.Errors["</td><script>alert(3)</script>"] = 2
	v := view.New(view.Title("load of "+hostile), view.Target("http://127.0.0.1:1/hooks?x="+hostile))
	v.Publish(load.SnapshotOf(rep))
	srv := httptest.NewServer(v)
	defer srv.Close()

	resp, page := get(t, srv.URL+view.Path)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, bad := range []string{"<script>alert", "<img", "</td><script>"} {
		assert.NotContains(t, page, bad, "GET %s: the page holds %q unescaped", view.Path, bad)
	}
	assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;", "GET %s: the hostile text, escaped", view.Path)
	assert.Contains(t, page, `&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;: 2`, "GET %s: the hostile error kind, escaped", view.Path)
	// Only the page's own script, loaded from its own origin.
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1)
	assert.Equal(t, []string{`<script src="/_hooklab/load/static/load.js" defer>`}, scripts, "GET %s: script elements", view.Path)
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'self'", "Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'", "Content-Security-Policy")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))

	// The JSON the script reads has no raw < or > either.
	_, js := get(t, srv.URL+view.SnapshotPath)
	assert.NotContains(t, js, "<script>", "GET %s", view.SnapshotPath)
	assert.Contains(t, js, `\u003cscript\u003e`, "GET %s", view.SnapshotPath)
}

// Closed loop requests no rate: the page says so rather than 0.00/s.
func TestPageSaysClosedLoopRequestsNoRate(t *testing.T) {
	s := load.SnapshotOf(knownReport(t))
	s.RateRequested = 0
	v := view.New()
	v.Publish(s)
	srv := httptest.NewServer(v)
	defer srv.Close()
	_, page := get(t, srv.URL+view.Path)
	assert.Contains(t, page, `data-testid="load-rate-requested">none (closed loop)<`)
	_, js := get(t, srv.URL+"/_hooklab/load/static/load.js")
	assert.Contains(t, js, `"none (closed loop)"`, "the script says the same when it updates the page")
}

func TestPageRendersTheFigures(t *testing.T) {
	v := view.New(view.Target("run.json"))
	v.Publish(load.SnapshotOf(knownReport(t)))
	srv := httptest.NewServer(v)
	defer srv.Close()
	_, page := get(t, srv.URL+view.Path)
	for id, want := range map[string]string{
		"load-state":          "done",
		"load-rate-requested": "2.00/s",
		"load-rate-achieved":  "2.00/s",
		"load-requests":       "4",
		"load-success":        "75.00%",
		"load-latency-p50":    "20.015 ms",
		"load-latency-p99":    "40.031 ms",
		"load-status-codes":   "200: 3, 503: 1",
		"load-errors":         "status: 1",
		"load-deliveries":     "2 delivered, 1 lost, 3 doubled",
		"load-target":         "run.json",
	} {
		re := regexp.MustCompile(`data-testid="` + id + `"[^>]*>([^<]*)<`)
		m := re.FindStringSubmatch(page)
		if assert.NotNil(t, m, "GET %s: no element with data-testid=%q", view.Path, id) {
			assert.Equal(t, want, m[1], "GET %s: data-testid=%q text", view.Path, id)
		}
	}
	assert.Contains(t, page, `<svg data-testid="load-plot"`, "GET %s: the plot", view.Path)
	assert.Contains(t, page, `data-events="/_hooklab/load/events"`, "GET %s: the event stream's path", view.Path)
}

func TestRoutes(t *testing.T) {
	v := view.New()
	srv := httptest.NewServer(v)
	defer srv.Close()
	tests := []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", view.Path, 200, "text/html; charset=utf-8"},
		{"GET", view.StaticPath + "load.js", 200, "text/javascript; charset=utf-8"},
		{"GET", view.StaticPath + "load.css", 200, "text/css; charset=utf-8"},
		{"GET", view.StaticPath + "load.html", 404, ""},
		{"GET", view.StaticPath + "../view.go", 404, ""},
		{"GET", "/_hooklab/other", 404, ""},
		{"POST", view.Path, 405, ""},
		{"HEAD", view.Path, 200, "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.method+strings.ReplaceAll(tt.path, "/", "_"), func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode, "%s %s: status", tt.method, tt.path)
			if tt.ctype != "" {
				assert.Equal(t, tt.ctype, resp.Header.Get("Content-Type"), "%s %s: Content-Type", tt.method, tt.path)
			}
		})
	}
}
