package fault_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// TestLateDeliveryDrains checks that late-delivery-of-rejected's own
// queue is one the Ingress's Drain waits for, also after Close (the
// queue outlives the endpoint): a suite that ends its wait on Drain
// still sees the late delivery, and so still catches the fault.
func TestLateDeliveryDrains(t *testing.T) {
	sink, err := sim.NewSink("")
	require.NoError(t, err)
	defer sink.Close()
	f, err := fault.Lookup(sim.Strict, "late-delivery-of-rejected")
	require.NoError(t, err)
	cfg, err := fault.With(sim.Config{}, f)
	require.NoError(t, err)
	spec := sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.KeySet{mustKey(t)}},
		Triggers: []sim.TriggerSpec{{ID: "all", Deliver: sink.URL + "/deliveries"}}}
	for _, tt := range []struct {
		name  string
		close bool
	}{{"Open", false}, {"AfterClose", true}} {
		t.Run(tt.name, func(t *testing.T) {
			sink.Reset()
			in, err := sim.NewIngress(cfg, spec)
			require.NoError(t, err)
			defer in.Close()
			w := httptest.NewRecorder()
			in.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://example.test/hooks/gh", strings.NewReader(`{}`)))
			require.Equal(t, http.StatusUnauthorized, w.Code, "unsigned POST")
			if tt.close {
				require.NoError(t, in.Close())
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			require.NoError(t, in.Drain(ctx), "Drain")
			ds := sink.Deliveries()
			require.Len(t, ds, 1, "deliveries when Drain returned: the late one")
			assert.False(t, ds[0].Verification.Verified, "the late delivery is marked unverified")
		})
	}
}
