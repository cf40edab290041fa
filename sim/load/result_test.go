package load_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/load"
)

// decodeAll reads every result from a Decoder, up to the first error.
func decodeAll(dec *load.Decoder) ([]*load.Result, error) {
	var rs []*load.Result
	for {
		var r load.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return rs, nil
		}
		if err != nil {
			return rs, err
		}
		rs = append(rs, &r)
	}
}

func TestResultEncoderDecoderRoundTrip(t *testing.T) {
	at := base.Add(123456789 * time.Nanosecond)
	in := []*load.Result{
		{Seq: 0, ID: "run-0", Intended: at, Sent: at.Add(time.Millisecond), Latency: 12 * time.Millisecond, Uncorrected: 11 * time.Millisecond,
			Status: 202, BytesOut: 812, BytesIn: 64, Triggered: []string{"t1", "t2"}},
		{Seq: 1, ID: "run-1", Intended: at.Add(5 * time.Millisecond), Sent: at.Add(6 * time.Millisecond), Latency: time.Second, Uncorrected: time.Second - time.Millisecond,
			ErrorKind: load.ErrTimeout, Error: `Post "http://x": context deadline exceeded`, BytesOut: 812},
		{Seq: 2, Intended: at.Add(10 * time.Millisecond), Dropped: true},
		{Seq: 3, ID: "run-3", Intended: at.Add(15 * time.Millisecond), Sent: at.Add(15 * time.Millisecond), Latency: time.Millisecond, Uncorrected: time.Millisecond,
			Status: 200},
		{Seq: 1 << 40, ID: "run-big", Intended: at, Sent: at, Status: 500, Error: "ünïcode \"quoted\"\nnewline"},
	}
	var buf bytes.Buffer
	enc := load.NewEncoder(&buf)
	for _, r := range in {
		require.NoError(t, enc.Encode(r))
	}
	require.NoError(t, enc.Flush())
	assert.Equal(t, len(in), strings.Count(buf.String(), "\n"), "one line per result:\n%s", buf.String())

	out, err := decodeAll(load.NewDecoder(&buf, "results.jsonl"))
	require.NoError(t, err)
	require.Len(t, out, len(in))
	for i := range in {
		want, got := *in[i], *out[i]
		assert.True(t, want.Intended.Equal(got.Intended), "result %d: Intended = %v, want %v", i, got.Intended, want.Intended)
		assert.True(t, want.Sent.Equal(got.Sent), "result %d: Sent = %v, want %v", i, got.Sent, want.Sent)
		want.Intended, want.Sent, got.Intended, got.Sent = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		assert.Equal(t, want, got, "result %d", i)
	}
}

func TestEncoderBuffersUntilFlush(t *testing.T) {
	var buf bytes.Buffer
	enc := load.NewEncoder(&buf)
	require.NoError(t, enc.Encode(&load.Result{Seq: 1}))
	assert.Zero(t, buf.Len(), "bytes written before Flush")
	require.NoError(t, enc.Flush())
	assert.Positive(t, buf.Len(), "bytes written after Flush")
}

func TestDecoderErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	good := `{"seq":1,"intended":"2025-03-14T15:09:26Z","latency_ns":1000,"uncorrected_ns":1000,"status":200,"bytes_out":0,"bytes_in":0}`
	tests := []struct {
		name, in string
		wantOK   int // results decoded before the error
		want     string
	}{
		{"NotJSON", good + "\nhello\n", 1, "run.jsonl:2: not a result: invalid character 'h' looking for beginning of value"},
		{"BlankLinesCounted", "\n\n" + good + "\n\n{\n", 1, "run.jsonl:5: not a result: unexpected end of JSON input"},
		{"WrongType", `{"seq":"one"}`, 0, "run.jsonl:1: not a result: json: cannot unmarshal string into Go struct field Result.seq of type uint64"},
		{"BadTime", `{"intended":"yesterday"}`, 0, `run.jsonl:1: not a result: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`},
		{"Array", good + "\n" + good + "\n[1]", 2, "run.jsonl:3: not a result: json: cannot unmarshal array into Go value of type load.Result"},
		{"LineTooLong", good + "\n" + `{"error":"` + strings.Repeat("x", 17<<20) + `"}`, 1, "run.jsonl:2: bufio.Scanner: token too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := decodeAll(load.NewDecoder(strings.NewReader(tt.in), "run.jsonl"))
			require.Error(t, err, "Decode of a bad line")
			assert.Equal(t, tt.want, err.Error())
			assert.Len(t, rs, tt.wantOK, "results before the bad line")
		})
	}
}

func TestDecoderKeepsGoingAfterABadLine(t *testing.T) {
	in := "{\"seq\":1}\nnope\n{\"seq\":3}\n"
	dec := load.NewDecoder(strings.NewReader(in), "r.jsonl")
	var r load.Result
	require.NoError(t, dec.Decode(&r))
	assert.Equal(t, uint64(1), r.Seq)
	require.ErrorContains(t, dec.Decode(&r), "r.jsonl:2: ")
	require.NoError(t, dec.Decode(&r))
	assert.Equal(t, uint64(3), r.Seq, "the line after the bad one")
	assert.Equal(t, io.EOF, dec.Decode(&r), "at the end")
	assert.Equal(t, io.EOF, dec.Decode(&r), "at the end, again")
}

func TestDecoderResetsTheResult(t *testing.T) {
	dec := load.NewDecoder(strings.NewReader("{\"seq\":2}\n"), "r.jsonl")
	r := load.Result{Status: 500, ErrorKind: load.ErrEOF, Triggered: []string{"old"}}
	require.NoError(t, dec.Decode(&r))
	assert.Equal(t, load.Result{Seq: 2}, r, "fields absent from the line are zero, not left over")
}

func TestResultOK(t *testing.T) {
	for status, want := range map[int]bool{0: false, 199: false, 200: true, 204: true, 299: true, 300: false, 404: false, 500: false} {
		assert.Equal(t, want, (&load.Result{Status: status}).OK(), "Result{Status: %d}.OK()", status)
	}
}
