package matcher_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/matcher"
)

// TestMatchJSONLStreams checks that MatchJSONL answers each line as soon
// as it is read, through real pipes, while the input is still open: a
// caller can write a line, read its answer, and only then write the next.
func TestMatchJSONLStreams(t *testing.T) {
	inR, inW, err := os.Pipe()
	require.NoError(t, err)
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		done <- matcher.MatchJSONL(inR, outW, 2)
		outW.Close()
	}()
	out := bufio.NewReader(outR)
	for i, c := range []struct{ in, want string }{
		{`{"filter":{"action":["opened"]},"payload":{"action":"opened"}}`, `{"match": true}`},
		{`{"request_filter":{"method":["GET"]},"request":{"method":"POST","url":"/hook"}}`, `{"match": false}`},
		{``, `{"error": "empty line"}`},
		{`{"filter":{"a":1}}`, `{"error": "filter: a: want a list of values or operators, or a nested filter object, got a number (column 16)"}`},
	} {
		_, err := io.WriteString(inW, c.in+"\n")
		require.NoError(t, err)
		got := make(chan string, 1)
		go func() {
			l, _ := out.ReadString('\n')
			got <- l
		}()
		select {
		case l := <-got:
			assert.Equal(t, c.want+"\n", l, "line %d: MatchJSONL(%s)", i+1, c.in)
		case <-time.After(10 * time.Second):
			t.Fatalf("line %d: no answer while the input is open", i+1)
		}
	}
	require.NoError(t, inW.Close())
	require.NoError(t, <-done)
	rest, err := io.ReadAll(out)
	require.NoError(t, err)
	assert.Empty(t, string(rest), "output after the last line")
}

// TestMatchJSONLLines checks each kind of line against its answer, with
// and without Compat.
func TestMatchJSONLLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts []matcher.Option
		want string
	}{
		{"EventMatch", `{"filter":{"action":["opened"]},"payload":{"action":"opened"}}`, nil, `{"match": true}`},
		// An undefined payload has no keys, so a filter with a key misses.
		{"EventNoPayloadIsUndefined", `{"filter":{"a":[{"$exists":false}]}}`, nil, `{"match": false}`},
		{"EventMiss", `{"filter":{"n":[{"$gt":5}]},"payload":{"n":5}}`, nil, `{"match": false}`},
		{"RequestMatch", `{"request_filter":{"headers":{"x-event":["a","b"]},"query":{"q":["1"]}},"request":{"method":"post","url":"https://h/p?q=1","headers":{"X-Event":["b"]}}}`, nil, `{"match": true}`},
		{"CRLF", "{\"filter\":{}}\r", nil, `{"match": true}`},
		{"LeadingSpaceShiftsColumns", `  {"filter":{"a":1}}`, nil, `{"error": "filter: a: want a list of values or operators, or a nested filter object, got a number (column 18)"}`},
		{"TwoOperatorsRejected", `{"filter":{"a":[{"$gt":1,"$lt":5}]},"payload":{"a":3}}`, nil, `{"error": "filter: a[0]: 2 operators ($gt, $lt) in one object: the reference keeps only $gt and drops the rest; write each as its own list item, or use the Compat option (--compat) to narrow it the same way (column 17)"}`},
		{"TwoOperatorsCompat", `{"filter":{"a":[{"$gt":1,"$lt":5}]},"payload":{"a":3}}`, []matcher.Option{matcher.Compat()}, `{"match": true}`},
		{"NotJSON", `not json`, nil, `{"error": "invalid JSON: invalid character 'o' in literal null (expecting 'u') (column 2)"}`},
		{"NotAnObject", `["filter"]`, nil, `{"error": "want a JSON object with \"filter\" or \"request_filter\""}`},
		{"UnknownKey", `{"filter":{},"paylod":{}}`, nil, `{"error": "unknown key \"paylod\" (want filter and payload, or request_filter and request)"}`},
		{"DuplicateKey", `{"filter":{},"filter":{}}`, nil, `{"error": "duplicate key \"filter\""}`},
		{"BothFilters", `{"filter":{},"request_filter":{}}`, nil, `{"error": "give \"filter\" or \"request_filter\", not both"}`},
		{"RequestWithoutRequest", `{"request_filter":{}}`, nil, `{"error": "\"request_filter\" needs a \"request\""}`},
		{"RequestMissingMethod", `{"request_filter":{},"request":{"url":"/hook"}}`, nil, `{"error": "request.method is missing"}`},
		{"RequestBadHeader", `{"request_filter":{},"request":{"method":"POST","url":"/","headers":{"X-N":1}}}`, nil, `{"error": "request.headers.X-N must be a string or an array of strings"}`},
		{"PayloadNotJSONError", `{"filter":{"a":["x"]},"payload":{"a":}}`, nil, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, matcher.MatchJSONL(strings.NewReader(tt.in+"\n"), &out, 1, tt.opts...))
			if tt.want == "" {
				assert.Equal(t, 1, strings.Count(out.String(), "\n"), "MatchJSONL(%s) = %q, want one line", tt.in, out.String())
				assert.True(t, strings.HasPrefix(out.String(), `{"error": `), "MatchJSONL(%s) = %q, want an error line", tt.in, out.String())
				return
			}
			assert.Equal(t, tt.want+"\n", out.String(), "MatchJSONL(%s)", tt.in)
		})
	}
}

