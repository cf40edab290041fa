package sim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim"
)

// TestIngressHandsTheRequestHeadersBack checks that filters see Host
// (a server keeps it out of the header map) while the caller gets its
// request's headers back as it gave them, and that what the ingress
// keeps past the answer (a recorded delivery, a trace) has its own
// headers, Host included, untouched by what the caller does with its
// request afterwards.
func TestIngressHandsTheRequestHeadersBack(t *testing.T) {
	for _, tc := range []struct {
		name     string
		header   http.Header
		wantHost string // the Host the filter and the delivery see
		after    http.Header
	}{
		{"a server's request: Host only in r.Host", http.Header{"X-A": {"1"}}, "hooks.example", http.Header{"X-A": {"1"}}},
		{"a Host header of its own is replaced for the filter and kept for the caller", http.Header{"Host": {"other"}, "X-A": {"1"}}, "hooks.example", http.Header{"Host": {"other"}, "X-A": {"1"}}},
		{"no header map", nil, "hooks.example", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &sim.Recorder{}
			obs := &traces{}
			in, err := sim.NewIngress(sim.Config{Recorder: rec, Observer: obs}, sim.EndpointSpec{
				ID: "gh",
				Triggers: []sim.TriggerSpec{
					{ID: "by-host", Filter: json.RawMessage(`{"headers":{"host":["hooks.example"]}}`)},
				},
			})
			require.NoError(t, err)
			defer in.Close()
			r := httptest.NewRequest(http.MethodPost, "/hooks/gh", bytes.NewReader([]byte(`{}`)))
			r.Host = "hooks.example"
			r.Header = tc.header
			w := httptest.NewRecorder()
			in.ServeHTTP(w, r)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.JSONEq(t, `{"ok":true,"endpoint":"gh","triggered":["by-host"]}`, w.Body.String())
			assert.Equal(t, tc.after, r.Header, "the caller's headers after the answer")

			if r.Header != nil {
				r.Header["X-A"] = []string{"changed by the caller"}
				r.Header.Set("Host", "changed.example")
			}
			ds := rec.Deliveries()
			require.Len(t, ds, 1)
			assert.Equal(t, []string{tc.wantHost}, ds[0].Request.Header["Host"], "the recorded delivery's Host")
			if tc.header != nil {
				assert.Equal(t, []string{"1"}, ds[0].Request.Header["X-A"], "the recorded delivery's headers are its own")
			}
			require.Len(t, obs.ts, 1)
			assert.Equal(t, []string{tc.wantHost}, obs.ts[0].Header["Host"], "the trace's Host")
			if tc.header != nil {
				assert.Equal(t, []string{"1"}, obs.ts[0].Header["X-A"], "the trace's headers are its own")
			}
		})
	}
}

// TestIngressKeepsWhatOutlivesTheAnswer checks that a recorded delivery
// and a trace keep the body and headers of their own request when the
// requests after it are read into the same reused buffers.
func TestIngressKeepsWhatOutlivesTheAnswer(t *testing.T) {
	rec := &sim.Recorder{}
	obs := &traces{}
	in, err := sim.NewIngress(sim.Config{Recorder: rec, Observer: obs}, sim.EndpointSpec{
		ID:       "gh",
		Triggers: []sim.TriggerSpec{{ID: "all"}},
	})
	require.NoError(t, err)
	defer in.Close()
	bodies := []string{`{"n":"first"}`, `{"n":"other"}`, `{"n":"third"}`} // one length: one buffer fits all
	for i, b := range bodies {
		r := httptest.NewRequest(http.MethodPost, "/hooks/gh", bytes.NewReader([]byte(b)))
		r.Header.Set("X-Seq", strconv.Itoa(i))
		w := httptest.NewRecorder()
		in.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	ds := rec.Deliveries()
	require.Len(t, ds, len(bodies))
	require.Len(t, obs.ts, len(bodies))
	for i, b := range bodies {
		assert.Equal(t, b, string(ds[i].Request.Body), "delivery %d's body", i)
		assert.Equal(t, []string{strconv.Itoa(i)}, ds[i].Request.Header["X-Seq"], "delivery %d's headers", i)
		assert.Equal(t, b, string(obs.ts[i].Body), "trace %d's body", i)
		assert.Equal(t, []string{strconv.Itoa(i)}, obs.ts[i].Header["X-Seq"], "trace %d's headers", i)
	}
}
