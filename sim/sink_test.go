package sim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// envelope is a valid Delivery envelope as an ingress in any language
// would POST it; the body is base64 ("eyJhIjoxfQ==" is {"a":1}).
const envelope = `{
  "endpoint": "gh",
  "trigger": "all",
  "request": {
    "method": "POST",
    "url": "https://hooks.example.com/hooks/gh?x=1",
    "headers": {"X-Github-Event": ["issues"], "Hooklab-Request-Id": ["req-1"]},
    "body": "eyJhIjoxfQ=="
  },
  "verification": {"verified": false, "reason": "signer: github: X-Hub-Signature-256: missing header"},
  "receivedAt": "2024-06-01T12:00:00Z",
  "deliveredAt": "2024-06-01T12:00:01Z"
}`

// TestSinkRecordsAnEnvelope checks that a valid envelope is answered 204
// and recorded field for field.
func TestSinkRecordsAnEnvelope(t *testing.T) {
	var s sim.Sink
	s.Now = fixedNow
	w := httptest.NewRecorder()
	s.ServeHTTP(w, request("POST", "/any/path", envelope, "Content-Type: application/json"))
	assert.Equal(t, http.StatusNoContent, w.Code, "body %s", w.Body)
	assert.Empty(t, w.Body.String())

	ds := s.Deliveries()
	require.Len(t, ds, 1)
	want := sim.Delivery{
		Endpoint: "gh",
		Trigger:  "all",
		Request: sim.DeliveredRequest{
			Method: "POST",
			URL:    "https://hooks.example.com/hooks/gh?x=1",
			Header: map[string][]string{"X-Github-Event": {"issues"}, "Hooklab-Request-Id": {"req-1"}},
			Body:   []byte(`{"a":1}`),
		},
		Verification: sim.Verification{Reason: "signer: github: X-Hub-Signature-256: missing header"},
		ReceivedAt:   t0,
		DeliveredAt:  t0.Add(time.Second),
		RecordedAt:   t0,
	}
	assert.Equal(t, want, ds[0])
	assert.Equal(t, "req-1", ds[0].RequestID())
}

// TestSinkRejects checks what a Sink refuses, with the exact answer.
func TestSinkRejects(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		wantBody   string
		wantAllow  string
	}{
		{"GetIs405", "GET", "", 405, `{"error":"a sink takes POST"}` + "\n", "POST"},
		{"PutIs405", "PUT", envelope, 405, `{"error":"a sink takes POST"}` + "\n", "POST"},
		{"NotJSONIs400", "POST", "endpoint=gh&trigger=all", 400, `{"error":"not a delivery envelope: invalid character 'e' looking for beginning of value"}` + "\n", ""},
		{"EmptyIs400", "POST", "", 400, `{"error":"not a delivery envelope: unexpected end of JSON input"}` + "\n", ""},
		{"WrongTypeIs400", "POST", `{"endpoint":"gh","trigger":"all","request":{"body":"not base64!"}}`, 400, "", ""},
		{"MissingEndpointIs400", "POST", `{"trigger":"all"}`, 400, `{"error":"not a delivery envelope: \"endpoint\" and \"trigger\" are required"}` + "\n", ""},
		{"MissingTriggerIs400", "POST", `{"endpoint":"gh"}`, 400, `{"error":"not a delivery envelope: \"endpoint\" and \"trigger\" are required"}` + "\n", ""},
		{"OverSizeIs413", "POST", `{"endpoint":"gh","trigger":"all","pad":"` + strings.Repeat("x", sim.DefaultSinkMaxBody) + `"}`, 413, `{"error":"envelope over 16777216 bytes"}` + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sim.Sink
			w := httptest.NewRecorder()
			s.ServeHTTP(w, request(tt.method, "/", tt.body))
			assert.Equal(t, tt.wantStatus, w.Code)
			if tt.wantBody != "" {
				assert.Equal(t, tt.wantBody, w.Body.String())
			}
			assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
			assert.Equal(t, tt.wantAllow, w.Header().Get("Allow"))
			assert.Zero(t, s.Len(), "recorded")
		})
	}
}