// TestMatchJSONLErrors checks that a failing reader or writer ends the
// run with an error that says which and wraps the cause.
func TestMatchJSONLErrors(t *testing.T) {
	errRead, errWrite := errors.New("disk gone"), errors.New("pipe closed")
	t.Run("Read", func(t *testing.T) {
		in := io.MultiReader(strings.NewReader(`{"filter":{}}`+"\n"), &failReader{err: errRead})
		var out bytes.Buffer
		err := matcher.MatchJSONL(in, &out, 2)
		require.ErrorIs(t, err, errRead)
		assert.Contains(t, err.Error(), "matcher: reading JSON lines")
		assert.Equal(t, `{"match": true}`+"\n", out.String(), "the lines read before the error are answered")
	})
	t.Run("Write", func(t *testing.T) {
		in := strings.NewReader(strings.Repeat(`{"filter":{}}`+"\n", 10000))
		err := matcher.MatchJSONL(in, failWriter{errWrite}, 2)
		require.ErrorIs(t, err, errWrite)
		assert.Contains(t, err.Error(), "matcher: writing JSON lines")
	})
}

type failReader struct{ err error }

func (r *failReader) Read([]byte) (int, error) { return 0, r.err }

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestMatchJSONLOrder pushes many lines through several workers in small
// and large batches and checks that every answer comes back in order,
// including lines longer than the read buffer and a last line without a
// line end.
func TestMatchJSONLOrder(t *testing.T) {
	var in, want bytes.Buffer
	long := strings.Repeat("x", 3<<20) // three times the read buffer
	for i := range 30000 {
		switch {
		case i%9973 == 0:
			fmt.Fprintf(&in, `{"filter":{"s":[{"$startsWith":"xx"}]},"payload":{"s":%q,"i":%d}}`+"\n", long, i)
			want.WriteString(`{"match": true}` + "\n")
		case i%7 == 0:
			fmt.Fprintf(&in, "{bad %d\r\n", i)
			want.WriteString(`{"error": "invalid JSON: invalid character 'b' looking for beginning of object key string (column 2)"}` + "\n")
		case i%2 == 0:
			fmt.Fprintf(&in, `{"filter":{"n":[%d]},"payload":{"n":%d}}`+"\n", i%50, i%50)
			want.WriteString(`{"match": true}` + "\n")
		default:
			fmt.Fprintf(&in, `{"filter":{"n":[{"$gt":%d}]},"payload":{"n":%d}}`+"\n", i%50, i%50)
			want.WriteString(`{"match": false}` + "\n")
		}
	}
	in.WriteString(`{"filter":{}}`) // no final newline
	want.WriteString(`{"match": true}` + "\n")
	for _, workers := range []int{1, 4} {
		var out bytes.Buffer
		// iotest-style one-byte-at-a-time reads would be too slow for
		// 30000 lines; a reader returning small chunks makes small batches.
		require.NoError(t, matcher.MatchJSONL(&chunkReader{r: bytes.NewReader(in.Bytes()), n: 333}, &out, workers))
		require.Equal(t, strings.Count(want.String(), "\n"), strings.Count(out.String(), "\n"))
		assert.True(t, want.String() == out.String(), "workers %d: the output differs", workers)
	}
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// BenchmarkMatchJSONL pushes 200,000 small lines through MatchJSONL, as
// hooklab match --jsonl does, and reports lines per second.
func BenchmarkMatchJSONL(b *testing.B) {
	const n = 200000
	actions := []string{"opened", "closed", "labeled", "edited", "reopened"}
	filters := []string{
		`{"action":["opened"]}`,
		`{"action":["opened","closed"],"n":[{"$gt":10}]}`,
		`{"action":[{"$startsWith":"re"}]}`,
		`{"repository":{"name":["hooklab"]},"action":["labeled"]}`,
	}
	var in bytes.Buffer
	for i := range n {
		fmt.Fprintf(&in, `{"filter":%s,"payload":{"action":%q,"n":%d,"repository":{"name":"hooklab"}}}`+"\n",
			filters[i%len(filters)], actions[i%len(actions)], i%100)
	}
	data := in.Bytes()
	workers := runtime.GOMAXPROCS(0)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if err := matcher.MatchJSONL(bytes.NewReader(data), io.Discard, workers); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
