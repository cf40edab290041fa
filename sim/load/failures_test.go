package load_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
)

// failure is an answer of status with body.
func failure(status int, body string) *load.Result {
	return &load.Result{Intended: base, Sent: base, Status: status, Body: []byte(body)}
}

func TestMetricsKeepTheFirstDistinctFailureBodiesByStatus(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 2*load.MaxFailureBody)
	tests := []struct {
		name    string
		results []*load.Result
		want    load.Failures
	}{
		{"CountsEachBody", []*load.Result{failure(401, "a"), failure(401, "a"), failure(401, "b"), failure(401, "a")},
			load.Failures{"401": {{Body: "a", Count: 3}, {Body: "b", Count: 1}}}},
		{"AtMostThreeBodiesAStatus", []*load.Result{failure(500, "1"), failure(500, "2"), failure(500, "3"), failure(500, "4"), failure(500, "1")},
			load.Failures{"500": {{Body: "1", Count: 2}, {Body: "2", Count: 1}, {Body: "3", Count: 1}}}},
		{"By Status", []*load.Result{failure(401, "x"), failure(503, "x"), failure(404, "")},
			load.Failures{"401": {{Body: "x", Count: 1}}, "503": {{Body: "x", Count: 1}}, "404": {{Body: "", Count: 1}}}},
		{"NotSuccessesNorUnanswered", []*load.Result{failure(200, "ok"), failure(202, ""), {Intended: base, Status: 0, ErrorKind: load.ErrRefused}},
			nil},
		{"TheFirstBytesOnly", []*load.Result{failure(413, long)},
			load.Failures{"413": {{Body: long[:load.MaxFailureBody], Count: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := load.NewMetrics()
			for _, r := range tt.results {
				m.Add(r)
			}
			assert.Equal(t, tt.want, m.Failures)
		})
	}
	t.Run("AtMostEightStatuses", func(t *testing.T) {
		m := load.NewMetrics()
		for s := 400; s < 420; s++ {
			m.Add(failure(s, "no"))
		}
		assert.Len(t, m.Failures, load.MaxFailureStatuses)
		assert.Contains(t, m.Failures, "407", "the first statuses")
		assert.NotContains(t, m.Failures, "408")
	})
}

func TestMergeReportsMergesFailuresWithinTheBounds(t *testing.T) {
	t.Parallel()
	s := shardReports(syntheticResults(10, 1), 2, 10)
	s[0].Raw.Metrics.Failures = load.Failures{"401": {{Body: "a", Count: 2}, {Body: "b", Count: 1}}}
	s[1].Raw.Metrics.Failures = load.Failures{"401": {{Body: "b", Count: 5}, {Body: "c", Count: 1}, {Body: "d", Count: 1}}, "500": {{Body: "e", Count: 1}}}
	got := mustMerge(t, s...)
	assert.Equal(t, load.Failures{"401": {{Body: "a", Count: 2}, {Body: "b", Count: 6}, {Body: "c", Count: 1}}, "500": {{Body: "e", Count: 1}}}, got.Failures)
	assert.Len(t, s[0].Raw.Metrics.Failures["401"], 2, "the shard's own samples untouched")
}

func TestReadReportRejectsBadFailures(t *testing.T) {
	t.Parallel()
	samples := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`{"body": "b%d", "count": 1}`, i))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	statuses := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`"%d": [{"body": "", "count": 1}]`, 400+i))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	tests := []struct{ name, failures, want string }{
		{"FourSamples", `{"401": ` + samples(4) + `}`, "r.json: raw.metrics.failures: 401: 4 samples, want at most 3"},
		{"NineStatuses", statuses(9), "r.json: raw.metrics.failures: 9 statuses, want at most 8"},
		{"NotAStatus", `{"OK": []}`, `r.json: raw.metrics.failures: status "OK" is not an HTTP status`},
		{"LeadingZero", `{"0401": []}`, `r.json: raw.metrics.failures: status "0401" is not an HTTP status`},
		{"HugeBody", `{"401": [{"body": "` + strings.Repeat("x", 3*load.MaxFailureBody+1) + `", "count": 1}]}`, "r.json: raw.metrics.failures: 401: sample 1: a body of 1537 bytes, want at most 1536"},
		{"SameBodyTwice", `{"401": [{"body": "a", "count": 1}, {"body": "a", "count": 1}]}`, "r.json: raw.metrics.failures: 401: sample 2: the same body twice"},
	}
	good := string(writeJSON(t, shardReports(syntheticResults(10, 1), 1, 10)[0]))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(good, `"latency": "`, `"failures": `+tt.failures+`, "latency": "`, 1)
			require.NotEqual(t, good, data)
			_, err := load.ReadReport("r.json", []byte(data))
			assert.EqualError(t, err, tt.want)
		})
	}
	t.Run("GoodOnesRoundTrip", func(t *testing.T) {
		data := strings.Replace(good, `"latency": "`, `"failures": {"401": `+samples(3)+`}, "latency": "`, 1)
		r, err := load.ReadReport("r.json", []byte(data))
		require.NoError(t, err)
		assert.Len(t, r.Raw.Metrics.Failures["401"], 3)
	})
}

// The text report shows failure bodies quoted: control characters and
// terminal escapes from the target are escaped, not written.
func TestReportWriteTextEscapesFailureBodies(t *testing.T) {
	t.Parallel()
	m := load.NewMetrics()
	m.Add(failure(401, "\x1b]0;pwned\x07\x1b[2J{\"error\":\"bad signature\"}\r\n\xff"))
	m.Add(failure(500, "oops"))
	var b strings.Builder
	require.NoError(t, load.NewReport(m, nil, 0).WriteText(&b))
	assert.Contains(t, b.String(), "Failures      [status, count, first bytes of the body]\n"+
		`  401  1  "\x1b]0;pwned\a\x1b[2J{\"error\":\"bad signature\"}\r\n\xff"`+"\n"+
		`  500  1  "oops"`+"\n")
	for _, c := range b.String() {
		if c < 0x20 && c != '\n' {
			t.Fatalf("a control character %q in the text report:\n%s", c, b.String())
		}
	}
}

// BenchmarkMetricsAddFailure accounts one 401 answer with a body, which
// Failures compares with the samples kept: compare with
// BenchmarkMetricsAdd (a 2xx answer).
func BenchmarkMetricsAddFailure(b *testing.B) {
	m := load.NewMetrics()
	t0 := time.Now()
	body := []byte(`{"error":"signature verification failed","reason":"signer: github: X-Hub-Signature-256: no matching signature"}` + "\n")
	m.Add(&load.Result{Status: 401, Intended: t0, Sent: t0, Body: []byte("another body")})
	r := &load.Result{Status: 401, Intended: t0, Sent: t0, Latency: time.Millisecond, Uncorrected: time.Millisecond, BytesIn: 30, BytesOut: 70, Body: body}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Intended = t0.Add(time.Duration(i) * time.Microsecond)
		m.Add(r)
	}
}