// TestNewSinkReceivesIngressDeliveries checks a Sink on a loopback port
// as the Deliver target of an Ingress: what arrives equals what the
// Ingress recorded, and Close keeps it readable.
func TestNewSinkReceivesIngressDeliveries(t *testing.T) {
	sink, err := sim.NewSink("")
	require.NoError(t, err)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, sink.URL)

	spec := ghSpec(
		sim.TriggerSpec{ID: "a", Deliver: sink.URL + "/a"},
		sim.TriggerSpec{ID: "b", Deliver: sink.URL + "/b"},
	)
	in, rec := newIngress(t, sim.Config{}, spec)
	body := "{\"action\":\"opened\", \"raw\":\"\xff\"}"
	w := serve(t, in, signed(t, request("POST", "/hooks/gh?q=1", body, "X-GitHub-Event: issues"), signer.GitHub(), ghSecret))
	require.Equal(t, http.StatusOK, w.Code)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := sink.Wait(ctx, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
	byTrigger := map[string]sim.Delivery{}
	for _, d := range rec.Deliveries() {
		byTrigger[d.Trigger] = d
	}
	for _, d := range got {
		want := byTrigger[d.Trigger]
		want.RecordedAt = d.RecordedAt // stamped by each recorder
		// Times round-trip through RFC 3339; compare them as instants.
		assert.True(t, want.ReceivedAt.Equal(d.ReceivedAt))
		assert.True(t, want.DeliveredAt.Equal(d.DeliveredAt))
		want.ReceivedAt, want.DeliveredAt = d.ReceivedAt, d.DeliveredAt
		assert.Equal(t, want, d, "delivery to %s through the sink", d.Trigger)
		assert.Equal(t, []byte(body), d.Request.Body)
	}

	require.NoError(t, sink.Close())
	assert.Equal(t, 2, sink.Len(), "deliveries stay readable after Close")
	_, err = http.Post(sink.URL, "application/json", strings.NewReader(envelope))
	assert.Error(t, err, "POST after Close")
}

// TestNewSinkListenError checks that an address in use is an error.
func TestNewSinkListenError(t *testing.T) {
	a, err := sim.NewSink("")
	require.NoError(t, err)
	defer a.Close()
	_, err = sim.NewSink(strings.TrimPrefix(a.URL, "http://"))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "sim: sink: "), "error = %q", err)
}

// TestRecorderWait checks that Wait returns as soon as n deliveries are
// recorded, and with the context's error and what arrived so far when the
// context ends first.
func TestRecorderWait(t *testing.T) {
	t.Run("ReturnsWhenNArrive", func(t *testing.T) {
		var r sim.Recorder
		go func() {
			for _, id := range []string{"a", "b", "c"} {
				time.Sleep(5 * time.Millisecond)
				r.Record(sim.Delivery{Endpoint: "gh", Trigger: id})
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ds, err := r.Wait(ctx, 2)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(ds), 2)
		assert.Equal(t, "a", ds[0].Trigger)
		assert.Equal(t, "b", ds[1].Trigger)
	})
	t.Run("AlreadyThere", func(t *testing.T) {
		var r sim.Recorder
		r.Record(sim.Delivery{Trigger: "a"})
		ds, err := r.Wait(context.Background(), 1)
		require.NoError(t, err)
		assert.Len(t, ds, 1)
		ds, err = r.Wait(context.Background(), 0)
		require.NoError(t, err)
		assert.Len(t, ds, 1)
	})
	t.Run("ContextCanceled", func(t *testing.T) {
		var r sim.Recorder
		r.Record(sim.Delivery{Trigger: "a"})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel)
		ds, err := r.Wait(ctx, 3)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Len(t, ds, 1, "what arrived before the context ended")
	})
	t.Run("Deadline", func(t *testing.T) {
		var r sim.Recorder
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		ds, err := r.Wait(ctx, 1)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Empty(t, ds)
	})
	t.Run("ManyWaiters", func(t *testing.T) {
		var r sim.Recorder
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan int, 10)
		for i := range 10 {
			go func() {
				ds, err := r.Wait(ctx, i%3+1)
				if err != nil {
					done <- -1
					return
				}
				done <- len(ds)
			}()
		}
		for _, id := range []string{"a", "b", "c"} {
			time.Sleep(2 * time.Millisecond)
			r.Record(sim.Delivery{Trigger: id})
		}
		for range 10 {
			assert.Positive(t, <-done, "a waiter gave up")
		}
	})
}

