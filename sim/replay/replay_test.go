package replay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/record"
	"github.com/hooklab/hooklab/sim/replay"
)

// captured is what a test receiver saw: each request's signature header
// and body, in arrival order.
type captured struct {
	mu   sync.Mutex
	sigs []string
	ids  []string
}

// receiver verifies with scheme and keys at now, answers 401 when it does
// not verify, and otherwise the status of the attempt (statuses[i], then
// 200).
func receiver(t *testing.T, scheme signer.Scheme, keys signer.KeySet, now time.Time, statuses ...int) (*httptest.Server, *captured) {
	c := &captured{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		n := len(c.sigs)
		c.sigs = append(c.sigs, r.Header.Get(scheme.Header)+"|"+string(body))
		c.ids = append(c.ids, r.Header.Get("Webhook-Id"))
		c.mu.Unlock()
		p := signer.Payload{Method: r.Method, URL: "http://" + r.Host + r.RequestURI, Header: r.Header, Body: body}
		if err := signer.Verify(scheme, keys, p, signer.At(now)); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if n < len(statuses) {
			w.WriteHeader(statuses[n])
		}
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

// recorded signs body with scheme at at and returns it as a Recording.
func recorded(t *testing.T, scheme signer.Scheme, keys signer.KeySet, at time.Time, seq int) *record.Recording {
	p, err := signer.Sign(scheme, keys, signer.Payload{Method: "POST", URL: "http://captured.test/hook", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"id":"evt_1"}`)}, signer.At(at))
	require.NoError(t, err)
	req, err := http.NewRequest(p.Method, p.URL, nil)
	require.NoError(t, err)
	req.Header = p.Header
	rec := record.New(req, p.Body, record.Meta{Seq: seq})
	return rec
}

func collect(t *testing.T, r *replay.Replayer, recs []*record.Recording) *replay.Report {
	t.Helper()
	var rep replay.Report
	for res := range r.Replay(context.Background(), recs) {
		rep.Add(res)
	}
	return &rep
}

func TestReplay(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	later := t0.Add(10 * time.Minute)
	keys, old := signer.Keys("whsec_new"), signer.Keys("whsec_old")
	tests := []struct {
		name       string
		scheme     signer.Scheme
		recordKeys signer.KeySet
		serveKeys  signer.KeySet
		resign     bool
		oldKeys    signer.KeySet
		dup        float64
		statuses   []int
		retries    *sim.RetryPolicy
		want       replay.Totals
		wantStatus []int
	}{
		{name: "StaleOriginalRejected", scheme: signer.Stripe(), recordKeys: keys, serveKeys: keys,
			want:       replay.Totals{Requests: 1, Deliveries: 1, Rejected: 1},
			wantStatus: []int{401}},
		{name: "ResignedAccepted", scheme: signer.Stripe(), recordKeys: keys, serveKeys: keys, resign: true,
			want:       replay.Totals{Requests: 1, Deliveries: 1, Accepted: 1, Resigned: 1},
			wantStatus: []int{200}},
		{name: "ResignedOriginalValid", scheme: signer.Stripe(), recordKeys: old, serveKeys: keys, resign: true, oldKeys: old,
			want:       replay.Totals{Requests: 1, Deliveries: 1, Accepted: 1, Resigned: 1, OriginalValid: 1},
			wantStatus: []int{200}},
		{name: "ResignedOriginalInvalid", scheme: signer.Stripe(), recordKeys: old, serveKeys: keys, resign: true, oldKeys: keys,
			want:       replay.Totals{Requests: 1, Deliveries: 1, Accepted: 1, Resigned: 1, OriginalInvalid: 1},
			wantStatus: []int{200}},
		{name: "DuplicateEveryRequest", scheme: signer.StandardWebhooks(), recordKeys: signer.Keys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), serveKeys: signer.Keys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), resign: true, dup: 1,
			want:       replay.Totals{Requests: 1, Duplicates: 1, Deliveries: 2, Accepted: 2, Resigned: 1},
			wantStatus: []int{200, 200}},
		{name: "RetriedUntilAccepted", scheme: signer.Stripe(), recordKeys: keys, serveKeys: keys, resign: true, statuses: []int{500, 503},
			retries:    &sim.RetryPolicy{Preset: "stripe", Delays: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}, FreshSignature: true},
			want:       replay.Totals{Requests: 1, Deliveries: 1, Accepted: 1, Resigned: 1, Retries: 2},
			wantStatus: []int{200}},
		{name: "RetriesExhausted", scheme: signer.Stripe(), recordKeys: keys, serveKeys: keys, resign: true, statuses: []int{500, 500, 500},
			retries:    &sim.RetryPolicy{Preset: "stripe", Delays: []time.Duration{time.Millisecond, time.Millisecond}},
			want:       replay.Totals{Requests: 1, Deliveries: 1, Rejected: 1, Resigned: 1, Retries: 2},
			wantStatus: []int{500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := receiver(t, tt.scheme, tt.serveKeys, later, tt.statuses...)
			recs := []*record.Recording{recorded(t, tt.scheme, tt.recordKeys, t0, 1)}
			o := replay.Options{To: srv.URL + "/hooks/x", Duplicate: tt.dup, Retries: tt.retries, Now: func() time.Time { return later }}
			if tt.resign {
				rs, err := replay.NewResigner(tt.scheme, tt.serveKeys, tt.oldKeys)
				require.NoError(t, err)
				o.Resign = rs
			}
			rep := collect(t, replay.New(o), recs)
			assert.Equal(t, tt.want, rep.Totals, "Totals")
			var statuses []int
			for _, r := range rep.Results {
				statuses = append(statuses, r.Status)
			}
			assert.Equal(t, tt.wantStatus, statuses, "final statuses")
			assert.Equal(t, tt.want.Accepted == tt.want.Deliveries, rep.OK(), "OK()")
			if tt.dup == 1 {
				require.Len(t, got.sigs, 2)
				assert.Equal(t, got.sigs[0], got.sigs[1], "the duplicate's signature and body differ from the original's")
				assert.Equal(t, got.ids[0], got.ids[1], "the duplicate's id")
				assert.NotEmpty(t, got.ids[0], "no Webhook-Id sent")
				assert.Equal(t, got.ids[0], rep.Results[0].ID, "Result.ID")
			}
			if tt.oldKeys != nil {
				require.NotNil(t, rep.Results[0].Original)
				if !rep.Results[0].Original.Valid {
					assert.Contains(t, rep.Results[0].Original.Reason, "no matching signature")
				}
			}
		})
	}
}

func TestReplayOrderAndSource(t *testing.T) {
	keys := signer.Keys("s")
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	}))
	defer srv.Close()
	var recs []*record.Recording
	for i, p := range []string{"/a", "/b", "/c"} {
		rec := recorded(t, signer.GitHub(), keys, time.Unix(0, 0), i+1)
		rec.Meta.Target = p
		recs = append(recs, rec)
	}
	rep := collect(t, replay.New(replay.Options{To: srv.URL, Order: replay.Reverse()}), recs)
	assert.Equal(t, []string{"/c", "/b", "/a"}, paths, "paths received with Order Reverse and To without a path")
	require.Len(t, rep.Results, 3)
	assert.Equal(t, 3, rep.Results[0].Seq, "first result's Seq")
	assert.Equal(t, 1, rep.Results[0].N, "first result's N")
}

func TestStopGivesUpWaitingRetries(t *testing.T) {
	answered := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		select {
		case answered <- struct{}{}:
		default:
		}
	}))
	defer srv.Close()
	recs := []*record.Recording{recorded(t, signer.GitHub(), signer.Keys("s"), time.Unix(0, 0), 1)}
	r := replay.New(replay.Options{To: srv.URL, Retries: &sim.RetryPolicy{Delays: []time.Duration{time.Hour}}})
	ch := r.Replay(context.Background(), recs)
	<-answered // the first attempt failed; the retry would wait an hour
	assert.True(t, r.Stop(), "first Stop")
	assert.False(t, r.Stop(), "second Stop")
	var rep replay.Report
	for res := range ch {
		rep.Add(res)
	}
	require.Len(t, rep.Results, 1, "the delivery given up is reported")
	assert.Equal(t, 1, rep.Results[0].Attempts)
	assert.Equal(t, 500, rep.Results[0].Status)
}

func TestDuplicatesChosenByPlaceNotOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	var recs []*record.Recording
	for i := range 20 {
		recs = append(recs, recorded(t, signer.GitHub(), signer.Keys("s"), time.Unix(0, 0), i+1))
	}
	dups := func(o replay.Order) map[int]bool {
		rep := collect(t, replay.New(replay.Options{To: srv.URL, Order: o, Duplicate: 0.3, Seed: 5}), recs)
		m := map[int]bool{}
		for i, r := range rep.Results {
			if r.Duplicate {
				m[r.Seq] = true
				// The copy follows its original.
				require.Positive(t, i)
				assert.Equal(t, r.Seq, rep.Results[i-1].Seq, "result before the duplicate of seq %d", r.Seq)
				assert.False(t, rep.Results[i-1].Duplicate)
			}
		}
		return m
	}
	as, rev := dups(replay.AsRecorded()), dups(replay.Reverse())
	assert.NotEmpty(t, as, "Duplicate 0.3 of 20 chose none")
	assert.Less(t, len(as), 20, "Duplicate 0.3 of 20 chose all")
	assert.Equal(t, as, rev, "duplicated seqs as recorded vs reversed")
}

func TestDuplicateSentAfterRetriesAreOver(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	recs := []*record.Recording{recorded(t, signer.GitHub(), signer.Keys("s"), time.Unix(0, 0), 1)}
	rep := collect(t, replay.New(replay.Options{To: srv.URL, Duplicate: 1,
		Retries: &sim.RetryPolicy{Delays: []time.Duration{time.Millisecond}}}), recs)
	require.Len(t, rep.Results, 2)
	assert.Equal(t, []int{503, 200}, rep.Results[0].Statuses, "original's attempts")
	assert.True(t, rep.Results[1].Duplicate, "second result is the duplicate")
	assert.Equal(t, 1, rep.Results[1].Attempts, "duplicate's attempts")
	assert.Equal(t, replay.Totals{Requests: 1, Duplicates: 1, Deliveries: 2, Accepted: 2, Retries: 1}, rep.Totals)
}
