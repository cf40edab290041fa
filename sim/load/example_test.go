package load_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/hooklab/hooklab/sim/load"
)

// ExampleParseRate reads the --rate syntaxes and shows the rate each
// schedule asks for at a few moments of a one-minute run.
func ExampleParseRate() {
	for _, s := range []string{"100/s", "6000/m", "100:10s,500:20s", "linear:100..1000", "sine:500+-200/60s", "0"} {
		p, err := load.ParseRate(s, time.Minute)
		if err != nil {
			log.Fatal(err)
		}
		if p == nil {
			fmt.Printf("%-18s closed loop\n", s)
			continue
		}
		fmt.Printf("%-18s at 0s %4.0f/s, 15s %4.0f/s, 30s %4.0f/s, 45s %4.0f/s; %5.0f requests in 1m\n", s,
			load.Rate(p, 0), load.Rate(p, 15*time.Second), load.Rate(p, 30*time.Second), load.Rate(p, 45*time.Second), p.Hits(time.Minute))
	}
	_, err := load.ParseRate("500+-200", time.Minute)
	fmt.Println(err)
	// Output:
	// 100/s              at 0s  100/s, 15s  100/s, 30s  100/s, 45s  100/s;  6000 requests in 1m
	// 6000/m             at 0s  100/s, 15s  100/s, 30s  100/s, 45s  100/s;  6000 requests in 1m
	// 100:10s,500:20s    at 0s  100/s, 15s  500/s, 30s  500/s, 45s  500/s; 26000 requests in 1m
	// linear:100..1000   at 0s  100/s, 15s  325/s, 30s  550/s, 45s  775/s; 33000 requests in 1m
	// sine:500+-200/60s  at 0s  500/s, 15s  700/s, 30s  500/s, 45s  300/s; 30000 requests in 1m
	// 0                  closed loop
	// rate "500+-200": "500+-200" is not a rate such as 100 or 100/s
}

// ExampleRun runs a short closed-loop attack (no Pacer: two workers send
// as fast as the target answers) against a local server and prints what
// does not depend on the machine's speed.
func ExampleRun() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{"n":1}`))
	})
	rep, err := load.Run(context.Background(), load.Plan{
		Source:   src,
		Duration: 200 * time.Millisecond,
		Attacker: load.NewAttacker(load.Workers(2)),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("requests sent:", rep.Requests > 0)
	fmt.Println("success ratio:", rep.SuccessRatio)
	fmt.Println("status codes:", len(rep.StatusCodes), "kind, 202:", rep.StatusCodes["202"] == rep.Requests)
	fmt.Println("dropped:", rep.Dropped, "interrupted:", rep.Interrupted)
	// Output:
	// requests sent: true
	// success ratio: 1
	// status codes: 1 kind, 202: true
	// dropped: 0 interrupted: false
}

// ExampleMergeReports runs one schedule as two shards (as two machines
// would with --shard 1/2 and --shard 2/2), writes each report as JSON,
// reads them back as `hooklab load merge` does and merges them. The
// shards share a run id; merging a shard twice is refused.
func ExampleMergeReports() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{}`))
	})

	var shards []*load.Report
	for i := range 2 {
		rep, err := load.Run(context.Background(), load.Plan{
			Source:   src,
			Pacer:    load.Constant{Rate: 100}, // the whole schedule: 100/s
			Duration: 200 * time.Millisecond,   // 20 slots, 10 per shard
			Attacker: load.NewAttacker(load.Shard(i, 2)),
			RunID:    "example-run", // the same on every shard
			Rate:     "100/s",
			Target:   srv.URL,
		})
		if err != nil {
			log.Fatal(err)
		}
		var file bytes.Buffer
		if err := rep.WriteJSON(&file); err != nil {
			log.Fatal(err)
		}
		r, err := load.ReadReport(fmt.Sprintf("shard-%d.json", i+1), file.Bytes())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("shard %d: %d requests at %g/s requested\n", i+1, r.Requests, r.RateRequested)
		shards = append(shards, r)
	}
	if _, err := load.MergeReports(shards[0], shards[0]); err != nil {
		fmt.Println("refused:", err)
	}
	all, err := load.MergeReports(shards...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("merged: %d requests at %g/s requested, %d shards, success ratio %g, latency samples %d\n",
		all.Requests, all.RateRequested, all.Shards, all.SuccessRatio, all.Latency.Count)
	// Output:
	// shard 1: 10 requests at 50/s requested
	// shard 2: 10 requests at 50/s requested
	// refused: shard-1.json and shard-1.json are both shard 1/2: the same shard twice
	// merged: 20 requests at 100/s requested, 2 shards, success ratio 1, latency samples 20
}

// ExampleMergeReportsWith merges the shards there are of a run that
// lost one: the report says it is partial and which shard it lacks, and
// its requested rate is the share of the plan those shards had.
func ExampleMergeReportsWith() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{}`))
	})
	var shards []*load.Report
	for _, i := range []int{0, 2} { // shard 2 of 3 never reported
		rep, err := load.Run(context.Background(), load.Plan{
			Source: src, Pacer: load.Constant{Rate: 300}, Duration: 100 * time.Millisecond,
			Attacker: load.NewAttacker(load.Shard(i, 3)), RunID: "nightly-42",
		})
		if err != nil {
			log.Fatal(err)
		}
		shards = append(shards, rep)
	}
	if _, err := load.MergeReports(shards...); err != nil {
		fmt.Println("refused:", err)
	}
	part, err := load.MergeReportsWith(load.MergeOptions{Partial: true}, shards...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("partial: %v, shards %v of %d, missing %v, %d requests at %g/s requested\n",
		part.Partial, part.Merged.Indexes, part.Merged.Count, part.Merged.Missing, part.Requests, part.RateRequested)
	// Output:
	// refused: run nightly-42: shard 2 of 3 missing (merge every shard, or merge partially with --partial)
	// partial: true, shards [1 3] of 3, missing [2], 20 requests at 200/s requested
}

// ExampleRedactURL shows what a report keeps of a target URL.
func ExampleRedactURL() {
	fmt.Println(load.RedactURL("https://ci:s3cret@hooks.example.com/in?token=abc&team=7"))
	// Output:
	// https://REDACTED@hooks.example.com/in?team=REDACTED&token=REDACTED
}
