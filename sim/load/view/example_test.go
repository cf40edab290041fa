package view_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hooklab/hooklab/sim/load"
	"github.com/hooklab/hooklab/sim/load/view"
)

// ExampleView serves the load view of a report: the page at view.Path,
// and the snapshot its script reads. A live run publishes instead with
// plan.Watch = v.Publish.
func ExampleView() {
	m := load.NewMetrics()
	t0 := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	for i, status := range []int{200, 200, 503} {
		at := t0.Add(time.Duration(i) * 500 * time.Millisecond)
		m.Add(&load.Result{Seq: uint64(i), Intended: at, Sent: at, Status: status, Latency: 12 * time.Millisecond, Uncorrected: 12 * time.Millisecond})
	}
	v := view.New(view.Title("hooklab report"), view.Target("run.json"))
	v.Publish(load.SnapshotOf(load.NewReport(m, nil, 2)))
	srv := httptest.NewServer(v)
	defer srv.Close()

	resp, err := http.Get(srv.URL + view.SnapshotPath)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var s load.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d requests, %.2f/s requested, %.2f/s achieved, %.0f%% success, status codes %v, %d points\n",
		s.State, s.Requests, s.RateRequested, s.RateAchieved, 100*s.SuccessRatio, s.StatusCodes, len(s.Series.Points))
	// Output:
	// done: 3 requests, 2.00/s requested, 2.00/s achieved, 67% success, status codes map[200:2 503:1], 2 points
}
