package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/load"
	"github.com/hooklab/hooklab/sim/load/view"
)

// syncBuffer is a bytes.Buffer that a running command writes while the
// test reads; wait blocks until a line matching re was written.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	news chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{news: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.news <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wait returns the first submatch of re in what was written, waiting
// for it; it gives up when done is closed (the command returned).
func (s *syncBuffer) wait(t *testing.T, re *regexp.Regexp, done <-chan int) string {
	t.Helper()
	for {
		if m := re.FindStringSubmatch(s.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-s.news:
		case <-done:
			if m := re.FindStringSubmatch(s.String()); m != nil {
				return m[len(m)-1]
			}
			t.Fatalf("the command returned before writing a line matching %s; it wrote:\n%s", re, s.String())
		}
	}
}

// runAsync runs hooklab with args and returns its stdout, stderr and a
// channel that gets its exit code.
func runAsync(args ...string) (stdout, stderr *syncBuffer, code <-chan int) {
	stdout, stderr = newSyncBuffer(), newSyncBuffer()
	c := make(chan int, 1)
	go func() { c <- run(args, strings.NewReader(""), stdout, stderr) }()
	return stdout, stderr, c
}

// interrupt sends SIGINT to this process, as Ctrl-C does: the command
// under test has its signal.Notify in place (it said so on stderr).
func interrupt(t *testing.T) {
	t.Helper()
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
}

var inspectorLine = regexp.MustCompile(`(?m)^hooklab \w+: inspector: (http://127\.0\.0\.1:\d+/_hooklab/load)$`)

// testidText returns the text of the element with data-testid id.
func testidText(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`data-testid="` + id + `"[^>]*>([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		t.Errorf("page: no element with data-testid=%q", id)
		return ""
	}
	return m[1]
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: status; body %s", url, b)
	return string(b)
}

// savedReport writes a report of 4 requests (one answered 503) with
// deliveries, as hooklab load --json does, and returns its path.
func savedReport(t *testing.T) string {
	t.Helper()
	m := load.NewMetrics()
	t0 := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	for i, status := range []int{200, 200, 503, 200} {
		at := t0.Add(time.Duration(i) * 500 * time.Millisecond)
		lat := time.Duration(i+1) * 10 * time.Millisecond
		m.Add(&load.Result{Seq: uint64(i), Intended: at, Sent: at, Status: status, Latency: lat, Uncorrected: lat})
	}
	d := &load.DeliveryMetrics{Latency: load.NewHistogram(), Delivered: 3, Lost: 0, Duplicated: 1}
	d.Latency.Record(4 * time.Millisecond)
	var b bytes.Buffer
	require.NoError(t, load.NewReport(m, d, 2).WriteJSON(&b))
	path := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o666))
	return path
}

func TestReportUIServesTheSavedReportsFigures(t *testing.T) {
	path := savedReport(t)
	stdout, stderr, code := runAsync("report", "--ui", path)
	url := stderr.wait(t, inspectorLine, code)
	stderr.wait(t, regexp.MustCompile(`serving the load view until Ctrl-C`), code)

	page := httpGet(t, url)
	for id, want := range map[string]string{
		"load-state":          "done",
		"load-requests":       "4",
		"load-success":        "75.00%",
		"load-rate-requested": "2.00/s",
		"load-rate-achieved":  "2.00/s",
		"load-latency-p50":    "20.015 ms",
		"load-latency-p99":    "40.031 ms",
		"load-status-codes":   "200: 3, 503: 1",
		"load-deliveries":     "3 delivered, 0 lost, 1 doubled",
		"load-target":         path,
	} {
		assert.Equal(t, want, testidText(t, page, id), "report --ui: data-testid=%q", id)
	}
	// The event stream sends the one final snapshot and ends.
	resp, err := http.Get(strings.TrimSuffix(url, view.Path) + view.EventsPath)
	require.NoError(t, err)
	events, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(events), "event: snapshot"), "report --ui events:\n%s", events)
	assert.Contains(t, string(events), `"state":"done"`, "report --ui events")

	interrupt(t)
	assert.Equal(t, exitOK, <-code, "report --ui exit code after Ctrl-C; stderr:\n%s", stderr)
	assert.Contains(t, stdout.String(), "Status codes  [code:count]                       200:3 503:1", "report --ui stdout: the text report")
}

func TestReportBadFilesAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o666))
		return p
	}
	good := savedReport(t)
	tests := []struct {
		name string
		args []string
		want string // a regexp stderr must match
	}{
		{"NotJSON", []string{"--ui", write("notes.json", "requests: many\n")}, `^hooklab report: .*notes\.json:1:1: not a hooklab load report: invalid character 'r'`},
		{"SyntaxErrorOnLine3", []string{"--ui", write("cut.json", "{\n  \"requests\": 3,\n  \"success\": 3,,\n}")}, `^hooklab report: .*cut\.json:3:16: not a hooklab load report: invalid character ','`},
		{"WrongTypeOnLine2", []string{write("type.json", "{\n  \"requests\": \"many\"}")}, `^hooklab report: .*type\.json:2:20: not a hooklab load report: json: cannot unmarshal string`},
		{"TextReport", []string{"--ui", write("text.txt", "Requests      [total]  3\n")}, `^hooklab report: .*text\.txt:1:1: not a hooklab load report`},
		{"NoRaw", []string{"--ui", write("partial.json", `{"requests": 3}`)}, `^hooklab report: .*partial\.json: not a hooklab load report: no raw\.metrics histograms`},
		{"SecondFileBad", []string{"--ui", good, write("second.json", "[]")}, `^hooklab report: .*second\.json:1:1: not a hooklab load report`},
		{"Missing", []string{"--ui", filepath.Join(dir, "nosuch.json")}, `^hooklab report: open .*nosuch\.json: no such file`},
		{"NoFile", []string{"--ui"}, `^hooklab report: no report: give the file hooklab load --json wrote$`},
		{"UIAddrWithoutUI", []string{"--ui-addr", "127.0.0.1:0", good}, `^hooklab report: -ui-addr goes with -ui$`},
		{"UIAddrNotLoopback", []string{"--ui", "--ui-addr", "0.0.0.0:0", good}, `^hooklab report: -ui-addr: 0\.0\.0\.0:0 is not a loopback address`},
		{"UIAddrNotHostPort", []string{"--ui", "--ui-addr", "8089", good}, `^hooklab report: -ui-addr: "8089" is not HOST:PORT`},
		{"BadFlagAfterFile", []string{good, "--bogus"}, `^hooklab report: flag provided but not defined: -bogus$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"report"}, tt.args...), strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, exitUsage, code, "hooklab report %q: exit code; stderr %q", tt.args, stderr.String())
			assert.Regexp(t, tt.want, strings.TrimSuffix(stderr.String(), "\n"), "hooklab report %q: stderr", tt.args)
			assert.Empty(t, stdout.String(), "hooklab report %q: stdout", tt.args)
		})
	}
}

