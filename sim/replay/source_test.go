package replay_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/replay"
)

func TestReadLoad(t *testing.T) {
	const ok = `{"seq":4,"status":200,"request":{"method":"POST","url":"http://h.test/hooks/gh?x=1","header":{"X-Hub-Signature-256":["sha256=ab"]},"body":"eyJhIjoxfQ=="}}`
	tests := []struct {
		name    string
		in      string
		wantN   int
		wantErr string
		is      error
	}{
		{name: "OneRequest", in: ok + "\n", wantN: 1},
		{name: "DroppedSlotsSkipped", in: `{"seq":0,"dropped":true}` + "\n" + ok + "\n\n", wantN: 1},
		{name: "NoRequests", in: `{"seq":0,"status":200}` + "\n", wantErr: "no result holds its request", is: replay.ErrNoRequest},
		{name: "NotJSON", in: "hello\n", wantErr: "x.jsonl:1: not a result"},
		{name: "RelativeURL", in: `{"request":{"method":"POST","url":"/hooks"}}`, wantErr: "x.jsonl:1: request url: want an absolute URL"},
		{name: "BadMethod", in: `{"request":{"method":"PO ST","url":"http://h/"}}`, wantErr: "x.jsonl:1: request method is not an HTTP token"},
		{name: "HeaderInjection", in: `{"request":{"url":"http://h/","header":{"X-A":["1\r\nX-B: 2"]}}}`, wantErr: "x.jsonl:1: header X-A: value holds a line break"},
		{name: "BadHeaderName", in: `{"request":{"url":"http://h/","header":{"X A":["1"]}}}`, wantErr: `x.jsonl:1: header name "X A" is not an HTTP token`},
		{name: "Truncated", in: `{"request":{"url":"http://h/","truncated":true}}`, wantErr: "x.jsonl:1: the request's body was larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := replay.ReadLoad(strings.NewReader(tt.in), "x.jsonl")
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				if tt.is != nil {
					assert.True(t, errors.Is(err, tt.is), "ReadLoad error %v does not wrap %v", err, tt.is)
				}
				return
			}
			require.NoError(t, err)
			require.Len(t, recs, tt.wantN)
			r := recs[0]
			assert.Equal(t, 5, r.Meta.Seq, "Seq (result seq 4, plus one)")
			assert.Equal(t, "POST", r.Meta.Method)
			assert.Equal(t, "/hooks/gh?x=1", r.Meta.Target)
			assert.Equal(t, "h.test", r.Meta.Host)
			assert.Equal(t, `{"a":1}`, string(r.Body))
			assert.Equal(t, "sha256=ab", r.Header.Get("X-Hub-Signature-256"))
			assert.Contains(t, r.Path, "x.jsonl:")
		})
	}
}

func FuzzReadLoad(f *testing.F) {
	f.Add(`{"seq":4,"request":{"method":"POST","url":"http://h.test/x","header":{"A":["b"]},"body":"eyJhIjoxfQ=="}}`)
	f.Add(`{"request":{"url":"http://h/","header":{"X-A":["1\r\n"]}}}`)
	f.Add(`{"seq":0}`)
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := replay.ReadLoad(strings.NewReader(in), "f.jsonl")
		if err != nil {
			return
		}
		for _, r := range recs {
			if _, err := r.Request("http://127.0.0.1:1"); err != nil {
				t.Fatalf("ReadLoad accepted a request that cannot be sent: %v", err)
			}
			if b := r.MarshalHTTP(); len(b) == 0 {
				t.Fatal("MarshalHTTP of a read request is empty")
			}
		}
	})
}
