package main

import (
	"bufio"
	"io"
	"os"
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