func TestReportWithoutUIPrintsAndExits(t *testing.T) {
	path := savedReport(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"report", path, "--json"}, strings.NewReader(""), &stdout, &stderr)
	require.Equal(t, exitOK, code, "hooklab report FILE --json: exit code; stderr %q", stderr.String())
	var got load.Report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &got), "hooklab report --json stdout")
	assert.Equal(t, uint64(4), got.Requests, "requests")
	assert.Equal(t, uint64(1), *got.Duplicated, "duplicated")
}

func TestLoadUIShowsTheRunThenItsReport(t *testing.T) {
	const secret = "whsec-example-NOT-A-REAL-SECRET"
	keys := signer.Keys(secret)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := signer.VerifyRequest(r, signer.GitHub(), keys); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer target.Close()
	body := filepath.Join(t.TempDir(), "body.json")
	require.NoError(t, os.WriteFile(body, []byte(`{"action":"opened"}`), 0o666))
	stdout, stderr, code := runAsync("load", "--to", target.URL+"/hooks/gh", "--preset", "github", "--body-file", body,
		"--secret", secret, "--rate", "40", "--duration", "1s", "--json", "--ui", "--ui-addr", "127.0.0.1:0")
	url := stderr.wait(t, inspectorLine, code)

	// The event stream: snapshots while the run goes on, ending with the
	// final one.
	resp, err := http.Get(strings.TrimSuffix(url, view.Path) + view.EventsPath)
	require.NoError(t, err)
	var snaps []load.Snapshot
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var s load.Snapshot
			require.NoError(t, json.Unmarshal([]byte(data), &s), "event data %s", data)
			snaps = append(snaps, s)
		}
	}
	resp.Body.Close()
	require.NotEmpty(t, snaps, "snapshots streamed")
	last := snaps[len(snaps)-1]
	assert.Equal(t, load.StateDone, last.State, "the last snapshot's state")
	for _, s := range snaps[:len(snaps)-1] {
		assert.Equal(t, load.StateRunning, s.State, "snapshot %d: state", s.Seq)
	}

	// Once done, the page shows the report until Ctrl-C; the exit code is
	// the run's.
	stderr.wait(t, regexp.MustCompile(`done; the load view keeps showing the report at `), code)
	page := httpGet(t, url)
	interrupt(t)
	assert.Equal(t, exitOK, <-code, "load --ui exit code after Ctrl-C; stderr:\n%s", stderr)
	var rep load.Report
	require.NoError(t, json.Unmarshal([]byte(stdout.String()), &rep), "load --json stdout")
	assert.Equal(t, rep.Requests, last.Requests, "final snapshot requests = the report's")
	assert.Equal(t, map[string]uint64{"200": rep.Requests}, last.StatusCodes, "final snapshot status codes")
	assert.Equal(t, "done", testidText(t, page, "load-state"), "page after the run: load-state")
	assert.Equal(t, strconv.FormatUint(rep.Requests, 10), testidText(t, page, "load-requests"), "page after the run: load-requests")
	assert.Equal(t, "100.00%", testidText(t, page, "load-success"), "page after the run: load-success")
	assert.Equal(t, "no sink", testidText(t, page, "load-deliveries"), "page after the run: load-deliveries")
}

func TestLoadUIExitWhenDone(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer target.Close()
	body := filepath.Join(t.TempDir(), "body.json")
	require.NoError(t, os.WriteFile(body, []byte(`{}`), 0o666))
	var stdout, stderr bytes.Buffer
	code := run([]string{"load", "--to", target.URL, "--preset", "github", "--body-file", body, "--secret", "s",
		"--rate", "20", "--duration", "200ms", "--ui", "--ui-exit"}, strings.NewReader(""), &stdout, &stderr)
	assert.Equal(t, exitOK, code, "load --ui --ui-exit: exit code; stderr %q", stderr.String())
	assert.Regexp(t, `^hooklab load: inspector: http://127\.0\.0\.1:\d+/_hooklab/load\n$`, stderr.String(), "load --ui --ui-exit: stderr")

	stderr.Reset()
	code = run([]string{"load", "--to", target.URL, "--preset", "github", "--body-file", body, "--secret", "s",
		"--rate", "20", "--duration", "200ms", "--ui-exit"}, strings.NewReader(""), &stdout, &stderr)
	assert.Equal(t, exitUsage, code, "load --ui-exit without --ui: exit code")
	assert.Equal(t, "hooklab load: -ui-addr and -ui-exit go with -ui\n", stderr.String())
}