// TestRecorderStampsAndResets checks RecordedAt from Now, Len, the copy
// Deliveries returns, and Reset.
func TestRecorderStampsAndResets(t *testing.T) {
	r := sim.Recorder{Now: fixedNow}
	r.Record(sim.Delivery{Trigger: "a", RecordedAt: time.Unix(1, 0)})
	ds := r.Deliveries()
	require.Len(t, ds, 1)
	assert.True(t, ds[0].RecordedAt.Equal(t0), "RecordedAt = %v, want the Recorder's clock", ds[0].RecordedAt)
	ds[0].Trigger = "changed"
	assert.Equal(t, "a", r.Deliveries()[0].Trigger, "Deliveries returns a copy")
	r.Reset()
	assert.Zero(t, r.Len())
	assert.Empty(t, r.Deliveries())
}

// TestDeliveryJSON checks the envelope's wire names: the body is base64,
// RecordedAt is not part of it.
func TestDeliveryJSON(t *testing.T) {
	d := sim.Delivery{
		ID:       "0190a1b2c3d4e5f60718293a4b5c6d7e",
		Endpoint: "gh", Trigger: "all",
		Request:      sim.DeliveredRequest{Method: "POST", URL: "http://x/hooks/gh", Header: map[string][]string{"A": {"1"}}, Body: []byte(`{"a":1}`)},
		Verification: sim.Verification{Verified: true},
		ReceivedAt:   t0, DeliveredAt: t0, RecordedAt: t0,
	}
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"0190a1b2c3d4e5f60718293a4b5c6d7e","endpoint":"gh","trigger":"all",
		"request":{"method":"POST","url":"http://x/hooks/gh","headers":{"A":["1"]},"body":"eyJhIjoxfQ=="},
		"verification":{"verified":true},
		"receivedAt":"2024-06-01T12:00:00Z","deliveredAt":"2024-06-01T12:00:00Z"}`, string(b))
}

// TestRecorderFrom checks From: the deliveries after the first i, in
// arrival order, and none past the end.
func TestRecorderFrom(t *testing.T) {
	var r sim.Recorder
	for _, id := range []string{"a", "b", "c"} {
		r.Record(sim.Delivery{Trigger: id})
	}
	ids := func(ds []sim.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Trigger)
		}
		return out
	}
	assert.Equal(t, []string{"a", "b", "c"}, ids(r.From(0)))
	assert.Equal(t, []string{"b", "c"}, ids(r.From(1)))
	assert.Empty(t, r.From(3))
	assert.Empty(t, r.From(10))
	ds := r.From(2)
	ds[0].Trigger = "changed"
	assert.Equal(t, []string{"c"}, ids(r.From(2)), "From returns a copy")
}

// TestDeliveryRequestID checks RequestID on envelopes from any
// implementation: the canonical name, or any case of it.
func TestDeliveryRequestID(t *testing.T) {
	tests := []struct {
		name   string
		header map[string][]string
		want   string
	}{
		{"Canonical", map[string][]string{"Hooklab-Request-Id": {"r-1", "r-2"}}, "r-1"},
		{"LowerCase", map[string][]string{"hooklab-request-id": {"r-3"}}, "r-3"},
		{"UpperCase", map[string][]string{"HOOKLAB-REQUEST-ID": {"r-4"}}, "r-4"},
		{"Absent", map[string][]string{"X-Other": {"x"}}, ""},
		{"EmptyList", map[string][]string{"Hooklab-Request-Id": {}}, ""},
		{"NoHeaders", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sim.Delivery{Request: sim.DeliveredRequest{Header: tt.header}}
			assert.Equal(t, tt.want, d.RequestID())
		})
	}
}

// TestRecorderTellsRetriesFromDuplicates checks that an envelope whose id
// was recorded before is counted as a retry and not kept, while envelopes
// with different ids, or none, are each a delivery of their own.
func TestRecorderTellsRetriesFromDuplicates(t *testing.T) {
	tests := []struct {
		name        string
		ids         []string
		wantKept    []string
		wantRetries int
	}{
		{name: "OneDelivery", ids: []string{"d1"}, wantKept: []string{"d1"}},
		{name: "RetriesOfOne", ids: []string{"d1", "d1", "d1"}, wantKept: []string{"d1"}, wantRetries: 2},
		{name: "TwoDeliveriesAreADuplicate", ids: []string{"d1", "d2"}, wantKept: []string{"d1", "d2"}},
		{name: "Interleaved", ids: []string{"d1", "d2", "d1", "d3", "d2"}, wantKept: []string{"d1", "d2", "d3"}, wantRetries: 2},
		{name: "NoIDsAreAllKept", ids: []string{"", ""}, wantKept: []string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r sim.Recorder
			for _, id := range tt.ids {
				r.Record(sim.Delivery{ID: id, Endpoint: "gh", Trigger: "all"})
			}
			var kept []string
			for _, d := range r.Deliveries() {
				kept = append(kept, d.ID)
			}
			assert.Equal(t, tt.wantKept, kept, "deliveries kept")
			assert.Equal(t, tt.wantRetries, r.Retries(), "Retries()")
			r.Reset()
			assert.Zero(t, r.Retries(), "Retries() after Reset")
			assert.True(t, r.Record(sim.Delivery{ID: "d1"}), "Record(d1) after Reset")
		})
	}
}

// TestSinkAnswersRetries2xx checks that a Sink answers a retry 204 like the
// first attempt, keeps one delivery for it, and takes the id from
// Hooklab-Delivery-Id when the envelope has none.
func TestSinkAnswersRetries2xx(t *testing.T) {
	withID := strings.Replace(envelope, `"endpoint"`, `"id": "dlv-1", "endpoint"`, 1)
	tests := []struct {
		name        string
		posts       []struct{ body, header string }
		wantIDs     []string
		wantRetries int
	}{
		{name: "EnvelopeID", posts: []struct{ body, header string }{{withID, ""}, {withID, ""}}, wantIDs: []string{"dlv-1"}, wantRetries: 1},
		{name: "HeaderID", posts: []struct{ body, header string }{{envelope, "dlv-2"}, {envelope, "dlv-2"}, {envelope, "dlv-3"}}, wantIDs: []string{"dlv-2", "dlv-3"}, wantRetries: 1},
		{name: "EnvelopeIDWins", posts: []struct{ body, header string }{{withID, "other"}, {withID, "another"}}, wantIDs: []string{"dlv-1"}, wantRetries: 1},
		{name: "NoID", posts: []struct{ body, header string }{{envelope, ""}, {envelope, ""}}, wantIDs: []string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sim.Sink
			for i, p := range tt.posts {
				hdrs := []string{"Content-Type: application/json"}
				if p.header != "" {
					hdrs = append(hdrs, sim.DeliveryIDHeader+": "+p.header)
				}
				w := httptest.NewRecorder()
				s.ServeHTTP(w, request("POST", "/", p.body, hdrs...))
				assert.Equal(t, http.StatusNoContent, w.Code, "POST %d: status, body %s", i+1, w.Body)
			}
			var ids []string
			for _, d := range s.Deliveries() {
				ids = append(ids, d.ID)
			}
			assert.Equal(t, tt.wantIDs, ids, "deliveries kept")
			assert.Equal(t, tt.wantRetries, s.Retries(), "Retries()")
		})
	}
}
