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

	"github.com/hooklab/hooklab/sim"
)

// TestIngressDrain checks that Drain returns once the deliveries of the
// requests answered before it reached the receiver (a slow one here),
// that it may be called after Close, and that it gives up with ctx's
// error while a receiver holds a delivery.
func TestIngressDrain(t *testing.T) {
	var rec sim.Recorder
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/held" {
			<-release
		} else {
			time.Sleep(50 * time.Millisecond) // a slow receiver
		}
		rec.Record(mustEnvelope(t, r))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	defer close(release)
	spec := func(id, path string) sim.EndpointSpec {
		return sim.EndpointSpec{ID: id, Triggers: []sim.TriggerSpec{{ID: "a", Deliver: recv.URL + path}, {ID: "b", Deliver: recv.URL + path}}}
	}
	post := func(in *sim.Ingress, id string) {
		w := httptest.NewRecorder()
		in.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://example.test/hooks/"+id, strings.NewReader(`{}`)))
		require.Equal(t, http.StatusOK, w.Code, "POST /hooks/%s: %s", id, w.Body)
	}

	in, err := sim.NewIngress(sim.Config{}, spec("slow", "/slow"))
	require.NoError(t, err)
	post(in, "slow")
	post(in, "slow")
	require.NoError(t, in.Drain(t.Context()))
	assert.Equal(t, 4, rec.Len(), "deliveries when Drain returned: 2 requests × 2 triggers")
	require.NoError(t, in.Close())
	assert.NoError(t, in.Drain(t.Context()), "Drain after Close")

	held, err := sim.NewIngress(sim.Config{}, spec("held", "/held"))
	require.NoError(t, err)
	defer held.Close()
	post(held, "held")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, held.Drain(ctx), context.DeadlineExceeded, "Drain while the receiver holds the delivery")
}

// mustEnvelope decodes the delivery envelope r carries.
func mustEnvelope(t *testing.T, r *http.Request) sim.Delivery {
	t.Helper()
	var d sim.Delivery
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
		t.Errorf("decoding the envelope: %v", err)
	}
	return d
}
