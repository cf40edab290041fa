package load_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/sim/load"
)

// FuzzDecoder feeds untrusted bytes to the Decoder as a results file
// (hooklab load --out, read back by other tools): it must never panic, and
// it must agree with a line-by-line reading: every non-blank line is
// either a Result, decoded exactly as json.Unmarshal decodes it, or an
// error that names the file and that line.
func FuzzDecoder(f *testing.F) {
	var good bytes.Buffer
	enc := load.NewEncoder(&good)
	for _, r := range syntheticResults(6, 1) {
		enc.Encode(r)
	}
	enc.Flush()
	f.Add(good.Bytes())
	f.Add([]byte(""))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte("{\"seq\":1}\r\n{\"seq\":2}\r\n"))
	f.Add([]byte("{\"seq\":1}\nhello\n{\"seq\":3}"))
	f.Add([]byte(`{"seq":-1,"latency_ns":1e30,"intended":"2025-13-01T00:00:00Z"}`))
	f.Add([]byte(`{"triggered":["a",null,1],"dropped":"yes"}`))
	f.Add([]byte(`{"seq":18446744073709551615,"intended":"9999-12-31T23:59:59.999999999+23:59"}`))
	f.Add([]byte("[1,2]\n\"x\"\nnull\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		// The reference reading: bufio.ScanLines splits at \n and drops a
		// trailing \r.
		lines := strings.Split(string(data), "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		dec := load.NewDecoder(bytes.NewReader(data), "fuzz.jsonl")
		for i, line := range lines {
			line = strings.TrimSuffix(line, "\r")
			if line == "" {
				continue
			}
			var want load.Result
			wantErr := json.Unmarshal([]byte(line), &want)
			var got load.Result
			err := dec.Decode(&got)
			switch {
			case errors.Is(err, io.EOF):
				t.Fatalf("Decode = io.EOF before line %d %q", i+1, line)
			case err != nil && wantErr == nil:
				t.Fatalf("line %d %q: Decode error %v, want the Result json.Unmarshal reads", i+1, line, err)
			case err == nil && wantErr != nil:
				t.Fatalf("line %d %q: Decode = %+v, nil, want an error (json.Unmarshal: %v)", i+1, line, got, wantErr)
			case err != nil:
				if prefix := fmt.Sprintf("fuzz.jsonl:%d: ", i+1); !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("line %d: Decode error %q, want it to start %q", i+1, err, prefix)
				}
			default:
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("line %d %q: Decode = %+v, want %+v", i+1, line, got, want)
				}
				roundTrip(t, &got)
			}
		}
		var r load.Result
		if err := dec.Decode(&r); !errors.Is(err, io.EOF) {
			t.Fatalf("Decode after the last line = %+v, %v, want io.EOF", r, err)
		}
	})
}

// roundTrip checks that a decoded Result is written and read back the
// same (times compared as instants).
func roundTrip(t *testing.T, r *load.Result) {
	var buf bytes.Buffer
	enc := load.NewEncoder(&buf)
	if err := enc.Encode(r); err != nil {
		// Times the decoder accepts but JSON cannot write back (a year past
		// 9999 after a zone shift) are the only expected failure.
		if strings.Contains(err.Error(), "year outside of range") {
			return
		}
		t.Fatalf("Encode(%+v) = %v", r, err)
	}
	enc.Flush()
	var back load.Result
	if err := load.NewDecoder(&buf, "rt.jsonl").Decode(&back); err != nil {
		t.Fatalf("Decode(Encode(%+v)) = %v\n%s", r, err, buf.String())
	}
	if !back.Intended.Equal(r.Intended) || !back.Sent.Equal(r.Sent) {
		t.Fatalf("times after a round trip = %v, %v, want %v, %v", back.Intended, back.Sent, r.Intended, r.Sent)
	}
	a, b := *r, back
	a.Intended, a.Sent = b.Intended, b.Sent
	if len(a.Triggered) == 0 && len(b.Triggered) == 0 {
		a.Triggered, b.Triggered = nil, nil // omitempty: see the report
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("after a round trip = %+v, want %+v", b, a)
	}
}

