package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMatchJSONLStreams checks that --jsonl answers each line as soon as it
// is read, through real pipes, while stdin is still open: a caller can
// write a line, read its answer, and only then write the next.
func TestMatchJSONLStreams(t *testing.T) {
	inR, inW, err := os.Pipe()
	require.NoError(t, err)
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"match", "--jsonl"}, inR, outW, io.Discard)
		outW.Close()
	}()
	out := bufio.NewReader(outR)
	lines := make(chan string)
	go func() {
		defer close(lines)
		for {
			l, err := out.ReadString('\n')
			if err != nil {
				return
			}
			lines <- l
		}
	}()
	for i, c := range []struct{ in, want string }{
		{`{"filter":{"action":["opened"]},"payload":{"action":"opened"}}`, `{"match": true}`},
		{`{"filter":{"action":["opened"]},"payload":{"action":"closed"}}`, `{"match": false}`},
		{``, `{"error": "empty line"}`},
		{`{"filter":{"a":1}}`, ``},
	} {
		_, err := io.WriteString(inW, c.in+"\n")
		require.NoError(t, err)
		select {
		case got := <-lines:
			if c.want != "" {
				assert.Equal(t, c.want+"\n", got, "line %d", i+1)
			} else {
				assert.True(t, strings.HasPrefix(got, `{"error": "filter: a: `), "line %d: %s", i+1, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("line %d: no answer while stdin is open", i+1)
		}
	}
	inW.Close()
	_, open := <-lines
	assert.False(t, open, "output after the last line")
	assert.Equal(t, exitOK, <-code)
}

// TestMatchJSONLOrder pushes many lines through several workers in small
// and large batches and checks that every answer comes back in order,
// including lines longer than the read buffer and a last line without a
// line end.
func TestMatchJSONLOrder(t *testing.T) {
	var in, want bytes.Buffer
	long := strings.Repeat("x", 3*jsonlReadBuffer)
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
		require.NoError(t, matchJSONL(&chunkReader{r: bytes.NewReader(in.Bytes()), n: 333}, &out, nil, workers))
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

// BenchmarkMatchJSONL pushes 200,000 small lines through matchJSONL, as
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
		if err := matchJSONL(bytes.NewReader(data), io.Discard, nil, workers); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