// FuzzReadReport feeds untrusted bytes to ReadReport as a shard's report
// given to `hooklab load merge`: it must never panic, and must either
// return an error that names the file or a report that MergeReports
// accepts and that can be written back, as text and as JSON.
//
// The seeds are small on purpose: every valid report costs a few HDR
// histograms (about 190 KB each) to decode, merge and encode, and the
// fuzzer minimizes each new input it finds, so a large seed such as
// testdata/report-v1.json leaves it minimizing instead of exploring.
// reportErrPrefix is how a ReadReport error starts: the file, and the
// line and column of a JSON error.
var reportErrPrefix = regexp.MustCompile(`^shard\.json(?::(\d+):\d+)?: `)

func FuzzReadReport(f *testing.F) {
	var small bytes.Buffer
	shards := shardReports(syntheticResults(40, 9), 2, 100)
	shards[0].Raw.Deliveries = syntheticDeliveries(3, 1, 1)
	shards[0].Raw.Metrics.Failures = load.Failures{"401": {{Body: "bad signature\x1b[2J", Count: 3}}}
	mustMerge(f, shards...).WriteJSON(&small)
	f.Add(small.Bytes())
	var one bytes.Buffer
	load.NewReport(metricsOf(syntheticResults(3, 2)), nil, 10).WriteJSON(&one)
	f.Add(one.Bytes())
	var empty bytes.Buffer
	load.NewReport(load.NewMetrics(), syntheticDeliveries(0, 0, 0), 0).WriteJSON(&empty)
	f.Add(empty.Bytes())
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"raw":{"metrics":{"latency":"","latency_uncorrected":""}}}`))
	f.Add([]byte("Requests [total] 5\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := load.ReadReport("shard.json", data)
		if err != nil {
			m := reportErrPrefix.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("ReadReport error %q does not name the file", err)
			}
			if m[1] != "" {
				line, _ := strconv.Atoi(m[1])
				if lines := 1 + bytes.Count(data, []byte("\n")); line < 1 || line > lines {
					t.Fatalf("ReadReport error %q: line %d, want 1 to %d", err, line, lines)
				}
			}
			return
		}
		// The live view's snapshot of any report that reads.
		if _, err := json.Marshal(load.SnapshotOf(r)); err != nil {
			t.Errorf("SnapshotOf(r) cannot be written as JSON: %v", err)
		}
		if r == nil || r.Raw.Metrics == nil {
			t.Fatalf("ReadReport = %+v, nil: no raw metrics", r)
		}
		requests := r.Raw.Metrics.Requests
		if _, err := load.MergeReports(r, r); err == nil {
			t.Fatalf("MergeReports(r, r) of one file twice: no error")
		} else if !strings.HasPrefix(err.Error(), "shard.json") && !strings.HasPrefix(err.Error(), "run ") {
			t.Errorf("MergeReports(r, r) error %q does not name the file or the run", err)
		}
		// The same report as two shards of one run.
		other := *r
		other.Raw.Metrics = load.NewMetrics()
		other.Raw.Metrics.Merge(r.Raw.Metrics)
		merged, err := load.MergeReportsWith(load.MergeOptions{Partial: true}, asShards(r, &other)...)
		if err != nil {
			t.Fatalf("MergeReportsWith of two shards: %v", err)
		}
		if merged.Requests != 2*requests {
			t.Errorf("MergeReports(r, r).Requests = %d, want 2 × %d", merged.Requests, requests)
		}
		if err := merged.WriteText(io.Discard); err != nil {
			t.Errorf("WriteText of the merged report: %v", err)
		}
		// What WriteJSON writes, less the histograms (whose encoding cannot
		// fail and would cost most of each run).
		top := *merged
		top.Raw = load.Raw{Requested: merged.Raw.Requested}
		if _, err := json.Marshal(&top); err != nil {
			t.Errorf("the merged report cannot be written as JSON: %v", err)
		}
	})
}
